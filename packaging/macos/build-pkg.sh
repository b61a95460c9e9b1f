#!/bin/bash
# Build dist/farmwatch-agent-<version>.pkg on a macOS host (pkgbuild and productbuild are Apple's).
#
#   packaging/macos/build-pkg.sh --python-prefix DIR [--sign "Developer ID Installer: …"] [--out DIR]
#
# --python-prefix: a relocatable CPython >= 3.11 for the Macs you deploy to, e.g. a
#   python-build-standalone "install_only" archive unpacked (its bin/python3 runs from any
#   folder). It is copied to /opt/farmwatch/python; macOS ships no Python a daemon can rely on.
#   Build on the architecture you deploy to (or with a universal2 interpreter): the dependency
#   wheels are fetched for the interpreter given here.
#
# The pkg holds that interpreter, the agent and its dependency wheels, both launchd jobs, the
# default settings and a newsyslog rule. postinstall makes /opt/farmwatch/venv from the wheels
# offline, so every Mac gets the same files; no token or collector address is inside: those
# come from the configuration profile (render_mobileconfig.py).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
IDENTIFIER=com.farmwatch.agent
PYTHON_PREFIX=""
SIGN_IDENTITY=""
OUT="$REPO/dist"

usage() {
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
        --python-prefix) PYTHON_PREFIX="${2:?}"; shift 2 ;;
        --sign) SIGN_IDENTITY="${2:?}"; shift 2 ;;
        --out) OUT="${2:?}"; shift 2 ;;
        -h|--help) usage ;;
        *) echo "build-pkg.sh: unknown argument $1" >&2; usage ;;
    esac
done

if [ "$(uname -s)" != Darwin ]; then
    echo "build-pkg.sh: pkgbuild and productbuild exist only on macOS; run this on a Mac" >&2
    exit 2
fi
[ -n "$PYTHON_PREFIX" ] || usage
PYTHON="$PYTHON_PREFIX/bin/python3"
"$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11), sys.version' \
    || { echo "build-pkg.sh: $PYTHON is not a Python >= 3.11" >&2; exit 2; }

VERSION="$("$PYTHON" -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' \
    "$REPO/pyproject.toml")"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
PAYLOAD="$WORK/payload"

# Sources copied out first, so building never writes into the checkout.
mkdir -p "$WORK/src"
cp -R "$REPO/pyproject.toml" "$REPO/README.md" "$REPO/agent" "$REPO/analyst" "$REPO/collector" "$REPO/common" "$REPO/demo" "$REPO/proto" "$WORK/src/"

mkdir -p "$PAYLOAD/opt/farmwatch/share" "$PAYLOAD/Library/LaunchDaemons" "$PAYLOAD/private/etc/newsyslog.d"
cp -R "$PYTHON_PREFIX" "$PAYLOAD/opt/farmwatch/python"
"$PYTHON" -m pip wheel --quiet --disable-pip-version-check \
    --wheel-dir "$PAYLOAD/opt/farmwatch/wheels" "$WORK/src"
install -m 644 "$HERE/com.farmwatch.agent.plist" "$HERE/com.farmwatch.agent.provision.plist" \
    "$PAYLOAD/Library/LaunchDaemons/"
install -m 644 "$HERE/../agent.toml" "$PAYLOAD/opt/farmwatch/share/agent.toml"
install -m 644 "$HERE/farmwatch-agent.newsyslog.conf" "$PAYLOAD/private/etc/newsyslog.d/farmwatch-agent.conf"

pkgbuild --root "$PAYLOAD" --scripts "$HERE/scripts" --identifier "$IDENTIFIER" --version "$VERSION" \
    --install-location / --ownership recommended "$WORK/farmwatch-agent-component.pkg"
mkdir -p "$OUT"
PRODUCT="$OUT/farmwatch-agent-$VERSION.pkg"
if [ -n "$SIGN_IDENTITY" ]; then
    productbuild --package "$WORK/farmwatch-agent-component.pkg" --sign "$SIGN_IDENTITY" "$PRODUCT"
else
    productbuild --package "$WORK/farmwatch-agent-component.pkg" "$PRODUCT"
fi
echo "$PRODUCT"
