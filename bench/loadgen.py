"""Simulate N enrolled agents against a running collector, each with its own key, certificate and
mTLS connection, sending realistic reports at a set rate or closed-loop, for a set time.

    python bench/loadgen.py --collector 127.0.0.1:7443 --home COLLECTOR_HOME --agents 500 --seconds 30
    python bench/loadgen.py --agents 50 --seconds 10        # starts its own collector in a temp home

Agents enroll through the real Enroll RPC (a token made in the collector's home), --enroll-parallel at a time.
All simulated agents connect from 127.0.0.1, so each one names its own address in
`x-forwarded-for` (from 198.18.0.0/15, the range set aside for benchmarks; never connected to)
and the collector must trust 127.0.0.1 as a proxy (`trusted_proxies = ["127.0.0.1/32"]`, which a
collector started by this script has). Without that, the collector's per-address enrollment
limit refuses all but the first few agents, and the fleet would see 500 laptops behind one address.

Library use (tests, other benchmarks):

    agents = enroll_agents(address, ca_pem, token, count=500)
    result = run_load(address, agents, seconds=30, rate=100.0)
    result.failed, result.report_ids, result.summary()
"""
from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from benchlib.collector import CollectorProcess, create_token, init_home
from benchlib.reports import AgentReports, LaptopReports, base_report
from benchlib.stats import percentile, table
from farmwatch.agent import identity, transport
from farmwatch.v1 import collector_pb2, collector_pb2_grpc

SIMULATED_NETWORK = ipaddress.ip_network("198.18.0.0/15")  # RFC 2544 benchmarking range
CALL_TIMEOUT = 30.0


@dataclass
class SimulatedAgent:
    index: int
    device_id: str
    address: str  # the client address it claims in x-forwarded-for
    key_pem: bytes
    cert_pem: bytes
    ca_pem: bytes

    @property
    def metadata(self) -> tuple:
        return (("x-forwarded-for", self.address),)


class EnrollmentFailed(RuntimeError):
    pass


def simulated_address(index: int) -> str:
    return str(SIMULATED_NETWORK.network_address + 1 + index)


def enroll_agents(address: str, ca_pem: bytes, token: str, count: int, *, prefix: str | None = None,
                  parallel: int = 1) -> list[SimulatedAgent]:
    """Enroll `count` agents through Enroll, `parallel` at a time; each makes its own P-256 key."""
    prefix = prefix or f"LG{uuid.uuid4().hex[:6].upper()}"
    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="enroll") as pool:
        return list(pool.map(lambda i: _enroll_one(address, ca_pem, token, i, f"{prefix}-{i:05d}"), range(count)))


def _enroll_one(address: str, ca_pem: bytes, token: str, index: int, device_id: str) -> SimulatedAgent:
    key = ec.generate_private_key(ec.SECP256R1())
    request = collector_pb2.EnrollRequest(token=token, csr_pem=identity.build_csr(key, device_id),
                                          device_id=device_id)
    agent_address = simulated_address(index)
    channel = transport.enrollment_channel(address, ca_pem=ca_pem)
    try:
        response = collector_pb2_grpc.CollectorStub(channel).Enroll(
            request, timeout=CALL_TIMEOUT, metadata=(("x-forwarded-for", agent_address),))
    except grpc.RpcError as exc:
        hint = (" (does the collector trust 127.0.0.1 as a proxy? see --help)"
                if exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED else "")
        raise EnrollmentFailed(f"enrolling {device_id}: {exc.code().name}: {exc.details()}{hint}") from None
    finally:
        channel.close()
    identity.check_issued_certificate(response.certificate_pem, key=key, ca_pem=ca_pem, device_id=device_id)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return SimulatedAgent(index, device_id, agent_address, key_pem, response.certificate_pem, ca_pem)


