"""Kandji API: a bearer API token, the device list, and write-back as a device tag.

Vendor documentation followed (and noted beside each test fixture in tests/mdm_standins.py):
- devices: GET /api/v1/devices?limit=L&offset=O; a JSON array of {"device_id", "device_name",
  "serial_number", "platform", "user": {"name", "email", …} or "", "blueprint_name",
  "first_enrollment", "tags", …}; the last page is shorter than the limit (api-docs.kandji.io,
  "Device Information > List Devices"; the limit is at most 300)
- write-back: GET /api/v1/devices/{device_id} for the current tags, then PATCH
  /api/v1/devices/{device_id} {"tags": [...]} (api-docs.kandji.io, "Update Device")

The token is static (made in Kandji under Settings > Access > API Token): a 401 cannot be cured by
renewing, so it fails the sync at once, saying so. The blueprint is kept beside the device
(`mdm status`), not as the roster's department: blueprints group settings, not people.
Write-back replaces only farmwatch's own tag (those starting with the prefix); others stay.
"""
from __future__ import annotations

from urllib.parse import quote

from farmwatch.collector.mdm.http import ApiClient, MdmError, StaticToken
from farmwatch.collector.mdm.inventory import Inventory, MalformedRecord, MdmDevice, entry, record_id, serial_at, text

PAGE_SIZE = 300
TAG_PREFIX = "farmwatch-"


class KandjiClient:
    kind = "kandji"
    provided = ("serial", "user_name", "email", "issue_date")

    def __init__(self, settings, mdm, **http):
        self.api = ApiClient("Kandji", settings, mdm, StaticToken(settings.secret()), **http)
        self.settings, self.page_size = settings, min(settings.page_size or PAGE_SIZE, PAGE_SIZE)

    def inventory(self) -> Inventory:
        found = Inventory(self.settings.source, self.provided)
        offset = 0
        while True:
            page = self.api.get("/api/v1/devices", [("limit", self.page_size), ("offset", offset)])
            if not isinstance(page, list):
                raise MdmError("Kandji: /api/v1/devices did not answer a list; nothing was changed")
            for position, record in enumerate(page, start=offset + 1):
                found.add(position, record, _device, lambda r: serial_at(r, "serial_number"))
            if len(page) < self.page_size:
                return found
            offset += len(page)

    def unwritable(self, _target: dict) -> None:
        return None  # every listed device has a record to write to

    def write(self, target: dict, values: dict[str, str]) -> None:
        path = f"/api/v1/devices/{quote(target['mdm_id'], safe='')}"
        current = self.api.get(path)
        tags = current.get("tags") if isinstance(current, dict) else None
        if not isinstance(tags, list):
            raise MdmError(f"Kandji: {path} answered without a tags list; the tag was not written")
        prefix = self.settings.verdict_attribute or TAG_PREFIX
        kept = [tag for tag in tags if isinstance(tag, str) and not tag.startswith(prefix)]
        self.api.call("PATCH", path, body={"tags": kept + [f"{prefix}{values['verdict_attribute']}"]})


def _device(position: int, record) -> MdmDevice | None:
    mdm_id = record_id(record, "device_id")
    user = record.get("user")
    if user in ("", None):
        user = {}
    if not isinstance(user, dict):
        raise MalformedRecord(f"user is {type(user).__name__}, not an object")
    found = entry(position, text(record, "serial_number"), user_name=text(user, "name", "user."),
                  email=text(user, "email", "user."), issue_date=text(record, "first_enrollment"))
    if found is None:
        return None
    return MdmDevice(mdm_id, found, device_name=text(record, "device_name"), os=text(record, "platform"),
                     groups=text(record, "blueprint_name"))
