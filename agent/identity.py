"""The agent's identity: a P-256 key pair made on the laptop, the CSR built from it, and what the
collector's certificate says (device id, validity).

The private key is written once, owner-only from its first byte, and never sent anywhere; the
collector only ever sees the CSR. Renewal reuses the key so that the identity on disk changes by
swapping one file (the certificate) atomically, never two.

`cryptography` is imported only by the functions that need it (making a key or a CSR, parsing
or checking a certificate): it costs ~10 MiB of resident memory, and the agent's `run` loop
needs none of it while its certificate is good (see `read_certificate_info`).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from farmwatch.common.device_id import canonical_device_id
from farmwatch.common.files import write_private

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

log = logging.getLogger(__name__)

# Renew once no more than this share of the certificate's lifetime is left.
RENEW_WHEN_LEFT = 1 / 3


class IdentityError(Exception):
    """The key or certificate on disk cannot be used; the message says what to do."""


def load_or_create_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """The agent's key; made (P-256, PKCS8 PEM, mode 0600) the first time it is asked for."""
    if path.exists():
        return load_key(path)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    write_private(path, pem)
    log.info("made a new key pair path=%s", path)
    return key


def load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        log.warning("private key is readable by others path=%s mode=%o fix='chmod 600 %s'", path, mode, path)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except ValueError as exc:
        raise IdentityError(f"{path} is not a PEM private key; move it away and enroll again") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise IdentityError(f"{path} is not an EC key; move it away and enroll again")
    return key


def build_csr(key: ec.EllipticCurvePrivateKey, device_id: str) -> bytes:
    """A PEM CSR naming the device id; the collector takes only the public key from it anyway."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, device_id)])
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True)
class CertificateInfo:
    device_id: str
    serial: str  # hex
    not_before: dt.datetime
    not_after: dt.datetime

    @property
    def lifetime(self) -> dt.timedelta:
        return self.not_after - self.not_before

    def time_left(self, now: dt.datetime) -> dt.timedelta:
        return self.not_after - now

    def days_left(self, now: dt.datetime) -> float:
        return self.time_left(now).total_seconds() / 86400

    def expired(self, now: dt.datetime) -> bool:
        return now >= self.not_after

    def renew_due(self, now: dt.datetime) -> bool:
        return self.time_left(now) <= self.lifetime * RENEW_WHEN_LEFT


def parse_certificate(pem: bytes) -> x509.Certificate:
    from cryptography import x509

    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        raise IdentityError("not a PEM certificate") from exc


def check_ca_certificate(pem: bytes) -> x509.Certificate:
    """The collector's CA certificate, or IdentityError: a server or client certificate given in
    its place (e.g. the collector's server.crt) could never verify the collector, and finding
    that out only after enrolling would spend the token."""
    from cryptography import x509

    cert = parse_certificate(pem)
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if not is_ca:
        holder = certificate_info(cert).device_id or cert.subject.rfc4514_string()
        raise IdentityError(
            f"the CA file holds the certificate of {holder!r}, "
            "not a CA (is it the collector's server.crt?); give the collector's CA certificate, HOME/pki/ca.crt "
            "on the collector (`pki init` prints its path). Nothing was sent: the token is still unused")
    return cert


def certificate_info(cert: x509.Certificate) -> CertificateInfo:
    from cryptography.x509.oid import NameOID

    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return CertificateInfo(
        device_id=str(names[0].value) if names else "",
        serial=format(cert.serial_number, "x"),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
    )


def read_certificate_info(path: Path) -> CertificateInfo:
    """What the certificate at `path` says, parsed once per certificate: the facts are kept in
    `<path>.info.json`, tied to the certificate's SHA-256, so the agent's loop reads them
    without `cryptography`; a renewed or replaced certificate is parsed again."""
    pem = path.read_bytes()
    fingerprint = hashlib.sha256(pem).hexdigest()
    cached = _read_info_file(_info_file(path), fingerprint)
    if cached is not None:
        return cached
    try:
        info = certificate_info(parse_certificate(pem))
    except IdentityError as exc:
        raise IdentityError(f"{path} is {exc}; enroll again") from exc
    _write_info_file(_info_file(path), fingerprint, info)
    return info


def store_certificate(path: Path, pem: bytes, info: CertificateInfo) -> None:
    """Swap in a certificate already checked (`check_issued_certificate`), with its facts, so the
    next `read_certificate_info` needs no parsing."""
    write_private(path, pem, replace=True)
    _write_info_file(_info_file(path), hashlib.sha256(pem).hexdigest(), info)


def _info_file(certificate: Path) -> Path:
    return certificate.with_name(certificate.name + ".info.json")


def _read_info_file(path: Path, fingerprint: str) -> CertificateInfo | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("sha256") != fingerprint:
            return None
        return CertificateInfo(device_id=data["device_id"], serial=data["serial"],
                               not_before=dt.datetime.fromisoformat(data["not_before"]),
                               not_after=dt.datetime.fromisoformat(data["not_after"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # missing, unreadable or from another certificate: parse the certificate


def _write_info_file(path: Path, fingerprint: str, info: CertificateInfo) -> None:
    data = {"sha256": fingerprint, "device_id": info.device_id, "serial": info.serial,
            "not_before": info.not_before.isoformat(), "not_after": info.not_after.isoformat()}
    try:
        write_private(path, json.dumps(data).encode(), replace=True)
    except OSError as exc:  # only a cache: the next read parses the certificate again
        log.debug("could not keep certificate facts path=%s error=%r", path, str(exc))


def check_issued_certificate(
    cert_pem: bytes, *, key: ec.EllipticCurvePrivateKey, ca_pem: bytes, device_id: str
) -> CertificateInfo:
    """Refuse a certificate that is not for our key, not from our CA, or names another device (a
    device id first enrolled in another case keeps that spelling: it is the same serial)."""
    from cryptography.exceptions import InvalidSignature

    cert = parse_certificate(cert_pem)
    ca = parse_certificate(ca_pem)
    if cert.public_key().public_numbers() != key.public_key().public_numbers():
        raise IdentityError("the collector returned a certificate for a different key")
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise IdentityError("the collector returned a certificate not signed by the pinned CA") from exc
    info = certificate_info(cert)
    if canonical_device_id(info.device_id) != canonical_device_id(device_id):
        raise IdentityError(
            f"the collector issued a certificate for device {info.device_id!r}, not {device_id!r}"
        )
    return info
