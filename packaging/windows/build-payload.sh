#!/bin/bash
# Lay out the Intune Win32 app folder for the farmwatch agent; runs on Linux or macOS.
#
#   packaging/windows/build-payload.sh --python-archive FILE [--out DIR]
#
# --python-archive: a python-build-standalone "install_only" build for Windows, e.g.
#   cpython-3.12.8+20250106-x86_64-pc-windows-msvc-install_only.tar.gz (a relocatable CPython
#   with pip; Windows ships no Python a service can rely on). Its version picks the wheels.
#
# Result (default dist/farmwatch-agent-windows/): install.ps1, uninstall.ps1, common.ps1,
# VERSION, python\, wheels\ (the agent, its dependencies and pywin32, all win_amd64), and
# beside the folder detect.ps1 (the Intune detection script, uploaded separately). Then, on
# Windows: IntuneWinAppUtil.exe -c <folder> -s install.ps1 -o <output> (see docs/deploy.md).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PYTHON_ARCHIVE=""
OUT="$REPO/dist/farmwatch-agent-windows"
BUILDER="${PYTHON:-python3}"

usage() {
    sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
        --python-archive) PYTHON_ARCHIVE="${2:?}"; shift 2 ;;
        --out) OUT="${2:?}"; shift 2 ;;
        -h|--help) usage ;;
        *) echo "build-payload.sh: unknown argument $1" >&2; usage ;;
    esac
done
[ -n "$PYTHON_ARCHIVE" ] || usage
[[ "$(basename "$PYTHON_ARCHIVE")" =~ ^cpython-(3\.[0-9]+)\.[0-9]+.*-windows-.*install_only.*\.tar\.gz$ ]] || {
    echo "build-payload.sh: $PYTHON_ARCHIVE is not a python-build-standalone Windows install_only archive" >&2
    exit 2
}
PYTHON_VERSION="${BASH_REMATCH[1]}"

VERSION="$("$BUILDER" -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' \
    "$REPO/pyproject.toml")"
mapfile -t REQUIREMENTS < <("$BUILDER" -c '
import sys, tomllib
for requirement in tomllib.load(open(sys.argv[1], "rb"))["project"]["dependencies"]:
    print(requirement)' "$REPO/pyproject.toml")
REQUIREMENTS+=("pywin32")  # the service wrapper (agent/winservice.py); Windows only

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
rm -rf "$OUT"
mkdir -p "$OUT/wheels" "$WORK/src"

tar -xzf "$PYTHON_ARCHIVE" -C "$OUT"   # unpacks to python/
[ -f "$OUT/python/python.exe" ] || { echo "build-payload.sh: no python/python.exe in $PYTHON_ARCHIVE" >&2; exit 2; }

cp -R "$REPO/pyproject.toml" "$REPO/README.md" "$REPO/agent" "$REPO/analyst" "$REPO/collector" "$REPO/common" "$REPO/demo" "$REPO/proto" "$WORK/src/"
"$BUILDER" -m pip wheel --quiet --no-deps --disable-pip-version-check --wheel-dir "$OUT/wheels" "$WORK/src"
"$BUILDER" -m pip download --quiet --disable-pip-version-check --dest "$OUT/wheels" \
    --only-binary=:all: --platform win_amd64 --implementation cp --python-version "$PYTHON_VERSION" \
    "${REQUIREMENTS[@]}"

cp "$HERE/install.ps1" "$HERE/uninstall.ps1" "$HERE/common.ps1" "$OUT/"
printf '%s\n' "$VERSION" > "$OUT/VERSION"
sed "s/@VERSION@/$VERSION/g" "$HERE/detect.ps1.template" > "$(dirname "$OUT")/detect.ps1"
echo "$OUT"
