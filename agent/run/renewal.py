"""Certificate renewal: a fresh certificate for the same key once a third of the current one's
lifetime is left."""
from __future__ import annotations

import datetime as dt
import logging

from farmwatch.agent.identity import (
    IdentityError, build_csr, check_issued_certificate, load_key, read_certificate_info, store_certificate,
)
from farmwatch.agent.transport import CollectorError
from farmwatch.common.clock import utcnow

from .agent import Agent

log = logging.getLogger(__name__)


def renew_if_due(agent: Agent, now: dt.datetime | None = None) -> bool:
    """Swap in a fresh certificate once a third of the current one's lifetime is left."""
    info = read_certificate_info(agent.state.certificate)
    if not info.renew_due(now or utcnow()):
        return False
    key = load_key(agent.state.key)
    try:
        response = agent.client.renew(build_csr(key, agent.config.device_id))
        new = check_issued_certificate(
            response.certificate_pem, key=key, ca_pem=agent.state.ca_certificate.read_bytes(),
            device_id=agent.config.device_id,
        )
    except (CollectorError, IdentityError) as exc:
        log.warning("certificate renewal failed; will retry next cycle not_after=%s error=%r",
                    info.not_after.isoformat(), str(exc))
        return False
    store_certificate(agent.state.certificate, response.certificate_pem, new)
    agent.reconnect()
    log.info("certificate renewed not_after=%s", new.not_after.isoformat())
    return True
