# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
Integration tests: brouterd on network namespaces with real kernel peers
(tests/lib/topo.py), checked end to end the way a user would:

    <P>isp (radvd, HTTP) -- wan0 [<P>rtr: brouterd, IPv4 NAT] lan0 -- <P>sw -- <P>lan1
                                                                          \\- <P>lan2

- the data path: SLAAC through the bridge, ping both ways, 5 MB TCP both
  ways with sha256 compared, the stateful firewall refusing an unsolicited
  inbound connection, IPv4 still routed and NATed by the kernel, the
  0x600/0x601 marks seen by nft, multicast copied across, counters, FDB,
  LAN-local unicast kept off the WAN. These share one rig (module fixture)
  and compare counter deltas, so their order does not matter.
- the lifecycle, on a second, minimal rig: a clean detach on SIGTERM or
  SIGINT (pins, XDP, tc, promiscuous mode as before), and every startup
  error brouterd must refuse with exit code 1 and a "brouterd: " message.

Run as root: /usr/bin/python3 -m pytest -v tests/ns/test_integration.py
Traffic only goes to addresses inside the namespaces these tests create.
"""
import contextlib
import hashlib
import json
import os
import signal
import subprocess
import time

import pytest

import bpfsys as bs
import topo
from topo import BROUTERD, ISP_V4, ISP_V6, RTR_WAN_V4, run, wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (netns, BPF)")

# Counters `brouterctl stats --json` must have for each port (CLI contract).
STATS_KEYS = ("rx", "pass", "local", "bridged", "flood", "no_settings", "drop",
              "runt", "bad_ipv6", "src_multicast", "own_src_mac", "same_port",
              "no_tx_port", "tc_marked", "tc_cloned", "tc_clone_fail", "tc_no_meta")

XFER_BYTES = 5 * 1024 * 1024

# One end of a TCP transfer: listen|connect, send FILE|recv (prints "N sha256").
XFER = r"""
import hashlib, socket, sys, time
role, mode, host, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
path = sys.argv[5] if len(sys.argv) > 5 else None
timeout = float(sys.argv[6]) if len(sys.argv) > 6 else 30
if role == "listen":
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(1)
    s.settimeout(timeout)
    print("listening", flush=True)
    try:
        c, peer = s.accept()
    except socket.timeout:
        print("no connection", flush=True)
        sys.exit(3)
    print("accepted", peer[0], flush=True)
else:
    try:
        c = socket.create_connection((host, port), timeout=timeout)
    except OSError as e:
        print("connect failed:", e, flush=True)
        sys.exit(3)
c.settimeout(30)
if mode == "send":
    with open(path, "rb") as f:
        c.sendall(f.read())
    c.shutdown(socket.SHUT_WR)
    c.recv(1)
else:
    h, n = hashlib.sha256(), 0
    while True:
        b = c.recv(1 << 16)
        if not b:
            break
        h.update(b)
        n += len(b)
    print(n, h.hexdigest(), flush=True)
