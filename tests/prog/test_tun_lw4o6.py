# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
BPF program tests for lw4o6 (RFC 7596) and a fixed IPv4 address over
ip4ip6 (tunnel.mode "ipip"), on the programs a real brouterd loaded from
each config.

lw4o6: address 192.0.2.77, PSID 52 of 8 bits, offset 6 (the port set of
RFC 7597 Appendix A example 1: A * 1024 + 52 * 4 + j), operator prefix
2001:db8:12:3400::/56, so the lwB4's softwire address is the prefix,
subnet 0, then RFC 7597 6's interface identifier 0 : 192.0.2.77 : 52 =
2001:db8:12:3400:0:c000:24d:34 (RFC 7598 4.6). Written here from the
RFCs; brouterd computes it with its MAP-E code (a rule without EA bits).

Fixed address: the provider's block 203.0.113.8/29, of which brouter
takes the first host, 203.0.113.9, for itself and the LAN's NAPT.
"""
import json
import os
import socket

import pytest
from scapy.all import ICMP, IP, TCP, UDP, Ether, Raw

import bpfsys as bs
from progrig import BROUTERCTL, run
from test_tun4in6 import (IN_SET, INET, NOT_IN_SET, assert_decap, assert_dropped,
                          assert_encap, decapsulated, encapsulated, in6, ipv4_out,
                          stand_in)
from test_tun_frag import module_rig

LWAFTR = "2001:db8:ffff::4"
LW4 = "192.0.2.77"
B4 = "2001:db8:12:3400:0:c000:24d:34"
FIX_LOCAL = "2001:db8:12:3400::f1"
FIX_REMOTE = "2001:db8:ffff::5"
FIX4 = "203.0.113.9"
OTHER = "2001:db8:ffff::99"

LW4O6_CONF = f"""
tunnel = {{
  mode = "lw4o6";
  lw4o6 = {{ aftr = "{LWAFTR}"; ipv4 = "{LW4}"; psid-len = 8; psid = 52;
            prefix = "2001:db8:12:3400::/56"; }};
}};
"""

FIXED_CONF = f"""
tunnel = {{
  mode = "ipip";
  ipip = {{ local = "{FIX_LOCAL}"; remote = "{FIX_REMOTE}"; ipv4 = "203.0.113.8/29"; }};
}};
"""

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (netns, BPF)")


lw = module_rig("lw", "l", LW4O6_CONF)
fixed = module_rig("fixed", "x", FIXED_CONF)


def a6(a):
    return socket.inet_pton(socket.AF_INET6, a)


def a4(a):
    return int.from_bytes(socket.inet_aton(a), "little")


def ctl_tunnel(rig):
    return json.loads(run(BROUTERCTL, "-p", rig.pin_dir, "tunnel", "--json").stdout)


# ------------------------------------------------------------ lw4o6


def test_lw4o6_softwire_is_the_rfc7598_address_with_the_port_set(lw):
    t = lw.tun_in()[(a6(LWAFTR), a6(B4))]
    assert t[2:8] == (4, 1460, a4(LW4), 52, 8, 6)
    assert lw.tun_out()[(0, bytes(4))][2] == 4
    addrs = lw.ns("ip", "addr", "show", "dev", "wan0").stdout
    assert f"{B4}/128" in addrs and f"{LW4}/32" in addrs
    out = ctl_tunnel(lw)["tun_out"][0]
    assert (out["mode"], out["local"], out["remote"], out["ce_ipv4"], out["psid"]) == \
        ("lw4o6", B4, LWAFTR, LW4, 52)
    assert out["ports"][0] == [1232, 1235] and out["port_count"] == 252


def test_lw4o6_napt_uses_the_whole_port_set_as_map_e_does(lw):
    """conntrack NATs into 252 stand-ins, one per port of the set, swapped
    for those ports on the wire (tun/napt.h), as for MAP-E."""
    nat = lw.ns("nft", "list", "chain", "ip", "brouter", "nat_out").stdout
    assert f"snat to {LW4}:1-252" in nat, nat
    # a shared address: tc egress drops protocols without ports
    portless = (Ether(src="02:00:00:00:00:aa", dst="02:00:c0:00:00:01") /
                IP(src=LW4, dst=INET, proto=47) / Raw(b"gre" * 10))
    assert lw.tc_out(bytes(portless)).retval == bs.TC_ACT_SHOT


def test_lw4o6_ipv4_is_wrapped_b4_to_lwaftr_stand_ins_swapped(lw):
    assert_encap(lw, ipv4_out(LW4, INET), B4, LWAFTR)
    eth = Ether(src="02:00:00:00:00:aa", dst="02:00:c0:00:00:01")
    frame = eth / IP(src=LW4, dst=INET, id=7) / UDP(sport=stand_in(2257), dport=53)
    want = eth / IP(src=LW4, dst=INET, id=7) / UDP(sport=2257, dport=53)
    r = lw.tc_out(bytes(frame))
    assert r.data == encapsulated(want, B4, LWAFTR)


@pytest.mark.parametrize("port", IN_SET)
def test_lw4o6_port_of_the_set_is_decapsulated_onto_its_stand_in(lw, port):
    for inner, want in (
            (IP(src=INET, dst=LW4) / UDP(sport=53, dport=port) / Raw(b"x"),
             IP(src=INET, dst=LW4) / UDP(sport=53, dport=stand_in(port)) / Raw(b"x")),
            (IP(src=INET, dst=LW4) / ICMP(type=0, id=port),
             IP(src=INET, dst=LW4) / ICMP(type=0, id=stand_in(port)))):
        assert_decap(lw, in6(lw, LWAFTR, B4, inner), decapsulated(lw, want))


@pytest.mark.parametrize("port", NOT_IN_SET)
def test_lw4o6_port_outside_the_set_is_tun_bad_port(lw, port):
    inner = IP(src=INET, dst=LW4) / TCP(sport=80, dport=port, flags="SA")
    assert_dropped(lw, in6(lw, LWAFTR, B4, inner), "tun_bad_port")


def test_lw4o6_refuses_other_addresses_and_senders(lw):
    inner = IP(src=INET, dst="192.0.2.78") / UDP(dport=IN_SET[0])
    assert_dropped(lw, in6(lw, LWAFTR, B4, inner), "tun_bad_dst")
    inner = IP(src=INET, dst=LW4) / UDP(dport=IN_SET[0])
    assert_dropped(lw, in6(lw, OTHER, B4, inner), "tun_bad_src")


# ------------------------------------------------------------ fixed address


def test_fixed_address_is_the_blocks_first_host_on_the_wan(fixed):
    t = fixed.tun_in()[(a6(FIX_REMOTE), a6(FIX_LOCAL))]
    assert t[2:7] == (5, 1460, a4(FIX4), 0, 0)
    addrs = fixed.ns("ip", "addr", "show", "dev", "wan0").stdout
    assert f"{FIX4}/32" in addrs and f"{FIX_LOCAL}/128" in addrs
    routes = fixed.ns("ip", "-4", "route", "show").stdout
    assert "default via 192.0.0.1 dev wan0 proto 180 onlink mtu 1460" in routes
    out = ctl_tunnel(fixed)["tun_out"][0]
    assert (out["mode"], out["ce_ipv4"], out["port_count"]) == ("ipip", FIX4, 65536)


def test_fixed_address_napt_takes_every_port_and_protocol(fixed):
    nat = fixed.ns("nft", "list", "chain", "ip", "brouter", "nat_out").stdout
    assert f'oifname "wan0" snat to {FIX4}' in nat
    # a whole address carries protocols without ports
    portless = (Ether(src="02:00:00:00:00:aa", dst="02:00:c0:00:00:01") /
                IP(src=FIX4, dst=INET, proto=47) / Raw(b"gre" * 10))
    assert fixed.tc_out(bytes(portless)).retval != bs.TC_ACT_SHOT


def test_fixed_address_ipv4_is_wrapped_to_the_provider(fixed):
    assert_encap(fixed, ipv4_out(FIX4, INET), FIX_LOCAL, FIX_REMOTE)


@pytest.mark.parametrize("port", [1, 208, 22, 65535])
def test_fixed_address_takes_any_port(fixed, port):
    inner = IP(src=INET, dst=FIX4) / TCP(sport=443, dport=port, flags="S")
    assert_decap(fixed, in6(fixed, FIX_REMOTE, FIX_LOCAL, inner), decapsulated(fixed, inner))


def test_fixed_address_refuses_the_rest_of_the_block_and_others(fixed):
    inner = IP(src=INET, dst="203.0.113.10") / UDP(dport=53)
    assert_dropped(fixed, in6(fixed, FIX_REMOTE, FIX_LOCAL, inner), "tun_bad_dst")
    inner = IP(src=INET, dst=FIX4) / UDP(dport=53)
    assert_dropped(fixed, in6(fixed, OTHER, FIX_LOCAL, inner), "tun_bad_src")
