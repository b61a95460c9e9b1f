"""Real parts: a collector with its own PKI and SQLite file, serving mTLS gRPC on 127.0.0.1."""
from __future__ import annotations

import gc
import os
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

os.environ.setdefault("GRPC_VERBOSITY", "ERROR")  # handshake refusals are expected in these tests

from farmwatch.agent import identity, transport  # noqa: E402
from farmwatch.collector import enrollment, pki  # noqa: E402
from farmwatch.collector.config import CollectorConfig  # noqa: E402
from farmwatch.collector.server import CollectorServer  # noqa: E402
from farmwatch.collector.ingest import Store  # noqa: E402
from farmwatch.v1 import report_pb2  # noqa: E402


@dataclass
class AgentCredentials:
    device_id: str
    key_pem: bytes
    cert_pem: bytes
    ca_pem: bytes


class RunningCollector:
    def __init__(self, home: Path, **settings):
        self.home = home
        self.config = CollectorConfig.load(home, listen="127.0.0.1:0", **settings)
        self.server = CollectorServer(self.config)
        self.server.start()
        self.address = f"127.0.0.1:{self.server.port}"
        self.ca_pem = (home / "pki" / "ca.crt").read_bytes()

    @property
    def store(self) -> Store:
        return self.server.store

    def token(self, **kwargs) -> str:
        return enrollment.create_token(self.store, **kwargs).secret

    def enroll(self, device_id: str, token: str | None = None) -> AgentCredentials:
        key = identity.load_or_create_key(self.home / f"agent-{device_id}.key")
        request = transport.collector_pb2.EnrollRequest(
            token=token or self.token(), csr_pem=identity.build_csr(key, device_id), device_id=device_id)
        with transport.CollectorClient(transport.enrollment_channel(self.address, ca_pem=self.ca_pem)) as client:
            response = client.enroll(request)
        return AgentCredentials(device_id, (self.home / f"agent-{device_id}.key").read_bytes(),
                                response.certificate_pem, self.ca_pem)

    def analyst(self, name: str = "analyst-alice") -> AgentCredentials:
        """An analyst's key and certificate, as `pki issue-analyst NAME` makes them (device_id holds NAME)."""
        ca = pki.CertificateAuthority.load(self.home / "pki")
        key, cert = enrollment.Enrollment(self.store, ca, cert_lifetime=pki.DEFAULT_CLIENT_LIFETIME).issue_analyst(
            name, pki.DEFAULT_CLIENT_LIFETIME)
        return AgentCredentials(name, key, cert, self.ca_pem)

    def channel(self, creds: AgentCredentials):
        return transport.mtls_channel(self.address, ca_pem=creds.ca_pem, key_pem=creds.key_pem,
                                      cert_pem=creds.cert_pem)

    def client(self, creds: AgentCredentials) -> transport.CollectorClient:
        return transport.CollectorClient(transport.mtls_channel(
            self.address, ca_pem=creds.ca_pem, key_pem=creds.key_pem, cert_pem=creds.cert_pem))

    def stored_reports(self) -> int:
        return self.store.count("reports")

    def stop(self):
        self.server.stop(grace=1)


def make_report(device_id: str, sequence: int = 1, processes: int = 3) -> report_pb2.AgentReport:
    report = report_pb2.AgentReport(report_id=str(uuid.uuid4()), device_id=device_id, sequence=sequence)
    report.collected_at.GetCurrentTime()
    report.host.hostname = f"host-{device_id.lower()}"
    report.host.os = "linux"
    report.host.serial_number = device_id
    for pid in range(1, processes + 1):
        report.processes.add(pid=pid, name=f"proc{pid}", exe=f"/usr/bin/proc{pid}", username="alice")
    return report


SCENARIOS = Path(__file__).parent / "scenarios"


def scenario_report(name: str, device_id: str, sequence: int = 1) -> report_pb2.AgentReport:
    """A scenario's report (e.g. "relay/win_jetkvm") as a fresh report from `device_id`."""
    from farmwatch.collector import ingest

    report = ingest.load_report_file(SCENARIOS / f"{name}.json").report
    report.report_id, report.device_id, report.sequence = str(uuid.uuid4()), device_id, sequence
    report.host.serial_number = device_id
    return report


# No example of a property test is bound in time: on a busy machine a slow example (a garbage
# collection, another process's burst) is not a failing one, and hypothesis reports it as flaky.
settings.register_profile("farmwatch", deadline=None)
settings.load_profile("farmwatch")