c.close()
"""


# ------------------------------------------------------------------ helpers


def stats(t):
    return t.brouterctl_stats_json()


def delta(before, after, port, name):
    return after[port][name]["packets"] - before[port][name]["packets"]


def lan_addr(t, host):
    return t.wait_slaac(host, timeout=30)


def ping(t, ns, dst, count=3, check=True):
    p = t.run(ns, ["ping", "-6", "-c", str(count), "-i", "0.2", "-W", "2", dst],
              check=False, timeout=20)
    if check:
        assert p.returncode == 0, f"ping6 {ns} -> {dst} failed:\n{p.stdout}{p.stderr}"
    return p


class Listener:
    """A background process that prints "listening" once ready."""

    def __init__(self, t, ns, argv):
        self.p = t.popen(ns, argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
        line = self.p.stdout.readline()
        assert "listening" in line, f"listener did not start: {line}"

    def result(self, timeout=60):
        out, _ = self.p.communicate(timeout=timeout)
        return self.p.returncode, out


def xfer_script(t):
    path = os.path.join(t.tmp, "xfer.py")
    if not os.path.exists(path):
        with open(path, "w") as f:
            f.write(XFER)
    return path


def random_file(t):
    path = os.path.join(t.tmp, "random.bin")
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(os.urandom(XFER_BYTES))
    with open(path, "rb") as f:
        return path, hashlib.sha256(f.read()).hexdigest()


def tc_filters(ns, dev):
    p = topo.run(ns, ["tc", "-j", "filter", "show", "dev", dev, "ingress"], check=False)
    if p.returncode or not p.stdout.strip():
        return []
    return json.loads(p.stdout)


def clsact(ns, dev):
    out = topo.run(ns, ["tc", "-j", "qdisc", "show", "dev", dev]).stdout
    return any(q.get("kind") == "clsact" for q in json.loads(out or "[]"))


def ours(filters):
    return [f for f in filters if "tc_brouter_in" in json.dumps(f)]


def ours_tc(ns, dev, hook="ingress"):
    """brouter's tc programs on @dev's @hook, however attached: tcx links
    (bpftool 7.1 lists none: BPF_PROG_QUERY) and clsact filters."""
    tcx = [name for _, name in bs.tcx_progs(ns, dev, hook) if name.startswith("tc_brouter")]
    return tcx + (ours(tc_filters(ns, dev)) if hook == "ingress" else [])


def nft_counters(ns, table):
    """{comment: packets} of the rules in an inet table."""
    out = json.loads(topo.run(ns, ["nft", "-j", "list", "table", "inet", table]).stdout)
    res = {}
    for item in out["nftables"]:
        rule = item.get("rule")
        if not rule or "comment" not in rule:
            continue
        for e in rule["expr"]:
            if "counter" in e:
                res[rule["comment"]] = e["counter"]["packets"]
    return res


# ------------------------------------------------------------------ the shared rig


@pytest.fixture(scope="module")
def net():
    t = topo.Topology(lan2=True)
    t.start()
    try:
        t.start_brouterd()
        yield t
    finally:
        t.close()


@pytest.fixture
def alive(net):
    """The shared brouterd must be running before and after each test."""
    assert net.brouterd.proc.poll() is None, f"brouterd died:\n{net.brouterd.log()}"
    yield net
    assert net.brouterd.proc.poll() is None, f"brouterd died:\n{net.brouterd.log()}"


def test_lan_host_gets_global_address_from_isp_ra_through_bridge(alive):
    t = alive
    addr = lan_addr(t, t.lan1)
    assert addr.startswith("2001:db8:1:"), addr
    # The default route is the ISP's link-local: the RA itself crossed.
    isp_ll = topo.link_local(t.isp, "eth0")
    route = t.run(t.lan1, ["ip", "-6", "route", "show", "default"]).stdout
    assert isp_ll in route and "proto ra" in route, route
    assert lan_addr(t, t.lan2_ns).startswith("2001:db8:1:")


def test_ping6_lan_to_isp_global(alive):
    t = alive
    lan_addr(t, t.lan1)
    t.wait_ping6(t.lan1, ISP_V6)  # brouterd may still be learning the prefix
    p = ping(t, t.lan1, ISP_V6, count=5)
    assert " 0% packet loss" in p.stdout, p.stdout


def test_ping6_isp_to_lan_global(alive):
    t = alive
    addr = lan_addr(t, t.lan1)
    t.wait_ping6(t.isp, addr)
    p = ping(t, t.isp, addr, count=5)
    assert " 0% packet loss" in p.stdout, p.stdout


def _transfer(t, sender_ns, receiver_ns, listen_ns, connect_ns, port):
    """5 MB from sender to receiver; connect_ns opens the connection."""
    script = xfer_script(t)
    path, want = random_file(t)
    addr = ISP_V6 if listen_ns == t.isp else lan_addr(t, listen_ns)
    t.wait_ping6(connect_ns, addr)
    lmode = "send" if listen_ns == sender_ns else "recv"
    cmode = "send" if connect_ns == sender_ns else "recv"
    lst = Listener(t, listen_ns, ["/usr/bin/python3", script, "listen", lmode, "::", port,
                                  path, 20])
    cli = t.run(connect_ns, ["/usr/bin/python3", script, "connect", cmode, addr, port,
                             path, 10], check=False, timeout=60)
    lrc, lout = lst.result()
    assert cli.returncode == 0 and lrc == 0, \
        f"transfer failed: client {cli.returncode} {cli.stdout}{cli.stderr}; " \
        f"listener {lrc} {lout}"
    got = (cli.stdout if cmode == "recv" else lout).split()[-2:]
    assert got == [str(XFER_BYTES), want], f"received {got}, sent {XFER_BYTES} {want}"


def test_tcp_5mb_isp_to_lan_arrives_intact(alive):
    t = alive
    before = stats(t)
    _transfer(t, sender_ns=t.isp, receiver_ns=t.lan1, listen_ns=t.isp,
              connect_ns=t.lan1, port=5001)
    after = stats(t)
    # 5 MB are thousands of frames: they went through XDP, not the stack.
    assert delta(before, after, "wan", "bridged") > 1000


def test_tcp_5mb_lan_to_isp_arrives_intact(alive):
    t = alive
    before = stats(t)
    _transfer(t, sender_ns=t.lan1, receiver_ns=t.isp, listen_ns=t.isp,
              connect_ns=t.lan1, port=5002)
    after = stats(t)
    assert delta(before, after, "lan", "bridged") > 1000


def test_unsolicited_inbound_tcp_is_dropped_by_stateful_firewall(alive):
    t = alive
    script = xfer_script(t)
    addr = lan_addr(t, t.lan1)
    t.wait_ping6(t.isp, addr)
    before = stats(t)
    lst = Listener(t, t.lan1, ["/usr/bin/python3", script, "listen", "recv", "::", 5003,
                               "-", 4])
    cli = t.run(t.isp, ["/usr/bin/python3", script, "connect", "send", addr, 5003,
                        "/dev/null", 2], check=False, timeout=30)
    lrc, lout = lst.result()
    after = stats(t)
    assert cli.returncode == 3 and "connect failed" in cli.stdout, cli.stdout
    assert "no connection" in lout, lout
    assert delta(before, after, "wan", "syn_in") >= 1


def test_ipv4_is_routed_and_nated_by_router_kernel(alive):
    t = alive
    before = stats(t)
    p = t.run(t.lan1, ["curl", "-sS", "--max-time", "10",
                       f"http://{ISP_V4}:{topo.HTTP_PORT}/"], check=False, timeout=20)
    assert p.returncode == 0 and topo.HTTP_TOKEN in p.stdout, p.stdout + p.stderr
    after = stats(t)
    client = t.http_clients()[-1]
    assert client in (RTR_WAN_V4, f"::ffff:{RTR_WAN_V4}"), client
    # IPv4 went up to the stack on both ports, never bridged.
    assert delta(before, after, "lan", "pass") > 0
    assert delta(before, after, "wan", "pass") > 0


def test_ipv6_fetch_keeps_lan_host_address(alive):
    t = alive
    addr = lan_addr(t, t.lan1)
    t.wait_ping6(t.lan1, ISP_V6)
    p = t.run(t.lan1, ["curl", "-sS", "--max-time", "10",
                       f"http://[{ISP_V6}]:{topo.HTTP_PORT}/"], check=False, timeout=20)
    assert p.returncode == 0 and topo.HTTP_TOKEN in p.stdout, p.stdout + p.stderr
    assert t.http_clients()[-1] == addr


MARK_TABLE = """\
table inet brt_marks {
	chain input {
		type filter hook input priority 0; policy accept;
		meta nfproto ipv6 meta mark 0x601 counter comment "mark_601"
		meta nfproto ipv6 meta mark 0x600 counter comment "mark_600"
		iifname "wan0" meta nfproto ipv6 icmpv6 type echo-request meta mark 0x601 counter comment "echo_wan_601"
		iifname "lan0" meta nfproto ipv6 icmpv6 type echo-request meta mark 0x600 counter comment "echo_lan_600"
		iifname "wan0" meta nfproto ipv6 icmpv6 type echo-request meta mark != 0x601 counter comment "echo_wan_other"
		iifname "lan0" meta nfproto ipv6 icmpv6 type echo-request meta mark != 0x600 counter comment "echo_lan_other"
		meta nfproto ipv4 icmp type echo-request counter comment "v4_echo"
		meta nfproto ipv4 icmp type echo-request meta mark != 0 counter comment "v4_echo_marked"
	}
}
"""


def test_marks_0x600_from_lan_and_0x601_from_wan_seen_by_nft(alive):
    t = alive
    t.run(t.rtr, ["nft", "-f", "-"], input=MARK_TABLE)
    try:
        ll_wan = topo.link_local(t.rtr, "wan0")
        ll_lan = topo.link_local(t.rtr, "lan0")
        ping(t, t.isp, f"{ll_wan}%eth0")
        ping(t, t.lan1, f"{ll_lan}%eth0")
        # IPv4 to the router is not marked (only IPv6 is).
        t.run(t.isp, ["ping", "-c", "2", "-i", "0.2", "-W", "2", RTR_WAN_V4])
        t.run(t.lan1, ["ping", "-c", "2", "-i", "0.2", "-W", "2", topo.RTR_LAN_V4])
        c = nft_counters(t.rtr, "brt_marks")
    finally:
        t.run(t.rtr, ["nft", "delete", "table", "inet", "brt_marks"], check=False)
    assert c["mark_601"] > 0 and c["mark_600"] > 0, c
    assert c["echo_wan_601"] >= 3 and c["echo_lan_600"] >= 3, c
    assert c["echo_wan_other"] == 0 and c["echo_lan_other"] == 0, c
    assert c["v4_echo"] >= 4 and c["v4_echo_marked"] == 0, c


def test_stats_json_has_every_counter_for_both_ports(alive):
    st = stats(alive)
    assert set(st) >= {"lan", "wan"}, st.keys()
    for port in ("lan", "wan"):
        missing = [k for k in STATS_KEYS if k not in st[port]]
        assert not missing, f"{port}: missing {missing}"
        for k in STATS_KEYS:
            v = st[port][k]
            assert isinstance(v["packets"], int) and isinstance(v["bytes"], int), (k, v)
        assert st[port]["rx"]["packets"] > 0


def test_stats_count_bridged_and_flood_both_ways(alive):
    t = alive
    addr = lan_addr(t, t.lan1)
    t.wait_ping6(t.lan1, ISP_V6)
    before = stats(t)
    ping(t, t.lan1, ISP_V6, count=3)
    ping(t, t.isp, addr, count=3)
    # multicast both ways: all-nodes echo requests
    ping(t, t.lan1, "ff02::1%eth0", count=2)
    ping(t, t.isp, "ff02::1%eth0", count=2)
    after = stats(t)
    for port in ("lan", "wan"):
        assert delta(before, after, port, "bridged") >= 6, (port, after[port])
        assert delta(before, after, port, "flood") >= 2, (port, after[port])
        assert delta(before, after, port, "tc_cloned") >= 2, (port, after[port])
        assert delta(before, after, port, "rx") >= 8, (port, after[port])
        assert delta(before, after, port, "tc_clone_fail") == 0
        assert delta(before, after, port, "no_tx_port") == 0


def test_multicast_from_isp_reaches_lan_hosts_and_back(alive):
    t = alive
    lls = {topo.link_local(t.lan1, "eth0"), topo.link_local(t.lan2_ns, "eth0")}
    p = ping(t, t.isp, "ff02::1%eth0", count=3)
    seen = {w.split("%")[0].rstrip(":") for w in p.stdout.split() if w.startswith("fe80:")}
    assert lls <= seen, f"LAN hosts {lls} did not answer; replies from {seen}"


def test_fdb_learns_lan_hosts_on_lan_and_isp_on_wan(alive):
    t = alive
    t.wait_ping6(t.lan1, ISP_V6)
    t.wait_ping6(t.lan2_ns, ISP_V6)
    want = {topo.mac_of(t.lan1, "eth0"): "lan", topo.mac_of(t.lan2_ns, "eth0"): "lan",
            topo.mac_of(t.isp, "eth0"): "wan"}
    fdb = {e["mac"].lower(): e for e in t.brouterd.fdb()}
    for mac, port in want.items():
        assert mac in fdb, f"{mac} not learned: {fdb}"
        assert fdb[mac]["port"] == port, fdb[mac]
        assert isinstance(fdb[mac]["age_ms"], int) and fdb[mac]["age_ms"] >= 0
    # the brouter's own MACs are never learned
    for dev in ("lan0", "wan0"):
        assert topo.mac_of(t.rtr, dev) not in fdb


def test_lan_local_unicast_is_dropped_not_leaked_to_wan(alive):
    """With the LAN switch acting as a hub, lan1 -> lan2 unicast also hits
    lan0: the FDB knows lan2 is on the LAN, so XDP drops it (same_port)
    instead of sending it to the ISP."""
    t = alive
    a1 = lan_addr(t, t.lan1)
    a2 = lan_addr(t, t.lan2_ns)
    t.wait_ping6(t.lan2_ns, ISP_V6)  # lan2's MAC is learned on the LAN
    mac2 = topo.mac_of(t.lan2_ns, "eth0")
    t.run(t.sw, ["ip", "link", "set", "br0", "type", "bridge", "ageing_time", "0"])
    tdir = t.tmp
    try:
        with open(os.path.join(tdir, "td.out"), "w") as out, \
             open(os.path.join(tdir, "td.err"), "w") as err:
            td = t.popen(t.isp, ["tcpdump", "-l", "-n", "-i", "eth0",
                                 f"ether dst {mac2} and ip6 src {a1}"],
                         stdout=out, stderr=err)
        wait_for(lambda: "listening on" in open(os.path.join(tdir, "td.err")).read(),
                 timeout=10, what="tcpdump on the ISP")
        before = stats(t)
        ping(t, t.lan1, a2, count=5)
        after = stats(t)
        time.sleep(0.3)
        td.send_signal(signal.SIGINT)
        td.wait(timeout=5)
    finally:
        t.run(t.sw, ["ip", "link", "set", "br0", "type", "bridge", "ageing_time", "30000"])
    leaked = open(os.path.join(tdir, "td.out")).read().strip()
    assert not leaked, f"LAN-local frames reached the ISP:\n{leaked}"
    assert delta(before, after, "lan", "same_port") >= 5, after["lan"]["same_port"]


# ------------------------------------------------------------------ lifecycle rig


@pytest.fixture(scope="module")
def rig():
    t = topo.Topology(minimal=True)
    t.start()
    os.chmod(t.tmp, 0o755)  # the not-root case reads its config from here
    try:
        yield t
    finally:
        t.close()


_pin_serial = [0]


@pytest.fixture
def pins(rig):
    """Fresh pin dir paths; brouterds started by the test are stopped after."""
    started = len(rig._procs)

    def new():
        _pin_serial[0] += 1
        return f"{topo.BPFFS}/{rig.prefix}p{_pin_serial[0]}"
    yield new
    for p in rig._procs[started:]:
        topo._kill_group(p)
    for d in os.listdir(topo.BPFFS):
        if d.startswith(rig.prefix):
            topo._remove_pin_dir(os.path.join(topo.BPFFS, d))
    for dev in ("lan0", "wan0"):
        topo.run(rig.rtr, ["ip", "link", "set", dev, "promisc", "off"])


def set_promisc(t, dev, on):
    t.run(t.rtr, ["ip", "link", "set", dev, "promisc", "on" if on else "off"])
    assert topo.promisc(t.rtr, dev) == on


def assert_attached(t, pin_dir):
    for dev in ("lan0", "wan0"):
        info = topo.link_info(t.rtr, dev)
        assert "xdp" in info, f"{dev}: no XDP program: {info}"
        assert "PROMISC" in info["flags"], f"{dev} not promiscuous while running"
        assert ours_tc(t.rtr, dev), f"{dev}: no tc_brouter_in filter"
    for name in ("stats", "settings", "fdb", "tx_ports"):
        assert os.path.exists(f"{pin_dir}/{name}"), f"{pin_dir}/{name} not pinned"


def assert_detached(t, pin_dir, promisc_before, clsact_before=(False, False)):
    assert not os.path.exists(pin_dir), f"{pin_dir} left: {os.listdir(pin_dir)}"
    for dev, was, had_clsact in zip(("lan0", "wan0"), promisc_before, clsact_before):
        info = topo.link_info(t.rtr, dev)
        assert "xdp" not in info, f"{dev}: XDP still attached: {info['xdp']}"
        assert not ours_tc(t.rtr, dev), f"{dev}: tc_brouter_in still attached"
        assert clsact(t.rtr, dev) == had_clsact, f"{dev}: clsact qdisc not as before"
        assert ("PROMISC" in info["flags"]) == was, \
            f"{dev}: promiscuous {'on' if not was else 'off'} after exit, was " \
            f"{'on' if was else 'off'}"


@pytest.mark.parametrize("promisc_before,sig", [
    ((False, False), signal.SIGTERM),
    ((True, True), signal.SIGTERM),
    ((True, False), signal.SIGINT),
], ids=["promisc-off-sigterm", "promisc-on-sigterm", "promisc-mixed-sigint"])
def test_signal_detaches_unpins_and_restores_promisc(rig, pins, promisc_before, sig):
    for dev, on in zip(("lan0", "wan0"), promisc_before):
        set_promisc(rig, dev, on)
    pd = pins()
    b = rig.start_brouterd(pin_dir=pd)
    assert_attached(rig, pd)
    b.proc.send_signal(sig)
    rc = b.proc.wait(timeout=15)
    assert rc == 0, f"exit {rc}; log:\n{b.log()}"
    assert_detached(rig, pd, promisc_before)


def test_sigterm_keeps_clsact_qdisc_and_filters_it_did_not_create(rig, pins):
    try:
        rig.run(rig.rtr, ["tc", "qdisc", "add", "dev", "wan0", "clsact"])
        # u32: the one classifier besides bpf that every kernel config has
        rig.run(rig.rtr, ["tc", "filter", "add", "dev", "wan0", "ingress", "prio", "1",
                          "protocol", "all", "u32", "match", "u32", "0", "0",
                          "flowid", "1:1"])
        pd = pins()
        b = rig.start_brouterd(pin_dir=pd)
        assert_attached(rig, pd)
        assert b.stop() == 0, b.log()
        assert_detached(rig, pd, (False, False), clsact_before=(False, True))
        left = tc_filters(rig.rtr, "wan0")
        assert any(f.get("kind") == "u32" for f in left), left
    finally:
        rig.run(rig.rtr, ["tc", "qdisc", "del", "dev", "wan0", "clsact"], check=False)


def mirrored(ns, dev):
    """Packets the mirred action of the operator's filter on @dev ingress copied."""
    out = json.loads(topo.run(ns, ["tc", "-s", "-j", "filter", "show", "dev", dev,
                                   "ingress"]).stdout or "[]")
    return sum(a.get("stats", {}).get("packets", 0) for f in out
               for a in f.get("options", {}).get("actions", []) if a.get("kind") == "mirred")


