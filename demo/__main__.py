"""`make demo`: the whole path on this machine, with the commands an IT admin would type.

A fresh CA in a temporary folder, a collector on 127.0.0.1, an agent that enrolls with a token,
scans this machine and reports, simulated laptops beside it, then what the collector stored and
flagged. Every step runs the real command-line tools as separate processes.
"""
from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from farmwatch.common.names import AGENT_PROGRAM, COLLECTOR_PROGRAM
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


def this_machine_device_id() -> list[str]:
    from farmwatch.agent.run.enrollment import hardware_serial

    if hardware_serial():
        return []
    # containers and VMs often have no DMI serial; the MDM's id would be used instead
    return ["--device-id", f"DEMO-{socket.gethostname()}"[:64]]


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


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="farmwatch-demo-") as tmp:
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
            enroll_and_report(home, work, address, "this-machine", this_machine_device_id())
            step("4. two simulated laptops (fixture file systems) enroll and report the same way:\n"
                 "   one on a USB-C dock, one driven through a PiKVM with AnyDesk and a remote SSH login")
            for name, sysroot in simulated_laptops(work / "sysroots"):
                enroll_and_report(home, work, address, name, ["--device-id", f"SIM-{name.upper()}"], sysroot)
            step("5. a week of reports from three more laptops, issued to three people in three states,\n"
                 "   backfilled from envelopes: all three report from one home address (a small farm)")
            envelopes = farm_envelopes(work / "farm")
            run(COLLECTOR_PROGRAM, "--home", home, "ingest", *envelopes)
            run(COLLECTOR_PROGRAM, "--home", home, "correlate")
            run(COLLECTOR_PROGRAM, "--home", home, "clusters", capture=True)
            step("6. what the collector stored and flagged")
            run(COLLECTOR_PROGRAM, "--home", home, "devices", capture=True)
            print()
            run(COLLECTOR_PROGRAM, "--home", home, "flags", capture=True)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    print("\ndemo finished: the collector stopped cleanly and its temporary folder was removed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
