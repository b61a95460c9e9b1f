"""The `[mdm]` tables of collector.toml: how often `serve` syncs the roster, where the evidence pages
are, and one table per MDM (documented in collector.example.toml and docs/deploy.md).

    [mdm]
    sync_every_minutes = 60
    console_url = "https://farmwatch.example.com"
    max_removed_percent = 10

    [mdm.jamf]
    url = "https://acme.jamfcloud.com"
    client_id = "…"
    client_secret_file = "/etc/farmwatch/jamf-secret"     # or client_secret_env = "JAMF_CLIENT_SECRET"
    write_back = true
    verdict_attribute = "42"                             # extension attribute ids
    link_attribute = "43"

A secret is never written in the file itself: it is read from the named file or environment
variable when a sync starts, so collector.toml can be readable by more people than the secret.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

from farmwatch.collector.setting_types import type_problem

KINDS = ("jamf", "intune", "kandji")
_SECRET_NAME = {"jamf": "client_secret", "intune": "client_secret", "kandji": "token"}
_ENTRA_ATTRIBUTES = {f"extensionAttribute{n}" for n in range(1, 16)}


class MdmSettingsError(ValueError):
    pass


@dataclass(frozen=True)
class SourceSettings:
    """One MDM's API client. `url`: Jamf Pro's address, Microsoft Graph's (default), or the Kandji
    tenant's API address (https://SUBDOMAIN.api.kandji.io)."""

    kind: str
    url: str = ""
    client_id: str = ""
    tenant: str = ""  # intune: the Entra tenant id or domain
    login_url: str = "https://login.microsoftonline.com"  # intune: where tokens come from
    client_secret_file: str = ""
    client_secret_env: str = ""
    token_file: str = ""  # kandji: the API token
    token_env: str = ""
    ca_file: str = ""  # trust this CA bundle instead of the system's (an on-premises Jamf Pro)
    page_size: int = 0  # 0: the vendor's usual maximum
    timeout_seconds: float = 30
    write_back: bool = False
    verdict_attribute: str = ""  # jamf: extension attribute id; intune: extensionAttributeN; kandji: tag prefix
    link_attribute: str = ""  # jamf: extension attribute id; intune: extensionAttributeN; kandji: not used
    writes_per_minute: int = 60

    @property
    def source(self) -> str:
        """How the roster names rows this MDM's API supplied (`source_format`)."""
        return f"{self.kind}-api"

    def secret(self) -> str:
        """The client secret or token, read now from its file or variable; never kept in settings."""
        name = _SECRET_NAME[self.kind]
        path, variable = getattr(self, f"{name}_file"), getattr(self, f"{name}_env")
        if path:
            try:
                value = Path(path).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise MdmSettingsError(f"[mdm.{self.kind}] {name}_file {path}: {exc.strerror or exc}; check the "
                                       "path and that the collector's user may read it") from None
        else:
            value = os.environ.get(variable, "").strip()
        if not value:
            where = f"file {path}" if path else f"environment variable {variable}"
            raise MdmSettingsError(f"[mdm.{self.kind}] the {where} holding the {name.replace('_', ' ')} is empty")
        return value


_DEFAULT_URL = {"intune": "https://graph.microsoft.com"}
_REQUIRED = {"jamf": ("url", "client_id"), "intune": ("tenant", "client_id"), "kandji": ("url",)}
_ONLY_FOR = {"client_id": ("jamf", "intune"), "tenant": ("intune",), "login_url": ("intune",),
             "client_secret_file": ("jamf", "intune"), "client_secret_env": ("jamf", "intune"),
             "token_file": ("kandji",), "token_env": ("kandji",), "link_attribute": ("jamf", "intune")}