@dataclass
class LoadResult:
    agents: int
    seconds: float  # the measured window
    rate: float | None  # target reports/s over all agents; None: closed loop
    ok: int = 0
    failed: Counter = field(default_factory=Counter)  # status code name → calls
    latencies: list[float] = field(default_factory=list)  # seconds, of the calls acknowledged in the window
    report_ids: list[str] = field(default_factory=list)  # every report sent, warm-up included
    acked_ids: list[str] = field(default_factory=list)
    duplicates_acked: int = 0  # acks that said "already stored"
    full_in_window: int = 0  # of `ok`: reports that went in full (delta mode: first, daily, resync, asked for)
    resent_full: int = 0  # deltas the collector answered "send it in full"
    late: int = 0  # rate mode: sends that started after their slot because the previous call was slow

    @property
    def failed_calls(self) -> int:
        return sum(self.failed.values())

    @property
    def reports_per_second(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def summary(self) -> dict:
        ms = [x * 1000 for x in self.latencies]
        return {
            "agents": self.agents, "seconds": round(self.seconds, 2), "target_rate": self.rate,
            "calls_ok": self.ok, "calls_failed": dict(self.failed),
            "reports_per_second": round(self.reports_per_second, 1),
            "p50_ms": _round(percentile(ms, 0.50)), "p99_ms": _round(percentile(ms, 0.99)),
            "max_ms": _round(max(ms) if ms else None), "reports_sent": len(self.report_ids),
            "duplicates_acked": self.duplicates_acked, "late_sends": self.late,
            "full_in_window": self.full_in_window, "resent_full": self.resent_full,
        }


def _round(value):
    return None if value is None else round(value, 2)


def run_load(address: str, agents: list[SimulatedAgent], *, seconds: float, rate: float | None = None,
             warmup: float = 0.0, base=None, window_hooks=None, prime: bool = False,
             deltas: bool = False, full_share: float = 0.05) -> LoadResult:
    """Every agent sends reports for `warmup + seconds`, then stops; returns what happened.

    `rate`: reports/s over all agents (each agent sends every len(agents)/rate seconds, with a random
    first offset); None: closed loop, every agent keeps one call in flight. Calls in the warm-up are
    sent and their report_ids kept, but not counted. `window_hooks`: (on_start, on_end) callables run
    at the edges of the measured window (e.g. to read a server's CPU time). `prime`: every agent's
    first report (the collector's first sight of a device, which writes its whole inventory) is sent
    and acknowledged before the warm-up, so the window measures steady state. `deltas`: agents send
    as the agent does, a laptop's churn as delta reports (`LaptopReports`), `full_share` of them
    sending only full reports (new laptops, resyncs); otherwise every report is full.
    """
    base = base or base_report()
    sources = [LaptopReports(base, agent.device_id, agent.index, full_only=agent.index < len(agents) * full_share)
               if deltas else AgentReports(base, agent.device_id, agent.index) for agent in agents]
    return asyncio.run(_run(address, agents, seconds, rate, warmup, sources, window_hooks, prime))


async def _run(address, agents, seconds, rate, warmup, sources, window_hooks, prime) -> LoadResult:
    result = LoadResult(len(agents), seconds, rate)
    channels = [_channel(address, agent) for agent in agents]
    try:
        await asyncio.gather(*(asyncio.wait_for(c.channel_ready(), CALL_TIMEOUT) for c in channels))
        loop = asyncio.get_running_loop()
        if prime:
            no_window = (float("inf"), float("inf"))
            await asyncio.gather(*(_send(loop, collector_pb2_grpc.CollectorStub(channel), agent, reports, no_window,
                                         result) for channel, agent, reports in zip(channels, agents, sources)))
        start = loop.time()
        window = (start + warmup, start + warmup + seconds)
        hooks = asyncio.ensure_future(_hooks(loop, window, window_hooks))
        await asyncio.gather(*(
            _agent_loop(loop, channel, agent, reports, window, rate, len(agents), result)
            for channel, agent, reports in zip(channels, agents, sources)))
        await hooks
    finally:
        await asyncio.gather(*(c.close() for c in channels))
    return result


def _channel(address: str, agent: SimulatedAgent) -> grpc.aio.Channel:
    credentials = grpc.ssl_channel_credentials(root_certificates=agent.ca_pem, private_key=agent.key_pem,
                                               certificate_chain=agent.cert_pem)
    # its own subchannel pool: every simulated agent gets its own TCP + TLS connection, as laptops do
    return grpc.aio.secure_channel(address, credentials, options=[("grpc.use_local_subchannel_pool", 1)])


async def _hooks(loop, window, window_hooks) -> None:
    if not window_hooks:
        return
    on_start, on_end = window_hooks
    await asyncio.sleep(max(0.0, window[0] - loop.time()))
    on_start()
    await asyncio.sleep(max(0.0, window[1] - loop.time()))
    on_end()


async def _agent_loop(loop, channel, agent, reports: AgentReports, window, rate, count, result) -> None:
    stub = collector_pb2_grpc.CollectorStub(channel)
    interval = count / rate if rate else 0.0
    next_send = loop.time() + random.uniform(0, interval)
    while True:
        if interval:
            if next_send >= window[1]:
                return
            delay = next_send - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                result.late += 1
            next_send += interval
        if loop.time() >= window[1]:
            return
        await _send(loop, stub, agent, reports, window, result)


async def _send(loop, stub, agent: SimulatedAgent, reports, window, result: LoadResult) -> None:
    """One report; counted in the figures when its ack arrived inside the window (like a server's
    count of acknowledged reports), with its latency. A delta the collector answers "send it in
    full" goes again in full, as the agent does: one report, two calls."""
    sent = loop.time()
    deltas = isinstance(reports, LaptopReports)
    report = reports.message() if deltas else reports.next()
    report_id = report.report_id
    result.report_ids.append(report_id)
    try:
        ack = await stub.Report(report, timeout=CALL_TIMEOUT, metadata=agent.metadata)
        if deltas and ack.send_full:
            result.resent_full += 1
            reports.sent_full = True
            ack = await stub.Report(reports.full(), timeout=CALL_TIMEOUT, metadata=agent.metadata)
    except grpc.aio.AioRpcError as exc:
        result.failed[exc.code().name] += 1
        if deltas:
            reports.acked(False)
        return
    if deltas:
        reports.acked(not ack.send_full)
    finished = loop.time()
    result.acked_ids.append(report_id)
    result.duplicates_acked += ack.duplicate
    if window[0] <= finished <= window[1]:
        result.ok += 1
        result.full_in_window += not deltas or reports.sent_full
        result.latencies.append(finished - sent)


# -- command line -----------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1] + "\nWithout --collector, a collector is started in a temporary home "
               "and stopped at the end, and the stored reports are counted against the ones sent.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--collector", metavar="HOST:PORT", help="a running collector (needs --home)")
    parser.add_argument("--home", type=Path, help="that collector's home: pki/ca.crt and the database for a token")
    parser.add_argument("--agents", type=int, default=50, help="simulated agents (default 50)")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured window (default 10)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds sent before the window (default 1)")
    parser.add_argument("--rate", type=float, help="reports/s over all agents (default: closed loop)")
    parser.add_argument("--prime", action="store_true",
                        help="each agent's first report (which writes its whole inventory) acknowledged before the "
                             "warm-up, so the window measures steady state")
    parser.add_argument("--processes", type=int, default=400, help="processes per report (default 400)")
    parser.add_argument("--deltas", action="store_true",
                        help="send as the agent does: a laptop's churn as delta reports, 5%% of agents full only")
    parser.add_argument("--enroll-parallel", type=int, default=1,
                        help="enrollments in flight at once (default 1: the collector's Enroll shares one "
                             "database connection between RPC threads, so concurrent enrollments collide)")
    parser.add_argument("--report-ids", type=Path, help="write every generated report_id to this file")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if bool(args.collector) != bool(args.home):
        build_parser().error("--collector and --home go together")
    if args.collector:
        summary, _ = _drive(args, args.collector, args.home)
    else:
        with tempfile.TemporaryDirectory(prefix="farmwatch-loadgen-") as tmp:
            with CollectorProcess(init_home(Path(tmp) / "collector")) as server:
                summary, result = _drive(args, server.address, server.home)
            summary.update(_count_stored(result, Counter(server.stored_report_ids())))
    print(json.dumps(summary) if args.json else table(["figure", "value"], list(summary.items())))
    return 0 if not summary["calls_failed"] else 1


def _drive(args, address: str, home: Path) -> tuple[dict, LoadResult]:
    ca_pem = (home / "pki" / "ca.crt").read_bytes()
    enroll_started = time.perf_counter()
    agents = enroll_agents(address, ca_pem, create_token(home, args.agents), args.agents,
                           parallel=args.enroll_parallel)
    enroll_seconds = time.perf_counter() - enroll_started
    base = base_report(args.processes)
    result = run_load(address, agents, seconds=args.seconds, rate=args.rate, warmup=args.warmup, base=base,
                      prime=args.prime, deltas=args.deltas)
    if args.report_ids:
        args.report_ids.write_text("\n".join(result.report_ids) + "\n")
    return {**result.summary(), "enroll_seconds": round(enroll_seconds, 2), "report_bytes": base.ByteSize()}, result


def _count_stored(result: LoadResult, stored: Counter) -> dict:
    """What the database holds of what was sent and acknowledged."""
    return {"reports_lost": sum(1 for rid in result.acked_ids if rid not in stored),
            "stored_of_sent": sum(1 for rid in result.report_ids if rid in stored),
            "duplicates_stored": sum(n - 1 for n in stored.values())}


if __name__ == "__main__":
    sys.exit(main())
