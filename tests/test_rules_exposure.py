"""The laptop reachable from elsewhere: internet peers inside its listeners; tunnels paired with its own servers."""

from __future__ import annotations

import pytest

from farmwatch.collector.detect import Policy
from test_rules_support import connection, findings, listener, only, process, report, verdict

# A program the catalogue has never heard of, listening on all interfaces.
UNKNOWN = process(500, "streamhost", "/opt/streamhost/streamhost", ["streamhost", "--listen", "0.0.0.0:47100"])


def _served(proc: dict, port: int, peer: str, os: str = "linux") -> dict:
    return report(os, processes=[proc], listeners=[listener(f"0.0.0.0:{port}", proc["pid"], proc["name"])],
                  connections=[connection(f"192.168.1.20:{port}", peer, proc["pid"], proc["name"])])


# --- inbound-internet-session --------------------------------------------------------------

def test_an_internet_peer_inside_an_unknown_listener_is_high():
    finding = only(_served(UNKNOWN, 47100, "198.51.100.77:52311"), "inbound-internet-session")
    assert finding["severity"] == "high"
    assert finding["summary"] == ("streamhost on local port 47100 holds a connection that came in from "
                                  "198.51.100.77:52311 on the internet")
    assert finding["evidence"]["listener"]["address"] == "0.0.0.0:47100"
    assert verdict(_served(UNKNOWN, 47100, "198.51.100.77:52311"))["verdict"] == "suspicious"


@pytest.mark.parametrize("peer", ["192.168.1.40:52311", "10.8.0.6:52311", "100.101.7.3:52311", "127.0.0.1:52311"])
def test_peers_on_the_lan_a_vpn_or_this_machine_are_not_the_internet(peer):
    assert findings(_served(UNKNOWN, 47100, peer), "inbound-internet-session") == []


def test_outbound_connections_and_unlistened_ports_are_not_inbound():
    rep = report("linux", processes=[UNKNOWN], listeners=[listener("0.0.0.0:47100", 500, "streamhost")],
                 connections=[connection("192.168.1.20:51000", "198.51.100.77:443", 500, "streamhost")])
    assert findings(rep, "inbound-internet-session") == []


def test_a_listener_bound_to_loopback_is_reached_only_from_this_machine():
    rep = report("linux", processes=[UNKNOWN], listeners=[listener("127.0.0.1:47100", 500, "streamhost")],
                 connections=[connection("192.168.1.20:47100", "198.51.100.77:52311", 500, "streamhost")])
    assert findings(rep, "inbound-internet-session") == []


@pytest.mark.parametrize("proc, port", [
    (process(600, "syncthing", "/usr/bin/syncthing", ["syncthing", "serve"]), 22000),
    (process(601, "qbittorrent", "/usr/bin/qbittorrent"), 6881),
    (process(602, "sshd", "/usr/sbin/sshd", ["sshd: dev [priv]"]), 22),
])
def test_peer_to_peer_programs_and_ssh_are_left_to_their_own_rules(proc, port):
    assert findings(_served(proc, port, "198.51.100.77:40000"), "inbound-internet-session") == []


def test_the_companys_own_networks_are_no_strangers():
    policy = Policy.from_config({"fleet": {"office_networks": ["198.51.100.0/28"],
                                           "shared_egress_networks": ["203.0.113.0/24"]}})
    for peer in ("198.51.100.7:52311", "203.0.113.40:52311"):
        assert findings(_served(UNKNOWN, 47100, peer), "inbound-internet-session", policy) == []
    assert len(findings(_served(UNKNOWN, 47100, "198.51.100.77:52311"), "inbound-internet-session", policy)) == 1


def test_the_collector_passes_its_loaded_fleet_networks():
    from farmwatch.collector.fleet.settings import FleetSettings
    fleet = FleetSettings.from_dict({"office_networks": ["198.51.100.0/28"]})
    policy = Policy.from_config({"allow": [], "fleet": fleet})
    assert findings(_served(UNKNOWN, 47100, "198.51.100.7:52311"), "inbound-internet-session", policy) == []


