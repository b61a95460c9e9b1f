"""Context around the laptop: OS remote-access settings, input languages, blind spots."""

from __future__ import annotations

import fnmatch
import re
from typing import Iterator

from farmwatch.collector.detect.report import PROBE_FIELDS
from farmwatch.collector.detect.rules.base import Context, Hit, rule

# Settings that let someone watch and drive the desktop, as opposed to a shell login.
DESKTOP_SHARING = re.compile(
    r"rdp|vnc|(remote|screen|terminal)[ _-]?(desktop|sharing|management|assistance|serv)", re.IGNORECASE)
# Of those, Windows Remote Assistance admits a helper only on an invitation the user sends from the
# laptop (fAllowToGetHelp, on by default): nobody can dial in with it, unlike an RDP or VNC host.
INVITED_HELP = re.compile(r"remote[ _-]?assistance", re.IGNORECASE)
# Probes whose silence blinds a rule: a missing USB list hides every IP-KVM. A probe is named after
# the report field it fills, so these come from report.proto: every probe's field but the host's
# (its facts only colour a verdict), and the name of the usb probe, older than that rule, which
# fills usb_devices.
DETECTION_PROBES = (set(PROBE_FIELDS) - {"host"}) | {"usb"}


@rule("os-remote-access-enabled", "medium", "{service} is enabled in the OS", reads={"remote_access"})
def os_remote_access_enabled(ctx: Context) -> Iterator[Hit]:
    """The OS's own remote desktop (RDP, Screen Sharing/Remote Management, VNC) is switched on
    (docs/detection.md R4: medium strength, medium false positives — help desks use it, and the
    allow-list is where a company sanctions it). Remote Assistance, which answers only the user's
    own invitation and ships switched on, is low; a shell login service is info only."""
    for service, enabled in ctx.view.remote_access:
        if enabled and service:
            severity = ("low" if INVITED_HELP.search(service)
                        else "medium" if DESKTOP_SHARING.search(service) else "info")
            yield Hit({"service": service}, {"setting": {"service": service, "enabled": True}}, severity)


def _language_markers(ctx: Context) -> list[tuple[dict, str]]:
    values = [*ctx.view.keyboard_layouts, ctx.view.locale]
    found = []
    for language in ctx.catalogue.input_languages:
        for value in filter(None, values):
            if any(fnmatch.fnmatchcase(value.casefold(), m.casefold()) for m in language["markers"]):
                found.append((language, value))
    return found


@rule("input-language", "info", "{language} configured ({values})", reads={"keyboard_layouts", "locale"})
def input_language(ctx: Context) -> Iterator[Hit]:
    """Keyboard layouts or locale in a language the research associates with these workers
    (Korean IME). Unverified and common among honest staff: info for the fleet stage only."""
    by_language: dict[str, list[str]] = {}
    names = {}
    for language, value in _language_markers(ctx):
        by_language.setdefault(language["id"], []).append(value)
        names[language["id"]] = language
    for lang_id, values in by_language.items():
        language = names[lang_id]
        yield Hit({"language": language["name"], "values": ", ".join(dict.fromkeys(values))},
                  {"language": lang_id, "values": list(dict.fromkeys(values)), "source": language["source"]})


@rule("probe-gap", "info", "The {probe} probe did not report fully, so detection is partial ({error})",
      reads={"probe_errors", "probes_skipped"})
def probe_gap(ctx: Context) -> Iterator[Hit]:
    """A probe failed or ran out of time: absent evidence is then not evidence of absence."""
    gaps = [(p, e) for p, e in ctx.view.probe_errors] + [(p, "skipped: over its time budget")
                                                        for p in ctx.view.probes_skipped]
    for probe, error in gaps:
        if probe.casefold() in DETECTION_PROBES:
            yield Hit({"probe": probe, "error": error or "no detail"}, {"probe": probe, "error": error})
