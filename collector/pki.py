"""The collector's private CA: its own key pair, the server certificate, and the client
certificates it signs for agents and analysts.

Everything is ECDSA P-256 / SHA-256. The collector decides what goes into a certificate it
signs: from a CSR only the public key is taken, never the subject or the extensions, so an agent
cannot choose its own device id or add names.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from farmwatch.common.clock import utcnow
from farmwatch.common.files import UnsafeFolder, check_private_folder, private_folder, write_private

ORGANISATION = "farmwatch"
ROLE_AGENT = "agent"
ROLE_ANALYST = "analyst"
ROLE_SERVER = "server"
# Certificates start a little in the past so a laptop whose clock runs behind can still use a
# certificate it was just given (documented tolerance for clock skew).
CLOCK_SKEW_TOLERANCE = dt.timedelta(hours=2)
CA_LIFETIME = dt.timedelta(days=3650)
SERVER_LIFETIME = dt.timedelta(days=397)
DEFAULT_CLIENT_LIFETIME = dt.timedelta(days=30)
# `serve` warns once a day from this long before the server certificate ends (`pki issue-server`).
SERVER_RENEW_BEFORE = dt.timedelta(days=30)


class PkiError(Exception):
    """A PKI operation that cannot go ahead; the message says what to do."""


@dataclass(frozen=True)
class Identity:
    """Who a client certificate speaks for."""

    serial: str  # hex
    subject: str  # device id for agents, the analyst's name for analysts
    role: str
    not_after: dt.datetime


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def serial_hex(cert: x509.Certificate) -> str:
    return format(cert.serial_number, "x")


def _name(common_name: str, role: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, role),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def identity_of(cert: x509.Certificate) -> Identity:
    def first(oid) -> str:
        values = cert.subject.get_attributes_for_oid(oid)
        return str(values[0].value) if values else ""

    return Identity(
        serial=serial_hex(cert),
        subject=first(NameOID.COMMON_NAME),
        role=first(NameOID.ORGANIZATIONAL_UNIT_NAME),
        not_after=cert.not_valid_after_utc,
    )


@dataclass
class CertificateAuthority:
    """The CA as stored in `<home>/pki/`."""

    directory: Path
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    CA_KEY = "ca.key"
    CA_CERT = "ca.crt"
    SERVER_KEY = "server.key"
    SERVER_CERT = "server.crt"

    @classmethod
    def load(cls, directory: Path) -> "CertificateAuthority":
        directory = Path(directory)
        if directory.exists():
            private_folders(directory.parent, directory, create=False)
        try:
            key = serialization.load_pem_private_key((directory / cls.CA_KEY).read_bytes(), None)
            cert = x509.load_pem_x509_certificate((directory / cls.CA_CERT).read_bytes())
        except FileNotFoundError as exc:
            raise PkiError(
                f"no CA in {directory}: run `farmwatch-collector pki init` first"
            ) from exc
        return cls(directory, key, cert)

    @classmethod
    def create(
        cls, directory: Path, *, common_name: str = "farmwatch collector CA", force: bool = False
    ) -> "CertificateAuthority":
        directory = Path(directory)
        private_folders(directory.parent, directory)
        if (directory / cls.CA_KEY).exists() and not force:
            raise PkiError(
                f"a CA already exists in {directory}; every enrolled agent trusts it. "
                "Use --force to replace it (all agents must then enroll again)."
            )
        key = new_key()
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
                x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            ]
        )
        now = utcnow()
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CLOCK_SKEW_TOLERANCE)
            .not_valid_after(now + CA_LIFETIME)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False, content_commitment=False, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=True,
                    crl_sign=True, encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        write_private(directory / cls.CA_KEY, key_pem(key), replace=force)
        write_private(directory / cls.CA_CERT, cert_pem(cert), replace=True)
        return cls(directory, key, cert)

    @property
    def cert_pem(self) -> bytes:
        return cert_pem(self.cert)

    def _leaf(self, subject: x509.Name, public_key, lifetime: dt.timedelta, usage, sans=None):
        now = utcnow()
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.cert.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CLOCK_SKEW_TOLERANCE)
            .not_valid_after(min(now + lifetime, self.cert.not_valid_after_utc))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
        )
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        return builder.sign(self.key, hashes.SHA256())

    def issue_server(self, names: list[str], lifetime: dt.timedelta = SERVER_LIFETIME) -> x509.Certificate:
        """Write `server.key`/`server.crt` for the given host names and IP addresses."""
        key = new_key()
        cert = self._leaf(
            _name(names[0], ROLE_SERVER), key.public_key(), lifetime,
            ExtendedKeyUsageOID.SERVER_AUTH, sans=[_san(n) for n in names],
        )
        write_private(self.directory / self.SERVER_KEY, key_pem(key), replace=True)
        write_private(self.directory / self.SERVER_CERT, cert_pem(cert), replace=True)  # last: serve reloads on it
        return cert

    def server_certificate(self) -> x509.Certificate | None:
        try:
            return x509.load_pem_x509_certificate((self.directory / self.SERVER_CERT).read_bytes())
        except (FileNotFoundError, ValueError):
            return None

    def server_credentials_pem(self) -> tuple[bytes, bytes]:
        return (
            (self.directory / self.SERVER_KEY).read_bytes(),
            (self.directory / self.SERVER_CERT).read_bytes(),
        )

    def sign_csr(
        self, csr_pem: bytes, *, subject: str, role: str,
        lifetime: dt.timedelta = DEFAULT_CLIENT_LIFETIME,
    ) -> x509.Certificate:
        """Sign the CSR's public key for `subject` in `role`; nothing else of the CSR is used."""
        public_key = csr_public_key(csr_pem)
        return self._leaf(_name(subject, role), public_key, lifetime, ExtendedKeyUsageOID.CLIENT_AUTH)

    def issue_client(self, subject: str, role: str, lifetime: dt.timedelta) -> tuple[bytes, x509.Certificate]:
        """A key pair made here (for analysts, who have no agent to make their own)."""
        key = new_key()
        cert = self._leaf(_name(subject, role), key.public_key(), lifetime, ExtendedKeyUsageOID.CLIENT_AUTH)
        return key_pem(key), cert


