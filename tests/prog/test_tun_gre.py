# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
BPF program tests for GRE over IPv6 peers (an ipip6 peer with encap =
"gre", RFC 2784, a key RFC 2890): tc egress wraps IPv4 in IPv6 + GRE, XDP
unwraps it, tc ingress reassembles it when the peer fragmented it, on the
programs a real brouterd loaded from a config with two GRE peers (one
keyed) beside an ip4ip6 one.

The expected frames are scapy's GRE and IPv6 layers, built from the RFCs
independently of the code. What a Linux ip6gre peer sends by default is
among them: a Destination Options header with the Tunnel Encapsulation
Limit option (RFC 2473 4.1.1) in front of GRE. Each refusal has its
counter: a key missing, unexpected or wrong is tun_bad_key; a GRE header
of another version, with RFC 1701's routing bits, carrying something else
than IPv4, cut short, or GRE where the tunnel is ip4ip6 (and the reverse)
is tun_bad_inner.
"""
import os
import struct

import pytest
from scapy.all import (GRE, ICMP, IP, TCP, UDP, Ether, HBHOptUnknown, IPv6,
                       IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, PadN, Raw)

import bpfsys as bs
from fwrig import on_one_cpu
from progrig import BR_META_NOTRACK, WAN, expect, meta
from test_tun4in6 import (BR_MAC, TC_ACT_REDIRECT, assert_decap, assert_dropped,
                          decapsulated, ipv4_out, tun_counted, tun_rig)
from test_tun_frag import (PIECE, TC_PASS, TC_ACT_SHOT, TC_ACT_STOLEN, cut, empty,
                           run_all, slots)

GRE_PEER = "2001:db8:ffff::47"
GRE_LOCAL = "2001:db8:12:3400::47"
KEYED_PEER = "2001:db8:ffff::48"
KEYED_LOCAL = "2001:db8:12:3400::48"
IPIP_PEER = "2001:db8:ffff::3"
IPIP_LOCAL = "2001:db8:12:3400::100"
KEY = 0x12d687                          # 1234567
SITE = "10.20.1.1"                      # behind the GRE peer
KEYED_SITE = "10.30.1.1"                # behind the keyed one
LAN_HOST = "192.168.1.10"

CONF = f"""
tunnel = {{
  mode = "off";
  ipip6 = ( {{ local = "{GRE_LOCAL}"; remote = "{GRE_PEER}"; prefixes = [ "10.20.0.0/16" ];
              encap = "gre"; }},
            {{ local = "{KEYED_LOCAL}"; remote = "{KEYED_PEER}"; prefixes = [ "10.30.0.0/16" ];
              encap = "gre"; key = {KEY}; }},
            {{ local = "{IPIP_LOCAL}"; remote = "{IPIP_PEER}"; prefixes = [ "10.40.0.0/16" ]; }} );
}};
"""

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (netns, BPF)")


@pytest.fixture(scope="module")
def gre_rig():
    yield from tun_rig("g", CONF)


@pytest.fixture
def gre(gre_rig):
    with on_one_cpu():
        empty(gre_rig)
        yield gre_rig


def encap_limit():
    """What Linux's ip6gre puts in front of GRE unless told encaplimit none."""
    return IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=4, optdata=b"\x04"),
                                      PadN(optdata=b"")])


def gre_in(rig, src6, dst6, inner, *, key=None, opts=False, **grefields):
    """IPv6 [+ encapsulation limit] + GRE + @inner to the brouter's WAN MAC."""
    g = GRE(proto=0x0800, **grefields)
    if key is not None:
        g.key_present, g.key = 1, key
    outer = IPv6(src=src6, dst=dst6, hlim=64)
    if opts:
        outer = outer / encap_limit()
    return bytes(Ether(src=BR_MAC, dst=rig.mac["wan0"]) / outer / g / inner)


def site_in(dst=LAN_HOST, src=SITE):
    return IP(src=src, dst=dst, ttl=61) / UDP(sport=5000, dport=6000) / Raw(b"gre!")


# ------------------------------------------------------------ setup


def test_maps_hold_the_gre_flags_and_key(gre):
    ins = gre.tun_in()
    a6 = lambda a: bytes(IPv6(src=a))[8:24]   # noqa: E731
    plain = ins[(a6(GRE_PEER), a6(GRE_LOCAL))]
    keyed = ins[(a6(KEYED_PEER), a6(KEYED_LOCAL))]
    ipip = ins[(a6(IPIP_PEER), a6(IPIP_LOCAL))]
    # mode, mtu ... gre_key, flags: the MTU is the tunnel's less GRE's bytes
    assert (plain[2], plain[3], plain[9]) == (3, 1460 - 4, 1)
    assert (keyed[2], keyed[3], keyed[8], keyed[9]) == \
        (3, 1460 - 8, struct.unpack("<I", struct.pack(">I", KEY))[0], 3)
    assert (ipip[3], ipip[8], ipip[9]) == (1460, 0, 0)


def mss_of(tcp_bytes):
    return dict(TCP(tcp_bytes).options).get("MSS")


