# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Policy: pinholes, the other modes, and policy generations switched by a reload."""
import os

import pytest
from scapy.all import (Ether, ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6ND_NS,
                       ICMPv6ND_RA, ICMPv6ND_RS, IPv6)

import bpfsys as bs
import fwmaps as fm
from fwrig import (H1, H2, H3, ICMP6_P, ISP_LL, LAN, LAN_MAC, LAN_MAC2, R1, R2,
                   TCP_P, UDP_P, WAN, WAN_MAC, bridged, dropped, esp, icmp_raw,
                   inb, open_udp, out, passed, state, tcp, udp)

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root (netns, BPF)")


def test_pinhole_host_tcp22_admits_syn_and_creates_syn_recv_flow(fw):
    fw.add_pinhole(H1, 128, 1, [(TCP_P, [22], 7, [])])
    assert fw.send(WAN, inb(tcp(R1, H1, 51000, 22, "S"))) == \
        bridged(new=True)
    f = fw.flow(H1, R1, TCP_P, 22, 51000)
    assert f is not None, fw.flows()
    assert fm.FS_NAME[f["state"]] == "SYN_RECV"
    assert f["opened_by"] == WAN and f["rule_id"] == 7
    assert fw.send(LAN, out(tcp(H1, R1, 22, 51000, "SA"))) == bridged()
    assert state(fw, H1, R1, TCP_P, 22, 51000) == "ESTABLISHED"
    assert fw.send(WAN, inb(tcp(R1, H1, 51000, 22, "A"))) == bridged()


def test_pinhole_host_tcp22_does_not_open_port_23_or_other_host(fw):
    fw.add_pinhole(H1, 128, 1, [(TCP_P, [22], 7, [])])
    assert fw.send(WAN, inb(tcp(R1, H1, 51000, 23, "S"))) == \
        dropped("syn_in")
    assert fw.send(WAN, inb(tcp(R1, H2, 51000, 22, "S"))) == \
        dropped("syn_in")
    assert fw.send(WAN, inb(udp(R1, H1, 51000, 22))) == dropped("no_flow")
    assert fw.flows() == {}


def test_pinhole_prefix_64_matches_first_and_last_not_next_prefix(fw):
    fw.add_pinhole("2001:db8:1:2::", 64, 3, [(TCP_P, [80], 1, [])])
    for dst in ("2001:db8:1:2::", "2001:db8:1:2:ffff:ffff:ffff:ffff"):
        assert fw.send(WAN, inb(tcp(R1, dst, 51000, 80, "S"))) == \
            bridged(new=True), dst
    for dst in ("2001:db8:1:3::", "2001:db8:1:1:ffff:ffff:ffff:ffff"):
        assert fw.send(WAN, inb(tcp(R1, dst, 51000, 80, "S"))) == \
            dropped("syn_in"), dst


def test_pinhole_port_range_matches_edges_not_outside(fw):
    fw.add_pinhole(H1, 128, 4, [(UDP_P, range(1000, 1011), 2, [])])
    for port in (1000, 1010):
        assert fw.send(WAN, inb(udp(R1, H1, 7000, port))) == \
            bridged(new=True), port
        f = fw.flow(H1, R1, UDP_P, port, 7000)
        assert f["opened_by"] == WAN and f["rule_id"] == 2
    for port in (999, 1011):
        assert fw.send(WAN, inb(udp(R1, H1, 7000, port))) == \
            dropped("no_flow"), port


def test_pinhole_any_port_rule(fw):
    fw.add_pinhole(H1, 128, 5, [(TCP_P, None, 3, [])])
    for port in (1, 22, 65535):
        assert fw.send(WAN, inb(tcp(R1, H1, 51000, port, "S"))) == \
            bridged(new=True), port
    assert fw.send(WAN, inb(udp(R1, H1, 7000, 22))) == dropped("no_flow")