@pytest.fixture
def observer(rig):
    """An operator's own clsact filter on lan0 ingress, at a priority after
    brouter's: a u32 match-all whose mirred action mirrors what it sees
    to obs0 and counts it (the kernel here has no gact or matchall)."""
    rig.run(rig.rtr, ["ip", "link", "add", "obs0", "type", "veth", "peer", "name", "obs1"])
    try:
        for d in ("obs0", "obs1"):
            rig.run(rig.rtr, ["ip", "link", "set", d, "up"])
        yield lambda: mirrored(rig.rtr, "lan0")
    finally:
        rig.run(rig.rtr, ["tc", "qdisc", "del", "dev", "lan0", "clsact"], check=False)
        rig.run(rig.rtr, ["ip", "link", "del", "obs0"], check=False)


def add_observer(rig):
    rig.run(rig.rtr, ["tc", "qdisc", "add", "dev", "lan0", "clsact"], check=False)
    rig.run(rig.rtr, ["tc", "filter", "add", "dev", "lan0", "ingress", "prio", "60000",
                      "protocol", "all", "u32", "match", "u32", "0", "0",
                      "action", "mirred", "egress", "mirror", "dev", "obs0"])


@pytest.mark.parametrize("how", ["auto", "clsact"])
def test_tc_programs_behind_brouters_still_see_what_it_passes(rig, pins, observer, how):
    """brouter's tc ingress lets what it passes go on (TC_ACT_UNSPEC: tcx's
    TCX_NEXT, clsact's next filter): an operator's filter behind it, here a
    clsact filter of a later priority, still sees every frame."""
    conf = rig.config_file(f'tc-attach = "{how}";\n', name=f"tc-{how}.conf")
    b = rig.start_brouterd(pin_dir=pins(), config=conf)
    add_observer(rig)
    before = observer()
    # multicast from the LAN: XDP floods it, tc ingress copies and marks it
    rig.run(rig.rtr, ["ping", "-6", "-c", "3", "-i", "0.2", "-I", "lanp", "ff02::1"],
            check=False)
    assert observer() - before >= 3, f"the operator's filter saw nothing\n{b.log()}"
    assert b.stop() == 0, b.log()


