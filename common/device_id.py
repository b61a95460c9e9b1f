"""The device-id rule, one for both sides: the agent checks the id it enrolls with, the collector
the ids it is sent and the ones an MDM export names."""
from __future__ import annotations

import re

# A hardware serial as MDMs record it; the collector applies the same rule. At most 64 characters:
# the device id is the certificate's common name (RFC 5280 ub-common-name), so a longer one could
# never enroll.
MAX_DEVICE_ID_LENGTH = 64
_DEVICE_ID = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9._:@/+-]{{0,{MAX_DEVICE_ID_LENGTH - 1}}}$")


def valid_device_id(device_id: str) -> bool:
    return bool(_DEVICE_ID.fullmatch(device_id or ""))  # `$` alone would let a trailing newline in
