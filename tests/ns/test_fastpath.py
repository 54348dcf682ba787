# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
The IPv4 fast path end to end, through a real NAT box (tests/lib/topo.py:
the router masquerades out of wan0 with nftables, a firewall of ours in
front: new connections from the WAN are dropped, as a home router's are).
The kernel keeps deciding: what it accepted XDP forwards, what it would
refuse stays refused, and conntrack stays the truth over time.
"""
import json
import os
import re
import subprocess
import time

import pytest

import flowtools as ft
import topo
from topo import run, wait_for

ISP = topo.ISP_V4
LAN_HOST = topo.LAN_V4["lan1"]
RTR_LAN = topo.RTR_LAN_V4
ECHO, PUSH, TCP_PORT = 9000, 9100, 9200
CT_UDP, CT_UDP_STREAM = 2, 4        # short conntrack timeouts, seconds

# Inbound, only what the LAN opened, to the LAN and to the router itself:
# the usual home router policy.
FIREWALL = """\
table ip fp_fw {
	counter new_in { }
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname "wan0" ct state new counter name new_in drop
	}
	chain input {
		type filter hook input priority filter; policy accept;
		iifname "wan0" ct state new counter name new_in drop
	}
}
"""

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (netns, BPF)")


@pytest.fixture(scope="module")
def nat():
    t = topo.Topology()
    t.start()
    try:
        run(t.rtr, ["sysctl", "-qw", f"net.netfilter.nf_conntrack_udp_timeout={CT_UDP}",
                    f"net.netfilter.nf_conntrack_udp_timeout_stream={CT_UDP_STREAM}"])
        run(t.rtr, ["nft", "-f", "-"], input=FIREWALL)
        ft.serve(t, t.isp, "udp_server", ECHO, "echo")
        ft.serve(t, t.isp, "udp_server", PUSH, "push")
        t.big, t.big_sha = ft.big_file(t.tmp, 24)
        ft.serve(t, t.isp, "tcp_server", TCP_PORT, t.big)
        t.start_brouterd("-v")
        yield t
    finally:
        t.close()


def counters(t, port="lan"):
    st = t.brouterctl_stats_json()[port]
    return {k: v["packets"] for k, v in st.items()}


def moved(before, after):
    return {k: after[k] - before[k] for k in after if after[k] != before[k]}


# brouterd's last word on a reload (-v)
RELOADED = "IPv4 fast path flushed (reload)"


def set_fast_path(t, on):
    t.config_file("" if on else "ipv4 = { fast-path = false; };\n")
    n = t.brouterd.log().count(RELOADED)
    subprocess.run(["kill", "-HUP", str(t.brouterd.proc.pid)], check=True)
    wait_for(lambda: t.brouterd.log().count(RELOADED) > n, timeout=10, what="reload")


def new_in_drops(t):
    out = run(t.rtr, ["nft", "-j", "list", "counter", "ip", "fp_fw", "new_in"]).stdout
    return [o["counter"]["packets"] for o in json.loads(out)["nftables"] if "counter" in o][0]


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast_path", "kernel"])
def test_tcp_24mib_both_ways_intact(nat, fast_path):
    set_fast_path(nat, fast_path)
    try:
        lan0, wan0 = counters(nat), counters(nat, "wan")
        up = ft.client(nat, nat.lan1, "tcp_client", ISP, TCP_PORT, "up", nat.big)
        down = ft.client(nat, nat.lan1, "tcp_client", ISP, TCP_PORT, "down", nat.big)
        assert up == down == f"{nat.big_sha} {24 << 20}"
        out, back = moved(lan0, counters(nat)), moved(wan0, counters(nat, "wan"))
        if fast_path:
            # all but the first packets of each connection, both ways
            assert out.get("fp4_fwd", 0) > 0.8 * out["rx"], out
            assert back.get("fp4_fwd", 0) > 0.8 * back["rx"], back
            # the kernel saw the ends: FIN/SYN, and the first packets
            assert out["fp4_tcp_flags"] >= 4 and out["pass"] < 0.2 * out["rx"], out
        else:
            assert "fp4_fwd" not in out and "fp4_fwd" not in back
    finally:
        set_fast_path(nat, True)
    # the kernel closed both connections: no entry left ESTABLISHED
    ct = run(nat.rtr, ["conntrack", "-L", "-p", "tcp", "--dport", str(TCP_PORT)],
             check=False).stdout
    assert "ESTABLISHED" not in ct, ct


def push(t, n, ms, lport):
    return ft.start_client(t, t.lan1, "push_client", ISP, PUSH, n, ms, lport)


def test_udp_carried_by_the_fast_path_outlives_its_conntrack_timeout(nat):
    """A stream only the WAN sends, for three times the conntrack timeout:
    the kernel sees none of it after the start, yet its entry lives on
    (the fast path refreshes it) and new WAN->LAN packets stay admitted."""
    before_in, drops = counters(nat, "wan"), new_in_drops(nat)
    got = ft.finish(push(nat, 120, 100, 40001))
    assert len(got) == 120, f"lost {sorted(set(range(120)) - set(map(int, got)))}"
    back = moved(before_in, counters(nat, "wan"))
    assert back["fp4_fwd"] >= 110, back
    assert "fp4_no_ct" not in back, back
    assert new_in_drops(nat) == drops
    ct = run(nat.rtr, ["conntrack", "-L", "-p", "udp", "--sport", "40001"]).stdout
    assert "[ASSURED]" in ct, ct


def test_conntrack_delete_returns_the_flow_to_the_kernel_and_its_policy(nat):
    """After conntrack -D the stream's next packets are the kernel's again,
    within a second: new from the WAN, to the router's own address now
    that no NAT mapping says otherwise, dropped by the firewall."""
    start, before = time.monotonic(), counters(nat, "wan")
    p = push(nat, 60, 100, 40002)
    time.sleep(2)
    drops = new_in_drops(nat)
    run(nat.rtr, ["conntrack", "-D", "-p", "udp", "--sport", "40002"])
    deleted = time.monotonic() - start      # the client's clock starts a little later
    got = ft.finish(p)
    late = [s for s, t in got.items() if t > deleted + 1.2]
    assert len(got) >= 15 and not late, f"still forwarded after the delete: {late}"
    assert new_in_drops(nat) > drops, "the kernel's policy never saw them"
    assert "fp4_no_ct" in moved(before, counters(nat, "wan"))


def test_an_nft_rule_added_drops_an_established_flow_and_removed_lets_it_back(nat):
    p = push(nat, 80, 100, 40003)
    time.sleep(2)
    run(nat.rtr, ["nft", "add", "rule", "ip", "fp_fw", "forward", "udp", "sport",
                  str(PUSH), "udp", "dport", "40003", "counter", "drop"])
    time.sleep(2)
    rules = run(nat.rtr, ["nft", "-a", "list", "chain", "ip", "fp_fw", "forward"]).stdout
    handle = re.search(r"dport 40003 counter packets (\d+) .* # handle (\d+)", rules)
    run(nat.rtr, ["nft", "delete", "rule", "ip", "fp_fw", "forward", "handle",
                  handle.group(2)])
    got = ft.finish(p)
    times = sorted(got.values())
    # delivered before (< 2 s), none while the rule stood (> 2.6 s .. 4 s), again after
    assert any(t < 2 for t in times) and any(t > 4.5 for t in times), times
    assert not [t for t in times if 2.6 < t < 4], times
    assert int(handle.group(1)) >= 10, "the rule did not see the flow's packets"


def test_ttl_1_gets_time_exceeded_from_the_kernel(nat):
    before = counters(nat)
    out = ft.client(nat, nat.lan1, "echo_client", ISP, ECHO, 1, 40004, "ttl1")
    assert all(f == "ok" for _, f in out["fates"]), out
    assert out["icmp"] == {"type": 11, "code": 0, "from": RTR_LAN}, out
    d = moved(before, counters(nat))
    assert d["fp4_fwd"] >= 10 and d["fp4_ttl"] == 1, d


def test_icmp_errors_for_a_fast_pathed_flow_reach_the_lan_host(nat):
    """The server goes away mid-flow: its host's port unreachable, about a
    fast-pathed flow, is un-NATed by the kernel (RELATED) to the LAN host."""
    srv = ft.serve(nat, nat.isp, "udp_server", ECHO + 1, "echo")
    before = counters(nat, "wan")
    p = ft.start_client(nat, nat.lan1, "echo_client", ISP, ECHO + 1, 3, 40005)
    time.sleep(1.5)
    topo._kill_group(srv)
    fates = [f for _, f in ft.finish(p)["fates"]]
    assert fates[0] == "ok" and "refused" in fates, fates
    assert fates.count("ok") >= 10
    d = moved(before, counters(nat, "wan"))
    assert d["fp4_fwd"] >= 10 and d.get("fp4_proto", 0) >= 1, d


def test_brouterctl_stats_names_the_fast_path_counters(nat):
    text = nat.brouterctl("stats").stdout
    for name in ("fp4_fwd", "fp4_tcp_flags", "fp4_unconfirmed", "fp4_ttl", "fp4_proto"):
        assert re.search(rf"^\s*{name}\s", text, re.M), text