def test_tc_attach_auto_uses_tcx_links_and_no_clsact_qdisc(rig, pins):
    """Linux 6.6+ has tcx: no qdisc made, one link per hook (ingress on
    both ports, egress on both for the IPv4 fast path), gone with SIGKILL."""
    b = rig.start_brouterd(pin_dir=pins())
    for dev in ("lan0", "wan0"):
        assert [n for _, n in bs.tcx_progs(rig.rtr, dev, "ingress")] == ["tc_brouter_in"]
        assert [n for _, n in bs.tcx_progs(rig.rtr, dev, "egress")] == ["tc_brouter_out"]
        assert not clsact(rig.rtr, dev), f"{dev}: a clsact qdisc was made"
    b.proc.send_signal(signal.SIGKILL)
    b.proc.wait(timeout=10)
    for dev in ("lan0", "wan0"):
        for hook in ("ingress", "egress"):
            wait_for(lambda dev=dev, hook=hook: not bs.tcx_progs(rig.rtr, dev, hook),
                     timeout=5, what=f"{dev} {hook}: tcx link gone with the process")


def test_tc_attach_clsact_uses_a_qdisc_and_removes_it(rig, pins):
    conf = rig.config_file('tc-attach = "clsact";\n', name="tc-clsact.conf")
    pd = pins()
    b = rig.start_brouterd(pin_dir=pd, config=conf)
    for dev in ("lan0", "wan0"):
        assert not bs.tcx_progs(rig.rtr, dev, "ingress"), f"{dev}: a tcx link with clsact"
        assert clsact(rig.rtr, dev) and len(ours(tc_filters(rig.rtr, dev))) == 1
    assert b.stop() == 0, b.log()
    assert_detached(rig, pd, (False, False))


