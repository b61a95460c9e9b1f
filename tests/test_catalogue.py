"""The signature catalogue: every data file validates, broken entries are named, lookups normalise."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from farmwatch.collector.detect.catalogue import (BUNDLED, CatalogueError, is_own_folder, launchd_labels,
                                                  load_catalogue, normalise_hex, normalise_name, path_matches,
                                                  validate_catalogue)
from farmwatch.collector.detect.catalogue.load import SCHEMA_FOLDER, signature_files
from farmwatch.collector.detect.catalogue.model import CATEGORIES, HARDWARE_KINDS, LEVELS, OSES, ROLES
from farmwatch.collector.detect.catalogue.validate import (EDID_FIELDS, HARDWARE_FIELDS, TOOL_FIELDS, TOOL_REQUIRED,
                                                           USB_FIELDS)

DATA_FILES = [file for _, file in signature_files(BUNDLED)]
SCHEMA = json.loads((BUNDLED / SCHEMA_FOLDER / "signature_file.schema.json").read_text(encoding="utf-8"))
SCHEMA_VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


@pytest.fixture
def catalogue_copy(tmp_path) -> Path:
    folder = tmp_path / "signatures"
    shutil.copytree(BUNDLED, folder, ignore=shutil.ignore_patterns("*.py", "*.md", "__pycache__"))
    return folder


def edit(folder: Path, file: str, change) -> None:
    path = folder / file
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


def position(file: str, key: str, ident: str) -> int:
    entries = json.loads((BUNDLED / file).read_text())[key]
    return next(i for i, e in enumerate(entries) if e["id"] == ident)


@pytest.mark.parametrize("path", DATA_FILES, ids=lambda p: p.relative_to(BUNDLED).as_posix())
def test_every_data_file_validates(path):
    assert validate_catalogue(path) == []


def test_the_bundled_folder_validates_as_a_whole():
    assert validate_catalogue() == []


def test_catalogue_holds_every_researched_tool_and_the_hardware_families():
    catalogue = load_catalogue()
    assert len(catalogue.tools) >= 281
    names = {t.name for t in catalogue.tools}
    assert {"AnyDesk", "TeamViewer", "Chrome Remote Desktop", "RustDesk", "Astrill VPN", "ngrok",
            "frp (fast reverse proxy)", "chisel", "x11vnc", "XRDP", "GNOME Remote Desktop"} <= names
    products = " ".join(h.name for h in catalogue.hardware)
    for family in ("PiKVM", "TinyPilot", "JetKVM", "NanoKVM", "BliKVM", "GL.iNet Comet", "Openterface",
                   "MacroSilicon", "Mouse Jiggler", "Rubber Ducky"):
        assert family in products


def test_every_entry_names_its_source():
    catalogue = load_catalogue()
    assert all(t.source.strip() for t in catalogue.tools)
    assert all(h.source.strip() and h.note.strip() for h in catalogue.hardware)


def test_a_broken_tool_is_reported_with_file_and_entry(catalogue_copy):
    def break_anydesk(doc):
        entry = next(t for t in doc["tools"] if t["id"] == "anydesk")
        entry["relevance"] = "very"
        del entry["source"]
    edit(catalogue_copy, "remote_tools/anydesk.json", break_anydesk)
    problems = validate_catalogue(catalogue_copy)
    assert any(p.startswith("remote_tools/anydesk.json: tool 'anydesk'") and "'relevance' must be one of" in p
               for p in problems)
    assert any(p.startswith("remote_tools/anydesk.json: tool 'anydesk'") and "missing field 'source'" in p
               for p in problems)
    with pytest.raises(CatalogueError) as raised:
        load_catalogue(catalogue_copy)
    assert raised.value.problems == problems


def test_a_broken_hardware_entry_is_reported_with_file_and_entry(catalogue_copy):
    def break_pikvm(doc):
        entry = next(d for d in doc["devices"] if d["id"] == "pikvm-pico-hid")
        entry["usb"]["vendor_id"] = "1209X"
        entry["edid"] = {"manufacturer_id": "LNX"}
    edit(catalogue_copy, "hardware/pikvm.json", break_pikvm)
    index = position("hardware/pikvm.json", "devices", "pikvm-pico-hid")
    assert validate_catalogue(catalogue_copy) == [
        f"hardware/pikvm.json: device 'pikvm-pico-hid' (#{index}): needs exactly one of 'usb' or 'edid'"]

    def fix_edid_break_hex(doc):
        entry = next(d for d in doc["devices"] if d["id"] == "pikvm-pico-hid")
        del entry["edid"]
    edit(catalogue_copy, "hardware/pikvm.json", fix_edid_break_hex)
    assert validate_catalogue(catalogue_copy) == [
        f"hardware/pikvm.json: device 'pikvm-pico-hid' (#{index}) usb: field 'vendor_id' must be 4 lowercase hex digits"]



@pytest.mark.parametrize("serial", [0, "0x1ffffffff", "CAFEBABE", -3])
def test_an_edid_serial_number_is_a_32_bit_number(catalogue_copy, serial):
    edit(catalogue_copy, "hardware/jetkvm.json", lambda doc: next(
        d for d in doc["devices"] if d["id"] == "jetkvm-preset-dell-serial-number")["edid"].update(serial_number=serial))
    index = position("hardware/jetkvm.json", "devices", "jetkvm-preset-dell-serial-number")
    assert validate_catalogue(catalogue_copy) == [
        f"hardware/jetkvm.json: device 'jetkvm-preset-dell-serial-number' (#{index}) edid: field 'serial_number' must be a "
        "32-bit EDID serial number ('0x39363945')"]

@pytest.mark.parametrize("usb, problem", [
    ({"vendor_id": "0430", "product_id_range": ["a113", "a101"]},
     "field 'product_id_range' must be [first, last]: two ascending product ids of 4 lowercase hex digits"),
    ({"vendor_id": "0430", "product_id_range": ["a101"]},
     "field 'product_id_range' must be [first, last]: two ascending product ids of 4 lowercase hex digits"),
    ({"vendor_id": "0430", "product_id": "a101", "product_id_range": ["a101", "a113"]},
     "give a product_id or a product_id_range, not both"),
    ({"product_id_range": ["a101", "a113"]}, "a product_id_range needs its vendor_id"),
])
def test_a_product_id_range_is_checked(catalogue_copy, usb, problem):
    edit(catalogue_copy, "hardware/fujitsu.json",
         lambda doc: next(d for d in doc["devices"] if d["id"] == "fujitsu-bmc-virtual").update(usb=usb))
    index = position("hardware/fujitsu.json", "devices", "fujitsu-bmc-virtual")
    assert validate_catalogue(catalogue_copy) == [
        f"hardware/fujitsu.json: device 'fujitsu-bmc-virtual' (#{index}) usb: {problem}"]


def test_unknown_fields_duplicate_ids_and_bad_json_are_caught(catalogue_copy):
    edit(catalogue_copy, "network.json", lambda doc: doc["proxy_ports"][0].update(prot="tcp"))
    edit(catalogue_copy, "remote_tools/247ithelp-com-connectwise.json",
         lambda doc: doc["tools"].append(dict(doc["tools"][0])))
    (catalogue_copy / "extra.json").write_text("{not json")
    problems = validate_catalogue(catalogue_copy)
    assert "network.json: proxy port #0: unknown field 'prot'" in problems
    assert any("duplicates an id" in p and "247ithelp-com-connectwise" in p for p in problems)
    assert any(p.startswith("extra.json: not valid JSON") for p in problems)


def test_an_entry_with_nothing_to_match_on_is_rejected(catalogue_copy):
    def hollow(doc):
        entry = next(t for t in doc["tools"] if t["id"] == "ngrok")
        for key in ("processes", "services"):
            entry[key] = {"windows": [], "macos": [], "linux": []}
        entry["app_names"], entry["bundle_ids"], entry["domains"], entry["listen_ports"] = [], [], [], []
    edit(catalogue_copy, "remote_tools/ngrok.json", hollow)
    index = position("remote_tools/ngrok.json", "tools", "ngrok")
    assert validate_catalogue(catalogue_copy) == [
        f"remote_tools/ngrok.json: tool 'ngrok' (#{index}): names no process, application, bundle id, service, domain or port to match on"]


def test_a_company_can_add_its_own_file_of_a_kind(catalogue_copy):
    own = {"schema": 1, "kind": "hardware", "devices": [{
        "id": "acme-lab-kvm", "name": "Acme lab KVM", "kind": "ip_kvm", "confidence": "high",
        "usb": {"vendor_id": "abcd", "product_id": "0001"}, "note": "our own", "source": "Acme asset register"}]}
    (catalogue_copy / "local_hardware.json").write_text(json.dumps(own))
    catalogue = load_catalogue(catalogue_copy)
    assert [h.id for h in catalogue.usb_candidates("abcd", "0001") if h.id.startswith("acme")] == ["acme-lab-kvm"]


def test_default_load_is_cached():
    assert load_catalogue() is load_catalogue()


def test_process_lookup_is_case_and_extension_insensitive_per_os():
    catalogue = load_catalogue()
    assert [t.id for t, _ in catalogue.tools_for_process("windows", "ANYDESK.EXE")] == ["anydesk"]
    assert [t.id for t, _ in catalogue.tools_for_process("windows", "AnyDesk")] == ["anydesk"]
    assert [t.id for t, _ in catalogue.tools_for_process("macos", "AnyDesk.app")] == ["anydesk"]
    assert [t.id for t, _ in catalogue.tools_for_process("windows", "rustdesk-1.2.3.exe")] == ["rustdesk"]  # glob


def test_process_lookup_never_matches_a_substring():
    catalogue = load_catalogue()
    assert catalogue.tools_for_process("windows", "chrome.exe") == []
    assert catalogue.tools_for_process("linux", "chrome") == []
    assert catalogue.tools_for_process("windows", "anydesk_helper.exe") == []
    crd = catalogue.tools_for_process("linux", "chrome-remote-desktop-host")
    assert [t.id for t, _ in crd] == ["chrome-remote-desktop"]


def test_a_launchd_plist_among_the_install_paths_names_a_macos_service():
    catalogue = load_catalogue()
    found = catalogue.tools_for_service("macos", "com.carriez.RustDesk_service")
    assert [tool.id for tool, _ in found] == ["rustdesk"]
    assert catalogue.tools_for_service("linux", "com.carriez.RustDesk_service") == []


@pytest.mark.parametrize("path, labels", [
    ("/Library/LaunchDaemons/com.carriez.RustDesk_service.plist", ("com.carriez.RustDesk_service",)),
    ("~/Library/LaunchAgents/com.example.agent.plist", ("com.example.agent",)),
    ("/Library/LaunchDaemons/*.plist", ()),                 # a glob names no one job
    ("/Applications/RustDesk.app", ()),
    ("/Library/Application Support/X/com.example.plist", ()),  # a plist outside the launchd folders
])
def test_launchd_labels(path, labels):
    assert launchd_labels([path]) == labels


def test_ambiguous_names_are_not_indexed_as_processes():
    catalogue = load_catalogue()
    assert catalogue.tools_for_process("windows", "7z.exe") == []
    assert "tiflux" in [t.id for t in catalogue.ambiguous_names["7z"]]


def test_hardware_indexes_use_normalised_keys():
    catalogue = load_catalogue()
    assert "linux-multifunction-gadget" in [h.id for h in catalogue.usb_by_id["1d6b:0104"]]
    assert "glkvm-usb-vendor" in [h.id for h in catalogue.usb_by_vendor["38eb"]]
    assert [h.id for h in catalogue.edid_by_identity[("LNX", 0x7773)]] == ["pikvm-v4plus-edid"]
    assert [h.id for h in catalogue.edid_by_name["pikvm v4 plus"]] == ["pikvm-v4plus-monitor-name"]
    assert "tinypilot-usb-manufacturer" in [h.id for h in catalogue.usb_by_strings]


def test_shared_ids_are_weaker_than_unique_ones():
    catalogue = load_catalogue()
    by_id = catalogue.hardware_by_id
    assert by_id["pikvm-usb-manufacturer"].confidence == "high"
    assert by_id["tinypilot-blikvm-usb-serial"].confidence == "medium"      # serial shared by two KVMs
    assert by_id["openterface-ch9329"].confidence == "medium"               # chip sold for other bridges
    assert by_id["vusb-mouse"].confidence == "low"                          # shared hobby id
    assert by_id["linux-root-hub-2"].kind == "benign"


@pytest.mark.parametrize("value, digits, expected", [
    ("1D6B", 4, "1d6b"), ("0x1d6b", 4, "1d6b"), (7531, 4, "1d6b"), ("3", 2, "03"), ("", 4, ""), ("zz", 2, ""),
])
def test_hex_normalisation(value, digits, expected):
    assert normalise_hex(value, digits) == expected


def test_name_normalisation_drops_only_a_trailing_extension():
    assert normalise_name(" TeamViewer.EXE ") == "teamviewer"
    assert normalise_name("Screen Sharing.app") == "screen sharing"
    assert normalise_name(".exe") == ".exe"
    assert normalise_name("exe.helper") == "exe.helper"


def test_name_normalisation_drops_a_browsers_duplicate_counter():
    assert normalise_name("AnyDesk (1).exe") == normalise_name("AnyDesk(12).EXE") == "anydesk"
    assert normalise_name("(1)") == "(1)"
    assert normalise_name("Remote (beta).exe") == "remote (beta)"


@pytest.mark.parametrize("pattern, own", [
    (r"C:\Program Files\AnyDesk\*", True),
    ("/usr/local/mesh_services/meshagent/*", True),
    (r"*\RealVNC\VNC Server\*", True),
    ("/usr/bin/anydesk", False),                                # a file, not a folder
    (r"C:\Program Files (x86)\ScreenConnect Client (*)\*", False),  # a glob of folder names
    (r"C:\Users\*\Downloads\*", False),                       # a folder every program shares
    ("/opt/*", False),
    ("C:\\Program Files\\LiteManager Pro – Viewer\\*", False),  # the viewer's folder
    (r"*\Splashtop\Splashtop Remote\Client for RMM\*", False),
    ("/Applications/NoMachine.app", True),                     # a macOS app bundle is the tool's own
    ("/Applications/ControlR.*.app", False),                   # a glob of bundle names
])
def test_own_install_folders(pattern, own):
    assert is_own_folder(pattern) is own


def test_signers_name_a_tool_only_when_one_tool_uses_them():
    catalogue = load_catalogue()
    assert catalogue.tool_signed_by("AnyDesk  software GmbH").id == "anydesk"
    assert catalogue.tool_signed_by("ConnectWise, LLC") is None      # two catalogued tools
    assert catalogue.tool_signed_by("Google LLC") is None            # signs Chrome too
    assert catalogue.tool_signed_by("") is None


def test_install_folders_skip_tools_shipped_with_the_os():
    catalogue = load_catalogue()
    found = catalogue.tools_installed_in("/usr/local/mesh_services/meshagent/meshagent", "linux")
    assert [t.id for t, _ in found] == ["meshcentral"]
    assert all(not t.builtin for entries in catalogue.install_folders.values() for *_, t in entries)


def test_a_process_inside_a_tools_app_bundle_is_the_tool_but_not_inside_its_viewers_bundle():
    catalogue = load_catalogue()
    nxd = "/Applications/NoMachine.app/Contents/Frameworks/bin/nxd"
    assert [t.id for t, _ in catalogue.tools_installed_in(nxd, "macos")] == ["nomachine"]
    helper = "/Applications/Jump Desktop.app/Contents/MacOS/Jump Desktop Helper"
    assert catalogue.tools_installed_in(helper, "macos") == []


def test_a_viewer_below_a_tool_folder_is_not_the_tool_running():
    catalogue = load_catalogue()
    splashtop = r"C:\Program Files (x86)\Splashtop\Splashtop Remote"
    assert catalogue.tools_installed_in(splashtop + r"\Client for STB\strwinclt.exe", "windows") == []
    assert [t.id for t, _ in catalogue.tools_installed_in(splashtop + r"\Server\SRServer.exe", "windows")] == ["splashtop"]


@pytest.mark.parametrize("path, pattern, expected", [
    (r"C:\Program Files\TeamViewer\TeamViewer.exe", r"C:\Program Files\TeamViewer\*", True),
    (r"c:\program files\teamviewer", r"C:\Program Files\TeamViewer\*", True),
    (r"C:\Users\bob\Downloads\TeamViewer.exe", r"C:\Program Files\TeamViewer\*", False),
    (r"C:\Program Files\TeamViewerEvil\x.exe", r"C:\Program Files\TeamViewer", False),
    ("/Users/bob/.anydesk/service.conf", "~/.anydesk", True),
    ("/Applications/AnyDesk.app/Contents/MacOS/AnyDesk", "/Applications/AnyDesk.app", True),
])
def test_path_matching(path, pattern, expected):
    assert path_matches(path, pattern) is expected


@pytest.mark.parametrize(("service", "tool"), [
    ("Zoho Assist-Remote Support", "zoho-assist"), ("ZohoURSService", "zoho-assist"),
    ("ZohoWorkDriveSync", None), ("Zoho Mail Desktop Updater", None),
])
def test_a_vendor_name_alone_does_not_name_its_remote_tool(service, tool):
    """Zoho sells dozens of products; only Zoho Assist's own services are Zoho Assist."""
    found = {t.id for t, _ in load_catalogue().tools_for_service("windows", service)}
    assert found == ({tool} if tool else set())


