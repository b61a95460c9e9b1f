"""`serve --workers N`: several serving processes on one port behave as one collector.

The collector is the real `farmwatch-collector serve --workers 2`; agents are real gRPC clients over
mTLS, each channel its own connection, and which worker holds which connection is read from the
kernel (/proc), so a test reaches every worker on purpose, not by chance.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import grpc
import psutil
import pytest

import figures
from agent_fleet import agents_across, provision
from collector_process import Collector, cli, name_database
from conftest import ENGINES, make_report
from farmwatch.agent import identity
from farmwatch.collector import pki
from farmwatch.collector.storage.write_turns import WriteTurns
from farmwatch.common import bootstrap
from farmwatch.v1 import collector_pb2, collector_pb2_grpc

WORKERS = 2
ESTABLISHED, LISTEN = "01", "0A"  # TCP states as /proc/net/tcp spells them


@pytest.fixture(scope="module")
def initialised_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("pki-init") / "collector"
    cli("farmwatch-collector", "--home", home, "pki", "init")
    return home


@pytest.fixture(params=ENGINES)
def served(request, tmp_path, initialised_home):
    """`serve --workers 2` on each engine (on PostgreSQL, a database of its own in the home's settings),
    in a home of its own: a copy of one `pki init` made once per module."""
    home = Path(shutil.copytree(initialised_home, tmp_path / "collector"))
    if request.param == "postgresql":
        name_database(home, request.getfixturevalue("postgres_url"))
    server = Collector(home, "--workers", WORKERS)
    server.start()
    every_worker_listens(server)
    yield server
    if server.running():
        server.stop()


# -- which worker holds what, from the kernel -------------------------------------------------------

def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[len("socket:["):-1]))
    return inodes


def _tcp_sockets(port: int, state: str) -> dict[int, int]:
    """The inodes of the port's sockets in `state`, each with the bytes it holds unread (rx_queue)."""
    found = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == state:
                found[int(fields[9])] = int(fields[4].split(":")[1], 16)
    return found


def _tcp_inodes(port: int, state: str) -> set[int]:
    return set(_tcp_sockets(port, state))


def workers_of(server: Collector) -> list[psutil.Process]:
    return psutil.Process(server.process.pid).children()


def every_worker_listens(server: Collector, count: int = WORKERS, timeout: float = 60) -> list[int]:
    """The pids of `count` workers, once each has its socket listening on the port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        workers, listening = workers_of(server), _tcp_inodes(server.port, LISTEN)
        if len(workers) == count and all(_socket_inodes(w.pid) & listening for w in workers):
            return [w.pid for w in workers]
        time.sleep(0.1)
    raise AssertionError(f"{count} workers were not all listening within {timeout:.0f} s")


def unread_bytes(pid: int, port: int) -> list[int]:
    """What each of `pid`'s established connections on the port holds that it has not read yet."""
    mine = _socket_inodes(pid)
    return [unread for inode, unread in _tcp_sockets(port, ESTABLISHED).items() if inode in mine]


def connections_per_worker(server: Collector) -> dict[int, int]:
    established = _tcp_inodes(server.port, ESTABLISHED)
    return {w.pid: len(_socket_inodes(w.pid) & established) for w in workers_of(server)}


def channels_on_every_worker(server: Collector, credentials: grpc.ChannelCredentials) -> list[grpc.Channel]:
    """New connections (one per channel) until every worker holds at least one."""
    channels = []
    for _ in range(64):
        channel = grpc.secure_channel(server.address, credentials, options=[("grpc.use_local_subchannel_pool", 1)])
        grpc.channel_ready_future(channel).result(timeout=15)
        channels.append(channel)
        if len(channels) >= WORKERS and all(connections_per_worker(server).values()):
            return channels
    raise AssertionError(f"64 connections never reached all {WORKERS} workers: {connections_per_worker(server)}")


def agent_credentials(server: Collector, tmp_path: Path, device_id: str) -> grpc.ChannelCredentials:
    state = provision(server.home, server.address, tmp_path / "agents", [device_id])[0]
    return grpc.ssl_channel_credentials(state.ca_certificate.read_bytes(), state.key.read_bytes(),
                                        state.certificate.read_bytes())


def enrollment_credentials(server: Collector) -> grpc.ChannelCredentials:
    return grpc.ssl_channel_credentials((server.home / "pki" / "ca.crt").read_bytes(), bootstrap.key_pem(),
                                        bootstrap.certificate_pem())


def close(channels) -> None:
    for channel in channels:
        channel.close()


# -- one collector ----------------------------------------------------------------------------------

def test_every_worker_stores_reports_once(served, tmp_path):
    channels = channels_on_every_worker(served, agent_credentials(served, tmp_path, "SN-SPREAD"))
    try:
        acks = [collector_pb2_grpc.CollectorStub(channel).Report(make_report("SN-SPREAD", sequence), timeout=15)
                for sequence, channel in enumerate(channels, 1)]
    finally:
        close(channels)
    assert not any(ack.duplicate for ack in acks)
    assert served.sql("SELECT count(*), count(DISTINCT sequence) FROM reports") == [(len(channels), len(channels))]


def test_revocation_refuses_the_next_call_on_every_worker(served, tmp_path):
    """An agent connected to any worker: once `pki revoke` has run, its next call is refused,
    whichever worker holds its connection (each reads revocation from the database per call)."""
    channels = channels_on_every_worker(served, agent_credentials(served, tmp_path, "SN-STOLEN"))
    try:
        stubs = [collector_pb2_grpc.CollectorStub(channel) for channel in channels]
        for sequence, stub in enumerate(stubs, 1):
            assert not stub.Report(make_report("SN-STOLEN", sequence), timeout=15).duplicate
        cli("farmwatch-collector", "--home", served.home, "pki", "revoke", "SN-STOLEN", "--reason", "stolen")
        for sequence, stub in enumerate(stubs, len(stubs) + 1):
            with pytest.raises(grpc.RpcError) as refused:
                stub.Report(make_report("SN-STOLEN", sequence), timeout=15)
            assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
            assert "revoked" in refused.value.details()
    finally:
        close(channels)
    assert served.sql("SELECT count(*) FROM reports") == [(len(channels),)]


def test_a_token_is_spent_once_across_workers(served):
    """A one-use token tried at once on every worker: one enrollment, the others refused."""
    token = cli("farmwatch-collector", "--home", served.home, "token", "create", "--uses", "1").stdout.split()[-1]
    channels = channels_on_every_worker(served, enrollment_credentials(served))
    outcomes, start = [], threading.Barrier(len(channels))

    def enroll(index: int, channel: grpc.Channel) -> None:
        device_id = f"SN-RACE-{index}"
        request = collector_pb2.EnrollRequest(token=token, device_id=device_id,
                                              csr_pem=identity.build_csr(pki.new_key(), device_id))
        start.wait()
        try:
            collector_pb2_grpc.CollectorStub(channel).Enroll(request, timeout=30)
            outcomes.append(grpc.StatusCode.OK)
        except grpc.RpcError as exc:
            outcomes.append(exc.code())

    threads = [threading.Thread(target=enroll, args=pair) for pair in enumerate(channels)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        close(channels)
    assert sorted(outcomes, key=str) == sorted([grpc.StatusCode.OK] + [grpc.StatusCode.PERMISSION_DENIED] *
                                               (len(channels) - 1), key=str)
    assert served.sql("SELECT count(*) FROM certificates WHERE role = 'agent'") == [(1,)]


def test_calls_that_never_send_their_request_hold_no_worker(served, tmp_path):
    """test_security_clients' silent calls and test_collector_service's health watchers, on every
    worker at once: more of each than a worker has threads; an agent's report still gets through."""
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    creds = agent_credentials(served, tmp_path, "SN-HONEST")
    stalled = channels_on_every_worker(served, enrollment_credentials(served))
    never = threading.Event()

    def silence():
        never.wait()
        return
        yield

    calls = []
    for channel in stalled:
        for method in ("/farmwatch.v1.Collector/Report", "/farmwatch.v1.Collector/Enroll", "/farmwatch.v1.Query/Sql"):
            open_call = channel.stream_unary(method, request_serializer=lambda m: m, response_deserializer=lambda b: b)
            calls += [open_call.future(silence(), timeout=60) for _ in range(16 + 4)]  # `workers` threads each, + 4
        watches = [health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(), timeout=60)
                   for _ in range(16 + 4)]
        assert {next(watch).status for watch in watches} == {health_pb2.HealthCheckResponse.SERVING}
        calls += watches
    honest = grpc.secure_channel(served.address, creds)
    try:
        time.sleep(1.0)  # the stalled calls have reached the workers
        assert not any(call.done() for call in calls)
        assert not collector_pb2_grpc.CollectorStub(honest).Report(make_report("SN-HONEST"), timeout=5).duplicate
    finally:
        never.set()
        for call in calls:
            call.cancel()
        close([*stalled, honest])
    assert served.sql("SELECT count(*) FROM reports") == [(1,)]


def test_a_second_collector_cannot_share_the_port(served, tmp_path):
    """SO_REUSEPORT would let any process of the same user join the port: another home's serve, with
    workers or without, is refused as a taken port, and the first keeps serving."""
    other = tmp_path / "other"
    cli("farmwatch-collector", "--home", other, "pki", "init")
    for workers in ("2", "1"):
        second = cli("farmwatch-collector", "--home", other, "serve", "--listen", served.address, "--workers", workers,
                     check=False)
        assert second.returncode == 1
        assert second.stderr == (f"farmwatch-collector: cannot listen on {served.address}: the port is in use "
                                 "(another collector?) or the address is not one of this machine's; pick another "
                                 "with --listen\n")
    assert served.running() and len(every_worker_listens(served)) == WORKERS


def test_a_collector_starting_at_the_same_moment_is_refused(tmp_path):
    """Two collectors started at once both find the port free; the name the first holds for it
    (held here as the first would) refuses the second."""
    from farmwatch.demo.launch import free_port

    home, port = tmp_path / "collector", free_port()
    cli("farmwatch-collector", "--home", home, "pki", "init")
    with socket.socket(socket.AF_UNIX) as first:
        first.bind(f"\0farmwatch-collector port {port}")
        second = cli("farmwatch-collector", "--home", home, "serve", "--listen", f"127.0.0.1:{port}", "--workers", "2",
                     check=False)
    assert second.returncode == 1 and "the port is in use" in second.stderr


def test_workers_that_cannot_listen_fail_the_serve_with_the_reason(collector_home, monkeypatch):
    """The port taken between the parent's check and the workers' bind (by a program that shares no
    port): the collector does not start, says why in one line, and leaves no worker behind."""
    from farmwatch.collector import workers
    from farmwatch.collector.config import CollectorConfig, ConfigError

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setattr(workers, "_claim_port", lambda listen: (port, socket.socket(socket.AF_UNIX)))
        config = CollectorConfig.load(collector_home, listen=f"127.0.0.1:{port}")
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}: the port is in use"):
            workers.Workers(config, WORKERS)
    assert psutil.Process().children() == []


