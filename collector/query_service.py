"""The gRPC `Query` service: the security team's read-only view, for analyst certificates only.

Each call checks the caller's certificate (revocation, then role), is audited before it runs
(`audit.AuditLog`), and answers from the same queries as the CLI. A refused caller is audited
too, with what it asked: an agent certificate knocking on `Query`, or an analyst calling after
their certificate was revoked, is worth knowing about.
"""
from __future__ import annotations

import json
import logging
import math
import threading
from dataclasses import dataclass

import grpc

from farmwatch.collector import pki, queries, triage
from farmwatch.collector.audit import VIA_GRPC, AuditLog, AuditUnavailable, describe_filters
from farmwatch.collector.exports.feed import FlagEvent, MemoryCursor
from farmwatch.collector.storage import SqlError, Storage as Store
from farmwatch.common import triage_view
from farmwatch.common.vocabulary import VERDICTS
from farmwatch.v1 import query_pb2, query_pb2_grpc

log = logging.getLogger("farmwatch.collector.query")
SERVICE_NAME = "farmwatch.v1.Query"
MAX_SQL_ROWS = 10_000
SQL_TIMEOUT = 10.0  # seconds
FOLLOW_POLL_SECONDS = 5
MAX_FOLLOW_POLL_SECONDS = 60  # a longer poll would leave a revoked analyst's stream (and its slot) open that long
MAX_FOLLOWERS = 4  # each open stream polls the database (and takes a worker thread while it does)
MAX_SQL_RUNNING = 4  # so do running statements (up to SQL_TIMEOUT each); the rest are for reports
DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024
_ENVELOPE_BYTES = 1024  # room in a response for everything but the rows themselves


class _Refused(Exception):
    def __init__(self, code: grpc.StatusCode, message: str):
        super().__init__(message)
        self.code = code


@dataclass
class _Table:
    """Rows as they go on the wire: one JSON object each, no more than a response can carry."""

    columns: list[str]
    rows: list[str]
    truncated: bool = False

    def __len__(self) -> int:
        return len(self.rows)

    def message(self) -> query_pb2.Rows:
        return query_pb2.Rows(columns=self.columns, rows=self.rows, truncated=self.truncated)