def test_tcx_brouterd_removes_what_a_killed_clsact_one_left(rig, pins):
    """A brouterd that used clsact, killed, leaves its filters and qdisc; the
    next one, on tcx, takes them away (its filter would run after its own
    program) and on exit leaves the ports as they were before either."""
    pd = pins()
    conf = rig.config_file('tc-attach = "clsact";\n', name="tc-clsact.conf")
    first = rig.start_brouterd(pin_dir=pd, config=conf)
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait(timeout=10)
    assert all(ours(tc_filters(rig.rtr, d)) for d in ("lan0", "wan0"))
    second = rig.start_brouterd(pin_dir=pd)
    try:
        for dev in ("lan0", "wan0"):
            assert ours_tc(rig.rtr, dev) == ["tc_brouter_in"], ours_tc(rig.rtr, dev)
        assert "removed a tc ingress filter left by an earlier brouterd" in second.log()
        assert second.stop() == 0, second.log()
        assert_detached(rig, pd, (False, False))
    finally:
        for dev in ("lan0", "wan0"):
            rig.run(rig.rtr, ["tc", "qdisc", "del", "dev", dev, "clsact"], check=False)


def test_tc_attach_is_checked(rig, pins):
    p = rig.run_brouterd("--tc-attach", "qdisc", "--check-config")
    assert p.returncode != 0 and "--tc-attach: 'qdisc' is not auto, tcx or clsact" in p.stderr
    bad = rig.config_file('tc-attach = "qdisc";\n', name="tc-bad.conf")
    p = topo.run(rig.rtr, [BROUTERD, "-c", bad, "--check-config"], check=False)
    assert p.returncode != 0 and "tc-attach" in p.stderr, p.stderr


