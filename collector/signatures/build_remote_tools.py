"""One-off import: turn the research catalogue into farmwatch's own `remote_tools/<id>.json` files.

    python collector/signatures/build_remote_tools.py RESEARCH_JSON [--out FOLDER]

RESEARCH_JSON is the research catalogue (remote_tools.json, kept outside this repository: give
its path; nothing is read from outside the repository unless you name it). One file per tool is
written to FOLDER (default: collector/signatures/remote_tools/), in the committed layout:
`{"kind": "remote_tools", "schema": 1, "tools": [entry]}` with indent 2, sorted keys and empty
fields left out. Files of tools the import does not produce are left alone and listed.

The committed files are the source of truth afterwards: edit them directly for new signatures
(a few were edited by hand after the import, each saying why in its `notes`; a re-import over
the committed folder would undo those edits, so write to another folder and compare:
`... --out /tmp/remote_tools && diff -r /tmp/remote_tools collector/signatures/remote_tools`).
This script is kept so the import can be reviewed and re-run when the research file is
refreshed; nothing imports it at runtime.

What the import decides (everything else is copied field by field):
- `id`: a slug of the tool name, used by the allow-list.
- `role`: host (this laptop can be driven), client (this laptop drives something else),
  management (inventory/RMM agent), tunnel, vpn, input_sharing (software KVM), jiggler.
- `relevance`: how strongly the research ties the tool to laptop farms (docs/detection.md §T4-5).
- `builtin`: shipped with the OS, so being installed says nothing.
- `listen_ports`: ports on which the tool accepts sessions; an established connection to one
  of them from elsewhere is an inbound session. Ports the tool only dials out to stay in
  `ports`.
- generic executable names move to `ambiguous_processes` (never matched on a name alone).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

RESEARCH = "docs/detection.md"
OSES = ("windows", "macos", "linux")

# docs/detection.md §T4: named in DPRK IT-worker reporting or the free/consumer tools that need no
# company infrastructure, plus the commonly abused set.
HIGH_RELEVANCE = {
    "AnyDesk", "TeamViewer", "Chrome Remote Desktop", "RustDesk", "Splashtop",
    "ConnectWise ScreenConnect", "Microsoft Remote Desktop Services (RDP host)", "Parsec",
    "NoMachine", "RealVNC (VNC Connect)", "TightVNC", "TigerVNC", "UltraVNC", "VNC", "x11vnc",
    "XRDP", "Zoho Assist", "LogMeIn", "LogMeIn Rescue", "GoTo Resolve (GoToAssist)", "GoToMyPC",
    "Jump Desktop", "RemotePC", "Supremo", "HopToDesk", "ToDesk", "SunLogin", "UltraViewer",
    "AeroAdmin", "Ammyy Admin", "DW Service", "MeshCentral", "Remote Utilities",
    "NetSupport Manager", "SimpleHelp", "GetScreen", "BeyondTrust Remote Support (Bomgar)",
    "Astrill VPN",
}
# Shipped with the OS: presence is normal, only running/sessions/settings matter.
BUILTIN = {
    "Microsoft Remote Desktop Services (RDP host)", "Microsoft Remote Desktop Connection (mstsc)",
    "Windows Remote Assistance", "Microsoft Quick Assist", "Apple Remote Desktop",
    "GNOME Remote Desktop", "Vino (GNOME VNC server)", "KDE Desktop Sharing (krfb)",
}
# Viewers / admin consoles: the laptop controls another machine (docs/detection.md §T5 "Developers").
CLIENTS = {
    "Microsoft Remote Desktop Connection (mstsc)", "RdClient", "RDCMan", "mRemoteNG",
    "Royal TS (Royal Apps)", "Remmina", "Devolutions Remote Desktop Manager", "Terminals",
    "Remote Desktop Plus", "Chicken (of the VNC)", "JollysFastVNC", "Mocha VNC Lite",
    "SmartCode Web VNC", "WebRDP", "Guacamole", "PuTTY", "PuTTY Tray", "KiTTY", "ExtraPuTTY",
    "Solar-PuTTY", "SuperPuTTY", "SmarTTY", "MobaXterm", "SecureCRT", "Xshell", "ZOC",
    "Bitvise SSH Client", "Chrome SSH Extension", "Teleport Connect", "EMCO Remote Console",
}
# Meeting, monitoring, classroom and accessibility software LOLRMM files as remote access
# (docs/detection.md §T5 "Meetings", "Other legitimate software").
LOW_RELEVANCE_HOSTS = {
    "Adobe Connect", "WebEx (Remote Access)", "QQ IM-remote assistance", "GoTo Opener",
    "NoteOn-desktop sharing", "TurboMeeting", "Mikogo", "BeamYourScreen", "Netviewer",
    "ScreenMeet", "GatherPlace-desktop sharing", "Teramind", "Controlio", "KickIdler",
    "Net Monitor for Employees", "Veyon", "NVDA (Non-Visual Desktop Access)",
    # GNOME ships its remote-desktop daemon with the desktop; whether sharing is on is in the
    # report's remote_access settings, and a session shows as an inbound connection.
    "GNOME Remote Desktop",
}
ROLE_BY_CATEGORY = {"tunnel": "tunnel", "vpn": "vpn", "kvm_software": "input_sharing", "rmm": "management"}
HOST_ROLE_RMM = {"MeshCentral"}  # filed as rmm, but gives full remote desktop (docs/detection.md §T4)

# Inbound session ports (docs/detection.md §T8 "Ports", §T4 table; port_details notes).
LISTEN_PORTS = {
    "AnyDesk": [6568, 7070], "TeamViewer": [5938], "RustDesk": [21118],
    "Microsoft Remote Desktop Services (RDP host)": [3389], "XRDP": [3389],
    "Apple Remote Desktop": [3283, 5900], "RealVNC (VNC Connect)": [5900], "TightVNC": [5900],
    "TigerVNC": [5900], "UltraVNC": [5900], "VNC": [5900], "x11vnc": [5900],
    "Vino (GNOME VNC server)": [5900], "wayvnc": [5900], "KDE Desktop Sharing (krfb)": [5900],
    "NoMachine": [4000], "Remote Utilities": [5650], "pcAnywhere": [5631, 5632],
    "Splashtop": [6783, 6784, 6785], "Mouse Without Borders": [15100, 15101],
}
# Viewer-side identifiers inside host tools' records (docs/detection.md §T4 rows 8, 11, 21): the
# laptop running them controls another machine, so they are kept apart and never count as the host.
CLIENT_IDENTIFIERS = {
    "Apple Remote Desktop": {"bundle_ids": ["com.apple.ScreenSharing"], "app_names": ["Apple Remote Desktop"]},
    "RealVNC (VNC Connect)": {"bundle_ids": ["com.realvnc.vncviewer"], "app_names": ["VNC Viewer"]},
    "Jump Desktop": {"bundle_ids": ["com.p5sys.jump.mac.viewer.web"], "app_names": ["Jump Desktop"],
                     "processes": {"macos": ["Jump Desktop"], "windows": ["jumpdesktop.exe"]}},
    # Splashtop's Business and Personal apps connect to Streamers (Homebrew casks splashtop-business,
    # splashtop-personal, splashtop-streamer); their macOS autoupdate launchd helpers were taken out of
    # the committed services by hand.
    "Splashtop": {"bundle_ids": ["com.splashtop.stb.macosx", "com.splashtop.stp.macosx"],
                  "app_names": ["Splashtop Business", "Splashtop Personal"],
                  "processes": {"macos": ["Splashtop Business"], "windows": ["strwinclt.exe"]}},
}
# A process argument that means a remote user is connected right now.
SESSION = {
    "TeamViewer": {"processes": [{"process": "teamviewer_desktop", "args": "--module 1",
                                  "source": f"{RESEARCH} §T4 row 2 "
                                            "(--IPCport 5939 --Module 1 marks an incoming session)"}]},
}
# Arguments that turn a tool into a proxy for other machines' traffic.
PROXY_MARKERS = {
    "Tailscale": ["--socks5-server", "--outbound-http-proxy-listen"],
    "chisel": ["-socks5", "socks", "r:socks"],
}
# Names that collide with unrelated everyday software.
GENERIC_NAMES = {"7z.exe", "tar.exe", "installer.exe", "g2m.exe", "g2mui.exe", "teams.exe"}
GENERIC_PATH_PARTS = {
    "", "*", "c:", "appdata", "local", "roaming", "program files", "program files (x86)",
    "programdata", "users", "windows", "system32", "temp", "%appdata%", "%localappdata%",
    "%programfiles%", "%programfiles(x86)%", "%programdata%", "%temp%", "usr", "bin", "opt",
}

ADDITIONS = [
    {
        "tool": "Mouse Jiggler (arkane-systems)", "category": "jiggler", "role": "jiggler",
        "processes": {"windows": ["MouseJiggle.exe"]},
        "source": "docs/detection.md B1 [JIG] arkane-systems/mousejiggler (MouseJiggle.exe)",
    },
]
# Facts the research names that the LOLRMM-derived records lack.
SUPPLEMENTS = {
    "Astrill VPN": {
        "processes": {"linux": ["astrill", "asovpnc", "aswgvpnc", "asproxy"]},
        "ambiguous_processes": ["openweb"],
        "install_paths": {"linux": ["/usr/local/Astrill/*"]},
        "domains": ["astrill.com"],
        "cmdline_markers": ["/autostart"],
        "source": "docs/detection.md V1 [AST-L] (Linux helpers, /usr/local/Astrill); "
                  "docs/detection.md §T4 (com.Astrill.app)",
    },
    # Go binaries ship under the same name on every OS; the research only lists Windows names.
    "chisel": {
        "processes": {"linux": ["chisel"], "macos": ["chisel"]},
        "source": f"{RESEARCH} §T4 tunnels table (chisel.exe); same binary name on Linux/macOS (inference)",
    },
    "CloudFlare Tunnel": {
        "processes": {"linux": ["cloudflared"], "macos": ["cloudflared"]},
        "source": f"{RESEARCH} §T4 tunnels table (cloudflared.exe); same binary name on Linux/macOS (inference)",
    },
    "Chrome Remote Desktop": {
        "processes": {"linux": ["chrome-remote-desktop-host", "chrome-remote-desktop",
                                "remoting_me2me_host"],
                      "macos": ["remoting_me2me_host"]},
        "install_paths": {"linux": ["/opt/google/chrome-remote-desktop/*"],
                          "macos": ["/Library/PrivilegedHelperTools/org.chromium.chromoting.me2me_host.app/*"]},
        "source": f"{RESEARCH} §T4 row 3 (host binaries per OS, chromium remoting sources)",
    },
}


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def clean_service(name: str) -> str:
    return re.sub(r"\s*\(.*\)$", "", name).strip()


def is_specific_path(path: str) -> bool:
    parts = re.split(r"[\\/]+", path.lower())
    return any(p not in GENERIC_PATH_PARTS and not p.startswith("<") for p in parts)


def normalise_path(path: str) -> str:
    path = re.sub(r"<[^>]*>", "*", path.strip())
    return path + "*" if path.endswith(("\\", "/")) else path


def role_of(rec: dict) -> str:
    name = rec["tool"]
    if name in CLIENTS:
        return "client"
    if name in HOST_ROLE_RMM:
        return "host"
    return ROLE_BY_CATEGORY.get(rec["category"], "host")


def relevance_of(name: str, role: str) -> str:
    if name in HIGH_RELEVANCE:
        return "high"
    if role in ("management", "client", "input_sharing", "jiggler") or name in LOW_RELEVANCE_HOSTS:
        return "low"
    return "medium"


def by_name(values) -> list[str]:
    """Sorted case-insensitively; names differing only in case keep a fixed order, so a re-run is identical."""
    return sorted(values, key=lambda v: (v.lower(), v))


def split_processes(rec: dict) -> tuple[dict, dict, list]:
    """(processes, client_processes, ambiguous) per OS; VNC viewers and the viewer names in
    CLIENT_IDENTIFIERS are the client side."""
    procs, clients = {}, {}
    ambiguous = set(rec.get("processes_ambiguous", []))
    named_clients = CLIENT_IDENTIFIERS.get(rec["tool"], {}).get("processes", {})
    for os_name in OSES:
        names = rec["processes"].get(os_name, [])
        ambiguous |= {n for n in names if n.lower() in GENERIC_NAMES}
        kept = [n for n in names if n.lower() not in GENERIC_NAMES]
        vnc_viewer = rec["category"] == "vnc"

        def is_viewer(n: str) -> bool:  # called within this iteration only (B023 does not apply)
            return (vnc_viewer and "viewer" in n.lower()) or n in named_clients.get(os_name, [])  # noqa: B023

        procs[os_name] = by_name({n for n in kept if not is_viewer(n)})
        clients[os_name] = by_name({n for n in kept if is_viewer(n)})
    return procs, clients, by_name(ambiguous)


def per_os(rec: dict, key: str, transform=lambda v: v, keep=lambda v: True) -> dict:
    return {o: by_name({transform(v) for v in rec.get(key, {}).get(o, []) if keep(v)})
            for o in OSES}


def host_and_client(rec: dict, key: str) -> tuple[list[str], list[str]]:
    values = set(rec.get(key, []))
    if key == "bundle_ids":
        values |= set(rec.get("macos_pkg_ids", []))
    client = set(CLIENT_IDENTIFIERS.get(rec["tool"], {}).get(key, []))
    return by_name(values - client), by_name(values & client)


def normalise(rec: dict) -> dict:
    role = rec.get("role") or role_of(rec)
    procs, clients, ambiguous = split_processes(rec)
    name = rec["tool"]
    app_names, client_app_names = host_and_client(rec, "app_names")
    bundle_ids, client_bundle_ids = host_and_client(rec, "bundle_ids")
    return {
        "id": slug(name),
        "name": name,
        "category": rec["category"],
        "role": role,
        "relevance": relevance_of(name, role),
        "builtin": name in BUILTIN,
        "processes": procs,
        "client_processes": clients,
        "ambiguous_processes": ambiguous,
        "app_names": app_names,
        "client_app_names": client_app_names,
        "bundle_ids": bundle_ids,
        "client_bundle_ids": client_bundle_ids,
        "macos_team_ids": sorted(set(rec.get("macos_team_ids", []))),
        "services": per_os(rec, "services_by_os", clean_service),
        "install_paths": per_os(rec, "install_paths", normalise_path, is_specific_path),
        "listen_ports": sorted(set(LISTEN_PORTS.get(name, []))),
        "ports": sorted({p for p in rec.get("ports", []) if isinstance(p, int)}),
        "domains": sorted(set(rec.get("domains", []))),
        "signers": sorted(set(rec.get("signers", []))),
        "cmdline_markers": sorted(set(rec.get("cmdline_markers", []))),
        "session": SESSION.get(name, {}),
        "proxy_markers": PROXY_MARKERS.get(name, []),
        "source": rec["source"],
        "sources": sorted(set(rec.get("sources", [rec["source"]]))),
        "notes": rec.get("notes"),
    }


def merge_supplement(rec: dict, extra: dict) -> dict:
    merged = json.loads(json.dumps(rec))
    for key, value in extra.items():
        if key == "source":
            merged["sources"] = sorted(set(merged.get("sources", [])) | {value})
        elif isinstance(value, dict):
            for os_name, items in value.items():
                merged.setdefault(key, {}).setdefault(os_name, [])
                merged[key][os_name] = sorted(set(merged[key][os_name]) | set(items))
        else:
            merged[key] = sorted(set(merged.get(key, [])) | set(value))
    return merged


def with_defaults(addition: dict) -> dict:
    rec = {"processes": {}, "sources": [addition["source"]]}
    rec.update(addition)
    return rec


def build(research: list[dict]) -> list[dict]:
    records = [merge_supplement(r, SUPPLEMENTS.get(r["tool"], {})) for r in research]
    records += [with_defaults(a) for a in ADDITIONS]
    tools = [normalise(r) for r in records]
    return sorted(tools, key=lambda t: t["id"])


def compact(value):
    """`value` without its empty fields: [], {}, null and "" are left out, also inside per-OS maps."""
    if not isinstance(value, dict):
        return value
    kept = {key: compact(item) for key, item in value.items()}
    return {key: item for key, item in kept.items() if item is not None and item != "" and item != [] and item != {}}


def document_text(kind: str, key: str, entries: list[dict]) -> str:
    """A signature file as committed: one document, indent 2, sorted keys, empty fields left out."""
    doc = {"schema": 1, "kind": kind, key: [compact(e) for e in entries]}
    return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def write_tools(tools: list[dict], out: Path) -> list[str]:
    """One `<id>.json` per tool in `out`; the names of files there that the import did not write."""
    out.mkdir(parents=True, exist_ok=True)
    for tool in tools:
        (out / f"{tool['id']}.json").write_text(document_text("remote_tools", "tools", [tool]), encoding="utf-8")
    written = {f"{t['id']}.json" for t in tools}
    return sorted(f.name for f in out.glob("*.json") if f.name not in written)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=__doc__.split("\n", 2)[2],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("research_json", type=Path, help="the research catalogue to import (its path, required)")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("remote_tools"),
                        help="folder for the per-tool files (default: %(default)s)")
    args = parser.parse_args()
    tools = build(json.loads(args.research_json.read_text(encoding="utf-8")))
    others = write_tools(tools, args.out)
    print(f"wrote {len(tools)} tools to {args.out}")
    if others:
        print(f"left alone, not from this import: {', '.join(others)}")


if __name__ == "__main__":
    main()
