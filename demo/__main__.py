"""`make demo`: the whole path on this machine, with the commands an IT admin would type.

A fresh CA in a temporary folder, a collector on 127.0.0.1, an agent that enrolls with a token,
scans this machine and reports, simulated laptops beside it, then what the collector stored and
flagged, and the web console answering an analyst's certificate (the demo ends with its address).
Every step runs the real command-line tools as separate processes. The folder is removed at the end
unless `--keep DIR` names one to keep it in.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from farmwatch.common.names import AGENT_PROGRAM, COLLECTOR_PROGRAM
from farmwatch.demo.console import how_to_open, show_console
from farmwatch.demo.launch import free_port, wait_for_port

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parent.parent


def step(title: str) -> None:
    print(f"\n\033[1m== {title}\033[0m", flush=True)


def run(*argv, capture: bool = False) -> str:
    print(f"$ {shlex.join(str(a) for a in argv)}", flush=True)
    result = subprocess.run([str(BIN / argv[0]), *map(str, argv[1:])], text=True,
                            capture_output=capture, check=False)
    if result.returncode != 0:
        sys.stderr.write(result.stderr or "")
        raise SystemExit(f"demo: `{argv[0]} {argv[-1]}` failed with exit code {result.returncode}")
    if capture:
        print(result.stdout, end="")
    return result.stdout if capture else ""


def this_machine_device_id() -> str:
    from farmwatch.agent.run.enrollment import hardware_serial

    # containers and VMs often have no DMI serial; the MDM's id would be used instead
    return hardware_serial() or f"DEMO-{socket.gethostname()}"[:64]


def enroll_and_report(home: Path, work: Path, address: str, name: str, extra_enroll: list,
                      sysroot: Path | None = None) -> None:
    token = run(COLLECTOR_PROGRAM, "--home", home, "token", "create", "--note", name,
                capture=True).strip().splitlines()[-1]
    state = work / "agents" / name
    run(AGENT_PROGRAM, "--state-dir", state, "enroll", "--collector", address, "--token", token,
        "--ca-cert", home / "pki" / "ca.crt", *extra_enroll)
    run(AGENT_PROGRAM, "--state-dir", state, "run", "--once",
        *(["--sysroot", sysroot] if sysroot else []))


def simulated_laptops(root: Path) -> list[tuple[str, Path]]:
    """Fixture sysroots from the test suite's machine builders (the repo checkout is needed)."""
    sys.path.insert(0, str(REPO / "tests"))
    import sysroot_machines

    return [("dock-laptop", sysroot_machines.dock_laptop(root / "dock")),
            ("pikvm-laptop", sysroot_machines.pikvm_laptop(root / "pikvm"))]


FARM = [("FARM-WIN-01", "relay/win_pikvm.json"), ("FARM-MAC-02", "clean/mac_office_plain.json"),
        ("FARM-LNX-03", "clean/linux_office_plain.json")]
FARM_ADDRESS, FARM_ROUTER = "38.104.12.77", "3c:37:86:5e:11:20"  # one home: one public address, one router


# Who got which laptop, as the MDM's roster says: the farm's three went to three people in three
# states, none of whom lives where the laptops report from. Imported with `roster import`, as IT would.
ROSTER_HEADER = "serial,user,email,department,city,region,country,postal_code\n"
FARM_PEOPLE = """FARM-WIN-01,Riley Chen,riley.chen@example.com,Engineering,Austin,TX,US,78701
FARM-MAC-02,Jordan Patel,jordan.patel@example.com,Finance,Denver,CO,US,80202
FARM-LNX-03,Sam Okoro,sam.okoro@example.com,Engineering,Portland,OR,US,97201
"""
OTHER_PEOPLE = [("Alex Kim", "Support", "Boston,MA,US,02134"), ("Dana Kowalski", "Sales", "Chicago,IL,US,60601"),
                ("Morgan Lee", "IT", "Seattle,WA,US,98101")]


def roster_file(folder: Path, serials: list[str]) -> Path:
    """The roster: the farm's people, and one person for each other laptop of the demo."""
    rows = [f"{serial},{name},{name.lower().replace(' ', '.')}@example.com,{department},{address}\n"
            for serial, (name, department, address) in zip(serials, OTHER_PEOPLE)]
    text = ROSTER_HEADER + FARM_PEOPLE + "".join(rows)
    path = folder / "roster.csv"
    path.write_text(text)
    print(f"$ cat {path}\n{text}", end="", flush=True)
    return path


def first_cluster(home: Path) -> str | None:
    import json

    listed = subprocess.run([str(BIN / COLLECTOR_PROGRAM), "--home", str(home), "clusters", "--json"],
                            capture_output=True, text=True, check=True)
    return next((cluster["cluster_id"] for cluster in json.loads(listed.stdout)), None)