@pytest.fixture(autouse=True, scope="module")
def no_collector_outlives_its_module():
    """Every collector a module starts is stopped by it, and what its grpc.aio server and event loop
    leave for the garbage collector goes now: collected during a later test (a property test's
    example, say) it would cost that test time, or fail it, for something it never did."""
    yield
    gc.collect()
    running = [thread.name for thread in threading.enumerate() if thread.name == "grpc-aio"]
    assert not running, f"{len(running)} collector event loop(s) still running: stop every server a test starts"


# -- both engines: SQLite (a file) and PostgreSQL (a real server, tests/pg_server.py) --------------

ENGINES = ("sqlite", "postgresql")


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_dialect: the statement under test is SQLite's own SQL; runs on "
                            "SQLite only (tests/test_postgres_sql.py holds the PostgreSQL counterparts)")
    config.addinivalue_line("markers", "one_engine: what the test proves is not the storage's (TLS, gRPC limits, "
                            "wire framing, HTTP retries, CLI messages): it stores and reads only through paths "
                            "other tests run on both engines; runs on SQLite only")


def pytest_collection_modifyitems(config, items):
    """A `sqlite_dialect` or `one_engine` test is not collected for PostgreSQL: its SQL is not
    PostgreSQL's, or its subject is not the engine."""
    kept = [item for item in items
            if not ((item.get_closest_marker("sqlite_dialect") or item.get_closest_marker("one_engine"))
                    and "postgresql" in item.name)]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept


@pytest.fixture(scope="session")
def postgres_server():
    from pg_server import Server

    server = Server()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server):
    """A new, empty PostgreSQL database for one test."""
    url = postgres_server.new_database()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture
def postgres_schema_url(postgres_server):
    """A new PostgreSQL database for one test, at the current schema (pg_server.Server.new_database)."""
    url = postgres_server.new_database(schema=True)
    yield url
    postgres_server.drop_database(url)


@pytest.fixture(params=ENGINES)
def engine(request, monkeypatch):
    """Each test that takes it runs on both engines; on PostgreSQL every collector and store the
    test opens through its config uses a database of its own ($FARMWATCH_DATABASE_URL)."""
    if request.param == "postgresql":
        monkeypatch.setenv("FARMWATCH_DATABASE_URL", request.getfixturevalue("postgres_schema_url"))
    return request.param


def new_database(request, engine: str, folder: Path, name: str = "farmwatch.sqlite"):
    """A fresh database on `engine` (a SQLite path in `folder`, or a new PostgreSQL database dropped
    when the requesting test or module ends), for fixtures that make several or share one."""
    if engine == "sqlite":
        return folder / name
    server = request.getfixturevalue("postgres_server")
    url = server.new_database(schema=True)
    request.addfinalizer(lambda: server.drop_database(url))
    return url


@pytest.fixture
def database(engine, tmp_path):
    """Where a test's store lives on this engine: a SQLite path, or the PostgreSQL URL."""
    return os.environ["FARMWATCH_DATABASE_URL"] if engine == "postgresql" else tmp_path / "farmwatch.sqlite"


@pytest.fixture
def collector_home(tmp_path) -> Path:
    home = tmp_path / "collector"
    pki.CertificateAuthority.create(home / "pki").issue_server(["localhost", "127.0.0.1"])
    return home


@pytest.fixture
def collector(collector_home):
    running = RunningCollector(collector_home)
    yield running
    running.stop()


def pytest_terminal_summary(terminalreporter):
    import figures

    if figures.lines():
        terminalreporter.write_sep("-", "farmwatch figures (security, faults)")
        for line in figures.lines():
            terminalreporter.write_line(line)


# The agent's fixture laptops (tests/sysroot_machines.py), built once per test module.
@pytest.fixture(scope="module")
def dock(tmp_path_factory):
    from sysroot_machines import dock_laptop

    return dock_laptop(tmp_path_factory.mktemp("dock"))


@pytest.fixture(scope="module")
def pikvm(tmp_path_factory):
    from sysroot_machines import pikvm_laptop

    return pikvm_laptop(tmp_path_factory.mktemp("pikvm"))


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    from sysroot_machines import broken_laptop

    return broken_laptop(tmp_path_factory.mktemp("broken"))
