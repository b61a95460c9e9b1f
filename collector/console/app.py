"""The console's routes. Every request passes the gate (`access.Gate`) and is audited — who, what,
when, how many rows — before its page runs; a refused one is audited with its reason. Forms carry
a token tied to the viewer, so another site cannot make an analyst's browser post a triage change."""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
import time
from importlib.resources import files

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.responses import HTMLResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from farmwatch.collector.audit import AuditLog, AuditUnavailable
from farmwatch.collector.console import pages
from farmwatch.collector.console.access import Gate, Refused, Viewer
from farmwatch.collector.console.tls import PEER_CERT

log = logging.getLogger("farmwatch.collector.console")
_HERE = files("farmwatch.collector.console")
CHOICES_SECONDS = 60


class Console:
    def __init__(self, config, store, gate: Gate, audit: AuditLog):
        self.config, self.store, self.gate, self.audit = config, store, gate, audit
        self.templates = Jinja2Templates(directory=str(_HERE / "templates"))
        self.templates.env.filters.update(pages.FILTERS)
        self._secret = os.urandom(32)  # form tokens last as long as this process
        self._choices, self._choices_at = None, 0.0

    def device_choices(self) -> dict[str, list[str]]:
        """The devices page's filter values, read at most once a minute (they change with new OSes,
        departments and rules, not with every report)."""
        if self._choices is None or time.monotonic() - self._choices_at > CHOICES_SECONDS:
            self._choices, self._choices_at = self.store.device_choices(), time.monotonic()
        return self._choices

    def form_token(self, viewer: Viewer) -> str:
        return hmac.new(self._secret, viewer.who.encode("utf-8"), hashlib.sha256).hexdigest()

    def route(self, path: str, page, action: str, methods=("GET",)) -> Route:
        async def endpoint(request):
            form = await request.form() if request.method == "POST" else None
            return await run_in_threadpool(self._serve, request, page, action, form)

        return Route(path, endpoint, methods=list(methods), name=action)

    def _serve(self, request, page, action: str, form):
        peer = request.client.host if request.client else ""
        detail = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        try:
            viewer = self.gate.admit(peer, getattr(request.state, PEER_CERT, None), request.headers)
            if form is not None and not hmac.compare_digest(str(form.get("token", "")), self.form_token(viewer)):
                raise Refused(403, "this form is stale or came from another site: reload the page and try again",
                              viewer.who, viewer.cert_serial)
        except Refused as refused:
            return self._refuse(request, action, detail, peer, refused)
        try:
            with self.audit.record(who=viewer.who, via=viewer.via, action=action, detail=detail, peer=peer,
                                   cert_serial=viewer.cert_serial) as entry:
                return page(pages.Request(self, request, viewer, entry, form))
        except pages.Answered as answered:
            return answered.response
        except AuditUnavailable as exc:
            log.error("event=audit_unavailable reason=%r", str(exc))
            return self.message(request, 503, "The audit trail cannot be written, so nothing is shown", str(exc))

    def _refuse(self, request, action: str, detail: str, peer: str, refused: Refused):
        log.warning("event=console_refused who=%s peer=%s reason=%r", refused.who, peer, str(refused))
        try:
            self.audit.refused(who=refused.who or "unknown", via="console", action=action, reason=str(refused),
                               detail=detail, peer=peer, cert_serial=refused.cert_serial)
        except AuditUnavailable as exc:  # turned away all the same
            log.error("event=audit_unavailable reason=%r", str(exc))
        return self.message(request, refused.status, "Not allowed", str(refused))

    def render(self, request, template: str, status: int = 200, **values):
        return self.templates.TemplateResponse(request, template, values, status_code=status)

    def message(self, request, status: int, title: str, text: str) -> HTMLResponse:
        return self.render(request, "message.html", status, title=title, text=text, viewer=None)


# Pages hold people's names and evidence: never cached, never framed by another site, no script but
# our own files (there is none), nothing sent on in a Referer.
SECURITY_HEADERS = [(b"cache-control", b"no-store"), (b"x-frame-options", b"DENY"),
                    (b"content-security-policy", b"default-src 'self'; frame-ancestors 'none'; form-action 'self'"),
                    (b"referrer-policy", b"no-referrer"), (b"x-content-type-options", b"nosniff")]


class SecurityHeaders:
    """ASGI middleware: SECURITY_HEADERS on every response."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        async def with_headers(message):
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers if scope["type"] == "http" else send)


def build(config, store, gate: Gate, audit: AuditLog) -> Starlette:
    console = Console(config, store, gate, audit)
    routes = [console.route(path, page, action, methods) for path, page, action, methods in pages.ROUTES]
    routes.append(Mount("/static", StaticFiles(directory=str(_HERE / "static")), name="static"))
    return Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)])