def test_worker_processes_in_the_settings(tmp_path):
    """`worker_processes = 1` is one process, as before workers; a negative count is refused."""
    home = tmp_path / "collector"
    cli("farmwatch-collector", "--home", home, "pki", "init")
    settings = home / "collector.toml"
    settings.write_text(settings.read_text().replace("worker_processes = 0", "worker_processes = -1"))
    refused = cli("farmwatch-collector", "--home", home, "serve", check=False)
    assert refused.returncode == 1 and "worker_processes must be 0 (one per CPU core) or more, not -1" in refused.stderr
    settings.write_text(settings.read_text().replace("worker_processes = -1", "worker_processes = 1"))
    single = Collector(home)
    single.start()
    try:
        assert workers_of(single) == []
    finally:
        assert single.stop() == 0
    assert "event=serving" in single.log and "workers=" not in single.log


def test_sigterm_stops_every_worker(served):
    workers = workers_of(served)
    assert served.stop() == 0
    gone, alive = psutil.wait_procs(workers, timeout=30)
    assert not alive
    assert served.log.count("event=serving") == 1 and served.log.count("event=worker_serving") == WORKERS


def test_sigterm_while_the_workers_are_still_starting_stops_cleanly(tmp_path):
    """The first worker answers while its parent still waits for the others: a SIGTERM then must stop
    the collector (exit 0, no worker left), not kill the parent with the signal's default action."""
    home = tmp_path / "collector"
    cli("farmwatch-collector", "--home", home, "pki", "init")
    server = Collector(home, "--workers", "4")
    server.start()  # returns once the port answers: the first worker's
    workers = workers_of(server)
    assert server.stop() == 0, server.log
    assert not psutil.wait_procs(workers, timeout=30)[1]


