"""The agent's state dir damaged under it (a truncated key, a garbled certificate, an emptied CA, a
certificate that is not for the key): `run` keeps every report spooled, says which file is wrong and
that the laptop must be enrolled again, exits 4, and fixes itself once `enroll --force` has run."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import make_report

from farmwatch.agent import run as runner
from farmwatch.agent.state import StateDir

AGENT = Path(sys.executable).parent / "farmwatch-agent"


def enroll(collector, root: Path, device_id: str) -> StateDir:
    state = StateDir(root / device_id)
    runner.enroll(state, runner.EnrollParams(collector.address, collector.token(), collector.ca_pem, device_id))
    return state


def run_once(state: StateDir, **env) -> tuple[int, dict, str]:
    result = subprocess.run([str(AGENT), "--state-dir", str(state.root), "run", "--once"], capture_output=True,
                            text=True, timeout=60, env={**os.environ, "GRPC_VERBOSITY": "ERROR", **env})
    return result.returncode, json.loads(result.stdout or "{}"), result.stderr


DAMAGE = {
    "key emptied": ("agent.key", lambda state, other: b""),  # gRPC aborted the process on this one
    "key garbled": ("agent.key", lambda state, other: b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
    "certificate emptied": ("agent.crt", lambda state, other: b""),
    "certificate garbled": ("agent.crt", lambda state, other: b"\x00" * 300),
    "certificate of another laptop": ("agent.crt", lambda state, other: other.certificate.read_bytes()),
    "CA garbled": ("ca.crt", lambda state, other: b"not a certificate"),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_identity_file_is_named_reports_stay_spooled_and_exit_4(collector, tmp_path, damage):
    state, other = enroll(collector, tmp_path, "SN-DMG-1"), enroll(collector, tmp_path, "SN-DMG-2")
    name, content = DAMAGE[damage]
    (state.root / name).write_bytes(content(state, other))
    code, result, stderr = run_once(state)
    assert code == 4, stderr
    assert result["spooled"] and not result["delivered"]
    assert "enroll again" in result["error"]
    # what gRPC cannot load inside a well-formed PEM is named by its folder
    assert name in result["error"] or f"in {state.root} cannot be used" in result["error"]


def test_an_empty_ca_file_never_falls_back_to_the_public_roots(collector, tmp_path):
    """gRPC given empty root certificates trusts its default roots; here those would be the
    collector's own CA, so a fallback would deliver the report."""
    state = enroll(collector, tmp_path, "SN-DMG-CA")
    state.ca_certificate.write_bytes(b"")
    code, result, _ = run_once(state, GRPC_DEFAULT_SSL_ROOTS_FILE_PATH=str(collector.home / "pki" / "ca.crt"))
    assert code == 4 and not result["delivered"] and result["spooled"]
    assert "ca.crt" in result["error"]
    assert collector.stored_reports() == 0


def test_run_keeps_spooling_with_a_garbled_certificate_and_recovers_after_enroll(collector, tmp_path):
    state = enroll(collector, tmp_path, "SN-DMG-RUN")
    state.certificate.write_bytes(b"garbage")
    stop = threading.Event()
    worker = threading.Thread(target=runner.run_forever, args=(state, stop), kwargs={
        "interval": 0.3, "scanner": lambda sysroot=None: make_report("SN-DMG-RUN")})
    worker.start()
    try:
        time.sleep(1.5)
        assert worker.is_alive() and collector.stored_reports() == 0
        runner.enroll(state, runner.EnrollParams(collector.address, collector.token(allow_reenroll=True),
                                                 collector.ca_pem, "SN-DMG-RUN"))  # the fix IT applies
        deadline = time.monotonic() + 20
        while collector.stored_reports() < 4 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        worker.join(timeout=10)
    assert not worker.is_alive()
    assert collector.stored_reports() >= 4  # the ones spooled while broken arrived too