class QueryService(query_pb2_grpc.QueryServicer):
    def __init__(self, store: Store, auth, audit: AuditLog, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES):
        self.store, self.auth, self.audit = store, auth, audit
        self.budget = answer_budget(max_message_bytes)
        self._followers = threading.BoundedSemaphore(MAX_FOLLOWERS)
        self._sql_slots = threading.BoundedSemaphore(MAX_SQL_RUNNING)

    # -- calls ----------------------------------------------------------------------------
    def Devices(self, request, context):
        given = {"verdict": request.verdict or None, "user": request.user or None,
                 "cluster": request.cluster_id or None}
        def run():
            if request.verdict and request.verdict not in VERDICTS:
                raise _Refused(grpc.StatusCode.INVALID_ARGUMENT, f"verdict {request.verdict!r} is not one of "
                               f"{', '.join(VERDICTS)} (or empty for every device)")
            return self._table(queries.devices(self.store, **given), queries.DEVICE_COLUMNS)

        return self._answer(context, "devices", describe_filters(**given), run).message()

    def Device(self, request, context):
        text = self._one(context, "device", "device_id", request.device_id, "Devices lists them",
                         lambda: queries.device(self.store, request.device_id, history=request.history or 20),
                         "ask for a smaller history")
        return query_pb2.DeviceResponse(json=text)

    def Clusters(self, request, context):
        given = {"min_score": request.min_score, "all": request.include_inactive}

        def run():
            rows = queries.clusters(self.store, include_inactive=request.include_inactive,
                                    min_score=request.min_score)
            return self._table(rows, queries.CLUSTER_COLUMNS)

        return self._answer(context, "clusters", describe_filters(**given), run).message()

    def Cluster(self, request, context):
        text = self._one(context, "cluster", "cluster_id", request.cluster_id, "Clusters lists them",
                         lambda: queries.cluster(self.store, request.cluster_id),
                         "ask the database with Sql for its history")
        return query_pb2.ClusterResponse(json=text)

    def Flags(self, request, context):
        table = self._answer(context, "flags", "",
                             lambda: self._table(queries.flags(self.store), queries.FLAG_COLUMNS))
        return table.message()

    def Sql(self, request, context):
        limit = min(request.max_rows or MAX_SQL_ROWS, MAX_SQL_ROWS)

        def run():
            if not request.sql.strip():
                raise _Refused(grpc.StatusCode.INVALID_ARGUMENT, "sql is empty; send one SELECT statement")
            if not self._sql_slots.acquire(blocking=False):
                raise _Refused(grpc.StatusCode.RESOURCE_EXHAUSTED, f"{MAX_SQL_RUNNING} SQL queries are running "
                               "already; retry when one has finished")
            try:
                return self.store.analyst_query(request.sql, max_rows=limit, timeout=SQL_TIMEOUT,
                                                stop_on=context.add_callback, max_bytes=self.budget)
            except SqlError as exc:
                raise _Refused(grpc.StatusCode.INVALID_ARGUMENT, str(exc)) from exc
            finally:
                self._sql_slots.release()

        def answer():
            result = run()
            table = self._table(result.dicts(), result.columns, result.truncated)
            if result.rows and not table.rows:
                raise _Refused(grpc.StatusCode.INVALID_ARGUMENT,
                               f"the first row alone is more than a response may carry ({self.budget} bytes); "
                               "select fewer or smaller columns (e.g. length(raw) instead of raw)")
            return table

        return self._answer(context, "sql", request.sql, answer).message()

    def Triage(self, request, context):
        changes = {name: value for name, value in (("state", request.state), ("note", request.note)) if value}
        if request.HasField("assignee"):
            changes["assignee"] = request.assignee
        action, detail = "triage" if changes else "triage-show", triage_view.describe(request.device_id, changes)
        identity = self._analyst(context, action, detail)
        with self._audited(context, identity, action, detail) as entry:
            text = self._triage(request.device_id, changes, identity)
            entry.rows = 1
        return query_pb2.TriageResponse(json=text)

    def _triage(self, device_id: str, changes: dict, identity: pki.Identity) -> str:
        """The device's triage as JSON, after recording `changes` (if any) under the analyst's name."""
        if not device_id:
            raise _Refused(grpc.StatusCode.INVALID_ARGUMENT, "device_id is empty; name the device (Devices lists them)")
        try:
            if changes:
                triage.change(self.store, device_id, who=identity.subject, via=VIA_GRPC, **changes)
            record = triage.current(self.store, device_id)
        except triage.UnknownDevice as exc:
            raise _Refused(grpc.StatusCode.NOT_FOUND, str(exc)) from exc
        except triage.TriageError as exc:
            raise _Refused(grpc.StatusCode.INVALID_ARGUMENT, str(exc)) from exc
        return _json({**record, "history": self.store.triage_history(device_id)})

    def FollowFlags(self, request, context):
        detail = f"skip_current={request.skip_current}"
        identity = self._analyst(context, "follow-flags", detail)
        if not self._followers.acquire(blocking=False):
            self._refuse(context, identity, "follow-flags", detail, grpc.StatusCode.RESOURCE_EXHAUSTED,
                         f"{MAX_FOLLOWERS} flag streams are open already; try again later")
        try:
            yield from self._follow(request, context, identity, detail)
        finally:
            self._followers.release()

    # -- plumbing -------------------------------------------------------------------------
    def _table(self, rows: list[dict], columns, truncated: bool = False) -> _Table:
        """As many rows as fit in one response; `truncated` when some were left out."""
        kept, size = [], sum(_wire_size(c) for c in columns)
        for row in rows:
            text = _json(row)
            size += _wire_size(text)
            if size > self.budget:
                return _Table(list(columns), kept, truncated=True)
            kept.append(text)
        return _Table(list(columns), kept, truncated)

    def _one(self, context, what: str, field: str, key: str, hint: str, lookup, smaller: str) -> str:
        """One record as JSON (audited under `what`): INVALID_ARGUMENT for an empty key or an answer too
        big for a response, NOT_FOUND for an unknown one."""
        def run():
            if not key:
                raise _Refused(grpc.StatusCode.INVALID_ARGUMENT, f"{field} is empty; name the {what} to show "
                               f"({hint})")
            info = lookup()
            if info is None:
                raise _Refused(grpc.StatusCode.NOT_FOUND, f"no {what} {key!r}; {hint}")
            text = _json(info)
            if _wire_size(text) > self.budget:
                raise _Refused(grpc.StatusCode.INVALID_ARGUMENT, f"{what} {key} is {_wire_size(text)} bytes, "
                               f"more than a response may carry ({self.budget}); {smaller}")
            return [text]

        return self._answer(context, what, key, run)[0]

    def _follow(self, request, context, identity, detail: str):
        ended = threading.Event()
        context.add_callback(ended.set)  # the caller cancelled, or the server is stopping
        cursor = MemoryCursor()
        with self._audited(context, identity, "follow-flags", detail) as entry:
            if request.skip_current:
                for event in cursor.pending(self.store):
                    cursor.mark(event)
            while not ended.is_set():
                refusal = self.auth.refusal(identity)  # revoked or expired since the stream opened
                if refusal:
                    log.warning("event=follow_cut subject=%s reason=%r", identity.subject, refusal)
                    raise _Refused(grpc.StatusCode.UNAUTHENTICATED, refusal)
                for event in cursor.pending(self.store):
                    yield _flag_event(event)
                    cursor.mark(event)
                    entry.rows += 1
                ended.wait(min(request.poll_seconds or FOLLOW_POLL_SECONDS, MAX_FOLLOW_POLL_SECONDS))

    def _answer(self, context, action: str, detail: str, run):
        """Check the caller, audit the call, run it; map refusals onto gRPC status codes."""
        identity = self._analyst(context, action, detail)
        with self._audited(context, identity, action, detail) as entry:
            result = run()
            entry.rows = len(result)
        return result

    def _audited(self, context, identity: pki.Identity, action: str, detail: str):
        return _AuditScope(self.audit, context, identity, action, detail, self.auth.client_ip(context))

    def _analyst(self, context, action: str, detail: str) -> pki.Identity:
        # aborts for unknown, revoked or expired certificates; those our CA signed are audited first
        identity = self.auth.identity(context, refused=lambda who, reason: self._record_refusal(
            context, who, action, detail, reason))
        if identity.role != pki.ROLE_ANALYST:
            reason = f"{identity.role or 'unknown'} certificates cannot query; it needs an analyst certificate"
            self._refuse(context, identity, action, detail, grpc.StatusCode.PERMISSION_DENIED, reason)
        return identity

    def _refuse(self, context, identity: pki.Identity, action: str, detail: str, code: grpc.StatusCode,
                reason: str):
        self._record_refusal(context, identity, action, detail, reason)
        context.abort(code, reason)

    def _record_refusal(self, context, identity: pki.Identity, action: str, detail: str, reason: str) -> None:
        log.warning("event=query_refused subject=%s role=%s action=%s reason=%r", identity.subject,
                    identity.role, action, reason)
        try:
            self.audit.refused(who=identity.subject, via=VIA_GRPC, action=action, reason=reason, detail=detail,
                               peer=self.auth.client_ip(context), cert_serial=identity.serial)
        except AuditUnavailable as exc:  # the caller is turned away all the same
            log.error("event=audit_unavailable reason=%r", str(exc))