# --------------------------------------------------------------------------- layout and JSON Schema

def schema_problems(name: str, doc) -> list[str]:
    """Every way `doc` breaks the JSON Schema, each naming the file and, inside a list, the entry."""
    problems = []
    for error in SCHEMA_VALIDATOR.iter_errors(doc):
        path, where = list(error.absolute_path), name
        if len(path) >= 2 and isinstance(path[1], int):
            entry = doc[path[0]][path[1]]
            ident = entry.get("id") if isinstance(entry, dict) else None
            where += f": {path[0]}[{path[1]}]" + (f" '{ident}'" if ident else "")
            path = path[2:]
        field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        problems.append(f"{where}: {field + ': ' if field else ''}{error.message}")
    return sorted(problems)


def schema_problems_in(folder: Path) -> list[str]:
    return [problem for name, file in signature_files(folder)
            for problem in schema_problems(name, json.loads(file.read_text(encoding="utf-8")))]


@pytest.fixture(scope="module")
def build_script():
    """collector/signatures/build_remote_tools.py, whose document_text() is the committed file format."""
    spec = importlib.util.spec_from_file_location("build_remote_tools", BUNDLED / "build_remote_tools.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_schema_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", DATA_FILES, ids=lambda p: p.relative_to(BUNDLED).as_posix())