def test_pinhole_any_proto_rule(fw):
    fw.set_flags(off=fm.BR_PF_IPSEC | fm.BR_PF_ECHO_IN)
    fw.add_pinhole(H1, 128, 6, [(fm.BR_PIN_PROTO_ANY, None, 4, [])])
    assert fw.send(WAN, inb(tcp(R1, H1, 51000, 8080, "S"))) == \
        bridged(new=True)
    assert fw.send(WAN, inb(udp(R1, H1, 7000, 9))) == bridged(new=True)
    assert fw.send(WAN, inb(esp(R1, H1))) == bridged(new=True)
    assert fw.send(WAN, inb(IPv6(src=R1, dst=H1) /
                            ICMPv6EchoRequest(id=1))) == bridged()
    assert fw.send(WAN, inb(udp(R1, H2, 7000, 9))) == dropped("no_flow")


def test_pinhole_source_restricted(fw):
    fw.add_pinhole(H1, 128, 7, [(TCP_P, [22], 5,
                                 [("2001:db8:aaaa::", 48),
                                  ("2001:db8:bbbb::1", 128)])])
    for src in ("2001:db8:aaaa::1", "2001:db8:aaaa:ffff:ffff:ffff:ffff:ffff",
                "2001:db8:bbbb::1"):
        assert fw.send(WAN, inb(tcp(src, H1, 51000, 22, "S"))) == \
            bridged(new=True), src
    for src in ("2001:db8:aaab::1", "2001:db8:aaa9:ffff::1",
                "2001:db8:bbbb::2", R1):
        assert fw.send(WAN, inb(tcp(src, H1, 51000, 22, "S"))) == \
            dropped("syn_in"), src


def test_pinhole_icmpv6_type_rule(fw):
    fw.set_flags(off=fm.BR_PF_ECHO_IN)
    fw.add_pinhole(H1, 128, 8, [(ICMP6_P, [128, 200], 6, [])])
    assert fw.send(WAN, inb(IPv6(src=R1, dst=H1) /
                            ICMPv6EchoRequest(id=1))) == bridged()
    assert fw.send(WAN, inb(icmp_raw(R1, H1, 200))) == bridged()
    assert fw.send(WAN, inb(icmp_raw(R1, H1, 201))) == dropped("icmp_type")
    assert fw.send(WAN, inb(IPv6(src=R1, dst=H2) /
                            ICMPv6EchoRequest(id=1))) == dropped("echo_in")
    assert fw.send(WAN, inb(icmp_raw(R1, H2, 200))) == dropped("icmp_type")


def test_pinhole_does_not_admit_lan_source(fw):
    fw.add_pinhole(H1, 128, 1, [(TCP_P, [22], 7, [])])
    fw.send(LAN, out(udp(H2, R1, 6000, 53), src=LAN_MAC2))
    assert fw.send(WAN, inb(tcp(H2, H1, 51000, 22, "S"))) == \
        dropped("spoof_lan_src")


# ------------------------------------------------------------------ modes


def test_stateless_tcp_mode(fw):
    fw.set_policy(mode=fm.BR_FW_STATELESS_TCP)
    for flags in ("A", "PA", "FA", "R", "SA"):
        assert fw.send(WAN, inb(tcp(R1, H1, 443, 40000, flags))) == \
            bridged(), flags
    assert fw.send(WAN, inb(tcp(R1, H1, 51000, 22, "S"))) == \
        dropped("syn_in")
    assert fw.send(WAN, inb(udp(R1, H1, 53, 5000))) == dropped("no_flow")
    assert fw.send(WAN, inb(udp(ISP_LL, "fe80::10", 547, 546))) == bridged()
    # the classic recipe's ACK rule still refuses LAN sources (from ND)
    ns = bytes(Ether(src=LAN_MAC2, dst="33:33:ff:00:00:10") /
               IPv6(src=H3, dst="ff02::1:ff00:10", hlim=255) /
               ICMPv6ND_NS(tgt=H1))
    assert fw.send(LAN, ns)[0] == bs.XDP_PASS
    assert fw.send(WAN, inb(tcp(H3, H1, 443, 40000, "A"))) == \
        dropped("spoof_lan_src")
    # outbound passes without opening state
    assert fw.send(LAN, out(tcp(H1, R1, 40000, 443, "S"))) == bridged()
    assert fw.send(LAN, out(udp(H1, R1, 5000, 53))) == bridged()
    assert fw.send(WAN, inb(udp(R1, H1, 53, 5000))) == dropped("no_flow")
    assert fw.flows() == {}


