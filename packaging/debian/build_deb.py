"""Build dist/farmwatch-agent_<version>_<arch>.deb and dist/farmwatch-collector_<version>_<arch>.deb
from this repository with dpkg-deb.

    python packaging/debian/build_deb.py [--python /usr/bin/python3] [--out dist] [--package agent|collector|all]

Two packages, not one: laptops get the agent (which needs CAP_SYS_PTRACE and reads every process)
and none of the collector's dependencies or its server unit; the collector's server gets a service
that needs no capability at all and no agent service beside it. Each package gets a virtual
environment of its own (the agent /opt/farmwatch/venv, the collector /opt/farmwatch/collector-venv),
made at build time
inside a staging root with the Debian interpreter the package will run on. A venv is not
relocatable as made: its console scripts and activate files name the folder it was created in.
Its interpreter link (bin/python -> /usr/bin/python3.X) and site-packages lookup (pyvenv.cfg
beside bin/) do not depend on that folder, though, so after installing, the staging prefix is
rewritten to /opt/farmwatch/venv in the few text files that carry it, and the build fails if
the prefix is left anywhere in the package. Building at package time (rather than running pip
in postinst) keeps installs offline and identical on every laptop; the price is that the package
is tied to one Python minor version, which its Depends names.

The agent's venv holds the agent only: the collector's extra dependencies are not installed, and
the farmwatch-collector script is left out. The collector's venv holds the `collector` and `console`
extras (the web console's unit ships beside the collector's, not enabled); its farmwatch-agent
script is left out.
Neither carries the farmwatch-analyst script: analysts install it with pip on their own machines.
Bytecode is compiled by postinst, not shipped. Each package's control files are in its own folder:
packaging/debian/ for the agent, packaging/debian/collector/ for the collector.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from string import Template

HERE = Path(__file__).resolve().parent
PACKAGING = HERE.parent
REPO = PACKAGING.parent

PACKAGE = "farmwatch-agent"
VENV = Path("/opt/farmwatch/venv")
UNIT = Path("/usr/lib/systemd/system/farmwatch-agent.service")
SETTINGS = Path("/etc/farmwatch/agent.toml")
COMMAND_LINK = Path("/usr/bin/farmwatch-agent")
DOC_DIR = Path("/usr/share/doc/farmwatch-agent")
MAINTAINER = "farmwatch maintainers <farmwatch@localhost>"
SOURCE_PARTS = ("pyproject.toml", "README.md", "agent", "analyst", "collector", "common", "demo", "proto")
# farmwatch-collector: its extra dependencies are not installed; farmwatch-analyst: analysts install it
# with pip on their own machines (README, "For analysts"), not on every laptop or the collector host
LEFT_OUT_SCRIPTS = ("farmwatch-collector", "farmwatch-analyst")
MAINTAINER_SCRIPTS = ("postinst", "prerm", "postrm")



class Package:
    """What distinguishes one .deb from the other; everything else is built the same way.
    (A plain class: the tests load this file without registering it as a module, which a
    dataclass with postponed annotations cannot stand.)"""

    def __init__(self, *, name: str, venv: Path, control_dir: Path, placements: dict[str, Path],
                 command_link: Path, extras: tuple[str, ...] = (), left_out_scripts: tuple[str, ...] = (),
                 maintainer_scripts: tuple[str, ...] = MAINTAINER_SCRIPTS):
        self.name = name
        self.venv = venv
        self.control_dir = control_dir          # control.in, maintainer scripts, conffiles (if any)
        self.placements = placements            # repository path -> installed path
        self.command_link = command_link
        self.extras = extras
        self.left_out_scripts = left_out_scripts
        self.maintainer_scripts = maintainer_scripts

    def deb_name(self, version: str, arch: str) -> str:
        return f"{self.name}_{version}_{arch}.deb"


AGENT = Package(
    name=PACKAGE, venv=VENV, control_dir=HERE, command_link=COMMAND_LINK,
    placements={"packaging/systemd/farmwatch-agent.service": UNIT, "packaging/agent.toml": SETTINGS,
                "docs/deploy.md": DOC_DIR / "deploy.md"},
    left_out_scripts=LEFT_OUT_SCRIPTS,
)

# The collector keeps its settings in its home (<home>/collector.toml, written by `pki init`, read by
# every command there), not in /etc: so it ships no conffile.
COLLECTOR_HOME = Path("/var/lib/farmwatch-collector")
COLLECTOR = Package(
    name="farmwatch-collector", venv=Path("/opt/farmwatch/collector-venv"), control_dir=HERE / "collector",
    command_link=Path("/usr/bin/farmwatch-collector"),
    placements={"packaging/systemd/farmwatch-collector.service":
                Path("/usr/lib/systemd/system/farmwatch-collector.service"),
                "packaging/systemd/farmwatch-console.service":
                Path("/usr/lib/systemd/system/farmwatch-console.service"),
                "docs/deploy.md": Path("/usr/share/doc/farmwatch-collector/deploy.md"),
                "docs/console.md": Path("/usr/share/doc/farmwatch-collector/console.md")},
    extras=("collector", "console"), left_out_scripts=("farmwatch-agent", "farmwatch-analyst"),
)
PACKAGES = {"agent": AGENT, "collector": COLLECTOR}


class BuildError(RuntimeError):
    pass


def project_version(repo: Path) -> str:
    with open(repo / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)["project"]["version"]


def debian_arch() -> str:
    return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                          check=True).stdout.strip()


def debian_interpreter(python: str) -> Path:
    """The versioned system interpreter behind `python`; the venv links to it, Depends names it."""
    real = Path(os.path.realpath(python))
    if real.parent != Path("/usr/bin") or not re.fullmatch(r"python3\.\d+", real.name):
        raise BuildError(f"{python} is {real}, not a Debian interpreter /usr/bin/python3.X; the package "
                         "would depend on a Python the laptops do not have (pass --python /usr/bin/python3)")
    return real


def deb_name(version: str, arch: str) -> str:
    return AGENT.deb_name(version, arch)


def staged(root: Path, path: Path) -> Path:
    return root / path.relative_to("/")


def run(argv: list[str], **kwargs) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        raise BuildError(f"{' '.join(map(str, argv))} failed:\n{done.stdout}{done.stderr}")


# -- the virtual environment --------------------------------------------------------------------

def copy_source(repo: Path, dest: Path) -> Path:
    """The files the distribution is built from, so that building never writes into the repo."""
    dest.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for part in SOURCE_PARTS:
        source = repo / part
        if source.is_dir():
            shutil.copytree(source, dest / part, ignore=ignore)
        else:
            shutil.copy2(source, dest / part)
    return dest


def build_wheel(source: Path, wheel_dir: Path) -> Path:
    # The builder's own setuptools: no build-isolation download, and the same result as `pip install .`
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(wheel_dir), str(source)])
    wheels = sorted(wheel_dir.glob("farmwatch-*.whl"))
    if len(wheels) != 1:
        raise BuildError(f"expected one farmwatch wheel in {wheel_dir}, found {wheels}")
    return wheels[0]


def make_venv(interpreter: Path, venv: Path, wheel: Path, package: Package = AGENT) -> None:
    run([str(interpreter), "-m", "venv", "--without-pip", str(venv)])
    # pip runs from the builder and installs into the venv's interpreter, so the venv carries no pip.
    requirement = f"{wheel}[{','.join(package.extras)}]" if package.extras else str(wheel)
    run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--quiet",
         "--no-compile", "--no-warn-script-location", "--disable-pip-version-check", requirement])
    for name in package.left_out_scripts:
        (venv / "bin" / name).unlink()
    forget_wheel_location(venv)


def forget_wheel_location(venv: Path) -> None:
    """Drop PEP 610's direct_url.json: it names the temporary wheel this build installed from."""
    for record_url in venv.glob("lib/python3*/site-packages/farmwatch-*.dist-info/direct_url.json"):
        record = record_url.with_name("RECORD")
        lines = record.read_text().splitlines(keepends=True)
        own_url = f"{record_url.parent.name}/direct_url.json,"
        record.write_text("".join(line for line in lines if not line.startswith(own_url)))
        record_url.unlink()


