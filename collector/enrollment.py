"""Enrollment tokens, the certificates signed with them, renewal and revocation.

Tokens are bootstrap only: they let an agent get its first certificate and never authenticate a
report. They are stored hashed, expire, have a use count, and are tried at a bounded rate per
client address so they cannot be guessed. One live certificate per device id: enrolling a device
id that already holds one needs a token made with `--allow-reenroll`.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

from farmwatch.collector import pki
from farmwatch.collector.storage import Storage
from farmwatch.common.device_id import MAX_DEVICE_ID_LENGTH, canonical_device_id, valid_device_id

TOKEN_PREFIX = "fwt_"
_DURATION = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class EnrollmentRefused(Exception):
    """Refused with a reason the agent's operator can act on. `code` is a gRPC status name."""

    def __init__(self, message: str, code: str = "PERMISSION_DENIED"):
        super().__init__(message)
        self.code = code


def parse_duration(text: str) -> dt.timedelta:
    match = _DURATION.match(text.strip().lower())
    if not match:
        raise ValueError(f"{text!r} is not a duration like 30m, 12h, 7d or 2w")
    return dt.timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class Token:
    token_id: str
    secret: str
    expires_at: str
    uses_allowed: int
    allow_reenroll: bool


def create_token(store: Storage, *, uses: int = 1, expires: dt.timedelta = dt.timedelta(days=7),
                 allow_reenroll: bool = False, note: str = "") -> Token:
    if uses < 1:
        raise ValueError("a token needs at least one use")
    token_id = secrets.token_hex(4)
    secret = f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(24)}"
    expires_at = _iso(pki.utcnow() + expires)
    with store.enrollment_records() as records:
        records.add_token(token_id, _hash(secret), expires_at, uses, allow_reenroll, note)
    return Token(token_id, secret, expires_at, uses, allow_reenroll)


def revoke_token(store: Storage, token_id: str) -> bool:
    with store.enrollment_records() as records:
        return records.revoke_token(token_id)


class RateLimiter:
    """Refuses a key (a client address) once it has `limit` failed attempts within `window`
    seconds. Only failures count, so a site that enrolls a hundred laptops through one NAT
    address is not slowed down, while guessing tokens is.

    An attempt takes its place in the count before it is checked (`admit`) and gives it back if it
    did not fail (`forgive`): checking first and counting after the token was tried let every
    attempt in flight pass the check (15 of 64 parallel guesses, with a limit of 10). So more
    than `limit` attempts at once from one address are refused too, even honest ones (they retry).
    Addresses whose failures have all aged out are dropped: the table holds only the last window's."""

    def __init__(self, limit: int = 10, window: float = 60.0, clock=time.monotonic):
        self.limit, self.window, self._clock = limit, window, clock
        self._attempts: dict[str, deque] = {}
        self._lock = threading.Lock()
        self._next_sweep = 0.0

    def admit(self, key: str) -> float | None:
        """Count an attempt from `key` and return its ticket, or None when `key` is over the limit."""
        with self._lock:
            now = self._clock()
            self._sweep(now)
            attempts = self._attempts.setdefault(key, deque())
            self._age(attempts, now)
            if len(attempts) >= self.limit:
                return None
            attempts.append(now)
            return now

    def forgive(self, key: str, ticket: float) -> None:
        """The attempt with `ticket` did not fail: it no longer counts."""
        with self._lock:
            attempts = self._attempts.get(key)
            if attempts and ticket in attempts:
                attempts.remove(ticket)
            if not attempts:
                self._attempts.pop(key, None)

    def tracked(self) -> int:
        """How many addresses the limiter holds failures of (after dropping aged-out ones)."""
        with self._lock:
            self._next_sweep = 0.0
            self._sweep(self._clock())
            return len(self._attempts)

    def _age(self, attempts: deque, now: float) -> None:
        while attempts and now - attempts[0] > self.window:
            attempts.popleft()

    def _sweep(self, now: float) -> None:
        """At most once a window, forget addresses whose failures are all older than the window."""
        if now < self._next_sweep:
            return
        self._next_sweep = now + self.window
        stale = [key for key, attempts in self._attempts.items() if not attempts or now - attempts[-1] > self.window]
        for key in stale:
            del self._attempts[key]


