"""The console in a real browser: Debian's headless Chromium, driven by Playwright, presents alice's
certificate from the .p12 `pki issue-analyst --p12` wrote (imported into the browser's NSS database,
as an analyst imports it), filters the devices to relays, opens one, reads its findings, moves it to
"investigating" with a note — which farmwatch-analyst then shows — and sees a refused SQL write
explained. Screenshots of each page go to tests/artifacts/console/ (ignored by git) to look at.

Chromium and the NSS tools come from `make browser` (apt); Playwright never downloads a browser."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import RunningCollector
from console_process import Console, issue_analyst, make_home
from test_analyst_cli import analyst

CHROMIUM = "/usr/lib/chromium/chromium"  # /usr/bin/chromium is a wrapper script that warns on every start
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).parent / "artifacts" / "console"


def _browser_home(tmp: Path, p12: Path, passphrase: str, ca: Path) -> Path:
    """A throw-away HOME whose NSS database holds alice's certificate and trusts our CA: Chromium on Linux
    reads client certificates only from $HOME/.pki/nssdb."""
    home = tmp / "browser-home"
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    db = f"sql:{nssdb}"
    for command in (["certutil", "-N", "-d", db, "--empty-password"],
                    ["pk12util", "-i", str(p12), "-d", db, "-W", passphrase],
                    ["certutil", "-A", "-d", db, "-n", "farmwatch CA", "-t", "C,,", "-i", str(ca)]):
        subprocess.run(command, check=True, capture_output=True, timeout=60)
    return home


def _profile(tmp: Path, origin: str) -> Path:
    """A fresh profile that picks the certificate for the console by itself: headless Chromium would
    otherwise wait forever on a certificate dialog nobody sees."""
    profile = tmp / "profile"
    (profile / "Default").mkdir(parents=True)
    preferences = {"profile": {"content_settings": {"exceptions": {"auto_select_certificate": {
        f"{origin},*": {"setting": {"filters": [{}]}}}}}}}
    (profile / "Default" / "Preferences").write_text(json.dumps(preferences))
    return profile


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    home = make_home(tmp)
    _, _, passphrase = issue_analyst(home, "alice@example.com", p12=True)
    console = Console(home)
    served = RunningCollector(home)  # the gRPC side, for farmwatch-analyst
    served.bundle = home / "pki" / "analysts" / "alice@example.com.pem"
    browser_home = _browser_home(tmp, home / "pki" / "analysts" / "alice@example.com.p12", passphrase,
                                 home / "pki" / "ca.crt")
    yield tmp, console, served, browser_home
    served.stop()
    console.stop()


@pytest.fixture(scope="module")
def page(setup):
    from playwright.sync_api import sync_playwright

    tmp, console, _, browser_home = setup
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(_profile(tmp, console.url)), executable_path=CHROMIUM, headless=True, args=FLAGS,
            env={**os.environ, "HOME": str(browser_home)}, viewport={"width": 1280, "height": 900})
        try:
            yield context.new_page()
        finally:
            context.close()


def _shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{name} is {overflow}px wider than the window"


def test_an_analyst_finds_the_relays_reads_why_and_triages_in_the_browser(setup, page):
    _, console, served, _ = setup
    page.goto(console.url + "/")
    assert "alice@example.com" in page.inner_text("header")
    tallest = page.evaluate("Math.max(...[...document.querySelectorAll('svg.chart rect')]"
                            ".map(r => r.getBoundingClientRect().height))")
    assert tallest > 50  # today's bar is drawn (the page's CSP allows no inline style)
    _shot(page, "overview")
    page.click("nav >> text=Devices")
    page.select_option("select[name=verdict]", "relay")
    page.click("form.filters button")
    rows = page.inner_text("table.devices tbody")
    assert "PFWCWBL5" in rows and "SN-OFFICE" not in rows and "C027VREFFHAR" not in rows
    _shot(page, "devices-relays")
    page.click("text=PFWCWBL5")
    findings = page.inner_text("section[aria-labelledby=findings]")
    assert "critical" in findings or "high" in findings
    _shot(page, "device")
    page.select_option("select[name=state]", "investigating")
    page.fill("textarea[name=note]", "JetKVM seen; asked IT where it was shipped")
    page.click("form.triage button")
    assert page.inner_text("b.state") == "investigating"
    assert "JetKVM seen; asked IT where it was shipped" in page.inner_text("section[aria-labelledby=triage]")
    _shot(page, "device-triaged")
    flags = json.loads(analyst(served, "flags", "--json").stdout)
    assert {f["triage"] for f in flags if f["device_id"] == "PFWCWBL5"} == {"investigating"}
    page.click("text=Evidence page (printable)")
    assert "not a finding about any person" in page.inner_text("main")
    page.emulate_media(media="print")
    _shot(page, "evidence-print")
    page.emulate_media(media="screen")


def test_a_refused_sql_write_is_explained_in_the_browser(setup, page):
    _, console, _, _ = setup
    page.goto(console.url + "/sql")
    page.fill("textarea[name=q]", "DELETE FROM devices")
    page.click("main form button")
    assert page.inner_text("[role=alert]").startswith("Refused:")
    _shot(page, "sql-refused")
    page.fill("textarea[name=q]", "SELECT device_id, verdict FROM devices ORDER BY device_id")
    page.click("main form button")
    assert "SN-FARM-1" in page.inner_text("main table")
    _shot(page, "sql")


@pytest.mark.parametrize("path", ["/flags", "/clusters"])
def test_the_other_pages_fit_the_window(setup, page, path):
    _, console, _, _ = setup
    page.goto(console.url + path)
    _shot(page, path.strip("/"))
