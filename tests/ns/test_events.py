# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
brouterd following its ports through rtnetlink events, with real kernel
peers: a LAN port deleted and made again (a USB NIC unplugged and back),
link down and up, a MAC change, ports that appear only after brouterd
started (--wait), and veth peers that cannot take XDP redirects.
(The WAN side, with MAP-E, is in test_tunnel.py.)
"""
import os
import signal
import socket
import struct
import subprocess
import time

import pytest

import bpfsys as bs
import fwmaps as fm
import topo
from topo import run, wait_for

ISP_V6 = topo.ISP_V6
ECHO_PORT = 7070
LAN_MAC, HOST_MAC = "02:0a:00:00:00:01", "02:0b:00:00:00:10"

# An ISP-side TCP echo server, and a LAN client holding one connection:
# each line on its stdin goes out, the echo comes back on its stdout.
ECHO_SERVER = r"""
import socket, threading
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", %d)); s.listen(4)
print("listening", flush=True)
def serve(c):
    while True:
        d = c.recv(100)
        if not d:
            return
        c.sendall(d)
while True:
    threading.Thread(target=serve, args=(s.accept()[0],), daemon=True).start()
""" % ECHO_PORT

# Router advertisements from the ISP's router, five a second: radvd answers
# a solicitation at most every 3 s, and its period is 3-4 s, so this
# measures the bridge, not radvd.
RA_PUMP = r"""
import sys, time
from scapy.all import Ether, IPv6, ICMPv6ND_RA, ICMPv6NDOptPrefixInfo, sendp
ll, mac = sys.argv[1], sys.argv[2]
ra = (Ether(src=mac, dst="33:33:00:00:00:01") / IPv6(src=ll, dst="ff02::1", hlim=255) /
      ICMPv6ND_RA(routerlifetime=600) /
      ICMPv6NDOptPrefixInfo(prefix="2001:db8:1::", prefixlen=64, L=1, A=1,
                            validlifetime=86400, preferredlifetime=14400))
print("pumping", flush=True)
while True:
    sendp(ra, iface="eth0", verbose=False)
    time.sleep(0.2)
"""

ECHO_CLIENT = r"""
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)
for line in sys.stdin:
    c.sendall(line.encode())
    got = b""
    while not got.endswith(b"\n"):
        got += c.recv(100)
    print(got.decode().strip(), flush=True)
"""

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (netns, BPF)")


def new_lines(b, since):
    """brouterd's log lines after offset @since, drop lines left out."""
    return [l for l in b.log()[since:].splitlines() if ": drop " not in l]


def assert_each_once(lines):
    seen = set()
    for l in lines:
        assert l not in seen, f"logged twice for one event: {l!r}\n" + "\n".join(lines)
        seen.add(l)


