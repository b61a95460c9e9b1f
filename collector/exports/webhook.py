"""Flag events as HTTP POSTs of JSON, one event per request.

A 2xx answer means delivered. 408, 429 and 5xx answers and network errors are worth retrying
(`delivery.with_retries` backs off exponentially, and honours a numeric Retry-After); any other
answer means the receiver refuses this request as it is, so retrying it cannot help.

Redirects are never followed: urllib would replay the request, with its Authorization header, to
whatever host the answer names (and turn a POST into a GET with no body). A 3xx is a failed
delivery, retried like a server error (a receiver being moved) and reported with where it pointed.
"""
from __future__ import annotations

import hashlib
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from farmwatch.collector.exports.delivery import DeliveryError
from farmwatch.collector.exports.feed import FlagEvent
from farmwatch.collector.exports.registry import Flag, Setting, SinkSpec, register

_RETRYABLE = {408, 425, 429}


@dataclass
class WebhookSink:
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    timeout: float = 10.0
    ca_file: str | None = None  # trust this CA bundle for an https URL instead of the system's

    def __post_init__(self):
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"webhook URL {self.url!r} must be http:// or https:// with a host")

    @property
    def name(self) -> str:
        """Stable per URL, without the URL's path or query: those often carry the receiver's secret."""
        parts = urlsplit(self.url)
        digest = hashlib.sha256(self.url.encode("utf-8")).hexdigest()[:12]
        return f"webhook:{parts.scheme}://{parts.hostname}:{parts.port or ''}#{digest}".replace(":#", "#")

    def send(self, event: FlagEvent) -> None:
        body = event.to_json().encode("utf-8")
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json", "User-Agent": "farmwatch-collector", **self.headers})
        try:
            with self._opener().open(request, timeout=self.timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            raise _refusal(self.name, exc) from exc
        except (urllib.error.URLError, OSError) as exc:  # refused, reset, timed out, DNS
            raise DeliveryError(f"{self.name}: {getattr(exc, 'reason', exc)}") from exc

    def _opener(self) -> urllib.request.OpenerDirector:
        context = ssl.create_default_context(cafile=self.ca_file) if self.ca_file else None
        return urllib.request.build_opener(_NoRedirects, urllib.request.HTTPSHandler(context=context))

    def close(self) -> None:
        pass


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Replaces urllib's redirect handler: a 3xx answer reaches `send` as an HTTPError."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _refusal(name: str, exc: urllib.error.HTTPError) -> DeliveryError:
    redirect = 300 <= exc.code < 400
    retryable = redirect or exc.code in _RETRYABLE or exc.code >= 500
    headers = exc.headers or {}
    retry_after = headers.get("Retry-After", "")
    detail = f" (a redirect to {_where(headers.get('Location'))}; farmwatch never follows redirects: " \
             "set the webhook URL to the final address)" if redirect else ""
    return DeliveryError(f"{name} answered HTTP {exc.code} {exc.reason}{detail}", permanent=not retryable,
                         retry_after=float(retry_after) if retry_after.isdigit() else None)


def _where(location: str | None) -> str:
    """Where a redirect points, without its path or query (they may carry a secret)."""
    parts = urlsplit(location or "")
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}" if parts.netloc else "a relative address"


def parse_header(text: str) -> tuple[str, str]:
    """`Name: value` from the command line."""
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise ValueError(f"header {text!r} is not `Name: value`")
    return name.strip(), value.strip()


def headers_from_flags(given: list[str]) -> dict[str, str]:
    return dict(parse_header(h) for h in given)


def build(values: dict) -> WebhookSink:
    return WebhookSink(values["url"], headers=values["headers"], timeout=values["timeout_seconds"],
                       ca_file=values["ca_file"])


SINK = register(SinkSpec(
    kind="webhook", order=30, help="an HTTP POST of JSON per event, retried with exponential backoff",
    example="farmwatch-collector --home /srv/fw export webhook --follow --url https://hooks.example.com/fw "
            "--header 'Authorization: Bearer ...'",
    settings=(
        Setting("url", help="http(s) URL to POST to", required="say where to POST", flag=Flag("--url")),
        Setting("headers", dict, default={}, help="extra request headers, e.g. { Authorization = \"Bearer ...\" }",
                flag=Flag("--header", "'NAME: VALUE'", help="extra request header (repeat)", repeat=True,
                          convert=headers_from_flags)),
        Setting("timeout_seconds", float, default=10.0, help="seconds per request (default 10)",
                flag=Flag("--timeout", "SECONDS", value="seconds")),
        Setting("ca_file", help="trust this CA bundle for an https URL instead of the system's"),
    ),
    build=build))