def test_every_data_file_matches_the_json_schema(path):
    name = path.relative_to(BUNDLED).as_posix()
    assert schema_problems(name, json.loads(path.read_text(encoding="utf-8"))) == []


def test_a_file_that_breaks_the_schema_is_named_with_its_entry(catalogue_copy):
    def break_anydesk(doc):
        doc["tools"][0].update(relevance="very", app_names=[])
    edit(catalogue_copy, "remote_tools/anydesk.json", break_anydesk)
    edit(catalogue_copy, "hardware/pikvm.json", lambda doc: next(
        d for d in doc["devices"] if d["id"] == "pikvm-pico-hid")["usb"].update(vendor_id="1209X"))
    (catalogue_copy / "local_tools.json").write_text(json.dumps({"schema": 1, "tools": []}))
    index = position("hardware/pikvm.json", "devices", "pikvm-pico-hid")
    problems = schema_problems_in(catalogue_copy)
    assert len(problems) == 4, problems
    assert problems[0].startswith(f"hardware/pikvm.json: devices[{index}] 'pikvm-pico-hid': usb.vendor_id: '1209X'")
    assert problems[1] == "local_tools.json: 'kind' is a required property"
    assert problems[2].startswith("remote_tools/anydesk.json: tools[0] 'anydesk': app_names: []")
    assert problems[3].startswith("remote_tools/anydesk.json: tools[0] 'anydesk': relevance: 'very' is not one of")


