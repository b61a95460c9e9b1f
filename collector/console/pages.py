"""What each page reads and shows. A page gets a `Request` (the viewer, the audit entry, the form)
and returns a response; the reads are `Storage`'s, the same as the CLIs'."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass

from starlette.responses import RedirectResponse, Response

from farmwatch.collector import queries, triage
from farmwatch.collector.console.access import Viewer
from farmwatch.collector.storage import SqlError
from farmwatch.collector.storage.browse import SORTS, DeviceFilter
from farmwatch.common.clock import utcnow
from farmwatch.common.vocabulary import TRIAGE_STATES, VERDICTS, TriageState

PAGE_SIZE = 50
SQL_MAX_ROWS = 1000
SQL_TIMEOUT = 10.0
CHART_DAYS = 30


class Answered(Exception):
    """A page that answered with a refusal or an error: raised through the audit record (whose outcome
    then says why), and its `response` sent."""

    def __init__(self, response, reason: str):
        super().__init__(reason)
        self.response = response


@dataclass
class Request:
    console: object
    http: object  # the Starlette request
    viewer: Viewer
    entry: object  # the audit entry: set .rows
    form: object | None

    def render(self, template: str, status: int = 200, **values):
        return self.console.render(self.http, template, status, viewer=self.viewer,
                                   token=self.console.form_token(self.viewer), **values)

    def param(self, name: str) -> str:
        return (self.http.query_params.get(name) or "").strip()

    def not_found(self, what: str) -> Answered:
        return Answered(self.console.message(self.http, 404, "Not found", what), what)

    def one(self, what: str, lookup) -> tuple[str, dict]:
        """The record the path names (`/devices/{device_id}`): its key and itself, or a 404 page."""
        key = self.http.path_params[f"{what}_id"]
        info = lookup(key)
        if info is None:
            raise self.not_found(f"no {what} {key!r}; the {what} list shows the known ones")
        self.entry.rows = 1
        return key, info

    @property
    def store(self):
        return self.console.store


def overview(req: Request):
    since = (utcnow() - dt.timedelta(days=CHART_DAYS - 1)).strftime("%Y-%m-%d")
    stats = req.store.overview(CHART_DAYS, since)
    clusters = req.store.clusters()[:10]
    req.entry.rows = len(clusters)
    return req.render("overview.html", stats=stats, chart=_chart(stats["flags_per_day"], since), clusters=clusters)


def _chart(per_day, since: str) -> list[dict]:
    """One bar per UTC day of the window, days without new flags included."""
    counts, start = dict(per_day), dt.date.fromisoformat(since)
    days = [(start + dt.timedelta(days=n)).isoformat() for n in range(CHART_DAYS)]
    top = max(counts.values(), default=0) or 1
    return [{"day": day, "count": counts.get(day, 0), "height": round(100 * counts.get(day, 0) / top)}
            for day in days]


def devices(req: Request):
    where = DeviceFilter(**{name: req.param(name) for name in DeviceFilter.__dataclass_fields__})
    sort, page = req.param("sort") or "score", req.param("page") or "1"
    problem = _device_filter_problem(where, sort, page)
    if problem:
        raise Answered(req.render("devices.html", 400, rows=[], total=0, where=where, sort=sort, page=1, pages=1,
                          error=problem, choices=req.console.device_choices(), sorts=SORTS), problem)
    page = int(page)
    rows, total = req.store.device_page(where, sort, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    req.entry.rows = len(rows)
    return req.render("devices.html", rows=rows, total=total, where=where, sort=sort, page=page,
                      pages=max(1, -(-total // PAGE_SIZE)), error="", choices=req.console.device_choices(), sorts=SORTS)


def _device_filter_problem(where: DeviceFilter, sort: str, page: str) -> str:
    if where.verdict and where.verdict not in VERDICTS:
        return f"verdict must be one of {', '.join(VERDICTS)}"
    if where.triage and where.triage not in TRIAGE_STATES:
        return f"triage must be one of {', '.join(TRIAGE_STATES)}"
    if sort not in SORTS:
        return f"sort must be one of {', '.join(SORTS)}"
    if not page.isdigit() or int(page) < 1:
        return "page must be a whole number from 1"
    return ""


def device(req: Request, error: str = "", status: int = 200):
    device_id, info = req.one("device", req.store.device)
    roster = req.store.roster_facts(device_id)
    page = req.render("device.html", status, device=info, roster=roster, places=req.store.places(device_id),
                      changes=req.store.inventory_changes(device_id), states=TRIAGE_STATES, error=error,
                      allow_diff=_allow_diff(req, info, roster))
    if error:
        raise Answered(page, error)
    return page


def _allow_diff(req: Request, info: dict, roster: dict | None) -> str:
    if info["triage"]["state"] != TriageState.FALSE_POSITIVE:
        return ""
    path = req.console.config.config_file
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    return triage.allow_list_diff(text, info, (roster or {}).get("department") or None, req.viewer.who)


def change_triage(req: Request):
    device_id = req.http.path_params["device_id"]
    form = req.form
    try:
        triage.change(req.store, device_id, who=req.viewer.who, via=req.viewer.via,
                      state=form.get("state") or None, assignee=form.get("assignee"), note=form.get("note") or "")
    except triage.UnknownDevice as exc:
        raise req.not_found(str(exc)) from exc
    except triage.TriageError as exc:
        device(req, error=str(exc), status=400)
    req.entry.rows = 1
    return RedirectResponse(f"/devices/{device_id}", status_code=303)


def evidence(req: Request):
    device_id, info = req.one("device", req.store.device)
    envelope = req.store.envelope(info["last_report_id"]) if info.get("last_report_id") else None
    return req.render("evidence.html", device=info, roster=req.store.roster_facts(device_id),
                      places=req.store.places(device_id), printed_at=utcnow().isoformat(timespec="seconds"),
                      received_at=(envelope or {}).get("received_at") or info.get("last_seen"))


def clusters(req: Request):
    rows = req.store.clusters(include_inactive=req.param("all") == "1")
    req.entry.rows = len(rows)
    return req.render("clusters.html", clusters=rows)


def cluster(req: Request):
    _, info = req.one("cluster", req.store.cluster)
    return req.render("cluster.html", cluster=info)


def flags(req: Request):
    rows = queries.flags(req.store)
    req.entry.rows = len(rows)
    return req.render("flags.html", flags=rows, columns=queries.FLAG_COLUMNS)


def sql(req: Request):
    statement = req.param("q")
    if not statement:
        return req.render("sql.html", statement="", result=None, error="")
    try:
        result = req.store.analyst_query(statement, max_rows=SQL_MAX_ROWS, timeout=SQL_TIMEOUT)
    except SqlError as exc:
        raise Answered(req.render("sql.html", 400, statement=statement, result=None, error=str(exc)),
                       f"refused: {exc}") from exc
    req.entry.rows = len(result.rows)
    if req.param("format") == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(result.columns)
        writer.writerows(result.rows)
        return Response(out.getvalue(), media_type="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="farmwatch-query.csv"'})
    return req.render("sql.html", statement=statement, result=result, error="")


def _pretty(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str, sort_keys=True)


def _when(value) -> str:
    """An RFC 3339 time to the minute, for tables (the full value stays in the <time> element)."""
    return str(value)[:16].replace("T", " ") if value else ""


FILTERS = {"pretty": _pretty, "when": _when}

# path, page, audit action, methods
ROUTES = (
    ("/", overview, "console-overview", ("GET",)),
    ("/devices", devices, "console-devices", ("GET",)),
    ("/devices/{device_id}", device, "console-device", ("GET",)),
    ("/devices/{device_id}/triage", change_triage, "triage", ("POST",)),
    ("/devices/{device_id}/evidence", evidence, "console-evidence", ("GET",)),
    ("/clusters", clusters, "console-clusters", ("GET",)),
    ("/clusters/{cluster_id}", cluster, "console-cluster", ("GET",)),
    ("/flags", flags, "console-flags", ("GET",)),
    ("/sql", sql, "sql", ("GET",)),
)