class Enrollment:
    """Signs certificates for agents that bring a valid token, and renews and revokes them."""

    def __init__(self, store: Storage, ca: pki.CertificateAuthority, *, cert_lifetime: dt.timedelta,
                 limiter: RateLimiter | None = None):
        self.store, self.ca, self.cert_lifetime = store, ca, cert_lifetime
        self.limiter = limiter or RateLimiter()

    def enroll(self, *, token: str, csr_pem: bytes, device_id: str, peer_ip: str) -> bytes:
        """Returns the signed certificate (PEM) or raises EnrollmentRefused."""
        ticket = self.limiter.admit(peer_ip)
        if ticket is None:
            raise EnrollmentRefused("too many failed (or simultaneous) enrollment attempts from this address; "
                                    "wait a minute",
                                    "RESOURCE_EXHAUSTED")
        guessed = False
        try:
            return self._enroll(token, csr_pem, device_id, peer_ip)
        except EnrollmentRefused as exc:
            guessed = exc.code != "INVALID_ARGUMENT"  # a malformed request is checked before the token
            raise
        finally:
            if not guessed:  # enrolled, malformed, or the collector's own fault: not a guess
                self.limiter.forgive(peer_ip, ticket)

    def _enroll(self, token: str, csr_pem: bytes, device_id: str, peer_ip: str) -> bytes:
        token = token.strip()  # a token read from a file or pasted keeps its newline
        if not token:
            raise EnrollmentRefused("token is empty; pass the enrollment token IT gave you "
                                    "(`farmwatch-collector token create` prints it)", "INVALID_ARGUMENT")
        problem = _device_id_problem(device_id)
        if problem:
            raise EnrollmentRefused(problem, "INVALID_ARGUMENT")
        try:
            pki.csr_public_key(csr_pem)
        except pki.PkiError as exc:
            raise EnrollmentRefused(str(exc), "INVALID_ARGUMENT") from exc
        with self.store.enrollment_records() as records:
            key = canonical_device_id(device_id)
            subject = records.subject_on_record(key, pki.ROLE_AGENT) or key
            token_id, refusal = self._check_token(records, token, key, subject)
            if refusal is None:
                records.use_token(token_id)
                cert = self.ca.sign_csr(csr_pem, subject=subject, role=pki.ROLE_AGENT,
                                        lifetime=self.cert_lifetime)
                self._record_certificate(records, cert, subject, token_id, peer_ip)
                records.supersede(key, pki.ROLE_AGENT, (pki.serial_hex(cert),), "superseded: the device re-enrolled")
        if refusal is not None:
            with self.store.enrollment_records() as records:
                records.log(device_id, "refused", refusal, token_id, peer_ip)
            raise EnrollmentRefused(refusal)
        return pki.cert_pem(cert)

    def _check_token(self, records, token: str, key: str, subject: str) -> tuple[str | None, str | None]:
        """(token id, None) when the token may enroll device `key`, else (token id, why not)."""
        row = records.token(_hash(token))
        refusal = _token_problem(row)
        if refusal is None and not row[4] and records.has_live_certificate(key, pki.ROLE_AGENT):
            refusal = (f"device {subject} (serials are compared without case) is already enrolled with a live "
                       "certificate; re-enrolling needs a token made with "
                       "`farmwatch-collector token create --allow-reenroll`")
        return (row[0] if row else None), refusal

    def _record_certificate(self, records, cert, subject: str, token_id: str | None, peer_ip: str,
                            role: str = pki.ROLE_AGENT) -> None:
        serial = pki.serial_hex(cert)
        records.add_certificate(serial, subject, role, _iso(cert.not_valid_after_utc), token_id, peer_ip)
        if role == pki.ROLE_AGENT:
            records.log(subject, "enrolled" if token_id else "renewed", "", token_id, peer_ip, serial)

    def renew(self, identity: pki.Identity, csr_pem: bytes, peer_ip: str) -> bytes:
        """A fresh certificate for the same device id. The caller's certificate stays valid until it
        expires (the agent may not have stored the new one yet); any older one is revoked, so a
        copied certificate dies at the latest one renewal later.

        Only agents renew. An analyst's certificate is access granted to a person for the days
        `pki issue-analyst --days` says; a renewal, even one keeping that lifetime, would let the
        access run on for as long as the analyst renews, so it ends when the certificate does."""
        if identity.role != pki.ROLE_AGENT:
            raise EnrollmentRefused(
                f"{identity.role} certificates are not renewed: this one ends at {_iso(identity.not_after)}. "
                "Ask the collector's admin for a new one "
                "(`farmwatch-collector pki issue-analyst NAME --days N`)")
        try:
            cert = self.ca.sign_csr(csr_pem, subject=identity.subject, role=identity.role,
                                    lifetime=self.cert_lifetime)
        except pki.PkiError as exc:
            raise EnrollmentRefused(str(exc), "INVALID_ARGUMENT") from exc
        with self.store.enrollment_records() as records:
            self._record_certificate(records, cert, identity.subject, None, peer_ip, identity.role)
            records.supersede(canonical_device_id(identity.subject), identity.role,
                              (pki.serial_hex(cert), identity.serial), "superseded: the device renewed")
        return pki.cert_pem(cert)

    def issue_analyst(self, name: str, lifetime: dt.timedelta) -> tuple[bytes, bytes]:
        key, cert = self.ca.issue_client(name, pki.ROLE_ANALYST, lifetime)
        with self.store.enrollment_records() as records:
            self._record_certificate(records, cert, name, None, "", pki.ROLE_ANALYST)
        return key, pki.cert_pem(cert)


def _device_id_problem(device_id: str) -> str | None:
    """Why `device_id` cannot be a certificate's subject, or None."""
    if len(device_id) > MAX_DEVICE_ID_LENGTH:
        return (f"device_id is {len(device_id)} characters; a certificate subject holds at most "
                f"{MAX_DEVICE_ID_LENGTH} (X.509 common name), so use the hardware serial as the MDM records it")
    if not valid_device_id(device_id):
        return (f"device_id {device_id!r} is not a hardware serial: it starts with a letter or digit and "
                "holds only letters, digits and . _ : @ / + -")
    return None


def _token_problem(row) -> str | None:
    if row is None:
        return "unknown enrollment token; ask IT for a current one (`farmwatch-collector token create`)"
    _, expires_at, uses_allowed, uses, _, revoked_at = row
    if revoked_at:
        return "this enrollment token was revoked; ask IT for a new one"
    if expires_at <= _iso(pki.utcnow()):
        return f"this enrollment token expired at {expires_at}; ask IT for a new one"
    if uses >= uses_allowed:
        return f"this enrollment token is used up ({uses} of {uses_allowed} uses); ask IT for a new one"
    return None


def revoke_subject(store: Storage, subject: str, reason: str = "") -> int:
    """Revoke every live certificate of a device id (or analyst), whatever its case; returns how many."""
    with store.enrollment_records() as records:
        return records.revoke_subject(canonical_device_id(subject), reason)


def certificate_status(store: Storage, serial: str) -> tuple[str, str, str] | None:
    """(role, revoked_at or '', revoked_reason or '') for a certificate this collector issued;
    None if it did not."""
    return store.certificate_status(serial)