def test_the_schema_and_the_loader_agree_on_fields_and_vocabulary():
    defs = SCHEMA["$defs"]
    assert set(defs["tool"]["properties"]) == set(TOOL_FIELDS)
    assert set(defs["tool"]["required"]) == TOOL_REQUIRED
    assert set(defs["device"]["properties"]) == set(HARDWARE_FIELDS)
    assert set(defs["usb"]["properties"]) == set(USB_FIELDS)
    assert set(defs["edid"]["properties"]) == set(EDID_FIELDS)
    assert set(defs["tool"]["properties"]["category"]["enum"]) == CATEGORIES
    assert set(defs["tool"]["properties"]["role"]["enum"]) == ROLES
    assert set(defs["device"]["properties"]["kind"]["enum"]) == HARDWARE_KINDS
    assert defs["level"]["enum"] == list(LEVELS)


def test_each_tool_file_holds_the_tool_it_is_named_for():
    for path in sorted((BUNDLED / "remote_tools").glob("*.json")):
        assert [t["id"] for t in json.loads(path.read_text(encoding="utf-8"))["tools"]] == [path.stem]


def test_a_hardware_file_holds_its_family_in_id_order():
    for path in sorted((BUNDLED / "hardware").glob("*.json")):
        ids = [d["id"] for d in json.loads(path.read_text(encoding="utf-8"))["devices"]]
        assert ids == sorted(ids), path.name
        assert all(i == path.stem or i.startswith(path.stem + "-") for i in ids), path.name