def test_stateless_tcp_learns_lan_sources_from_outbound_unicast(fw):
    """Anti-spoofing learns from LAN-side traffic in every mode."""
    fw.set_policy(mode=fm.BR_FW_STATELESS_TCP)
    assert fw.send(LAN, out(udp(H2, R1, 6000, 53), src=LAN_MAC2)) == \
        bridged()
    assert fw.send(WAN, inb(tcp(H2, H1, 443, 40000, "A"))) == \
        dropped("spoof_lan_src")


def test_open_mode_everything_passes(fw):
    fw.set_policy(mode=fm.BR_FW_OPEN)
    for f in (tcp(R1, H1, 51000, 22, "S"), tcp(R1, H1, 443, 40000, "A"),
              udp(R1, H1, 53, 5000), icmp_raw(R1, H1, 200),
              IPv6(src=R1, dst=H1) / ICMPv6EchoReply(id=3), esp(R1, H1)):
        assert fw.send(WAN, inb(f)) == bridged(), f.summary()
    assert fw.send(LAN, out(udp("2001:db8:99::5", R1, 5000, 53))) == \
        bridged()
    assert fw.flows() == {}


def test_lan_ipv6_off_drops_unicast_both_ways(fw):
    fw.set_policy(lan_ipv6=0)
    assert fw.send(LAN, out(udp(H1, R1, 5000, 53))) == \
        dropped("lan_ipv6_off")
    assert fw.send(WAN, inb(udp(ISP_LL, "fe80::10", 547, 546))) == \
        dropped("lan_ipv6_off")
    assert fw.send(WAN, inb(IPv6(src=ISP_LL, dst=H1, hlim=255) /
                            ICMPv6ND_NS(tgt=H1))) == dropped("lan_ipv6_off")


def test_lan_ipv6_off_keeps_multicast_local(fw):
    fw.set_policy(lan_ipv6=0)
    ra = bytes(Ether(src=WAN_MAC, dst="33:33:00:00:00:01") /
               IPv6(src=ISP_LL, dst="ff02::1", hlim=255) / ICMPv6ND_RA())
    assert fw.send(WAN, ra) == passed("flood_local")
    rs = bytes(Ether(src=LAN_MAC, dst="33:33:00:00:00:02") /
               IPv6(src="fe80::10", dst="ff02::2", hlim=255) / ICMPv6ND_RS())
    assert fw.send(LAN, rs) == passed("flood_local")


# ------------------------------------------------- generations (reloads)


def flip_gen(fw):
    """What brouterd's reload does: the next generation, gen + 1."""
    s = fw.settings()
    g = s["gen"] & 1
    s["pol"][1 - g] = dict(s["pol"][g])
    fw.write_settings(s)   # the new generation's policy first ...
    s["gen"] += 1
    fw.write_settings(s)   # ... then the switch alone


def test_pinhole_in_inactive_generation_takes_effect_on_flip(fw):
    open_udp(fw)
    inactive = 1 - fw.gen()
    fw.add_pinhole(H1, 128, 9, [(TCP_P, [22], 1, [])], gen=inactive)
    assert fw.send(WAN, inb(tcp(R1, H1, 51000, 22, "S"))) == \
        dropped("syn_in")
    flip_gen(fw)
    assert fw.gen() == inactive
    assert fw.send(WAN, inb(tcp(R2, H1, 51001, 22, "S"))) == \
        bridged(new=True)
    # the flow opened under the old generation survives the flip
    assert fw.send(WAN, inb(udp(R1, H1, 53, 5000))) == bridged()
    # and the old generation's rules are not consulted any more
    fw.add_pinhole(H1, 128, 10, [(TCP_P, [23], 2, [])], gen=1 - inactive)
    assert fw.send(WAN, inb(tcp(R1, H1, 51000, 23, "S"))) == \
        dropped("syn_in")


def test_policy_of_inactive_generation_is_not_used(fw):
    s = fw.settings()
    g = s["gen"] & 1
    s["pol"][1 - g]["mode"] = fm.BR_FW_OPEN
    fw.write_settings(s)
    assert fw.send(WAN, inb(tcp(R1, H1, 51000, 22, "S"))) == \
        dropped("syn_in")
