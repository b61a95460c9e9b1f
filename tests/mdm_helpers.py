"""Shared pieces of the MDM tests: the test CA, stand-ins that close, settings pointing at them."""
from __future__ import annotations

import pytest

from farmwatch.collector import mdm
from farmwatch.collector.ingest import Store
from tests.mdm_standins import GraphStandIn, JamfStandIn, KandjiStandIn, TestCA

SECRET_ENV = "FARMWATCH_TEST_MDM_SECRET"


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    return TestCA(tmp_path_factory.mktemp("mdm-ca"))


@pytest.fixture
def standins(tls):
    made = []

    def make(kind):
        made.append({"jamf": JamfStandIn, "intune": GraphStandIn, "kandji": KandjiStandIn}[kind](tls))
        return made[-1]

    yield make
    for stand_in in made:
        stand_in.close()


@pytest.fixture
def store(database):
    """The collector's store on each engine (conftest's `database`)."""
    store = Store(database)
    yield store
    store.close()


def settings_for(stand_in, tls, monkeypatch, **extra) -> mdm.MdmSettings:
    """`[mdm]` with one table for `stand_in`'s MDM, its secret in an environment variable."""
    monkeypatch.setenv(SECRET_ENV, stand_in.secret)
    table = {"url": stand_in.url, "ca_file": tls.ca_file, "timeout_seconds": extra.pop("timeout_seconds", 10)}
    if stand_in.kind == "kandji":
        table["token_env"] = SECRET_ENV
    else:
        table.update(client_id=stand_in.client_id, client_secret_env=SECRET_ENV)
    if stand_in.kind == "intune":
        table.update(tenant=stand_in.tenant, login_url=stand_in.url)
    table.update(extra.pop("table", {}))
    return mdm.MdmSettings.from_dict({stand_in.kind: table, **extra})


class Sleeps(list):
    """Stands in for time.sleep: records the waits (a Retry-After is honoured, not slept through in tests)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def sync(store, stand_in, settings, sleeps=None, **kw) -> mdm.SyncOutcome:
    client = mdm.client_for(settings.source(stand_in.kind), settings, sleep=sleeps if sleeps is not None else Sleeps())
    return mdm.sync_source(store, client, mdm=settings, **kw)


def roster(store) -> dict[str, tuple]:
    return {r["serial"]: (r["user_name"], r["email"], r["department"], r["source_format"])
            for r in store.rows("SELECT * FROM roster")}
