"""A laptop whose agent sends delta reports to a real collector over real mTLS, with a network
that can lose a request or its answer and replay what it carried (tests/test_delta*.py).

The agent side is the real one (its outbox, `delivery.drain`); the laptop's scan is a report the
test changes item by item, and the link is the agent's real CollectorClient with faults put in
front of it, at the machine's edge."""
from __future__ import annotations

import random
import uuid
from pathlib import Path

import grpc

from farmwatch.agent.run.delivery import drain
from farmwatch.agent.spool import Spool
from farmwatch.agent.transport import CollectorError
from farmwatch.common.delta import canonical
from farmwatch.v1 import report_pb2


class Link:
    """The agent's client with faults: `fail_call` = (which call from now, "request" | "ack" |
    "refuse": the collector answered with an error, storing nothing)."""

    def __init__(self, client):
        self.client = client
        self.sent: list[report_pb2.AgentReport] = []  # every request that reached the collector
        self.fail_call: tuple[int, str] | None = None
        self.deltas = self.fulls = 0

    def report(self, report):
        fault = None
        if self.fail_call is not None:
            countdown, fault = self.fail_call
            self.fail_call = (countdown - 1, fault) if countdown else None
            fault = fault if countdown == 0 else None
        if fault == "request":
            raise CollectorError(grpc.StatusCode.UNAVAILABLE, "connection reset (test)")
        if fault == "refuse":
            raise CollectorError(grpc.StatusCode.INTERNAL, "the collector failed to store this report (test)")
        copy = report_pb2.AgentReport()
        copy.CopyFrom(report)
        self.sent.append(copy)
        ack = self.client.report(report)
        if report.HasField("delta"):
            self.deltas += 1
        else:
            self.fulls += 1
        if fault == "ack":
            raise CollectorError(grpc.StatusCode.UNAVAILABLE, "connection reset after the call (test)")
        return ack

    def close(self):
        self.client.close()


class Laptop:
    """What drain() needs of an Agent: its outbox, its client, its interval."""

    def __init__(self, device_id: str, folder: Path, client, cert_pem: bytes, seed: int = 0):
        self.device_id, self.folder = device_id, folder
        (folder / "agent.crt").write_bytes(cert_pem)  # drain() checks it has not expired
        self.state_dir = type("StateDir", (), {"certificate": folder / "agent.crt", "root": folder})()
        self.client = Link(client)
        self.spool = Spool(folder / "spool.sqlite")
        self.interval = 300.0
        self.rng = random.Random(seed)
        self.laptop = report_pb2.AgentReport(device_id=device_id)
        self.laptop.host.hostname, self.laptop.host.os = f"host-{device_id.lower()}", "linux"
        for pid in range(1, 40):
            self._add_process(pid)
        for n in range(30):
            self.laptop.applications.add(name=f"app{n}", version="1.0", source="dpkg")
        self.made: dict[str, bytes] = {}  # report id -> canonical bytes of the full report spooled
        self.last_made: str | None = None

    # what drain() touches besides the spool and client
    def reconnect(self):
        pass

    @property
    def state(self):  # drain() reads agent.state as the state dir; the laptop's own state is `laptop`
        return self.state_dir

    @property
    def config(self):
        return type("Config", (), {"collector": "test"})()

    # -- the laptop changing ------------------------------------------------------------------
    def change(self, kind: str) -> None:
        """One kind of change ("nothing": none, the next scan is the same laptop)."""
        rng, state = self.rng, self.laptop
        if kind == "process" and state.processes:
            del state.processes[rng.randrange(len(state.processes))]
            self._add_process(rng.randrange(1000, 99999))
        elif kind == "connection":
            state.network.connections.add(remote_ip=f"203.0.113.{rng.randrange(255)}",
                                          remote_port=443, status="ESTABLISHED", pid=rng.randrange(1, 40))
            if len(state.network.connections) > 3:
                del state.network.connections[0]
        elif kind == "install":
            state.applications.add(name=f"app{rng.randrange(10**6)}", version="2.0", source="dpkg")
        elif kind == "usb":
            if state.usb_devices:
                del state.usb_devices[:]
            else:
                state.usb_devices.add(vendor_id="1d6b", product_id="0104", product="KVM", bus_path="1-2")
        elif kind == "twin":  # two identical items: the state is a multiset
            state.probe_errors.add(probe="wifi", error="no permission")
        elif kind == "host":
            state.host.hostname = f"host-{rng.randrange(100)}"
            state.network.wifi.ssid = f"net-{rng.randrange(3)}"
        elif kind == "wifi":  # heard anew each scan; the collector keeps only their hashes
            del state.network.wifi_nearby[:]
            for n in range(rng.randrange(1, 4)):
                state.network.wifi_nearby.add(bssid=f"02:00:00:00:00:{n:02x}", ssid=f"cafe-{n}", signal_dbm=-60 - n)
        elif kind == "reinstall":  # most of the laptop changes: the agent sends it in full
            del state.applications[:]
            for n in range(60):
                state.applications.add(name=f"fresh{n}", version="3.0", source="dpkg")

    def _add_process(self, pid: int) -> None:
        self.laptop.processes.add(pid=pid, name=f"proc{pid % 7}", exe=f"/usr/bin/proc{pid % 7}",
                                 cmdline=[f"proc{pid % 7}", "--flag"], username="alice")

    # -- the agent ----------------------------------------------------------------------------
    def scan(self) -> report_pb2.AgentReport:
        report = report_pb2.AgentReport()
        report.CopyFrom(self.laptop)
        report.report_id = str(uuid.uuid4())
        report.collected_at.GetCurrentTime()
        self.spool.put(report)  # numbers it, as collect() does
        kept = report_pb2.AgentReport()
        kept.CopyFrom(report)
        if kept.network.wifi_nearby:  # what the collector keeps of it: no access point heard
            del kept.network.wifi_nearby[:]
        self.made[report.report_id] = canonical(kept)
        self.last_made = report.report_id
        return report

    def drain(self):
        return drain(self, batch=100)  # type: ignore[arg-type]

    def drain_all(self, rounds: int = 20) -> None:
        for _ in range(rounds):
            self.drain()
            if not self.spool.depth():
                return
        raise AssertionError(f"the outbox did not empty: {self.spool.depth()} reports left")

    def report(self, *changes: str) -> None:
        """Per change: the laptop changes, the agent scans and delivers all it holds."""
        for kind in changes:
            self.change(kind)
            self.scan()
            self.drain_all()

    def wipe(self) -> None:
        """The agent's state dir lost (reinstalled): a new outbox, the count starting again."""
        self.spool.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.folder / 'spool.sqlite'}{suffix}").unlink(missing_ok=True)
        self.spool = Spool(self.folder / "spool.sqlite")

    def close(self) -> None:
        self.spool.close()
        self.client.close()
