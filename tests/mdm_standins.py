"""Local HTTPS stand-ins for the MDMs' APIs: real TLS (a test CA made by the collector's own pki),
real HTTP, real OAuth token handling, answering in the shapes of tests/fixtures/mdm/*.json, each
of which names the vendor documentation page it follows.

Each stand-in holds its devices as the vendor would list them (`devices`: records built from the
fixture's sample record) and a list of `faults` consumed in order by the requests they match:

    Fault("inventory", status=429, headers={"Retry-After": "2"})  # throttle the next listing page
    Fault("inventory", expire_tokens=True)                        # the token in use expires now
    Fault("inventory", delay=2.0)                                 # answer later than the client waits
    Fault("inventory", truncate=True)                             # cut the body short

Requests are recorded (`requests`: method, path, query, json body, the bearer token used).
"""
from __future__ import annotations

import copy
import itertools
import json
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, urlsplit

from farmwatch.collector import pki

FIXTURES = Path(__file__).parent / "fixtures" / "mdm"


def fixture(kind: str) -> dict:
    return json.loads((FIXTURES / f"{kind}.json").read_text())


@dataclass
class Fault:
    route: str  # the stand-in's name for the request ("token", "inventory", "write" …)
    status: int = 0
    headers: dict = field(default_factory=dict)
    expire_tokens: bool = False
    delay: float = 0.0
    truncate: bool = False
    body: object = None


@dataclass
class Request:
    method: str
    path: str
    query: dict
    body: object
    token: str


class TestCA:
    """A CA and a server certificate for 127.0.0.1, written under `directory`."""

    def __init__(self, directory: Path):
        self.ca = pki.CertificateAuthority.create(directory)
        self.ca.issue_server(["127.0.0.1", "localhost"])
        self.ca_file = str(directory / pki.CertificateAuthority.CA_CERT)
        self.cert_file = str(directory / pki.CertificateAuthority.SERVER_CERT)
        self.key_file = str(directory / pki.CertificateAuthority.SERVER_KEY)


class StandIn:
    kind = ""

    def __init__(self, tls: TestCA, *, client_id: str = "farmwatch", secret: str = "s3cret"):
        self.fixture = fixture(self.kind)
        self.client_id, self.secret = client_id, secret
        self.devices: list = []
        self.faults: list[Fault] = []
        self.requests: list[Request] = []
        self.tokens: set[str] = set()
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = False  # close() waits for a delayed answer: nothing outlives its test
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls.cert_file, tls.key_file)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    # -- what subclasses use ------------------------------------------------------------------
    def issue_token(self) -> dict:
        token = f"token-{next(self._numbers)}"
        with self._lock:
            self.tokens.add(token)
        return {**self.fixture["token"], "access_token": token}

    def routes(self) -> list:
        """(method, path predicate, route name, handler(request) -> (status, body))."""
        raise NotImplementedError

    def authorised(self, request: Request) -> bool:
        return request.token in self.tokens

    def fault_for(self, route: str) -> Fault | None:
        with self._lock:
            for index, fault in enumerate(self.faults):
                if fault.route == route:
                    return self.faults.pop(index)
        return None

    def made(self, route_prefix: str) -> list[Request]:
        return [r for r in self.requests if r.path.startswith(route_prefix)]


