"""Enrollment: with parameters given on the command line, or with what the MDM left in
bootstrap.toml (the device id then defaults to the hardware serial number)."""
from __future__ import annotations

import logging
import socket
from dataclasses import dataclass

from farmwatch.agent import __version__
from farmwatch.agent.identity import (
    build_csr, check_ca_certificate, check_issued_certificate, load_or_create_key, store_certificate,
)
from farmwatch.agent.state import AgentConfig, StateDir
from farmwatch.agent.transport import (
    CollectorClient, CollectorError, check_address, enrollment_channel, explain_wrong_name,
)
from farmwatch.common.clock import utcnow
from farmwatch.common.device_id import MAX_DEVICE_ID_LENGTH, canonical_device_id, valid_device_id
from farmwatch.common.files import write_private
from farmwatch.common.intervals import MIN_REPORT_INTERVAL
from farmwatch.v1 import collector_pb2

from .agent import Scanner, scan_report

log = logging.getLogger(__name__)


def hardware_serial(scanner: Scanner = scan_report, sysroot: str | None = None) -> str:
    return scanner(sysroot).host.serial_number


@dataclass(frozen=True)
class EnrollParams:
    collector: str
    token: str
    ca_pem: bytes
    device_id: str
    server_name: str = ""


def enroll(state: StateDir, params: EnrollParams, timeout: float = 30.0) -> AgentConfig:
    """Enroll with the collector and store certificate, CA and config in `state`.

    Raises ValueError for bad parameters, CollectorError when the collector says no,
    IdentityError when what it returned cannot be trusted.
    """
    check_address(params.collector)
    if not valid_device_id(params.device_id):
        raise ValueError(
            f"device id {params.device_id!r} is not usable: letters, digits and ._:@/+- only, "
            f"starting with a letter or digit, at most {MAX_DEVICE_ID_LENGTH} characters"
        )
    check_ca_certificate(params.ca_pem)  # fail here, before the token is sent, if the CA file is wrong
    device_id = canonical_device_id(params.device_id)  # the spelling the collector certifies
    state.ensure()
    key = load_or_create_key(state.key)
    request = collector_pb2.EnrollRequest(
        token=params.token, csr_pem=build_csr(key, device_id), device_id=device_id,
        hostname=socket.gethostname(), agent_version=__version__,
    )
    channel = enrollment_channel(params.collector, ca_pem=params.ca_pem, server_name=params.server_name)
    with CollectorClient(channel, timeout) as client:
        try:
            response = client.enroll(request)
        except CollectorError as exc:
            raise explain_wrong_name(exc, params.collector, params.ca_pem, params.server_name) from None
    info = check_issued_certificate(
        response.certificate_pem, key=key, ca_pem=params.ca_pem, device_id=device_id
    )
    write_private(state.ca_certificate, params.ca_pem, replace=True)
    store_certificate(state.certificate, response.certificate_pem, info)
    config = AgentConfig(
        collector=params.collector, device_id=info.device_id, server_name=params.server_name,
        enrolled_at=utcnow().isoformat(timespec="seconds"),
    )
    if response.report_interval_seconds:
        config.report_interval_seconds = collector_interval(response.report_interval_seconds)
    if state.config_file.exists():  # keep spool bounds an admin tuned before re-enrolling
        config.spool = state.load_config().spool
    state.save_config(config)  # last: its presence marks a complete enrollment
    log.info("enrolled device_id=%s collector=%s not_after=%s", info.device_id, params.collector,
             info.not_after.isoformat())
    return config


def enroll_from_bootstrap(state: StateDir, scanner: Scanner = scan_report,
                          sysroot: str | None = None) -> AgentConfig | None:
    """Enroll with what the MDM left in bootstrap.toml; None when there is no such file."""
    bootstrap = state.load_bootstrap()
    if bootstrap is None:
        return None
    device_id = bootstrap.device_id or hardware_serial(scanner, sysroot)
    if not device_id:
        raise ValueError(f"this machine reports no hardware serial number; set device_id in {state.bootstrap_file}")
    params = EnrollParams(
        collector=bootstrap.collector, token=bootstrap.token, ca_pem=bootstrap.ca_cert.read_bytes(),
        device_id=device_id, server_name=bootstrap.server_name,
    )
    log.info("enrolling from bootstrap file path=%s", state.bootstrap_file)
    return enroll(state, params)


def collector_interval(seconds: int) -> int:
    """The report interval a collector asks for, but never below MIN_REPORT_INTERVAL."""
    return max(MIN_REPORT_INTERVAL, seconds)