def test_routes_and_mss_clamp_follow_the_smaller_mtu(gre):
    routes = gre.ns("ip", "-4", "route", "show").stdout
    assert "10.20.0.0/16 via 192.0.0.1 dev wan0 proto 180 onlink mtu 1456" in routes
    assert "10.30.0.0/16 via 192.0.0.1 dev wan0 proto 180 onlink mtu 1452" in routes
    assert "10.40.0.0/16 via 192.0.0.1 dev wan0 proto 180 onlink mtu 1460" in routes
    # SYNs: clamped by the BPF programs to each tunnel's MTU - 40, both ways
    syn = (Ether(src="02:00:00:00:00:aa", dst="02:00:c0:00:00:01") /
           IP(src=LAN_HOST, dst=KEYED_SITE) /
           TCP(sport=40000, dport=22, flags="S", options=[("MSS", 1460)]))
    r = gre.tc_out(bytes(syn))
    assert r.retval == TC_ACT_REDIRECT
    assert mss_of(r.data[14 + 40 + 8 + 20:]) == 1412       # IPv6, keyed GRE, IPv4
    synack = IP(src=SITE, dst=LAN_HOST) / TCP(sport=22, dport=40000, flags="SA",
                                             options=[("MSS", 1460)])
    ret, _, pkt = gre.xdp(WAN, gre_in(gre, GRE_PEER, GRE_LOCAL, synack))
    assert ret.retval == bs.XDP_PASS and mss_of(pkt[34:]) == 1416
    assert "maxseg" not in gre.ns("nft", "list", "table", "ip", "brouter").stdout


# ------------------------------------------------------------ encapsulation


def encapsulated(frame, src6, dst6, key=None):
    eth, inner = frame[Ether], bytes(frame[IP])
    g = GRE(proto=0x0800) if key is None else GRE(proto=0x0800, key_present=1, key=key)
    return bytes(Ether(src=eth.src, dst=eth.dst) /
                 IPv6(src=src6, dst=dst6, nh=47, hlim=64, plen=len(bytes(g)) + len(inner)) /
                 g / Raw(inner))


@pytest.mark.parametrize("dst,src6,dst6,key", [
    (SITE, GRE_LOCAL, GRE_PEER, None),
    (KEYED_SITE, KEYED_LOCAL, KEYED_PEER, KEY),
])
def test_ipv4_to_a_gre_peer_is_wrapped_in_ipv6_and_gre(gre, dst, src6, dst6, key):
    frame = ipv4_out(LAN_HOST, dst)
    before = gre.stats()
    r = gre.tc_out(bytes(frame))
    assert r.retval == TC_ACT_REDIRECT
    assert r.data == encapsulated(frame, src6, dst6, key)
    assert tun_counted(before, gre.stats()) == expect(WAN, len(frame), "encap")


def test_the_ip4ip6_peer_beside_them_stays_ip4ip6(gre):
    frame = ipv4_out(LAN_HOST, "10.40.0.9")
    r = gre.tc_out(bytes(frame))
    assert r.retval == TC_ACT_REDIRECT
    assert IPv6(r.data[14:]).nh == 4 and r.data[54:] == bytes(frame[IP])


# ------------------------------------------------------------ decapsulation


# These peers take no NAT: conntrack runs for the IPv4 fast path alone, and
# the first UDP packet of a flow (whichever parameter sends it first on
# this CPU) goes up for conntrack to skip (tests/prog/test_fp4.py).
FIRST_OR_NOT = (b"", meta(WAN, BR_META_NOTRACK))


@pytest.mark.parametrize("opts", [False, True], ids=["bare", "encap_limit"])
@pytest.mark.parametrize("inner", [
    site_in(),
    IP(src=SITE, dst=LAN_HOST) / TCP(sport=22, dport=40000, flags="SA"),
    IP(src=SITE, dst=LAN_HOST) / ICMP(type=0, id=7, seq=1) / Raw(b"ping"),
], ids=["udp", "tcp", "icmp"])
def test_gre_from_the_peer_is_decapsulated(gre, inner, opts):
    frame = gre_in(gre, GRE_PEER, GRE_LOCAL, inner, opts=opts)
    assert_decap(gre, frame, decapsulated(gre, inner), FIRST_OR_NOT)


@pytest.mark.parametrize("fields", [
    {"chksum_present": 1}, {"seqnum_present": 1, "sequence_number": 99},
    {"chksum_present": 1, "seqnum_present": 1, "sequence_number": 7},
], ids=["checksum", "sequence", "both"])
def test_optional_gre_fields_are_stepped_over(gre, fields):
    inner = site_in(src=KEYED_SITE)
    frame = gre_in(gre, KEYED_PEER, KEYED_LOCAL, inner, key=KEY, **fields)
    assert_decap(gre, frame, decapsulated(gre, inner), FIRST_OR_NOT)