def _handler(stand_in: StandIn):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def do_GET(self):
            self._answer("GET")

        def do_POST(self):
            self._answer("POST")

        def do_PATCH(self):
            self._answer("PATCH")

        def _answer(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = _decode(raw, self.headers.get("Content-Type", ""))
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            request = Request(method, parts.path, parse_qs(parts.query), body, token)
            stand_in.requests.append(request)
            for verb, matches, route, handle in stand_in.routes():
                if verb == method and matches(parts.path):
                    self._respond(stand_in.fault_for(route), request, route, handle)
                    return
            self._send(404, {"error": "no such route"})

        def _respond(self, fault: Fault | None, request: Request, route: str, handle) -> None:
            if fault and fault.expire_tokens:
                stand_in.tokens.clear()
            if fault and fault.delay:
                time.sleep(fault.delay)
            if fault and fault.status:
                self._send(fault.status, fault.body if fault.body is not None else {}, fault.headers)
                return
            if route != "token" and not stand_in.authorised(request):
                self._send(401, stand_in.fixture["unauthorized"])
                return
            status, answer = handle(request)
            self._send(status, answer, truncate=bool(fault and fault.truncate))

        def _send(self, status: int, answer, headers=None, truncate: bool = False) -> None:
            data = json.dumps(answer).encode() if answer is not None else b""
            if truncate:
                data = data[: len(data) // 2]
            try:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):  # the client gave up (timeout tests)
                pass

    return Handler


def _decode(raw: bytes, content_type: str):
    if not raw:
        return None
    if "json" in content_type:
        return json.loads(raw)
    return dict(parse_qsl(raw.decode()))


def _first(query: dict, name: str, default: str = "") -> str:
    return query.get(name, [default])[0]


class JamfStandIn(StandIn):
    kind = "jamf"

    def __init__(self, tls: TestCA, **kw):
        super().__init__(tls, **kw)
        self.departments = copy.deepcopy(self.fixture["departments"]["results"])
        self.attributes: dict[str, dict[str, list]] = {}  # computer id -> definitionId -> values

    def computer(self, number: int, serial: str, realname: str, email: str, department: str | None = "1",
                 enrolled: str = "2026-03-05T14:41:06.000Z") -> dict:
        record = copy.deepcopy(self.fixture["computer"])
        record["id"] = str(number)
        record["hardware"]["serialNumber"] = serial
        record["general"]["lastEnrolledDate"] = enrolled
        record["userAndLocation"].update(realname=realname, email=email, username=email.split("@")[0],
                                         departmentId=department)
        return record

    def routes(self):
        return [("POST", "/api/oauth/token".__eq__, "token", self._token),
                ("GET", "/api/v1/departments".__eq__, "departments", lambda r: self._page(r, self.departments)),
                ("GET", "/api/v1/computers-inventory".__eq__, "inventory", lambda r: self._page(r, self.devices)),
                ("PATCH", lambda p: p.startswith("/api/v1/computers-inventory-detail/"), "write", self._write)]

    def _token(self, request: Request):
        form = request.body or {}
        if (form.get("grant_type"), form.get("client_id"), form.get("client_secret")) != \
                ("client_credentials", self.client_id, self.secret):
            return 401, self.fixture["token_refused"]
        return 200, self.issue_token()

    def _page(self, request: Request, records: list):
        page, size = int(_first(request.query, "page", "0")), int(_first(request.query, "page-size", "100"))
        ordered = sorted(records, key=lambda r: int(r["id"]) if isinstance(r, dict) and str(r.get("id")).isdigit()
                         else 0)
        return 200, {"totalCount": len(records), "results": ordered[page * size:(page + 1) * size]}

    def _write(self, request: Request):
        computer = request.path.rsplit("/", 1)[1]
        for attribute in request.body["extensionAttributes"]:
            self.attributes.setdefault(computer, {})[attribute["definitionId"]] = attribute["values"]
        return 200, {"id": computer}


class GraphStandIn(StandIn):
    """Microsoft Entra's token endpoint and Microsoft Graph on one address (`login_url` = `url`)."""

    kind = "intune"
    tenant = "acme.onmicrosoft.com"

    def __init__(self, tls: TestCA, **kw):
        super().__init__(tls, **kw)
        self.entra: dict[str, dict] = {}  # Entra object id -> device object
        self.page_size = 100

    def device(self, serial: str, name: str, email: str, directory_id: str) -> dict:
        record = copy.deepcopy(self.fixture["device"])
        record.update(id=f"md-{serial}", serialNumber=serial, userDisplayName=name, emailAddress=email,
                      userPrincipalName=email, azureADDeviceId=directory_id)
        entra = copy.deepcopy(self.fixture["entra_device"])
        entra.update(id=f"obj-{directory_id}", deviceId=directory_id)
        self.entra[entra["id"]] = entra
        return record

    def routes(self):
        return [("POST", f"/{self.tenant}/oauth2/v2.0/token".__eq__, "token", self._token),
                ("GET", "/v1.0/deviceManagement/managedDevices".__eq__, "inventory", self._page),
                ("PATCH", lambda p: p.startswith("/v1.0/devices(deviceId="), "write", self._write)]

    def _token(self, request: Request):
        form = request.body or {}
        if (form.get("grant_type"), form.get("client_id"), form.get("client_secret"), form.get("scope")) != \
                ("client_credentials", self.client_id, self.secret, "https://graph.microsoft.com/.default"):
            return 401, self.fixture["token_refused"]
        return 200, self.issue_token()

    def _page(self, request: Request):
        selected = _first(request.query, "$select").split(",")
        skip = int(_first(request.query, "$skiptoken", "0"))
        size = int(_first(request.query, "$top", str(self.page_size)))
        chunk = [{k: v for k, v in d.items() if k in selected} if isinstance(d, dict) else d
                 for d in self.devices[skip:skip + size]]
        answer = {"@odata.context": f"{self.url}/v1.0/$metadata#deviceManagement/managedDevices", "value": chunk}
        if skip + size < len(self.devices):
            answer["@odata.nextLink"] = (f"{self.url}/v1.0/deviceManagement/managedDevices?$select="
                                         f"{','.join(selected)}&$top={size}&$skiptoken={skip + size}")
        return 200, answer

    def _write(self, request: Request):
        wanted = request.path.removeprefix("/v1.0/devices(deviceId='").removesuffix("')")
        device = next((d for d in self.entra.values() if d["deviceId"] == wanted), None)
        if device is None:
            return 404, {"error": {"code": "Request_ResourceNotFound"}}
        device["extensionAttributes"].update(request.body["extensionAttributes"])
        return 204, None


class KandjiStandIn(StandIn):
    kind = "kandji"

    def __init__(self, tls: TestCA, **kw):
        super().__init__(tls, **kw)
        self.tokens.add(self.secret)  # a static API token

    def device(self, serial: str, name: str, email: str, blueprint: str = "Engineering Macs") -> dict:
        record = copy.deepcopy(self.fixture["device"])
        record.update(device_id=f"kd-{serial}", serial_number=serial, blueprint_name=blueprint,
                      user={**record["user"], "name": name, "email": email} if email else "")
        return record

    def routes(self):
        return [("GET", "/api/v1/devices".__eq__, "inventory", self._page),
                ("GET", lambda p: p.startswith("/api/v1/devices/"), "device", self._one),
                ("PATCH", lambda p: p.startswith("/api/v1/devices/"), "write", self._write)]

    def _page(self, request: Request):
        limit, offset = int(_first(request.query, "limit", "300")), int(_first(request.query, "offset", "0"))
        return 200, self.devices[offset:offset + limit]

    def _find(self, request: Request) -> dict | None:
        wanted = request.path.rsplit("/", 1)[1]
        return next((d for d in self.devices if isinstance(d, dict) and d.get("device_id") == wanted), None)

    def _one(self, request: Request):
        device = self._find(request)
        return (200, device) if device else (404, {"detail": "Not found."})

    def _write(self, request: Request):
        device = self._find(request)
        if device is None:
            return 404, {"detail": "Not found."}
        device["tags"] = list(request.body["tags"])
        return 200, device
