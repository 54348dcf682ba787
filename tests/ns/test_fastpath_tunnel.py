# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
The IPv4 fast path through the 4in6 tunnels, end to end: the namespaces,
brouterd and the Python BR/AFTR of test_tunnel.py (their fixtures,
imported), with the fast path doing the NAPT (MAP-E), encapsulation and
decapsulation of established flows in XDP.
"""
import os
import subprocess
import time

import pytest

import flowtools as ft
from test_tunnel import (CE4, CE6, INET, NEW_CE4, NEW_CE6, NEW_PREFIX, NEW_PSID, PSID, RULE,
                         UDP_ECHO, UDP_ONE, WAN_PREFIX, dslite, isp_renumbers, mape, rig,
                         wait_ce)
from topo import run, wait_for

TCP_PORT = 7100
MIB = 24

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (netns, BPF)")

# the fixtures this module uses, imported from test_tunnel.py
assert dslite and isp_renumbers and mape and rig


@pytest.fixture(scope="module")
def big(rig):
    path, sha = ft.big_file(rig.tmp, MIB)
    ft.serve(rig, rig.inet, "tcp_server", TCP_PORT, path)
    return path, sha


def counters(b, port):
    return {k: v["packets"] for k, v in b.stats()[port].items()}


def moved(before, after):
    return {k: after[k] - before[k] for k in after if after[k] != before[k]}


# brouterd's last word on a reload (-v): the tunnel and egress are done by then
RELOADED = "IPv4 fast path flushed (reload)"


def reload_with(rig, b, conf):
    """SIGHUP @b with @conf as its config file; wait until it is applied."""
    with open(b.args[b.args.index("-c") + 1], "w") as f:
        f.write(conf)
    n = b.log().count(RELOADED)
    subprocess.run(["kill", "-HUP", str(b.proc.pid)], check=True)
    deadline = time.monotonic() + 10
    while b.log().count(RELOADED) == n:
        assert time.monotonic() < deadline, b.log()
        time.sleep(0.05)


def transfers(rig, b, big_file):
    """Up and down through the tunnel; the counters each way that moved."""
    path, sha = big_file
    lan0, wan0 = counters(b, "lan"), counters(b, "wan")
    up = ft.client(rig, rig.lan, "tcp_client", INET, TCP_PORT, "up", path, timeout=300)
    down = ft.client(rig, rig.lan, "tcp_client", INET, TCP_PORT, "down", path, timeout=300)
    assert up == down == f"{sha} {MIB << 20}"
    return moved(lan0, counters(b, "lan")), moved(wan0, counters(b, "wan"))


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast_path", "kernel"])
def test_mape_tcp_both_ways_intact_napt_ed_into_the_port_set(rig, mape, big, fast_path):
    conf = open(mape.args[mape.args.index("-c") + 1]).read()
    if not fast_path:
        reload_with(rig, mape, "ipv4 = { fast-path = false; };\n" + conf)
    try:
        out, back = transfers(rig, mape, big)
    finally:
        if not fast_path:
            reload_with(rig, mape, conf)
    if fast_path:
        # encapsulated (LAN->WAN) and decapsulated (WAN->LAN) by XDP
        assert out.get("fp4_fwd", 0) > 0.8 * out["rx"], out
        assert back.get("fp4_fwd", 0) > 0.8 * back["rx"], back
        assert out.get("encap", 0) + back.get("encap", 0) < 0.2 * out["rx"]
    else:
        assert "fp4_fwd" not in out and "fp4_fwd" not in back
        assert back["decap"] > 0.8 * back["rx"], back
    # the BR saw only the CE's address and ports of its set
    st = rig.br_stats(mape.br)
    assert st["out_bad"] == 0, st["bad"]
    assert set(st["ports_seen"].get(f"{CE4} tcp", [])) <= set(RULE.ports(PSID))


def test_mape_flow_follows_the_ce_address_when_the_isp_renumbers(rig, mape, isp_renumbers):
    """A UDP exchange going on while the CE moves to another prefix: the
    fast path stops using the old mapping (brouterd flushes it and
    deletes the old CE's conntrack entries), the kernel NATs the flow
    afresh into the new port set, and the fast path takes it over again."""
    before = counters(mape, "lan")
    p = ft.start_client(rig, rig.lan, "echo_client", INET, UDP_ECHO, 14, 40100)
    time.sleep(3)
    mid = counters(mape, "lan")
    rig.advertise([NEW_PREFIX], withdrawn=[WAN_PREFIX])
    wait_ce(rig, NEW_CE4, NEW_CE6, CE4, CE6)
    moved_at = counters(mape, "lan")
    fates = ft.finish(p, timeout=60)["fates"]
    after = counters(mape, "lan")
    assert moved(before, mid).get("fp4_fwd", 0) >= 20, "not fast-pathed before"
    assert moved(moved_at, after).get("fp4_fwd", 0) >= 20, "not fast-pathed after"
    src, port = rig.inet_events("udp")[-1]
    assert src == NEW_CE4 and int(port) in set(RULE.ports(NEW_PSID)), (src, port)
    late = [f for t, f in fates if t > 10]
    assert late and all(f == "ok" for f in late), fates


@pytest.fixture(scope="module")
def mape_stopped(rig, mape):
    """One brouterd at a time on the ports: MAP-E's goes before DS-Lite's."""
    if mape.proc.poll() is None:
        rig.stop_brouterd(mape)


def test_dslite_tcp_both_ways_intact_without_nat(rig, mape_stopped, dslite, big):
    out, back = transfers(rig, dslite, big)
    assert out.get("fp4_fwd", 0) > 0.8 * out["rx"], out
    assert back.get("fp4_fwd", 0) > 0.8 * back["rx"], back
    st = rig.br_stats(dslite.aftr)
    assert st["out_bad"] == 0, st


# brouterd's word on conntrack being the fast path's alone, or not (-v)
ALONE = "conntrack runs for it alone"
SHARED = "the ruleset uses conntrack now"
# a forward policy that needs conntrack: untracked packets are dropped
STATEFUL = """\
table inet user_fw {
	chain forward {
		type filter hook forward priority filter; policy accept;
		ct state untracked counter drop
	}
}
"""


def udp_entries(rig, lport):
    """conntrack's UDP entries of the LAN host's source port @lport."""
    p = run(rig.rtr, ["conntrack", "-L", "-p", "udp", "--sport", str(lport)], check=False)
    return [l for l in p.stdout.splitlines() if l.startswith("udp")]


def test_dslite_a_query_answered_once_never_enters_conntrack(rig, mape_stopped, dslite):
    """DS-Lite has no NAT of the B4's: conntrack runs for the fast path
    alone, so the first UDP packet each way skips it, as it would with
    no fast path. A flow that goes on is tracked from its second packet
    and taken over."""
    assert ALONE in dslite.log()
    lan0, wan0 = counters(dslite, "lan"), counters(dslite, "wan")
    assert rig.lan_py(UDP_ONE, INET, UDP_ECHO, 40200) == "udp through the tunnel"
    assert udp_entries(rig, 40200) == []
    assert moved(lan0, counters(dslite, "lan")).get("fp4_untracked") == 1
    assert moved(wan0, counters(dslite, "wan")).get("fp4_untracked") == 1

    lan0 = counters(dslite, "lan")
    p = ft.start_client(rig, rig.lan, "echo_client", INET, UDP_ECHO, 2, 40201)
    fates = ft.finish(p, timeout=30)["fates"]
    assert fates and all(f == "ok" for _, f in fates), fates
    entries = udp_entries(rig, 40201)
    assert len(entries) == 1 and "UNREPLIED" not in entries[0], entries
    assert moved(lan0, counters(dslite, "lan")).get("fp4_fwd", 0) >= 10


# The LAN host's side of an exchange every 50 ms, each from the next CPU
# of the list in argv[4] (where its frame meets XDP on lan0).
HOPPING_CLIENT = r"""
import os, socket, sys
host, port, lport, cpus = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
cpus = [int(c) for c in cpus.split(",")]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", lport))
s.connect((host, port))
s.settimeout(1)
ok = 0
for i in range(8):
    os.sched_setaffinity(0, {cpus[i % len(cpus)]})
    s.send(b"hop")
    try:
        s.recv(100)
        ok += 1
    except socket.timeout:
        pass
print(ok)
"""


def test_dslite_entry_is_the_lan_hosts_way_round_whatever_cpu_each_packet_takes(
        rig, mape_stopped, dslite):
    """The cache that decides "first packet" is per CPU. The LAN host's
    second packet, on the other CPU, is a first again there and goes
    untracked, while the AFTR's second reply comes in on the CPU that
    saw the first. The reply must not make the entry: conntrack would
    hold it the wrong way round (original INET -> LAN host)."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        pytest.skip("one CPU: every packet of a flow meets the same cache")
    aftr = str(dslite.aftr.pid)
    run(None, ["taskset", "-a", "-p", "-c", str(cpus[0]), aftr])
    try:
        got = rig.lan_py(HOPPING_CLIENT, INET, UDP_ECHO, 40210, f"{cpus[0]},{cpus[1]}")
    finally:
        run(None, ["taskset", "-a", "-p", "-c", ",".join(map(str, cpus)), aftr])
    assert got == "8"
    assert len(udp_entries(rig, 40210)) == 1, run(rig.rtr, ["conntrack", "-L"]).stdout
    back = run(rig.rtr, ["conntrack", "-L", "-p", "udp", "--dport", "40210"],
               check=False).stdout
    assert "udp" not in back, back


def test_dslite_with_a_stateful_ruleset_every_packet_is_tracked(rig, mape_stopped, dslite):
    """A rule elsewhere that uses conntrack (here: drop what is untracked)
    would see the first packets untracked: brouterd notices the ruleset
    change and has every packet tracked, until the rule goes."""
    n_shared, n_alone = dslite.log().count(SHARED), dslite.log().count(ALONE)
    run(rig.rtr, ["nft", "-f", "-"], input=STATEFUL)
    try:
        wait_for(lambda: dslite.log().count(SHARED) > n_shared, what="ruleset noticed")
        lan0 = counters(dslite, "lan")
        assert rig.lan_py(UDP_ONE, INET, UDP_ECHO, 40202) == "udp through the tunnel"
        entries = udp_entries(rig, 40202)
        assert len(entries) == 1 and "UNREPLIED" not in entries[0], entries
        assert "fp4_untracked" not in moved(lan0, counters(dslite, "lan"))
        dropped = run(rig.rtr, ["nft", "list", "table", "inet", "user_fw"]).stdout
        assert "packets 0 " in dropped, dropped
    finally:
        run(rig.rtr, ["nft", "delete", "table", "inet", "user_fw"], check=False)
    wait_for(lambda: dslite.log().count(ALONE) > n_alone, what="rule removal noticed")
    assert rig.lan_py(UDP_ONE, INET, UDP_ECHO, 40203) == "udp through the tunnel"
    assert udp_entries(rig, 40203) == []


def test_dslite_a_link_event_does_not_reread_the_ruleset_a_reload_does(rig, mape_stopped,
                                                                       dslite):
    """Who else uses conntrack is asked on a flush (ruleset, tunnel or
    settings changed), not on every link event, whose settings are only
    built to compare. An iptables-legacy table (which sends no nftables
    notification) is seen at the next reload, as README says; a link
    event before it changes nothing. Last in this module: a legacy
    table cannot be taken out of the namespace again."""
    conf = open(dslite.args[dslite.args.index("-c") + 1]).read()
    n_shared = dslite.log().count(SHARED)
    run(rig.rtr, ["iptables-legacy", "-t", "filter", "-L", "-n"])
    since = len(dslite.log())
    run(rig.rtr, ["ip", "link", "set", "lan0", "alias", "brouter-lan"])
    run(rig.rtr, ["ip", "link", "set", "wan0", "alias", "brouter-wan"])
    time.sleep(0.5)
    log = dslite.log()[since:]
    assert "port MAC address changed" not in log and SHARED not in log, log
    reload_with(rig, dslite, conf)
    assert dslite.log().count(SHARED) == n_shared + 1, dslite.log()[since:]
    assert rig.lan_py(UDP_ONE, INET, UDP_ECHO, 40204) == "udp through the tunnel"
    assert len(udp_entries(rig, 40204)) == 1
