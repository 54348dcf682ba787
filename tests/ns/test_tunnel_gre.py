# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
A GRE over IPv6 peer (the site-to-site recipe of `ip -6 tunnel add ...
mode ip6gre`, here keyed) end to end, on test_tunnel.py's namespaces: the
peer is tests/lib/softwire.py's, written from RFC 2784 and 2890, on the
ISP side at 2001:db8:ffff::47; behind it, the Internet host's
10.20.0.1. It sends what Linux's ip6gre sends by default: a Tunnel
Encapsulation Limit option in front of GRE.

Proves: ICMP, UDP and TCP from a LAN host to the peer's site and back,
a megabyte each way compared by SHA-256 through the 1452-byte tunnel
(GRE's 8 bytes off the 1460), the MSS of the SYN clamped to 1412, and
GRE with another key (or none) dropped and counted as tun_bad_key,
reaching nobody.
"""
import hashlib
import os
import time

import pytest

from topo import run, wait_for
from test_tunnel import (BR4IN6, DOWNLOAD, ECHO, INET_GW, LAN_HOST, PEER_HOST, PEER_LOCAL,
                         PYTHON, SINK, SOURCE, TCP_ONE, UDP_ECHO, UDP_ONE, UPLOAD, Rig,
                         inner_udp, wan_counter)

GRE_PEER = "2001:db8:ffff::47"
KEY = 4242
GRE_MTU, GRE_MSS = 1460 - 8, 1460 - 8 - 40

CONF = f"""
tunnel = {{
  mode = "off";
  ipip6 = ( {{ local = "{PEER_LOCAL}"; remote = "{GRE_PEER}"; prefixes = [ "10.20.0.0/16" ];
              encap = "gre"; key = {KEY}; }} );
}};
"""


@pytest.fixture(scope="module")
def rig():
    r = Rig()
    r.start()
    try:
        run(r.isp, ["ip", "-6", "addr", "add", f"{GRE_PEER}/128", "dev", "lo"])
        run(r.inet, ["ip", "route", "replace", "192.168.50.0/24", "via", INET_GW])
        yield r
    finally:
        r.close()


@pytest.fixture(scope="module")
def gre(rig):
    peer = rig.start_br("gre", "--mode", "ipip6", "--addr", GRE_PEER, "--peer", PEER_LOCAL,
                        "--encap", "gre", "--gre-key", str(KEY), "--encap-limit",
                        "--return-prefix", "192.168.50.0/24")
    b = rig.start_brouterd(CONF, "gre")
    b.brs, b.peer = [peer], peer
    wait_for(lambda: PEER_LOCAL in rig.wan_addrs(), timeout=20, what="GRE local address")
    yield b
    rig.stop_tunnel(b)


def test_icmp_udp_tcp_to_the_peers_site(rig, gre):
    before = {k: wan_counter(gre, k) for k in ("decap", "encap")}
    rig.ping(PEER_HOST)
    assert rig.lan_py(UDP_ONE, PEER_HOST, UDP_ECHO) == "udp through the tunnel"
    assert rig.lan_py(TCP_ONE, PEER_HOST, ECHO) == "brouter tunnel"
    src, _ = rig.inet_events("echo")[-1]
    assert src == LAN_HOST, "a peer's prefix is routed, not NAT-ed"
    st = rig.br_stats(gre.peer)
    assert st["out_bad"] == 0 and st["bad_key"] == 0, st["bad"]
    assert st["out_ok"] >= 5 and st["in_ok"] >= 5, st
    assert wan_counter(gre, "decap") - before["decap"] >= 5
    assert wan_counter(gre, "encap") - before["encap"] >= 5


def test_a_megabyte_each_way_through_the_gre_mtu(rig, gre):
    data = os.urandom(1 << 20)
    path = rig.script("gre-up.bin", "")
    with open(path, "wb") as f:
        f.write(data)
    rig.lan_py(UPLOAD, PEER_HOST, SINK, path, timeout=120)
    wait_for(lambda: rig.inet_events("sink"), timeout=20, what="the upload at the sink")
    src, _, digest, n = rig.inet_events("sink")[-1]
    assert (src, digest, int(n)) == (LAN_HOST, hashlib.sha256(data).hexdigest(), len(data))
    digest, n = rig.lan_py(DOWNLOAD, PEER_HOST, SOURCE, timeout=120).split()
    with open(rig.big, "rb") as f:
        assert digest == hashlib.sha256(f.read()).hexdigest()
    routes = rig.routes4()
    assert f"10.20.0.0/16 via 192.0.0.1 dev wan0 proto 180 onlink mtu {GRE_MTU}" in routes
    st = rig.br_stats(gre.peer)
    assert st["out_bad"] == 0, st["bad"]


def test_syn_mss_clamped_for_the_gre_mtu(rig, gre):
    run(rig.lan, ["ip", "route", "flush", "cache"])
    at_peer_site = rig.tcpdump(rig.inet, f"tcp port {ECHO} and tcp[tcpflags] & tcp-syn != 0")
    assert rig.lan_py(TCP_ONE, PEER_HOST, ECHO) == "brouter tunnel"
    time.sleep(0.3)  # tcpdump prints what it saw
    out = rig.capture_lines(at_peer_site)
    assert f"mss {GRE_MSS}" in out, out


@pytest.mark.parametrize("key", [KEY + 1, None], ids=["wrong", "missing"])
def test_gre_of_another_key_is_dropped_and_counted(rig, gre, key):
    before = {k: wan_counter(gre, k) for k in ("tun_bad_key", "decap")}
    cmd = [PYTHON, BR4IN6, "inject", "--gre", "--src", GRE_PEER, "--dst", PEER_LOCAL,
           "--hex", inner_udp(LAN_HOST, 9, src=PEER_HOST), "--count", "4"]
    run(rig.isp, cmd + (["--gre-key", str(key)] if key is not None else []))
    wait_for(lambda: wan_counter(gre, "tun_bad_key") - before["tun_bad_key"] == 4,
             timeout=5, what="tun_bad_key += 4")
    assert wan_counter(gre, "decap") == before["decap"]