# -- kill -9 ----------------------------------------------------------------------------------------

AGENTS, REPORTS_EACH = 20, 6


def _agents_across_a_kill(served: Collector, tmp_path: Path, kill) -> dict:
    """AGENTS agents send REPORTS_EACH reports each; `kill()` strikes once a third are acknowledged."""
    states = provision(served.home, served.address, tmp_path / "fleet", [f"SN-K-{i:02d}" for i in range(AGENTS)])
    logs, _ = agents_across(states, REPORTS_EACH, kill)
    generated = [rid for log in logs for rid in log.generated]
    stored = [row[0] for row in served.sql("SELECT report_id FROM reports")]
    return {"generated": len(generated), "lost": len(set(generated) - set(stored)),
            "extra": len(stored) - len(set(generated) & set(stored)),
            "failed_drains": sum(log.failed_drains for log in logs)}


# A report call on the wire (HTTP/2 HEADERS and DATA with the gzip'd report or delta, in TLS records)
# is some 300 bytes or more; what a client sends unasked (PING, WINDOW_UPDATE) is some 40 bytes a frame.
A_CALL_ON_THE_WIRE = 200


def kill_9_while_a_report_waits(served: Collector) -> int:
    """kill -9 of a worker that certainly holds an agent's report: the worker with the most agent
    connections is stopped (SIGSTOP) first, so the next report an agent sends it stays unread in
    its socket (an agent whose report it had read already sends it again once its call times out);
    once one does, SIGKILL. Returns the worker's pid."""
    held = connections_per_worker(served)
    victim = max(held, key=held.get)
    assert held[victim], f"no agent connected to any worker: {held}"
    os.kill(victim, signal.SIGSTOP)
    _until(lambda: max(unread_bytes(victim, served.port), default=0) >= A_CALL_ON_THE_WIRE)
    os.kill(victim, signal.SIGKILL)
    return victim