def script(t, name, text):
    path = os.path.join(t.tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


# ------------------------------------------------------------ LAN port, full rig


@pytest.fixture(scope="module")
def net():
    t = topo.Topology()
    t.start()
    try:
        # the LAN port and the host behind it with MACs that stay across
        # re-creation, so the host keeps its SLAAC address
        run(t.rtr, ["ip", "link", "set", "lan0", "address", LAN_MAC])
        run(t.lan1, ["ip", "link", "set", "eth0", "address", HOST_MAC])
        t.start_brouterd()
        t.wait_slaac()
        yield t
    finally:
        t.close()


def make_lan(t, wait_back=None):
    """lan0 and the host's eth0 as topo.py makes them, same MACs as before;
    the link comes up (carrier, the host's RS) once @wait_back() is true."""
    run(t.lan1, ["sysctl", "-qw", "net.ipv6.conf.default.accept_ra=1",
                 "net.ipv6.conf.default.accept_dad=0",
                 "net.ipv6.conf.default.router_solicitation_delay=0"])
    run(t.rtr, ["ip", "link", "add", "lan0", "address", LAN_MAC, "type", "veth", "peer",
                "name", "eth0", "address", HOST_MAC, "netns", t.lan1])
    run(t.lan1, ["ethtool", "-K", "eth0", "gro", "on"])
    run(t.lan1, ["ethtool", "-K", "eth0", "tx", "off"])
    run(t.lan1, ["ip", "link", "set", "eth0", "up"])
    run(t.lan1, ["ip", "addr", "add", "192.168.50.10/24", "dev", "eth0"])
    if wait_back:
        wait_for(wait_back, timeout=2, interval=0.01, what="brouterd re-attaching lan0")
    run(t.rtr, ["ip", "link", "set", "lan0", "up"])
    run(t.rtr, ["ip", "addr", "add", f"{topo.RTR_LAN_V4}/24", "dev", "lan0"])


def ra_pump(t):
    p = t.popen(t.isp, ["/usr/bin/python3", script(t, "ra_pump.py", RA_PUMP),
                        topo.link_local(t.isp, "eth0"), topo.mac_of(t.isp, "eth0")],
                stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "pumping"
    return p


def ping6_once(t, ns, dst):
    return run(ns, ["ping", "-6", "-c", "1", "-W", "1", dst], check=False,
               timeout=5).returncode == 0


def test_lan_port_deleted_and_made_again_works_within_2s(net):
    """The LAN NIC goes away and comes back (ip link del, then add with the
    same name): brouterd says so once each way, bridging stops meanwhile
    (counted, not crashed), and within 2 s of the port's return the host
    has its SLAAC address again, IPv6 crosses, and a TCP connection opened
    before the loss carries data again (its firewall flow was kept)."""
    t = net
    addr = t.wait_slaac()
    b = t.brouterd
    srv = t.popen(t.isp, ["/usr/bin/python3", script(t, "echo_srv.py", ECHO_SERVER)],
                  stdout=subprocess.PIPE, text=True)
    assert srv.stdout.readline().strip() == "listening"
    t.wait_ping6(t.lan1, ISP_V6)
    cli = t.popen(t.lan1, ["/usr/bin/python3", script(t, "echo_cli.py", ECHO_CLIENT),
                           ISP_V6, str(ECHO_PORT)],
                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    cli.stdin.write("before\n")
    cli.stdin.flush()
    assert cli.stdout.readline().strip() == "before"
    before = b.stats()
    since = len(b.log())

    pump = ra_pump(t)
    # libxdp pins the port's dispatcher by ifindex and id: gone with the port
    old = topo.link_info(t.rtr, "lan0")
    pins = f"/sys/fs/bpf/xdp/dispatch-{old['ifindex']}-{old['xdp']['prog']['id']}"
    had_pins = os.path.isdir(pins)
    run(t.rtr, ["ip", "link", "del", "lan0"])
    wait_for(lambda: "LAN port lan0" in b.log()[since:] and "is gone" in b.log()[since:],
             timeout=2, interval=0.02, what="brouterd noticing lan0 gone")
    assert b.proc.poll() is None, b.log()
    time.sleep(0.3)
    t0 = time.monotonic()
    make_lan(t, lambda: "LAN port lan0 is back" in b.log())
    reattach = time.monotonic() - t0
    wait_for(lambda: topo.slaac_addr(t.lan1) == addr, timeout=2, interval=0.05,
             what="the host's SLAAC address again")
    topo._kill_group(pump)
    wait_for(lambda: ping6_once(t, t.lan1, ISP_V6), timeout=2, interval=0.05,
             what="ping6 LAN -> ISP through the bridge")
    cli.stdin.write("after\n")
    cli.stdin.flush()
    assert cli.stdout.readline().strip() == "after"
    took = time.monotonic() - t0
    assert took < 2.0, f"{took:.2f} s from the port's return to all of it working " \
        f"(re-attached after {reattach:.2f} s)"

    info = topo.link_info(t.rtr, "lan0")
    assert "xdp" in info and "PROMISC" in info["flags"], info
    assert not (had_pins and os.path.exists(pins)), f"{pins} left behind"
    assert b.stats()["lan"]["rx"]["packets"] > before["lan"]["rx"]["packets"]
    lines = new_lines(b, since)
    assert_each_once(lines)
    assert sum("is gone" in l for l in lines) == 1 and sum("is back" in l for l in lines) == 1
    cli.stdin.close()
    topo._kill_group(cli)
    topo._kill_group(srv)


def test_bridging_stops_cleanly_and_counted_while_the_lan_port_is_gone(net):
    """While the LAN port is missing, what the WAN side would bridge to it
    is dropped and counted as no_tx_port; nothing else breaks."""
    t = net
    b = t.brouterd
    addr = t.wait_slaac()
    t.wait_ping6(t.isp, addr)
    since = len(b.log())
    run(t.rtr, ["ip", "link", "del", "lan0"])
    wait_for(lambda: "is gone" in b.log()[since:], timeout=2, interval=0.02,
             what="lan0 gone")
    before = b.stats()["wan"]["no_tx_port"]["packets"]
    run(t.isp, ["ping", "-6", "-c", "3", "-i", "0.2", "-W", "1", addr], check=False)
    assert b.stats()["wan"]["no_tx_port"]["packets"] - before >= 3
    assert b.proc.poll() is None
    make_lan(t)
    wait_for(lambda: "LAN port lan0 is back" in b.log()[since:], timeout=2,
             interval=0.02, what="lan0 back")
    t.wait_slaac()
    t.wait_ping6(t.isp, addr, timeout=5)


def test_lan_link_down_and_up(net):
    t = net
    b = t.brouterd
    since = len(b.log())
    run(t.rtr, ["ip", "link", "set", "lan0", "down"])
    wait_for(lambda: "lan0: link down" in b.log()[since:], timeout=2, interval=0.02,
             what="link down logged")
    run(t.rtr, ["ip", "link", "set", "lan0", "up"])
    wait_for(lambda: "lan0: link up" in b.log()[since:], timeout=2, interval=0.02,
             what="link up logged")
    t.wait_ping6(t.lan1, ISP_V6, timeout=5)
    assert "xdp" in topo.link_info(t.rtr, "lan0")
    assert_each_once(new_lines(b, since))


# ------------------------------------------------------------ minimal rig


@pytest.fixture(scope="module")
def rig():
    with topo.Topology(minimal=True) as t:
        yield t


@pytest.fixture
def daemon(rig):
    b = rig.start_brouterd(pin_dir=f"{rig.pin_dir}-d", log_name="daemon.log")
    yield b
    b.stop()


def settings_mac(pin_dir, port):
    fd = bs.obj_get(os.path.join(pin_dir, "settings"))
    try:
        raw = bs.map_lookup(fd, struct.pack("=I", 0), fm.S["br_settings"].size)
    finally:
        os.close(fd)
    mac = fm.settings_decode(raw)["mac"][port * 6:port * 6 + 6]
    return ":".join(f"{x:02x}" for x in mac)


def test_mac_change_is_in_the_settings_within_100ms(rig, daemon):
    """A port's new MAC is what XDP takes as its own (own-MAC traffic to
    the stack, the loop check) within 100 ms: a link event, not a look
    once a second."""
    for i, mac in enumerate(("02:aa:00:00:00:01", "02:aa:00:00:00:02",
                             "02:aa:00:00:00:03")):
        dev, port = ("lan0", 0) if i % 2 == 0 else ("wan0", 1)
        run(rig.rtr, ["ip", "link", "set", dev, "address", mac])
        t0 = time.monotonic()
        while settings_mac(daemon.pin_dir, port) != mac:
            assert time.monotonic() - t0 < 0.1, \
                f"{dev} MAC {mac} not in the settings after 100 ms"
            time.sleep(0.002)
    assert daemon.log().count("port MAC address changed") == 3


def test_port_renamed_away_and_back(rig, daemon):
    """A rename is the port going away too: brouterd takes its programs off
    the renamed device and puts its promiscuous mode back, then attaches
    again when a device of the port's name is there."""
    since = len(daemon.log())
    run(rig.rtr, ["ip", "link", "set", "lan0", "down"])
    run(rig.rtr, ["ip", "link", "set", "lan0", "name", "lanren0"])
    wait_for(lambda: "LAN port lan0" in daemon.log()[since:] and
             "was renamed" in daemon.log()[since:], timeout=2, interval=0.02,
             what="rename seen")
    def given_back():
        info = topo.link_info(rig.rtr, "lanren0")
        return "xdp" not in info and "PROMISC" not in info["flags"]
    # said first, then undone: closing a tcx link waits for an RCU grace period
    wait_for(given_back, timeout=2, interval=0.02,
             what="XDP and promiscuous mode off lanren0")
    assert not bs.tcx_progs(rig.rtr, "lanren0"), "tc ingress left on the renamed device"
    run(rig.rtr, ["ip", "link", "set", "lanren0", "name", "lan0"])
    run(rig.rtr, ["ip", "link", "set", "lan0", "up"])
    wait_for(lambda: "LAN port lan0 is back" in daemon.log()[since:], timeout=2,
             interval=0.02, what="lan0 back")
    info = topo.link_info(rig.rtr, "lan0")
    assert "xdp" in info and "PROMISC" in info["flags"], info
    assert "brouterd: error:" not in daemon.log()[since:]
    assert "warning: lan0: restore" not in daemon.log()[since:]


def test_wait_starts_once_the_ports_exist(rig):
    """--wait: brouterd started before its ports exist waits (saying so),
    then attaches as soon as both are there."""
    pd = f"{rig.pin_dir}-w"
    b = rig.start_brouterd("--wait", pin_dir=pd, ports=["lanw0", "wanw0"],
                           wait_ready=False, log_name="wait.log")
    wait_for(lambda: "waiting for the WAN port wanw0" in b.log(), timeout=5,
             what="waiting message")
    assert "waiting for the LAN port lanw0" in b.log()
    time.sleep(0.5)
    assert b.proc.poll() is None and "ready" not in b.log(), b.log()
    try:
        run(rig.rtr, ["ip", "link", "add", "lanw0", "type", "veth", "peer", "name", "lanwp"])
        time.sleep(0.3)
        assert "ready" not in b.log(), "attached with one port missing"
        run(rig.rtr, ["ip", "link", "add", "wanw0", "type", "veth", "peer", "name", "wanwp"])
        for d in ("lanw0", "lanwp", "wanw0", "wanwp"):
            run(rig.rtr, ["ip", "link", "set", d, "up"])
        for d in ("lanwp", "wanwp"):
            run(rig.rtr, ["ethtool", "-K", d, "gro", "on"])
        b.wait_ready(timeout=5)
        for d in ("lanw0", "wanw0"):
            assert "xdp" in topo.link_info(rig.rtr, d), d
        assert b.stop() == 0, b.log()
    finally:
        for d in ("lanw0", "wanw0"):
            run(rig.rtr, ["ip", "link", "del", d], check=False)


def test_wait_stops_cleanly_on_sigterm(rig):
    pd = f"{rig.pin_dir}-w2"
    b = rig.start_brouterd("--wait", pin_dir=pd, ports=["lanx0", "wanx0"],
                           wait_ready=False, log_name="wait2.log")
    wait_for(lambda: "waiting for" in b.log(), timeout=5, what="waiting message")
    os.killpg(b.proc.pid, signal.SIGTERM)
    assert b.proc.wait(timeout=5) == 0, b.log()
    assert not os.path.exists(pd)


def test_wait_for_ports_in_the_config_file(rig):
    pd = f"{rig.pin_dir}-w3"
    conf = rig.config_file("wait-for-ports = true;\n", name="wait.conf")
    b = rig.start_brouterd(pin_dir=pd, ports=["lany0", "wany0"], config=conf,
                           wait_ready=False, log_name="wait3.log")
    wait_for(lambda: "waiting for" in b.log(), timeout=5, what="waiting message")
    assert b.stop() == 0
    p = rig.run_brouterd("--pin-dir", pd, "lany0", "wany0")
    assert p.returncode == 1 and "no such interface: lany0" in p.stderr, p.stderr


# ------------------------------------------------------------ veth peers


@pytest.fixture
def veths(rig):
    """lanv0 <-> lanvp (here) and wanv0 <-> eth0 in another namespace."""
    other = rig.prefix + "vpeer"
    run(None, ["ip", "netns", "add", other])
    run(rig.rtr, ["ip", "link", "add", "lanv0", "type", "veth", "peer", "name", "lanvp"])
    run(rig.rtr, ["ip", "link", "add", "wanv0", "type", "veth", "peer", "name", "eth0",
                  "netns", other])
    for d in ("lanv0", "lanvp", "wanv0"):
        run(rig.rtr, ["ip", "link", "set", d, "up"])
    run(other, ["ip", "link", "set", "eth0", "up"])
    yield other
    run(rig.rtr, ["ip", "link", "del", "lanv0"], check=False)
    run(rig.rtr, ["ip", "link", "del", "wanv0"], check=False)
    run(None, ["ip", "netns", "del", other], check=False)


def test_veth_peer_without_gro_or_xdp_is_warned_about_once_with_the_fix(rig, veths):
    """Both ports' veth peers lack GRO and XDP (one here, one in another
    namespace): one warning each, with the fix, at start; turning GRO on
    for the peer here is noticed from its link event, and off again warns
    once more."""
    other = veths
    run(rig.rtr, ["ethtool", "-K", "lanvp", "gro", "off"])
    run(other, ["ethtool", "-K", "eth0", "gro", "off"])
    b = rig.start_brouterd(pin_dir=f"{rig.pin_dir}-v", ports=["lanv0", "wanv0"],
                           log_name="veth.log")
    try:
        log = b.log()
        assert log.count("lanv0 is a veth whose peer lanvp has neither GRO nor an XDP "
                         "program") == 1, log
        assert "Fix: ethtool -K lanvp gro on" in log
        assert log.count("wanv0 is a veth whose peer eth0 (in another network namespace) "
                         "has neither GRO nor an XDP program") == 1, log
        assert "ethtool -K eth0 gro on, in the peer's namespace" in log
        run(rig.rtr, ["ethtool", "-K", "lanvp", "gro", "on"])
        wait_for(lambda: "lanv0: its veth peer lanvp takes XDP redirects now" in b.log(),
                 timeout=2, interval=0.02, what="GRO on noticed")
        run(rig.rtr, ["ethtool", "-K", "lanvp", "gro", "off"])
        wait_for(lambda: b.log().count("lanv0 is a veth whose peer lanvp") == 2,
                 timeout=2, interval=0.02, what="GRO off warned again")
        time.sleep(0.3)
        assert b.log().count("lanv0 is a veth whose peer lanvp") == 2, b.log()
    finally:
        b.stop()


def test_veth_peers_with_gro_or_xdp_are_not_warned_about(rig, veths):
    other = veths
    run(rig.rtr, ["ethtool", "-K", "lanvp", "gro", "on"])
    run(other, ["ethtool", "-K", "eth0", "gro", "off"])
    # an XDP program on the far peer turns its NAPI on as well
    run(other, ["ip", "link", "set", "eth0", "xdpgeneric", "off"])
    run(other, ["ip", "link", "set", "eth0", "xdp", "obj",
                os.path.join(topo.BUILD, "bench", "sink.bpf.o"), "sec", "xdp"])
    b = rig.start_brouterd(pin_dir=f"{rig.pin_dir}-v2", ports=["lanv0", "wanv0"],
                           log_name="veth2.log")
    try:
        assert "is a veth whose peer" not in b.log(), b.log()
    finally:
        b.stop()
