"""Tokens, certificates and the enrollment log: the SQL behind `collector.enrollment`.

`EnrollmentRecords` is one write transaction's view (`Storage.enrollment_records()`); the token
checks, signing and refusals stay in `collector.enrollment`.
"""
from __future__ import annotations

from farmwatch.common.clock import now_rfc3339

_TOKEN_COLUMNS = ("token_id", "created_at", "expires_at", "uses", "uses_allowed", "allow_reenroll",
                  "revoked_at", "note")


class EnrollmentRecords:
    def __init__(self, conn):
        self.conn = conn

    def add_token(self, token_id: str, token_hash: str, expires_at: str, uses_allowed: int,
                  allow_reenroll: bool, note: str) -> None:
        self.conn.execute(
            "INSERT INTO tokens (token_id, token_hash, created_at, expires_at, uses_allowed, uses, "
            "allow_reenroll, note) VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
            (token_id, token_hash, now_rfc3339(), expires_at, uses_allowed, int(allow_reenroll), note),
        )

    def revoke_token(self, token_id: str) -> bool:
        cursor = self.conn.execute(
            "UPDATE tokens SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL",
            (now_rfc3339(), token_id),
        )
        return cursor.rowcount == 1

    def token(self, token_hash: str) -> tuple | None:
        """(token_id, expires_at, uses_allowed, uses, allow_reenroll, revoked_at), or None."""
        return self.conn.execute(
            "SELECT token_id, expires_at, uses_allowed, uses, allow_reenroll, revoked_at "
            "FROM tokens WHERE token_hash = ?", (token_hash,),
        ).fetchone()

    def use_token(self, token_id: str) -> None:
        self.conn.execute("UPDATE tokens SET uses = uses + 1 WHERE token_id = ?", (token_id,))

    # Subjects are compared by their canonical spelling (common/device_id.py): `key` is that
    # spelling, and `upper(subject)` matches the index certificates_subject_key.
    def has_live_certificate(self, key: str, role: str) -> bool:
        return self.conn.execute(
            "SELECT 1 FROM certificates WHERE upper(subject) = ? AND role = ? AND revoked_at IS NULL "
            "AND not_after > ?", (key, role, now_rfc3339()),
        ).fetchone() is not None

    def subject_on_record(self, key: str, role: str) -> str | None:
        """How the subject `key` was first certified (ids enrolled before spellings were
        canonical keep theirs), or None for a subject never certified."""
        row = self.conn.execute(
            "SELECT subject FROM certificates WHERE upper(subject) = ? AND role = ? ORDER BY issued_at LIMIT 1",
            (key, role),
        ).fetchone()
        return row[0] if row else None

    def add_certificate(self, serial: str, subject: str, role: str, not_after: str, token_id: str | None,
                        peer_ip: str) -> None:
        self.conn.execute(
            "INSERT INTO certificates (serial, subject, role, issued_at, not_after, token_id, peer_ip) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (serial, subject, role, now_rfc3339(), not_after, token_id, peer_ip),
        )

    def log(self, device_id, outcome, detail, token_id, peer_ip, serial=None) -> None:
        self.conn.execute(
            "INSERT INTO enrollments (at, device_id, outcome, detail, cert_serial, token_id, peer_ip) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (now_rfc3339(), device_id, outcome, detail, serial, token_id, peer_ip),
        )

    def supersede(self, key: str, role: str, keep: tuple[str, ...], reason: str) -> None:
        """Revoke the subject's other live certificates of `role`, whatever their spelling."""
        self.conn.execute(
            f"UPDATE certificates SET revoked_at = ?, revoked_reason = ? WHERE upper(subject) = ? AND role = ? "
            f"AND revoked_at IS NULL AND serial NOT IN ({', '.join('?' * len(keep))})",
            (now_rfc3339(), reason, key, role, *keep),
        )

    def revoke_subject(self, key: str, reason: str) -> int:
        cursor = self.conn.execute(
            "UPDATE certificates SET revoked_at = ?, revoked_reason = ? "
            "WHERE upper(subject) = ? AND revoked_at IS NULL", (now_rfc3339(), reason, key),
        )
        return cursor.rowcount


def certificate_status(conn, serial: str) -> tuple[str, str, str] | None:
    return conn.execute(
        "SELECT role, coalesce(revoked_at, ''), coalesce(revoked_reason, '') FROM certificates WHERE serial = ?",
        (serial,),
    ).fetchone()


def tokens(conn) -> list[dict]:
    """Every token, oldest first, without its hash (`token list`)."""
    cursor = conn.execute(f"SELECT {', '.join(_TOKEN_COLUMNS)} FROM tokens ORDER BY created_at")
    return [dict(zip(_TOKEN_COLUMNS, row)) for row in cursor]