def test_kill_9_of_a_worker_loses_nothing_and_it_is_started_again(served, tmp_path):
    before, killed = every_worker_listens(served), []
    outcome = _agents_across_a_kill(served, tmp_path, lambda: killed.append(kill_9_while_a_report_waits(served)))
    after = every_worker_listens(served)
    figures.note("faults: serve --workers 2, one worker kill -9 with 20 agents sending", "reports lost",
                 outcome["lost"])
    assert outcome["generated"] == AGENTS * REPORTS_EACH
    assert outcome["lost"] == 0 and outcome["extra"] == 0
    assert outcome["failed_drains"] > 0  # the kill did hit agents mid-send
    [victim] = killed
    [survivor] = set(before) - {victim}
    assert victim not in after and survivor in after
    assert served.stop() == 0
    died = re.search(rf"event=worker_died worker=(\d+) pid={victim} exit_code=-9", served.log)
    assert died, served.log
    assert f"event=worker_restarted worker={died[1]} " in served.log


def test_kill_9_of_the_parent_ends_its_workers_and_a_new_serve_loses_nothing(served, tmp_path):
    workers = workers_of(served)

    def kill_parent():
        assert served.kill() == -9
        gone, alive = psutil.wait_procs(workers, timeout=30)  # they read end-of-file, and stop
        assert not alive
        served.start()
        every_worker_listens(served)

    outcome = _agents_across_a_kill(served, tmp_path, kill_parent)
    figures.note("faults: serve --workers 2, parent kill -9 with 20 agents sending", "reports lost", outcome["lost"])
    assert outcome["generated"] == AGENTS * REPORTS_EACH
    assert outcome["lost"] == 0 and outcome["extra"] == 0
    assert outcome["failed_drains"] > 0


# -- write turns ------------------------------------------------------------------------------------

def _tickets_taken(turns: WriteTurns) -> int:
    return int.from_bytes(turns.path.read_bytes()[:8], "little")


def _until(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.01)


def test_write_turns_go_in_the_order_they_were_asked_for(tmp_path):
    """A writer that comes straight back after its turn queues behind those already waiting: the
    starvation plain SQLite busy-retry allowed."""
    turns, order = WriteTurns(tmp_path / "db.sqlite"), []
    held, release = threading.Event(), threading.Event()

    def first():
        with turns.turn():
            held.set()
            release.wait()
        with turns.turn():  # straight back
            order.append("first again")

    def later(name):
        with turns.turn():
            order.append(name)

    threads = [threading.Thread(target=first)]
    threads[0].start()
    held.wait()
    for index, name in enumerate(("a", "b", "c")):
        threads.append(threading.Thread(target=later, args=(name,)))
        threads[-1].start()
        _until(lambda taken=index + 2: _tickets_taken(turns) == taken)
    release.set()
    for thread in threads:
        thread.join(30)
    assert order == ["a", "b", "c", "first again"]


HOLD_A_TURN = """
import sys, time
from farmwatch.collector import pki
from farmwatch.collector.storage.write_turns import WriteTurns
with WriteTurns(sys.argv[1]).turn():
    print("holding", flush=True)
    time.sleep(600)
"""


def test_a_writer_killed_in_its_turn_lets_the_next_one_in(tmp_path):
    database = tmp_path / "db.sqlite"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_A_TURN, str(database)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "holding\n"
        turns, entered = WriteTurns(database), threading.Event()

        def wait_for_turn():
            with turns.turn():
                entered.set()

        waiter = threading.Thread(target=wait_for_turn)
        waiter.start()
        _until(lambda: _tickets_taken(turns) == 2)
        assert not entered.wait(0.5)  # queued behind the holder
        holder.kill()
        waiter.join(30)
        assert entered.is_set()
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()


def test_a_write_transaction_inside_another_is_refused_not_a_deadlock(tmp_path):
    turns = WriteTurns(tmp_path / "db.sqlite")
    with turns.turn():
        with pytest.raises(RuntimeError, match="already has a write transaction open"):
            with WriteTurns(tmp_path / "db.sqlite").turn():
                pass
    with turns.turn():  # and the refusal left no turn behind
        pass
