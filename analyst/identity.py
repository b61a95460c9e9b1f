"""The analyst's bundle: the private key, the analyst certificate and the CA certificate.

`pki issue-analyst NAME` writes them as one PEM file (NAME.pem); a folder of PEM files (NAME.key,
NAME.crt, ca.crt) is read the same way. Which certificate is the analyst's is decided by the key:
the one whose public key matches it; every other certificate is trusted as the CA.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

_BLOCK = re.compile(rb"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----\s*", re.S)
_PEM_SUFFIXES = (".pem", ".crt", ".key")


class BundleError(Exception):
    """The bundle is missing or not what `pki issue-analyst` writes; the message says what to do."""


@dataclass(frozen=True)
class Bundle:
    key_pem: bytes
    cert_pem: bytes
    ca_pem: bytes
    name: str  # the certificate's common name: who the collector's audit trail will say asked


def load(path: Path | None) -> Bundle:
    if path is None:
        raise BundleError("no identity given: pass --identity BUNDLE (or set FARMWATCH_ANALYST), the file "
                          "`farmwatch-collector pki issue-analyst NAME` wrote (NAME.pem)")
    try:
        text = _read(Path(path))
    except OSError as exc:
        raise BundleError(f"cannot read the identity {path}: {exc.strerror or exc}; pass the NAME.pem that "
                          "`farmwatch-collector pki issue-analyst NAME` wrote (ask the collector's admin)") from exc
    return _parse(text, path)


def _read(path: Path) -> bytes:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in _PEM_SUFFIXES and p.is_file())
        return b"\n".join(p.read_bytes() for p in files)
    return path.read_bytes()


def _parse(text: bytes, path) -> Bundle:
    blocks = [(m[1], m[0].strip() + b"\n") for m in _BLOCK.finditer(text)]
    keys = [pem for kind, pem in blocks if kind.endswith(b"PRIVATE KEY")]
    certs = [pem for kind, pem in blocks if kind == b"CERTIFICATE"]
    if len(keys) != 1 or len(certs) < 2:
        raise BundleError(f"{path} is not an analyst bundle: it needs one private key and two certificates (the "
                          f"analyst's and the CA's), it has {len(keys)} key(s) and {len(certs)} certificate(s); "
                          "use the NAME.pem `farmwatch-collector pki issue-analyst NAME` wrote")
    try:
        public = _public_bytes(serialization.load_pem_private_key(keys[0], password=None).public_key())
        loaded = [(pem, x509.load_pem_x509_certificate(pem)) for pem in certs]
    except (ValueError, TypeError) as exc:
        raise BundleError(f"{path} holds a damaged key or certificate ({exc}); ask for a new bundle "
                          "(`farmwatch-collector pki issue-analyst NAME`)") from exc
    own = [(pem, cert) for pem, cert in loaded if _public_bytes(cert.public_key()) == public]
    if len(own) != 1:
        raise BundleError(f"{path}: no certificate in it matches its key; ask for a new bundle "
                          "(`farmwatch-collector pki issue-analyst NAME`)")
    [(cert_pem, cert)] = own
    names = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return Bundle(keys[0], cert_pem, b"".join(pem for pem in certs if pem != cert_pem),
                  str(names[0].value) if names else "")


def _public_bytes(key) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
