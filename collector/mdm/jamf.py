"""Jamf Pro API (10.49 and later): OAuth client credentials, the computers inventory, extension attributes.

Vendor documentation followed (and noted beside each test fixture in tests/mdm_standins.py):
- token: POST /api/oauth/token, form grant_type=client_credentials, client_id, client_secret;
  answers {"access_token", "token_type": "Bearer", "expires_in"} (developer.jamf.com/jamf-pro/docs/client-credentials)
- inventory: GET /api/v1/computers-inventory?section=GENERAL&section=HARDWARE&section=USER_AND_LOCATION
  &page=N&page-size=S&sort=id:asc; answers {"totalCount", "results": [{"id", "general", "hardware",
  "userAndLocation"}]} (developer.jamf.com/jamf-pro/reference/get_v1-computers-inventory)
- departments: GET /api/v1/departments, paged the same way, {"id", "name"}: userAndLocation holds
  only a departmentId (developer.jamf.com/jamf-pro/reference/get_v1-departments)
- write-back: PATCH /api/v1/computers-inventory-detail/{id} with {"extensionAttributes":
  [{"definitionId", "values": [...]}]} (developer.jamf.com/jamf-pro/reference/patch_v1-computers-inventory-detail-id)

Paging is by page number over a list sorted by id; if the total changes while the pages are read
(a computer added or deleted shifts every later page), or a page comes back short before the
total is reached, the listing is incomplete and the sync fails: nothing is applied.
"""
from __future__ import annotations

from farmwatch.collector.mdm.http import ApiClient, ClientCredentials, MdmError
from farmwatch.collector.mdm.inventory import (Inventory, MalformedRecord, MdmDevice, entry, record_id, section,
                                               serial_at, text)

PAGE_SIZE = 200
_SECTIONS = [("section", "GENERAL"), ("section", "HARDWARE"), ("section", "USER_AND_LOCATION")]


class JamfClient:
    kind = "jamf"
    provided = ("serial", "user_name", "email", "department", "issue_date")

    def __init__(self, settings, mdm, **http):
        auth = ClientCredentials(f"{settings.url.rstrip('/')}/api/oauth/token", {
            "grant_type": "client_credentials", "client_id": settings.client_id,
            "client_secret": settings.secret()})
        self.api = ApiClient("Jamf Pro", settings, mdm, auth, **http)
        self.settings, self.page_size = settings, settings.page_size or PAGE_SIZE

    def inventory(self) -> Inventory:
        departments = {str(d.get("id")): d.get("name") for d in self._pages("/api/v1/departments", [])
                       if isinstance(d, dict)}
        found = Inventory(self.settings.source, self.provided)
        for position, record in enumerate(self._pages("/api/v1/computers-inventory", _SECTIONS), start=1):
            found.add(position, record, lambda p, r: _device(p, r, departments),
                      lambda r: serial_at(r, "hardware", "serialNumber"))
        return found

    def _pages(self, path: str, params: list):
        page, total, seen = 0, None, 0
        while total is None or seen < total:
            answer = self.api.get(path, params + [("page", page), ("page-size", self.page_size), ("sort", "id:asc")])
            if not isinstance(answer, dict) or not isinstance(answer.get("results"), list) \
                    or not isinstance(answer.get("totalCount"), int):
                raise MdmError(f"Jamf Pro: {path} page {page} is not {{totalCount, results}}; nothing was changed")
            if total is not None and answer["totalCount"] != total:
                raise MdmError(f"Jamf Pro: {path} changed while it was read ({total} then {answer['totalCount']} "
                               "records); nothing was changed, the next sync reads it again")
            total, results = answer["totalCount"], answer["results"]
            if not results and seen < total:
                raise MdmError(f"Jamf Pro: {path} stopped at {seen} of {total} records (page {page} was empty); "
                               "nothing was changed")
            seen += len(results)
            yield from results
            page += 1

    def unwritable(self, _target: dict) -> None:
        return None  # every listed device has a record to write to

    def write(self, target: dict, values: dict[str, str]) -> None:
        attributes = [{"definitionId": getattr(self.settings, name), "values": [value]}
                      for name, value in values.items() if getattr(self.settings, name)]
        self.api.call("PATCH", f"/api/v1/computers-inventory-detail/{target['mdm_id']}",
                      body={"extensionAttributes": attributes})


def _device(position: int, record, departments: dict) -> MdmDevice | None:
    mdm_id = record_id(record, "id")
    general, hardware, person = (section(record, "general"), section(record, "hardware"),
                                 section(record, "userAndLocation"))
    department = person.get("departmentId")
    if department is not None and not isinstance(department, (str, int)):
        raise MalformedRecord(f"userAndLocation.departmentId is {type(department).__name__}")
    user = "userAndLocation."
    found = entry(position, text(hardware, "serialNumber", "hardware."),
                  user_name=text(person, "realname", user) or text(person, "username", user),
                  email=text(person, "email", user),
                  department=departments.get(str(department), "") if department is not None else "",
                  issue_date=text(general, "lastEnrolledDate", "general.") or text(general, "initialEntryDate",
                                                                                   "general."))
    if found is None:
        return None
    return MdmDevice(mdm_id, found, device_name=text(general, "name", "general."), os="macos")