def relocate(venv: Path, final: Path) -> list[Path]:
    """Rewrite the staging prefix to `final` in the venv's own text files; returns those changed."""
    old, new = str(venv).encode(), str(final).encode()
    candidates = [venv / "pyvenv.cfg", *sorted((venv / "bin").iterdir())]
    changed = []
    for path in candidates:
        if path.is_symlink() or not path.is_file():
            continue
        data = path.read_bytes()
        if old in data:
            path.write_bytes(data.replace(old, new))
            changed.append(path)
    return changed


def files_mentioning(root: Path, needle: str) -> list[Path]:
    data = needle.encode()
    return [path for path in sorted(root.rglob("*"))
            if path.is_file() and not path.is_symlink() and data in path.read_bytes()]


# -- the package tree ---------------------------------------------------------------------------

def install_files(repo: Path, root: Path, package: Package = AGENT) -> None:
    for source, target in package.placements.items():
        staged(root, target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(repo / source, staged(root, target))
    link = staged(root, package.command_link)
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(package.venv / "bin" / package.command_link.name)


def write_control(root: Path, fields: dict[str, str], package: Package = AGENT) -> None:
    control = root / "DEBIAN"
    control.mkdir()
    template = Template((package.control_dir / "control.in").read_text())
    (control / "control").write_text(template.substitute(fields))
    if (package.control_dir / "conffiles").exists():
        shutil.copyfile(package.control_dir / "conffiles", control / "conffiles")
    for name in package.maintainer_scripts:
        shutil.copyfile(package.control_dir / name, control / name)
        (control / name).chmod(0o755)


def normalise_modes(root: Path) -> None:
    """0755 for folders and executables, 0644 for the rest, whatever the builder's umask was."""
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        executable = path.is_dir() or path.stat().st_mode & 0o111
        path.chmod(0o755 if executable else 0o644)


def installed_size_kib(root: Path) -> int:
    sizes = (p.lstat().st_size for p in root.rglob("*") if p.is_file() and "DEBIAN" not in p.parts)
    return -(-sum(sizes) // 1024)


COMPRESSION = {"xz": ["-Zxz", "-z3"], "gzip": ["-Zgzip", "-z6"]}  # xz: smaller; gzip: a few times faster


def build(repo: Path, python: str, out_dir: Path, work: Path, compression: str = "xz",
          package: Package = AGENT, wheel: Path | None = None) -> Path:
    """One package; `wheel` (from build_wheel) lets several packages share one wheel."""
    interpreter = debian_interpreter(python)
    version, arch = project_version(repo), debian_arch()
    root = work / "root"
    root.mkdir()
    if wheel is None:
        wheel = build_wheel(copy_source(repo, work / "src"), work / "wheels")
    venv = staged(root, package.venv)
    make_venv(interpreter, venv, wheel, package)
    relocate(venv, package.venv)
    stagings = [work] if wheel.parent.is_relative_to(work) else [work, wheel.parent]
    for staging in map(str, stagings):
        leftovers = files_mentioning(root, staging)
        if leftovers:
            raise BuildError(f"the staging path {staging} is still inside {leftovers[:5]}")
    install_files(repo, root, package)
    normalise_modes(root)
    write_control(root, {
        "version": version, "arch": arch, "maintainer": MAINTAINER,
        "installed_size": str(installed_size_kib(root)), "python_package": interpreter.name,
    }, package)
    out_dir.mkdir(parents=True, exist_ok=True)
    deb = out_dir / package.deb_name(version, arch)
    run(["dpkg-deb", "--root-owner-group", *COMPRESSION[compression], "--build", str(root), str(deb)])
    return deb


def build_many(repo: Path, python: str, out_dir: Path, packages: list[Package], compression: str = "xz") -> list[Path]:
    """Several packages from one wheel. Each is staged in a temporary folder of its own, named like
    the one `build` alone uses, so that a package's bytes do not depend on which others were built
    with it (pip's RECORD hashes the console scripts before their staging prefix is rewritten)."""
    with tempfile.TemporaryDirectory(prefix="farmwatch-wheel-") as wheels:
        wheel = build_wheel(copy_source(repo, Path(wheels) / "src"), Path(wheels) / "wheels")
        debs = []
        for package in packages:
            with tempfile.TemporaryDirectory(prefix="farmwatch-deb-") as work:
                debs.append(build(repo, python, out_dir, Path(work), compression, package, wheel))
    return debs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the farmwatch-agent and farmwatch-collector .debs "
                                                 "with dpkg-deb.")
    parser.add_argument("--python", default="/usr/bin/python3",
                        help="the Debian interpreter the agent will run on (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=REPO / "dist", help="output folder (default: dist/)")
    parser.add_argument("--compression", choices=sorted(COMPRESSION), default="xz",
                        help="of the package's data (default: %(default)s)")
    parser.add_argument("--package", choices=[*PACKAGES, "all"], default="all",
                        help="which package to build (default: %(default)s)")
    args = parser.parse_args(argv)
    packages = list(PACKAGES.values()) if args.package == "all" else [PACKAGES[args.package]]
    try:
        debs = build_many(REPO, args.python, args.out, packages, args.compression)
    except (BuildError, OSError, subprocess.CalledProcessError) as exc:
        print(f"build_deb: error: {exc}", file=sys.stderr)
        return 1
    print("\n".join(map(str, debs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
