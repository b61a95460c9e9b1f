"""Microsoft Intune through Microsoft Graph v1.0: app-only client credentials, managed devices, and
write-back to an Entra device extension attribute.

Vendor documentation followed (and noted beside each test fixture in tests/mdm_standins.py):
- token: POST {login_url}/{tenant}/oauth2/v2.0/token, form client_id, client_secret,
  scope=https://graph.microsoft.com/.default, grant_type=client_credentials
  (learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow)
- devices: GET /v1.0/deviceManagement/managedDevices?$select=…; {"value": [...], "@odata.nextLink"}
  followed until absent (learn.microsoft.com/graph/api/intune-devices-manageddevice-list,
  learn.microsoft.com/graph/paging); 429 with Retry-After (learn.microsoft.com/graph/throttling)
- write-back: PATCH /v1.0/devices(deviceId='{azureADDeviceId}') {"extensionAttributes":
  {"extensionAttributeN": …}}: a device is addressed by its id or its deviceId; an app-only caller
  may update only extensionAttributes, which is all farmwatch writes
  (learn.microsoft.com/graph/api/device-update)

Why an Entra extension attribute and not an Intune device category: a device has one category,
often chosen by the user at enrollment and used by IT for its own grouping, so farmwatch would
overwrite it; extensionAttribute1–15 are free text fields meant for this, and Entra dynamic device
groups (`device.extensionAttribute1 -eq "relay"`) feed Intune policy and Conditional Access.

Managed devices carry no department, and their issue date is the enrollment date.
"""
from __future__ import annotations

from urllib.parse import quote, urlsplit

from farmwatch.collector.mdm.http import ApiClient, ClientCredentials, MdmError
from farmwatch.collector.mdm.inventory import Inventory, MdmDevice, entry, record_id, serial_at, text

_SELECT = ("id,serialNumber,userPrincipalName,userDisplayName,emailAddress,deviceName,operatingSystem,"
           "enrolledDateTime,azureADDeviceId")


class IntuneClient:
    kind = "intune"
    provided = ("serial", "user_name", "email", "issue_date")

    def __init__(self, settings, mdm, **http):
        token_url = f"{settings.login_url.rstrip('/')}/{quote(settings.tenant, safe='')}/oauth2/v2.0/token"
        auth = ClientCredentials(token_url, {
            "client_id": settings.client_id, "client_secret": settings.secret(),
            "scope": "https://graph.microsoft.com/.default", "grant_type": "client_credentials"})
        self.api = ApiClient("Microsoft Graph", settings, mdm, auth, **http)
        self.settings = settings

    def inventory(self) -> Inventory:
        found = Inventory(self.settings.source, self.provided)
        params = [("$select", _SELECT)] + ([("$top", self.settings.page_size)] if self.settings.page_size else [])
        for position, record in enumerate(self._pages("/v1.0/deviceManagement/managedDevices", params), start=1):
            found.add(position, record, _device, lambda r: serial_at(r, "serialNumber"))
        return found

    def _pages(self, path: str, params):
        answer = self.api.get(path, params)
        while True:
            if not isinstance(answer, dict) or not isinstance(answer.get("value"), list):
                raise MdmError(f"Microsoft Graph: a page of {path} has no \"value\" list; nothing was changed")
            yield from answer["value"]
            link = answer.get("@odata.nextLink")
            if not link:
                return
            if not isinstance(link, str) or urlsplit(link).netloc != urlsplit(self.api.base_url).netloc:
                # the token must go nowhere but Graph
                raise MdmError(f"Microsoft Graph: @odata.nextLink points away from {self.api.base_url}; refused")
            answer = self.api.get(link)

    def unwritable(self, target: dict) -> str | None:
        """Why this device can take no write-back, or None: the extension attributes live on its
        Entra device, which a device that is neither Entra joined nor registered lacks."""
        if not target.get("directory_id"):
            return "no Entra device (not Entra joined or registered), so no extension attributes to write"
        return None

    def write(self, target: dict, values: dict[str, str]) -> None:
        attributes = {getattr(self.settings, name): value for name, value in values.items()
                      if getattr(self.settings, name)}
        self.api.call("PATCH", f"/v1.0/devices(deviceId='{quote(target['directory_id'], safe='')}')",
                      body={"extensionAttributes": attributes})


def _device(position: int, record) -> MdmDevice | None:
    mdm_id = record_id(record, "id")
    found = entry(position, text(record, "serialNumber"), user_name=text(record, "userDisplayName"),
                  email=text(record, "emailAddress") or text(record, "userPrincipalName"),
                  issue_date=text(record, "enrolledDateTime"))
    if found is None:
        return None
    return MdmDevice(mdm_id, found, device_name=text(record, "deviceName"), os=text(record, "operatingSystem"),
                     directory_id=text(record, "azureADDeviceId"))
