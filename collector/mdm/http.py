"""HTTPS to an MDM's API: JSON in and out, a bearer token, and the failures every vendor shares.

Outcomes (the same for every MDM, each tested in tests/test_mdm_http.py):
- 429 or 503 with Retry-After: wait that long (seconds or an HTTP date), at most
  `max_retry_wait` seconds, then ask again; up to `retries` times, then fail. A Retry-After longer
  than the bound fails at once: the sync is retried at its next turn instead of holding a thread.
- 401: the token has expired or was revoked; fetch a new one and ask again, once. A second 401
  fails, naming the client to check (a static Kandji token cannot be renewed: it fails at once).
- a timeout, a refused or reset connection, a TLS failure, a body that is not JSON: fail.
- a redirect: fail. urllib would send the Authorization header on to wherever it points.
Failing raises MdmError; the sync that asked applies nothing (farmwatch.collector.mdm.sync).

Secrets never appear in messages or logs: errors name the MDM, the path and the HTTP status.
"""
from __future__ import annotations

import email.utils
import json
import logging
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Callable

log = logging.getLogger("farmwatch.collector.mdm")
_THROTTLED = (429, 503)
_TOKEN_SLACK_SECONDS = 30  # fetch a new token this long before the old one's end


class MdmError(Exception):
    """A call to the MDM failed; the message says which, and what to check."""


class ClientCredentials:
    """OAuth 2.0 client credentials (RFC 6749 §4.4), as Jamf Pro and Microsoft Entra issue them."""

    def __init__(self, token_url: str, form: dict[str, str]):
        self.token_url, self.form = token_url, form
        self._token, self._expires = "", 0.0
        self._lock = threading.Lock()

    renewable = True

    def token(self, client: "ApiClient") -> str:
        with self._lock:
            if not self._token or time.monotonic() > self._expires:
                answer = client.call("POST", self.token_url, form=self.form, authorised=False)
                if not isinstance(answer, dict) or not isinstance(answer.get("access_token"), str):
                    raise MdmError(f"{client.name}: the token endpoint answered without an access_token")
                lifetime = answer.get("expires_in") if isinstance(answer.get("expires_in"), int) else 60
                self._token = answer["access_token"]
                self._expires = time.monotonic() + max(lifetime - _TOKEN_SLACK_SECONDS, 0)
            return self._token

    def forget(self) -> None:
        with self._lock:
            self._token = ""


class StaticToken:
    """An API token made in the MDM's console (Kandji): nothing to renew."""

    renewable = False

    def __init__(self, secret: str):
        self._secret = secret

    def token(self, _client) -> str:
        return self._secret

    def forget(self) -> None:
        pass


class ApiClient:
    """One MDM's API as its `[mdm.KIND]` table (`source`) and `[mdm]` (`mdm`) describe it. `sleep`
    waits out a Retry-After; once `stop` (a threading.Event) is set, the next request fails, so a
    stopping serve does not finish a long listing first."""

    retries = 5  # waits for one throttled request

    def __init__(self, name: str, source, mdm, auth, *, sleep: Callable[[float], None] = time.sleep, stop=None):
        self.name, self.base_url, self.auth = name, source.url.rstrip("/"), auth
        self.timeout, self.max_retry_wait = source.timeout_seconds, mdm.max_retry_wait_seconds
        self.sleep, self.stop = sleep, stop
        try:
            context = ssl.create_default_context(cafile=source.ca_file or None)
        except (OSError, ssl.SSLError) as exc:
            raise MdmError(f"{name}: ca_file {source.ca_file}: {getattr(exc, 'strerror', None) or exc}; it must "
                           "be a PEM file of the CA certificates to trust") from None
        self._opener = urllib.request.build_opener(_NoRedirects, urllib.request.HTTPSHandler(context=context))

    def get(self, path: str, params: dict | list | None = None):
        return self.call("GET", path, params=params)

    def call(self, method: str, path: str, *, params=None, body=None, form=None, authorised: bool = True):
        """The decoded JSON answer (None for an empty body) to one request; MdmError on failure."""
        url = self.url(path, params)
        renewed, throttled = False, 0
        while True:
            if self.stop is not None and self.stop.is_set():
                raise MdmError(f"{self.name}: the collector is stopping; nothing was changed")
            headers = {"Accept": "application/json", "User-Agent": "farmwatch-collector"}
            if authorised:
                headers["Authorization"] = f"Bearer {self.auth.token(self)}"
            try:
                return self._send(method, url, headers, body, form)
            except urllib.error.HTTPError as exc:
                if exc.code == 401 and authorised and self.auth.renewable and not renewed:
                    log.info("event=mdm_token_renewed mdm=%s", self.name)
                    self.auth.forget()
                    renewed = True
                elif exc.code in _THROTTLED and throttled < self.retries:
                    throttled += 1
                    self._wait(exc, url)
                else:
                    raise self._refusal(exc, url) from None

    def url(self, path: str, params=None) -> str:
        url = path if path.startswith("https://") else f"{self.base_url}{path}"
        if params:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(params, safe="$,=' ")
        return url.replace(" ", "%20")

    def _send(self, method, url, headers, body, form):
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError:
            raise
        except (urllib.error.URLError, OSError) as exc:  # refused, reset, timed out, TLS, DNS
            raise MdmError(f"{self.name}: {method} {_path(url)} failed ({getattr(exc, 'reason', exc)}); "
                           "nothing was changed, the next sync tries again") from None
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise MdmError(f"{self.name}: {method} {_path(url)} answered with a body that is not JSON "
                           f"({len(raw)} bytes, cut short?); nothing was changed") from None

    def _wait(self, exc: urllib.error.HTTPError, url: str) -> None:
        wait = retry_after(exc.headers.get("Retry-After") if exc.headers else None)
        if wait > self.max_retry_wait:
            raise MdmError(f"{self.name}: {_path(url)} is throttled for {wait:.0f} s, longer than "
                           f"[mdm] max_retry_wait_seconds ({self.max_retry_wait:.0f}); the next sync tries again")
        log.info("event=mdm_throttled mdm=%s status=%d wait_seconds=%.1f", self.name, exc.code, wait)
        self.sleep(wait)

    def _refusal(self, exc: urllib.error.HTTPError, url: str) -> MdmError:
        hint = {401: "the API client's credentials were refused: check its id, secret or token, and that it is "
                     "enabled", 403: "the API client lacks a permission this call needs (docs/deploy.md lists them)",
                404: "check the url in collector.toml", 429: "still throttled after retrying"}.get(exc.code, "")
        if 300 <= exc.code < 400:
            hint = "farmwatch never follows redirects: set the url to the final address"
        return MdmError(f"{self.name}: {_path(url)} answered HTTP {exc.code} {exc.reason}"
                        f"{f'; {hint}' if hint else ''}")


def retry_after(value: str | None, now: float | None = None) -> float:
    """Seconds to wait from a Retry-After header: a number of seconds or an HTTP date; 1 when absent."""
    if not value:
        return 1.0
    value = value.strip()
    if value.replace(".", "", 1).isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 1.0
    return max(moment.timestamp() - (now if now is not None else time.time()), 0.0)


def _path(url: str) -> str:
    """The URL without its query (a skip token there is long and says nothing to a person)."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None
