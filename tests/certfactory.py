"""Odd client certificates for refusal tests: wrong validity, self-signed, or from another CA.

The collector's own `pki` only makes well-formed certificates; these are the ones an attacker or a
broken clock would present.
"""
from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from conftest import AgentCredentials
from farmwatch.collector import pki


def _client_name(subject: str, role: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, pki.ORGANISATION),
                      x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, role),
                      x509.NameAttribute(NameOID.COMMON_NAME, subject)])


def client_certificate(issuer_key, issuer_name: x509.Name | None, *, subject: str, role: str,
                       not_before: dt.datetime, not_after: dt.datetime, ca_pem: bytes) -> AgentCredentials:
    """A client certificate signed by `issuer_key`; `issuer_name=None` makes it self-signed."""
    key = pki.new_key() if issuer_name is not None else issuer_key
    name = _client_name(subject, role)
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(issuer_name or name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(issuer_key, hashes.SHA256()))
    return AgentCredentials(subject, pki.key_pem(key), pki.cert_pem(cert), ca_pem)


def signed_by_our_ca(collector, subject: str, not_before: dt.datetime, not_after: dt.datetime,
                     role: str = pki.ROLE_AGENT) -> AgentCredentials:
    """Chained to the collector's CA but never recorded by it (or with the validity given)."""
    ca = pki.CertificateAuthority.load(collector.home / "pki")
    return client_certificate(ca.key, ca.cert.subject, subject=subject, role=role,
                              not_before=not_before, not_after=not_after, ca_pem=collector.ca_pem)


def self_signed(collector, subject: str, role: str = pki.ROLE_AGENT) -> AgentCredentials:
    now = pki.utcnow()
    return client_certificate(pki.new_key(), None, subject=subject, role=role, not_before=now - dt.timedelta(hours=1),
                              not_after=now + dt.timedelta(days=1), ca_pem=collector.ca_pem)


def from_another_ca(collector, directory, subject: str, role: str = pki.ROLE_AGENT) -> AgentCredentials:
    """Issued by a CA made exactly like ours (same names), so only the signature tells them apart."""
    other = pki.CertificateAuthority.create(directory)
    key, cert = other.issue_client(subject, role, dt.timedelta(days=1))
    return AgentCredentials(subject, key, pki.cert_pem(cert), collector.ca_pem)


def valid_for(collector, subject: str, *, starts_in: dt.timedelta, lasts: dt.timedelta) -> AgentCredentials:
    now = pki.utcnow()
    return signed_by_our_ca(collector, subject, now + starts_in, now + starts_in + lasts)