@pytest.mark.parametrize("peer,local,key", [
    (KEYED_PEER, KEYED_LOCAL, KEY + 1),     # wrong key
    (KEYED_PEER, KEYED_LOCAL, None),        # keyed tunnel, no key
    (GRE_PEER, GRE_LOCAL, KEY),             # a key the tunnel has not
], ids=["wrong", "missing", "unexpected"])
def test_key_mismatch_is_dropped_and_counted(gre, peer, local, key):
    assert_dropped(gre, gre_in(gre, peer, local, site_in(), key=key), "tun_bad_key")


def test_bad_gre_headers_are_tun_bad_inner(gre):
    ok = bytes(GRE(proto=0x0800) / site_in())
    bad = [
        bytes([0x00, 0x01]) + ok[2:],          # version 1 (PPTP's)
        bytes([0x40, 0x00]) + ok[2:],          # R: RFC 1701 routing
        bytes([0x08, 0x00]) + ok[2:],          # s: strict source route
        ok[:2] + b"\x86\xdd" + ok[4:],         # IPv6 inside
        ok[:3],                                # GRE header cut short
        bytes([0x20, 0x00]) + ok[2:4] + b"\x00\x01",  # K, the key cut short
    ]
    for g in bad:
        frame = bytes(Ether(src=BR_MAC, dst=gre.mac["wan0"]) /
                      IPv6(src=GRE_PEER, dst=GRE_LOCAL, nh=47) / Raw(g))
        assert_dropped(gre, frame, "tun_bad_inner")


def test_encapsulation_must_be_the_tunnels(gre):
    inner = site_in()
    ipip = bytes(Ether(src=BR_MAC, dst=gre.mac["wan0"]) /
                 IPv6(src=GRE_PEER, dst=GRE_LOCAL, nh=4) / inner)
    assert_dropped(gre, ipip, "tun_bad_inner")
    assert_dropped(gre, gre_in(gre, IPIP_PEER, IPIP_LOCAL, inner), "tun_bad_inner")


def test_gre_from_anyone_else_is_tun_bad_src(gre):
    assert_dropped(gre, gre_in(gre, IPIP_PEER, GRE_LOCAL, site_in()), "tun_bad_src")


def test_other_traffic_with_destination_options_stays_the_stacks(gre):
    """Options followed by ICMPv6 to a tunnel address: not tunnel traffic."""
    frame = bytes(Ether(src=BR_MAC, dst=gre.mac["wan0"]) /
                  IPv6(src=GRE_PEER, dst=GRE_LOCAL) / encap_limit() /
                  Raw(bytes.fromhex("8000f7ff00010001")))
    frame = frame[:54] + bytes([58]) + frame[55:]   # options' next header: ICMPv6
    before = gre.stats()
    r, _, _ = gre.xdp(WAN, frame)
    assert r.retval == bs.XDP_PASS
    assert tun_counted(before, gre.stats()) == {}


# ------------------------------------------------------------ fragments


def gre_frames(rig, payload, sizes, ident, peer, local, nh=47):
    """@payload (GRE + IPv4, or options first) in IPv6 fragments."""
    return [bytes(Ether(src=BR_MAC, dst=rig.mac["wan0"]) /
                  IPv6(src=peer, dst=local, hlim=64) /
                  IPv6ExtHdrFragment(nh=nh, offset=off // 8, m=int(more), id=ident) /
                  Raw(data))
            for off, data, more in cut(payload, sizes)]


def big_inner(n=3000):
    body = (bytes(range(256)) * (n // 256 + 1))[:n - 28]
    return bytes(IP(src=KEYED_SITE, dst=LAN_HOST, id=77, flags=0) /
                 UDP(sport=53, dport=5353) / Raw(body))


@pytest.mark.parametrize("opts", [False, True], ids=["bare", "encap_limit"])
def test_fragmented_gre_is_reassembled_into_the_inner_ipv4(gre, opts):
    inner = big_inner()
    g = GRE(proto=0x0800, key_present=1, key=KEY) / Raw(inner)
    payload = bytes(encap_limit() / g if opts else g)
    data = gre_frames(gre, payload, [PIECE, PIECE], 0x5150 + opts, KEYED_PEER, KEYED_LOCAL,
                      nh=60 if opts else 47)
    data.reverse()
    res, got = run_all(gre, data)
    assert [r.retval for r in res] == [TC_ACT_STOLEN, TC_ACT_STOLEN, TC_PASS], got
    assert res[-1].data == decapsulated(gre, inner)
    assert got[("tun_reasm", WAN)] == (1, 14 + len(inner))
    assert all(s[0] == 0 for s in slots(gre))


def test_fragmented_gre_with_a_wrong_key_is_dropped_fragment_by_fragment(gre):
    payload = bytes(GRE(proto=0x0800, key_present=1, key=KEY ^ 1) / Raw(big_inner()))
    f = gre_frames(gre, payload, [PIECE, PIECE], 0x5160, KEYED_PEER, KEYED_LOCAL)
    res, got = run_all(gre, [f[1], f[0], f[2]])
    assert [r.retval for r in res] == [TC_ACT_STOLEN, TC_ACT_SHOT, TC_ACT_SHOT]
    n, b = 3, sum(map(len, f))
    assert got[("tun_bad_key", WAN)] == (n, b) and got[("drop", WAN)] == (n, b)