def farm_envelopes(folder: Path) -> list[Path]:
    """Envelopes (as the collector stores them) of three corpus laptops, one report a day for a
    week, all received from one public address."""
    import json
    import uuid
    from datetime import datetime, timedelta, timezone

    folder.mkdir(parents=True)
    now = datetime.now(timezone.utc)
    paths = []
    for device_id, scenario in FARM:
        report = json.loads((REPO / "tests" / "scenarios" / scenario).read_text())
        report.setdefault("network", {}).setdefault("default_gateway", {})["mac"] = FARM_ROUTER
        for day in range(7, 0, -1):
            at = (now - timedelta(days=day)).isoformat(timespec="seconds").replace("+00:00", "Z")
            report.update(device_id=device_id, report_id=str(uuid.uuid4()), sequence=8 - day, collected_at=at)
            path = folder / f"{device_id}-{8 - day}.json"
            path.write_text(json.dumps({"received_at": at, "peer_ip": FARM_ADDRESS, "report": report}))
            paths.append(path)
    return paths


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m farmwatch.demo", description="A collector on 127.0.0.1, agents that enroll and report, "
        "a small laptop farm, and what the collector flagged; every step runs the real programs.")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="work in DIR (new or empty) and keep it: the collector's home, the agents' state "
                             "and the roster stay there to explore (default: a temporary folder, removed)")
    return parser.parse_args(argv)


def work_folder(keep: Path | None):
    if keep is None:
        return tempfile.TemporaryDirectory(prefix="farmwatch-demo-")
    if keep.exists() and (not keep.is_dir() or any(keep.iterdir())):
        raise SystemExit(f"demo: --keep {keep} must be a new or empty folder (the demo makes a new collector there)")
    keep.mkdir(parents=True, exist_ok=True)
    return contextlib.nullcontext(str(keep.resolve()))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with work_folder(args.keep) as tmp:
        work = Path(tmp)
        home = work / "collector"
        port = free_port()
        address = f"127.0.0.1:{port}"

        step("1. IT sets up the collector: a private CA and a server certificate")
        run(COLLECTOR_PROGRAM, "--home", home, "pki", "init")
        step("2. the collector serves agents over mutual TLS")
        print(f"$ {COLLECTOR_PROGRAM} --home {home} serve --listen {address} &", flush=True)
        server = subprocess.Popen([str(BIN / COLLECTOR_PROGRAM), "--home", str(home), "serve",
                                   "--listen", address], env={**os.environ, "GRPC_VERBOSITY": "ERROR"})
        try:
            wait_for_port(port, server)
            step("3. this machine's agent enrolls with a one-time token, scans and reports")
            this_machine = this_machine_device_id()
            enroll_and_report(home, work, address, "this-machine", ["--device-id", this_machine])
            step("4. two simulated laptops (fixture file systems) enroll and report the same way:\n"
                 "   one on a USB-C dock, one driven through a PiKVM with AnyDesk and a remote SSH login")
            simulated = [(f"SIM-{name.upper()}", name, root) for name, root in simulated_laptops(work / "sysroots")]
            for device_id, name, sysroot in simulated:
                enroll_and_report(home, work, address, name, ["--device-id", device_id], sysroot)
            step("5. a week of reports from three more laptops, issued to three people in three states\n"
                 "   (the MDM roster says who and where), backfilled from envelopes: all three report from\n"
                 "   one home address (a small farm)")
            envelopes = farm_envelopes(work / "farm")
            roster = roster_file(work, [this_machine, *(device_id for device_id, _, _ in simulated)])
            run(COLLECTOR_PROGRAM, "--home", home, "roster", "import", roster, "--format", "csv", capture=True)
            run(COLLECTOR_PROGRAM, "--home", home, "ingest", *envelopes)
            run(COLLECTOR_PROGRAM, "--home", home, "correlate")
            run(COLLECTOR_PROGRAM, "--home", home, "clusters", capture=True)
            cluster = first_cluster(home)
            if cluster:
                print()
                run(COLLECTOR_PROGRAM, "--home", home, "cluster", cluster, capture=True)
            step("6. what the collector stored and flagged")
            run(COLLECTOR_PROGRAM, "--home", home, "devices", capture=True)
            print()
            run(COLLECTOR_PROGRAM, "--home", home, "flags", capture=True)
            step("7. the security team's web console: an analyst's certificate for the browser, the console "
                 "over HTTPS")
            passphrase = show_console(home, run, BIN)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    if args.keep:
        print(f"\ndemo finished: the collector stopped cleanly; everything is kept in {work}. Look around with\n"
              f"  {COLLECTOR_PROGRAM} --home {home} devices\n"
              f"  {COLLECTOR_PROGRAM} --home {home} serve --listen {address}")
    else:
        print("\ndemo finished: the collector stopped cleanly and its temporary folder was removed "
              "(--keep DIR keeps it).")
    print(how_to_open(home, passphrase, kept=bool(args.keep)))
    return 0

if __name__ == "__main__":
    sys.exit(main())