@dataclass(frozen=True)
class MdmSettings:
    sync_every_minutes: float = 60  # how often `serve` syncs (0: only `mdm sync`)
    console_url: str = ""  # the web console's base address, for the evidence link written back
    # A sync that would remove more than this share of one MDM's roster rows is refused (a filter or
    # permission gone wrong in the MDM looks exactly like the fleet vanishing); `mdm sync --accept-removals`.
    max_removed_percent: float = 10
    max_retry_wait_seconds: float = 120  # the longest Retry-After a sync waits out before failing
    sources: tuple[SourceSettings, ...] = field(default_factory=tuple)

    @classmethod
    def from_dict(cls, values: dict | None) -> "MdmSettings":
        values = dict(values or {})
        sources = tuple(_source(kind, values.pop(kind)) for kind in KINDS if kind in values)
        known = {f.name for f in fields(cls)} - {"sources"}
        unknown = set(values) - known
        if unknown:
            raise MdmSettingsError(f"[mdm]: unknown setting(s) {', '.join(sorted(unknown))}; the MDM tables are "
                                   f"{', '.join(f'[mdm.{k}]' for k in KINDS)}")
        problem = type_problem(cls, values, "[mdm] ")
        if problem:
            raise MdmSettingsError(problem)
        if values.get("console_url") and not values["console_url"].startswith("https://"):
            raise MdmSettingsError(f"[mdm] console_url must start with https://, not {values['console_url']!r}")
        return cls(**values, sources=sources)

    def source(self, kind: str) -> SourceSettings:
        for source in self.sources:
            if source.kind == kind:
                return source
        raise MdmSettingsError(f"no [mdm.{kind}] table in collector.toml; docs/deploy.md says how to add one")

    def evidence_url(self, device_id: str) -> str:
        """The device's evidence page in the web console; "" when no console_url is set."""
        from urllib.parse import quote

        if not self.console_url:
            return ""
        return f"{self.console_url.rstrip('/')}/devices/{quote(device_id, safe='')}/evidence"


def _source(kind: str, values) -> SourceSettings:
    if not isinstance(values, dict):
        raise MdmSettingsError(f"mdm.{kind} must be a table ([mdm.{kind}]), not {values!r}")
    where = f"[mdm.{kind}]"
    known = {f.name for f in fields(SourceSettings)} - {"kind"}
    unknown = set(values) - known
    secret = _SECRET_NAME[kind]
    if secret in unknown:
        raise MdmSettingsError(f"{where}: {secret} may not be written in collector.toml; put it in a file "
                               f"({secret}_file) or an environment variable ({secret}_env)")
    misplaced = {name for name, kinds in _ONLY_FOR.items() if name in values and kind not in kinds}
    if unknown | misplaced:
        raise MdmSettingsError(f"{where}: unknown setting(s) {', '.join(sorted(unknown | misplaced))}")
    problem = type_problem(SourceSettings, values, f"{where} ")
    if problem:
        raise MdmSettingsError(problem)
    settings = SourceSettings(kind=kind, **{"url": _DEFAULT_URL.get(kind, ""), **values})
    _check(settings, where, secret)
    return settings


def _check(settings: SourceSettings, where: str, secret: str) -> None:
    missing = [name for name in _REQUIRED[settings.kind] if not getattr(settings, name)]
    if missing:
        raise MdmSettingsError(f"{where}: {', '.join(missing)} must be set")
    for name in ("url", "login_url"):
        if not getattr(settings, name).startswith("https://"):
            raise MdmSettingsError(f"{where} {name} must start with https://, not {getattr(settings, name)!r}")
    if bool(getattr(settings, f"{secret}_file")) == bool(getattr(settings, f"{secret}_env")):
        raise MdmSettingsError(f"{where}: set exactly one of {secret}_file and {secret}_env")
    if settings.page_size < 0 or settings.timeout_seconds <= 0 or settings.writes_per_minute < 1:
        raise MdmSettingsError(f"{where}: page_size must be 0 or more, timeout_seconds above 0 and "
                               "writes_per_minute at least 1")
    if settings.write_back:
        _check_write_back(settings, where)


def _check_write_back(settings: SourceSettings, where: str) -> None:
    if not settings.verdict_attribute and settings.kind != "kandji":
        raise MdmSettingsError(f"{where}: write_back needs verdict_attribute (docs/deploy.md, \"MDM write-back\")")
    if settings.kind == "intune":
        for name in ("verdict_attribute", "link_attribute"):
            value = getattr(settings, name)
            if value and value not in _ENTRA_ATTRIBUTES:
                raise MdmSettingsError(f"{where} {name} must be one of extensionAttribute1 … extensionAttribute15, "
                                       f"not {value!r}")
    if settings.kind == "jamf":
        for name in ("verdict_attribute", "link_attribute"):
            value = getattr(settings, name)
            if value and not value.isdigit():
                raise MdmSettingsError(f"{where} {name} must be the extension attribute's id (a number, shown in "
                                       f"its address in Jamf Pro), not {value!r}")