def test_the_bundled_catalogue_loads_in_id_order():
    """Rules break ties by catalogue order (the first of equally telling hardware matches wins), so
    the files must add up to the order of ids the single files had."""
    catalogue = load_catalogue()
    assert [t.id for t in catalogue.tools] == sorted(t.id for t in catalogue.tools)
    assert [h.id for h in catalogue.hardware] == sorted(h.id for h in catalogue.hardware)


def test_every_file_is_written_in_the_committed_layout(build_script):
    """Indent 2, sorted keys, empty fields left out (network and context keep their key order)."""
    for name, path in signature_files(BUNDLED):
        text = path.read_text(encoding="utf-8")
        doc = json.loads(text)
        key = {"remote_tools": "tools", "hardware": "devices"}.get(doc["kind"])
        expected = (build_script.document_text(doc["kind"], key, doc[key]) if key
                    else json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
        assert text == expected, name


RESEARCH_PLATFORMS = json.loads((Path(__file__).parent / "fixtures" / "catalogue" / "research_platforms.json")
                                .read_text(encoding="utf-8"))["tools"]


def _identified_on(tool, os_name: str) -> bool:
    """Does the catalogue recognise the tool on `os_name` by a process, service/unit, install path or bundle id?"""
    per_os = (tool.processes, tool.services, tool.install_paths)
    return any(names.get(os_name) for names in per_os) or (os_name == "macos" and bool(tool.bundle_ids))


def test_per_os_coverage_holds_every_identity_the_research_lists(capsys):
    """Issue 14: DWService on Linux scored 0 because only Windows names were known. Every OS the
    research names identities for must have one in the catalogue; the coverage per OS is printed, with
    the OSes LOLRMM says a vendor supports that no source yet names an identity for (the to-do list)."""
    tools = {t.id: t for t in load_catalogue().tools if t.role != "client"}
    coverage = {os_name: sum(_identified_on(t, os_name) for t in tools.values()) for os_name in OSES}
    missing, unsourced = [], {os_name: [] for os_name in OSES}
    for tool_id, research in RESEARCH_PLATFORMS.items():
        if tool_id not in tools:
            continue
        missing += [f"{tool_id} on {o}" for o in research["identified"] if not _identified_on(tools[tool_id], o)]
        for os_name in research["supported"]:
            if not _identified_on(tools[tool_id], os_name):
                unsourced[os_name].append(tool_id)
    with capsys.disabled():
        print(f"\ncatalogue identities per OS ({len(tools)} tools that can be driven or carry traffic): "
              + ", ".join(f"{o} {coverage[o]}" for o in OSES))
        print("supported by the vendor, no identity in any source yet: "
              + ", ".join(f"{o} {len(unsourced[o])}" for o in OSES))
    assert missing == []


@pytest.mark.parametrize("os_name, process, tool_id", [
    ("linux", "dwagsvc", "dw-service"), ("linux", "dwagent", "dw-service"),
    ("windows", "sunshine.exe", "sunshine"), ("linux", "sunshine", "sunshine"), ("macos", "sunshine", "sunshine"),
])
def test_linux_and_macos_identities_beyond_the_research(os_name, process, tool_id):
    assert [t.id for t, _ in load_catalogue().tools_for_process(os_name, process)] == [tool_id]


@pytest.mark.parametrize("os_name, kind, name, tool_id", [
    ("macos", "process", "loclx", "localxpose"),
    ("macos", "service", "com.hoptodesk.HopToDesk_service", "hoptodesk"),
    ("macos", "folder", "/Applications/HopToDesk.app/Contents/MacOS/HopToDesk", "hoptodesk"),
    ("macos", "folder", "/Applications/Supremo.app/Contents/MacOS/Supremo", "supremo"),
    ("linux", "service", "connectwisecontrol-6069f55815889846.service", "connectwise-screenconnect"),
    ("macos", "service", "connectwisecontrol-1a5d6cc5d5f07e3e-onlogin", "connectwise-screenconnect"),
    ("linux", "service", "pandorarc_agent_daemon.service", "pandora-rc-ehorus"),
    ("macos", "service", "com.ehorus.ehorus_agent", "pandora-rc-ehorus"),
    ("macos", "folder", "/usr/local/ehorus_agent/ehorus_agent", "pandora-rc-ehorus"),
    ("linux", "folder", "/usr/local/sbin/Freshservice/Discovery-Agent/any-file", "freshservice"),
    ("macos", "service", "com.komari.komari-agent", "komari"), ("macos", "process", "tmate", "tmate"),
    ("macos", "folder", "/usr/local/komari/agent", "komari"),
    ("linux", "process", "hoptodesk", "hoptodesk"), ("linux", "service", "hoptodesk.service", "hoptodesk"),
    ("macos", "process", "nezha-agent", "nezha"), ("linux", "process", "nezha-agent", "nezha"),
])
def test_macos_and_linux_identities_from_public_installers(os_name, kind, name, tool_id):
    """Issue 14 coverage: names the vendors' installers (Homebrew casks, the ScreenConnect .deb) put on
    macOS and Linux, where LOLRMM lists only Windows executables."""
    catalogue = load_catalogue()
    lookup = {"process": catalogue.tools_for_process, "service": catalogue.tools_for_service,
              "folder": lambda o, n: catalogue.tools_installed_in(n, o)}[kind]
    assert [t.id for t, _ in lookup(os_name, name)] == [tool_id]


def test_dwservice_is_recognised_by_its_systemd_unit():
    assert [t.id for t, _ in load_catalogue().tools_for_service("linux", "dwagent.service")] == ["dw-service"]