def assert_refused(rig, p, pin_dir, *keywords):
    err = p.stderr
    assert p.returncode == 1, f"exit {p.returncode}, want 1; stderr:\n{err}"
    assert err.startswith("brouterd: "), f"stderr must start with 'brouterd: ':\n{err}"
    for k in keywords:
        assert k.lower() in err.lower(), f"message does not mention {k!r}:\n{err}"
    assert not os.path.exists(pin_dir), f"{pin_dir} created by a failed start"


def assert_untouched(rig):
    for dev in ("lan0", "wan0"):
        info = topo.link_info(rig.rtr, dev)
        assert "xdp" not in info, f"{dev}: XDP attached by a failed start"
        assert "PROMISC" not in info["flags"], f"{dev}: promisc left on"
        assert not clsact(rig.rtr, dev), f"{dev}: clsact left by a failed start"


def test_refuses_to_run_without_root(rig, pins):
    pd = pins()
    p = rig.run_brouterd("--pin-dir", pd, "lan0", "wan0", user=65534)
    assert_refused(rig, p, pd, "root")
    assert_untouched(rig)


@pytest.mark.parametrize("ports,keywords", [
    (("nosuch0", "wan0"), ("nosuch0",)),
    (("lan0", "nosuch1"), ("nosuch1",)),
], ids=["lan", "wan"])
def test_refuses_interface_that_does_not_exist(rig, pins, ports, keywords):
    pd = pins()
    p = rig.run_brouterd("--pin-dir", pd, *ports)
    assert_refused(rig, p, pd, *keywords, "no such interface")
    assert_untouched(rig)


@pytest.fixture
def altname(rig):
    rig.run(rig.rtr, ["ip", "link", "property", "add", "dev", "lan0", "altname", "lanalt"])
    yield "lanalt"
    rig.run(rig.rtr, ["ip", "link", "property", "del", "dev", "lan0", "altname", "lanalt"],
            check=False)


def test_refuses_same_interface_twice(rig, pins):
    pd = pins()
    p = rig.run_brouterd("--pin-dir", pd, "lan0", "lan0")
    assert_refused(rig, p, pd, "same")
    assert_untouched(rig)


def test_refuses_same_interface_under_two_names(rig, pins, altname):
    pd = pins()
    p = rig.run_brouterd("--pin-dir", pd, "lan0", altname)
    assert_refused(rig, p, pd, "same")
    assert_untouched(rig)