def test_a_bad_company_network_is_named():
    with pytest.raises(ValueError, match="fleet.office_networks: 'the office'"):
        Policy.from_config({"fleet": {"office_networks": ["the office"]}})


def test_a_catalogued_tools_session_is_counted_once_by_its_own_rule():
    anydesk = process(4120, "AnyDesk.exe", r"C:\Program Files (x86)\AnyDesk\AnyDesk.exe")
    rep = _served(anydesk, 7070, "198.51.100.77:50412", os="windows")
    assert len(findings(rep, "remote-session-inbound")) == 1
    assert findings(rep, "inbound-internet-session") == []


# --- tunnel-exposes-remote-access ----------------------------------------------------------

CLOUDFLARED = process(700, "cloudflared", "/usr/local/bin/cloudflared",
                      ["cloudflared", "tunnel", "run", "--token", "x"])
SSHD = process(701, "sshd", "/usr/sbin/sshd", ["sshd", "-D"])
ZEROTIER = process(702, "zerotier-one", "/usr/sbin/zerotier-one")
TAILSCALED = process(703, "tailscaled", "/usr/sbin/tailscaled")


def test_a_public_tunnel_beside_the_laptops_ssh_server_weighs_the_pair():
    rep = report("linux", processes=[CLOUDFLARED, SSHD], listeners=[listener("127.0.0.1:22", 701, "sshd")])
    finding = only(rep, "tunnel-exposes-remote-access")
    assert finding["severity"] == "high"
    assert finding["summary"] == "CloudFlare Tunnel makes this laptop's own sshd on port 22 reachable from elsewhere"
    result = verdict(rep)
    assert {f["rule"]: f["severity"] for f in result["findings"]} == {"tunnel-running": "medium",
                                                                       "tunnel-exposes-remote-access": "high"}
    assert (result["verdict"], result["score"]) == ("suspicious", 69)   # 30 + 45, held below relay: no session


def test_a_tunnel_alone_or_a_server_alone_is_no_pair():
    assert findings(report("linux", processes=[CLOUDFLARED]), "tunnel-exposes-remote-access") == []
    alone = report("linux", processes=[SSHD], listeners=[listener("0.0.0.0:22", 701, "sshd")])
    assert findings(alone, "tunnel-exposes-remote-access") == []


def test_a_mesh_vpn_beside_the_remote_desktop_weighs_the_pair():
    zerotier = process(710, "zerotier-one_x64.exe", r"C:\ProgramData\ZeroTier\One\zerotier-one_x64.exe")
    rep = report("windows", processes=[zerotier],
                 listeners=[listener("0.0.0.0:3389", 1100, "svchost.exe")],
                 remote_access=[{"service": "rdp", "enabled": True}])
    finding = only(rep, "tunnel-exposes-remote-access")
    assert "port 3389" in finding["summary"] and "rdp" in finding["summary"]


def test_a_mesh_vpn_beside_ssh_is_developer_life():
    rep = report("linux", processes=[TAILSCALED, SSHD], listeners=[listener("0.0.0.0:22", 701, "sshd")])
    assert findings(rep, "tunnel-exposes-remote-access") == []


def test_a_mesh_vpn_routing_for_others_is_an_exit_node():
    rep = report("linux", processes=[TAILSCALED], ip_forwarding=True,
                 interfaces=[{"name": "wlp0s20f3"}, {"name": "tailscale0"}])
    assert "routing for other machines" in only(rep, "tunnel-exposes-remote-access")["summary"]
    docker = report("linux", processes=[TAILSCALED], ip_forwarding=True, interfaces=[{"name": "docker0"}])
    assert findings(docker, "tunnel-exposes-remote-access") == []


def test_a_consumer_vpn_exposes_nothing():
    astrill = process(720, "Astrill.exe", r"C:\Program Files (x86)\Astrill\Astrill.exe")
    rep = report("windows", processes=[astrill], listeners=[listener("0.0.0.0:3389", 1100, "svchost.exe")])
    assert findings(rep, "tunnel-exposes-remote-access") == []