def private_folders(*folders: Path, create: bool = True) -> None:
    """Folders for the collector's keys and settings: ours alone (common/files.py), made 0700 with
    `create`; else PkiError saying the fix."""
    try:
        for folder in folders:
            (private_folder if create else check_private_folder)(folder)
    except UnsafeFolder as exc:
        raise PkiError(str(exc)) from None


def csr_public_key(csr_pem: bytes):
    """The CSR's public key; PkiError naming the `csr_pem` field and what to send instead."""
    try:
        csr = x509.load_pem_x509_csr(csr_pem)
    except ValueError as exc:
        raise PkiError("csr_pem is not a PEM-encoded certificate request "
                       "(-----BEGIN CERTIFICATE REQUEST----- ...)") from exc
    if not csr.is_signature_valid:
        raise PkiError("csr_pem: the certificate request's signature does not match its key; "
                       "sign it with the private key it carries")
    key = csr.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise PkiError(f"csr_pem carries {_key_kind(key)}; the collector signs only ECDSA P-256 (secp256r1) "
                       "keys: make one (e.g. `openssl ecparam -name prime256v1 -genkey`) and send its CSR")
    return key


def _key_kind(key) -> str:
    """"an EC secp384r1 key", "an RSA-2048 key", "an Ed25519 key"."""
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"an EC {key.curve.name} key"
    size = getattr(key, "key_size", None)
    return f"an {type(key).__name__.replace('PublicKey', '')}{f'-{size}' if size else ''} key"


def issued_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def names_of(cert: x509.Certificate) -> list[str]:
    """The host names and IP addresses a server certificate is valid for (its SANs)."""
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [str(name.value) for name in sans]


def _san(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def pkcs12(key_pem: bytes, cert_pem_bytes: bytes, ca_pem: bytes, name: str, passphrase: bytes) -> bytes:
    """The analyst's key, certificate and our CA as a PKCS#12 file browsers import, encrypted with
    `passphrase` (AES-256 and PBKDF2: what current browsers and NSS's pk12util read)."""
    from cryptography.hazmat.primitives.serialization import pkcs12 as p12

    key = serialization.load_pem_private_key(key_pem, password=None)
    return p12.serialize_key_and_certificates(
        name.encode("utf-8"), key, x509.load_pem_x509_certificate(cert_pem_bytes),
        [x509.load_pem_x509_certificate(ca_pem)], serialization.BestAvailableEncryption(passphrase))