def test_refuses_second_instance_on_same_ports(rig, pins):
    pd1, pd2 = pins(), pins()
    first = rig.start_brouterd(pin_dir=pd1)
    p = rig.run_brouterd("--pin-dir", pd2, "lan0", "wan0")
    assert_refused(rig, p, pd2, "already")
    # the first one is unharmed
    assert first.proc.poll() is None, first.log()
    assert_attached(rig, pd1)
    assert first.stop() == 0, first.log()
    assert_detached(rig, pd1, (False, False))


def test_refused_start_rolls_back_the_port_it_had_attached(rig, pins):
    """Another brouterd owns wan0 only (its LAN is lanp): a start on lan0 +
    wan0 attaches lan0 first, fails on wan0, and must leave lan0 as it was."""
    pd1, pd2 = pins(), pins()
    first = rig.start_brouterd(pin_dir=pd1, ports=("lanp", "wan0"))
    p = rig.run_brouterd("--pin-dir", pd2, "lan0", "wan0")
    assert_refused(rig, p, pd2, "already", "wan0")
    info = topo.link_info(rig.rtr, "lan0")
    assert "xdp" not in info, "lan0: XDP left attached by the failed start"
    assert "PROMISC" not in info["flags"], "lan0: promisc left on by the failed start"
    assert not ours_tc(rig.rtr, "lan0"), "lan0: tc filter left"
    assert not clsact(rig.rtr, "lan0"), "lan0: clsact left"
    assert first.proc.poll() is None, first.log()
    assert "xdp" in topo.link_info(rig.rtr, "wan0")
    assert ours_tc(rig.rtr, "wan0"), "the failed start removed the first's filter"
    assert first.stop() == 0, first.log()
    assert not os.path.exists(pd1)


def test_refuses_second_instance_with_same_pin_dir(rig, pins):
    pd = pins()
    first = rig.start_brouterd(pin_dir=pd)
    p = rig.run_brouterd("--pin-dir", pd, "lan0", "wan0")
    assert p.returncode == 1, f"exit {p.returncode}; stderr:\n{p.stderr}"
    assert "already" in p.stderr and p.stderr.startswith("brouterd: "), p.stderr
    assert first.proc.poll() is None, first.log()
    assert_attached(rig, pd)
    first.stats()  # the pins it relies on are intact
    assert first.stop() == 0, first.log()
    assert_detached(rig, pd, (False, False))


def test_restart_after_sigkill_reuses_pin_dir(rig, pins):
    """A killed brouterd leaves no XDP (link-based attach dies with it) and
    does not block a restart: its flock is gone, its pins are reused and
    its stale tc filter replaced. The restarted brouterd inherits what the
    killed one had to undo, so after it stops the ports are as they were
    before either ran: not promiscuous, no clsact qdisc."""
    pd = pins()
    for dev in ("lan0", "wan0"):
        rig.run(rig.rtr, ["ip", "link", "set", dev, "promisc", "off"])
        rig.run(rig.rtr, ["tc", "qdisc", "del", "dev", dev, "clsact"], check=False)
    first = rig.start_brouterd(pin_dir=pd)
    try:
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(timeout=10)
        for dev in ("lan0", "wan0"):
            wait_for(lambda dev=dev: "xdp" not in topo.link_info(rig.rtr, dev), timeout=5,
                     what=f"XDP gone from {dev} after SIGKILL")
        assert os.path.exists(f"{pd}/stats"), "pins of a killed brouterd vanished"
        second = rig.start_brouterd(pin_dir=pd)
        assert_attached(rig, pd)
        for dev in ("lan0", "wan0"):
            assert len(ours_tc(rig.rtr, dev)) == 1, f"{dev}: stale tc filter kept"
        assert second.stop() == 0, second.log()
        assert not os.path.exists(pd)
        for dev in ("lan0", "wan0"):
            assert "xdp" not in topo.link_info(rig.rtr, dev)
            assert not ours_tc(rig.rtr, dev), f"{dev}: tc_brouter_in left"
            assert not topo.promisc(rig.rtr, dev), f"{dev}: left promiscuous"
            qd = rig.run(rig.rtr, ["tc", "qdisc", "show", "dev", dev]).stdout
            assert "clsact" not in qd, f"{dev}: clsact qdisc left: {qd}"
    finally:
        for dev in ("lan0", "wan0"):
            rig.run(rig.rtr, ["tc", "qdisc", "del", "dev", dev, "clsact"], check=False)


BAD_OPTIONS = [
    pytest.param(("--mark-in", "foo"), ("--mark-in", "foo"), id="mark-in-foo"),
    pytest.param(("--mark-out", "0x100000000"), ("--mark-out",), id="mark-out-33-bits"),
    pytest.param(("--bridge-ethertype", "0x0800"), ("ethertype", "0x0800"), id="ethertype-ipv4"),
    pytest.param(("--bridge-ethertype", "0x0806"), ("ethertype", "0x0806"), id="ethertype-arp"),
    pytest.param(("--bridge-ethertype", "0x86dd"), ("ethertype", "0x86dd"), id="ethertype-ipv6"),
    pytest.param(("--bridge-ethertype", "0x05dc"), ("ethertype",), id="ethertype-802.3-length"),
    pytest.param(("--bridge-ethertype", "pppoe"), ("ethertype", "pppoe"), id="ethertype-not-number"),
    pytest.param(("--xdp-mode", "turbo"), ("--xdp-mode", "turbo"), id="xdp-mode-turbo"),
    pytest.param(("--pin-dir", "relative/dir"), ("--pin-dir",), id="pin-dir-relative"),
    pytest.param(("--no-such-option",), ("--no-such-option",), id="unknown-option"),
]