class _AuditScope:
    """`with` block: the audit record around one call; domain refusals become gRPC aborts."""

    def __init__(self, audit: AuditLog, context, identity: pki.Identity, action: str, detail: str, peer: str):
        self.context = context
        self._record = audit.record(who=identity.subject, via=VIA_GRPC, action=action, detail=detail,
                                    peer=peer, cert_serial=identity.serial)

    def __enter__(self):
        try:
            return self._record.__enter__()
        except AuditUnavailable as exc:
            log.error("event=audit_unavailable reason=%r", str(exc))
            self.context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))

    def __exit__(self, kind, exc, tb):
        self._record.__exit__(kind, exc, tb)
        if isinstance(exc, _Refused):
            self.context.abort(exc.code, str(exc))
        if isinstance(exc, Exception) and self.context.code() is None:  # a fault of ours, not an abort
            log.error("event=query_failed", exc_info=(kind, exc, tb))
            self.context.abort(grpc.StatusCode.INTERNAL, "the collector failed to answer; "
                               "the reason is in its log and the audit trail")
        return False


def answer_budget(max_message_bytes: int) -> int:
    """Bytes of rows one answer may carry; the CLI's `query` keeps to the same bound."""
    return max_message_bytes - _ENVELOPE_BYTES


def _json(value) -> str:
    """Strict JSON (RFC 8259) that any client's parser takes: a float SQLite computed as infinite
    travels as "Infinity"/"-Infinity" (as protobuf's JSON mapping writes it), never as a bare
    `Infinity`, which is not JSON."""
    return json.dumps(_finite(value), ensure_ascii=False, default=str, allow_nan=False)


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def _wire_size(text: str) -> int:
    """Bytes a string takes in a response: its UTF-8 plus the field's tag and length prefix."""
    return len(text.encode("utf-8")) + 6


def _flag_event(event: FlagEvent) -> query_pb2.FlagEvent:
    flag = event.flag
    return query_pb2.FlagEvent(event=event.event, device_id=flag["device_id"], rule=flag["rule"],
                               severity=flag.get("severity") or "", json=event.to_json())
