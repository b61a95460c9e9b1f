"""The device-id rule, one for both sides: the agent checks the id it enrolls with, the collector
the ids it is sent and the ones an MDM export names; and the one spelling a serial is known by."""
from __future__ import annotations

import re
import string

# A hardware serial as MDMs record it; the collector applies the same rule. At most 64 characters:
# the device id is the certificate's common name (RFC 5280 ub-common-name), so a longer one could
# never enroll.
MAX_DEVICE_ID_LENGTH = 64
_DEVICE_ID = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9._:@/+-]{{0,{MAX_DEVICE_ID_LENGTH - 1}}}$")


def valid_device_id(device_id: str) -> bool:
    return bool(_DEVICE_ID.fullmatch(device_id or ""))  # `$` alone would let a trailing newline in


_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)


def canonical_device_id(device_id: str) -> str:
    """The one spelling of a serial: upper case, as vendors print serials and MDMs export them.
    `c02abc` and `C02ABC` are one laptop: enrollment certifies this spelling, the collector
    compares ids by it (one live certificate per serial) and the roster is keyed by it. Only ASCII
    letters change, exactly as SQLite's `upper()` does, so `upper(device_id)` is the same key in
    SQL and no other character can turn into a valid one ('ﬀ' stays 'ﬀ', not 'FF')."""
    return device_id.translate(_ASCII_UPPER)