@pytest.mark.parametrize("args,keywords", BAD_OPTIONS)
def test_rejects_bad_option_values(rig, pins, args, keywords):
    pd = pins()
    p = rig.run_brouterd("--pin-dir", pd, *args, "lan0", "wan0")
    assert_refused(rig, p, pd, *keywords)
    assert_untouched(rig)


def test_refuses_port_that_is_not_ethernet(rig, pins):
    pd = pins()
    p = rig.run_brouterd("--pin-dir", pd, "lo", "wan0")
    assert_refused(rig, p, pd, "lo", "not an Ethernet")
    assert_untouched(rig)


def in_private_mounts(setup, argv):
    """argv run in a mount namespace of its own after the shell @setup:
    the host's /sys stays as it is whatever @setup mounts."""
    return ["unshare", "--mount", "--propagation", "private", "sh", "-ec",
            f'{setup}; exec "$@"', "sh", *argv]


def test_refuses_kernel_without_btf(rig, pins):
    """/sys/kernel/btf hidden under an empty tmpfs looks like a kernel
    built without CONFIG_DEBUG_INFO_BTF."""
    pd = pins()
    argv = [BROUTERD, "-c", rig.config_file(), "--pin-dir", pd, "lan0", "wan0"]
    p = run(rig.rtr, in_private_mounts("mount -t tmpfs none /sys/kernel/btf", argv),
            check=False)
    assert_refused(rig, p, pd, "BTF")
    assert_untouched(rig)


def test_refuses_when_bpffs_cannot_be_mounted(rig, pins):
    """No bpffs at /sys/fs/bpf and no directory to mount one on (an empty,
    read-only /sys/fs): a clear error, nothing attached."""
    pd = pins()
    argv = [BROUTERD, "-c", rig.config_file(), "--pin-dir", pd, "lan0", "wan0"]
    p = run(rig.rtr, in_private_mounts("mount -t tmpfs -o ro none /sys/fs", argv),
            check=False)
    assert_refused(rig, p, pd, "mount bpffs", "/sys/fs/bpf")
    assert_untouched(rig)


def test_mounts_bpffs_when_sys_fs_bpf_is_not_one(rig, pins):
    """A /sys without the host's bpffs (as under `ip netns exec`): brouterd
    mounts one, runs, and stops cleanly; the host's bpffs is not used."""
    pd = pins()
    log_path = os.path.join(rig.tmp, "bpffs-mount.log")
    argv = [BROUTERD, "-c", rig.config_file(), "--pin-dir", pd, "lan0", "wan0"]
    with open(log_path, "w") as logf:
        proc = subprocess.Popen(
            topo._cmdline(rig.rtr, in_private_mounts("mount -t tmpfs none /sys/fs/bpf", argv)),
            stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
            start_new_session=True)
    rig._procs.append(proc)
    text = lambda: open(log_path).read()
    try:
        wait_for(lambda: "ready" in text() or proc.poll() is not None, timeout=30,
                 what="brouterd ready")
        assert proc.poll() is None, f"brouterd exited {proc.returncode}:\n{text()}"
        assert "mounted bpffs on /sys/fs/bpf" in text(), text()
        assert not os.path.exists(pd), "pins went to the host's bpffs"
        assert_attached_ports(rig)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        rc = proc.wait(timeout=15)
    assert rc == 0, f"exit {rc}:\n{text()}"
    assert_untouched(rig)


def assert_attached_ports(t):
    for dev in ("lan0", "wan0"):
        info = topo.link_info(t.rtr, dev)
        assert "xdp" in info, f"{dev}: no XDP program: {info}"
        assert ours_tc(t.rtr, dev), f"{dev}: no tc_brouter_in filter"


def test_survives_its_log_reader_going_away(rig, pins):
    """brouterd logging into a pipe whose reader has gone (a pager quit, a
    log collector restarted) must not be killed by SIGPIPE: it goes on
    forwarding, still reloads, and still stops cleanly."""
    pd = pins()
    r, w = os.pipe()
    argv = topo._cmdline(rig.rtr, [topo.BROUTERD, "--pin-dir", pd, "-c",
                                   rig.config_file(), "lan0", "wan0"])
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=w, stderr=w,
                            start_new_session=True)
    rig._procs.append(proc)
    os.close(w)
    with os.fdopen(r) as reader:
        got = ""
        while "ready" not in got:
            line = reader.readline()
            assert line, f"brouterd exited {proc.poll()} before ready: {got}"
            got += line
    # the read end is closed: every log line from now on meets EPIPE
    r2 = topo.run(None, [topo.BROUTERCTL, "-p", pd, "reload"], check=False)
    assert proc.poll() is None, f"brouterd died (exit {proc.poll()}) writing its log"
    assert r2.returncode == 0, r2.stderr
    assert_attached(rig, pd)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0
    assert_detached(rig, pd, (False, False))
