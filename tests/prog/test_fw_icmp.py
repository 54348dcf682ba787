# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""ICMPv6 (RFC 4890): echo, errors quoting open flows, ND hop limits, DHCPv6 and multicast from the WAN."""
import os

import pytest
from scapy.all import (Ether, ICMPv6DestUnreach, ICMPv6EchoReply,
                       ICMPv6EchoRequest, ICMPv6ND_NA, ICMPv6ND_NS,
                       ICMPv6ND_RA, ICMPv6ND_RS, ICMPv6ND_Redirect,
                       ICMPv6PacketTooBig, ICMPv6ParamProblem,
                       ICMPv6TimeExceeded, IPv6, Raw, UDP)

import fwmaps as fm
from fwrig import (H1, H2, ICMP6_P, ISP_LL, LAN, R1, R2, R3, WAN, WAN_MAC,
                   bridged, dropped, icmp_raw, inb, open_tcp, open_udp, out,
                   passed, tcp, udp)

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root (netns, BPF)")


def test_icmp_echo_out_reply_in_passes(fw):
    assert fw.send(LAN, out(IPv6(src=H1, dst=R1) /
                            ICMPv6EchoRequest(id=0x1234, seq=1))) == \
        bridged(new=True)
    assert fw.flow(H1, R1, ICMP6_P, 0x1234, 0) is not None
    assert fw.send(WAN, inb(IPv6(src=R1, dst=H1) /
                            ICMPv6EchoReply(id=0x1234, seq=1))) == bridged()


def test_icmp_unsolicited_echo_reply_dropped_no_flow(fw):
    fw.send(LAN, out(IPv6(src=H1, dst=R1) / ICMPv6EchoRequest(id=0x1234)))
    assert fw.send(WAN, inb(IPv6(src=R1, dst=H1) /
                            ICMPv6EchoReply(id=0x1235))) == dropped("no_flow")
    assert fw.send(WAN, inb(IPv6(src=R2, dst=H1) /
                            ICMPv6EchoReply(id=0x1234))) == dropped("no_flow")


def test_icmp_echo_flow_aged_past_60s_reply_dropped(fw):
    fw.send(LAN, out(IPv6(src=H1, dst=R1) / ICMPv6EchoRequest(id=7)))
    fw.age_flows(60 + 10, lan=H1)
    assert fw.send(WAN, inb(IPv6(src=R1, dst=H1) / ICMPv6EchoReply(id=7))) \
        == dropped("no_flow")


def test_icmp_inbound_echo_request_passes_by_default(fw):
    assert fw.send(WAN, inb(IPv6(src=R1, dst=H1) /
                            ICMPv6EchoRequest(id=9))) == bridged()
    assert fw.flows() == {}


def test_icmp_inbound_echo_request_dropped_echo_in_without_flag(fw):
    fw.set_flags(off=fm.BR_PF_ECHO_IN)
    assert fw.send(WAN, inb(IPv6(src=R1, dst=H1) /
                            ICMPv6EchoRequest(id=9))) == dropped("echo_in")


ERRORS = {
    "dest_unreach": lambda: ICMPv6DestUnreach(code=1),
    "packet_too_big": lambda: ICMPv6PacketTooBig(mtu=1280),
    "time_exceeded": lambda: ICMPv6TimeExceeded(),
    "param_problem": lambda: ICMPv6ParamProblem(ptr=6),
}


@pytest.mark.parametrize("err", ERRORS)
@pytest.mark.parametrize("proto", ["udp", "tcp"])
def test_icmp_error_quoting_open_flow_passes(fw, err, proto):
    if proto == "udp":
        open_udp(fw)
        quoted = udp(H1, R1, 5000, 53)
    else:
        open_tcp(fw)
        quoted = tcp(H1, R1, 40000, 443, "A")
    msg = IPv6(src=R3, dst=H1) / ERRORS[err]() / quoted
    assert fw.send(WAN, inb(msg)) == bridged()


@pytest.mark.parametrize("err", ERRORS)
def test_icmp_error_quoting_unrelated_packet_dropped(fw, err):
    open_udp(fw)
    for quoted, dst in [(udp(H1, R1, 5001, 53), H1),   # other LAN port
                        (udp(H2, R1, 5000, 53), H2),   # other LAN host
                        (udp(H1, R1, 5000, 53), H2),   # H1's flow, to H2
                        (tcp(H1, R1, 5000, 53, "A"), H1)]:  # other proto
        msg = IPv6(src=R3, dst=dst) / ERRORS[err]() / quoted
        assert fw.send(WAN, inb(msg)) == dropped("icmp_unrelated"), \
            quoted.summary()


def test_icmp_error_quoting_echo_request_of_open_flow_passes(fw):
    fw.send(LAN, out(IPv6(src=H1, dst=R1) / ICMPv6EchoRequest(id=0x77)))
    msg = IPv6(src=R3, dst=H1) / ICMPv6DestUnreach() / \
        IPv6(src=H1, dst=R1) / ICMPv6EchoRequest(id=0x77)
    assert fw.send(WAN, inb(msg)) == bridged()
    msg = IPv6(src=R3, dst=H1) / ICMPv6DestUnreach() / \
        IPv6(src=H1, dst=R1) / ICMPv6EchoRequest(id=0x78)
    assert fw.send(WAN, inb(msg)) == dropped("icmp_unrelated")


ND = {
    "rs": lambda: ICMPv6ND_RS(),
    "ra": lambda: ICMPv6ND_RA(),
    "ns": lambda: ICMPv6ND_NS(tgt=H1),
    "na": lambda: ICMPv6ND_NA(tgt=R1),
    "redirect": lambda: ICMPv6ND_Redirect(tgt=R1, dst=R2),
}


@pytest.mark.parametrize("nd", ND)
def test_nd_with_hop_limit_255_passes(fw, nd):
    assert fw.send(WAN, inb(IPv6(src=ISP_LL, dst=H1, hlim=255) / ND[nd]())) \
        == bridged()


@pytest.mark.parametrize("nd", ND)
def test_nd_with_hop_limit_64_dropped_nd_hoplimit(fw, nd):
    assert fw.send(WAN, inb(IPv6(src=ISP_LL, dst=H1, hlim=64) / ND[nd]())) \
        == dropped("nd_hoplimit")


@pytest.mark.parametrize("typ", [200, 139])
def test_unknown_icmp_type_dropped_icmp_type(fw, typ):
    assert fw.send(WAN, inb(icmp_raw(R1, H1, typ))) == dropped("icmp_type")


H1_LL = "fe80::10"


def test_dhcpv6_answer_to_a_link_local_client_passes_without_state(fw):
    """The Advertise/Reply to a multicast Solicit/Request goes to the
    link-local address the client sent it from: no flow to match."""
    assert fw.send(WAN, inb(udp(ISP_LL, H1_LL, 547, 546))) == bridged()
    assert fw.send(WAN, inb(udp("2001:db8:f00::547", H1_LL, 547, 546))) == \
        bridged()
    assert fw.flows() == {}
    # only server -> client: 546 -> 547 or 547 -> 547 are not replies
    assert fw.send(WAN, inb(udp(ISP_LL, H1_LL, 546, 547))) == dropped("no_flow")
    assert fw.send(WAN, inb(udp(ISP_LL, H1_LL, 547, 547))) == dropped("no_flow")


@pytest.mark.parametrize("src", [ISP_LL, "2001:db8:f00::547"])
def test_dhcpv6_reply_to_a_global_address_needs_a_flow(fw, src):
    """547 -> 546 to a global LAN address from anyone: no exception, so
    a spoofed flood of them stops here; the reply to a client's own
    unicast from that address matches the flow its request opened."""
    assert fw.send(WAN, inb(udp(src, H1, 547, 546))) == dropped("no_flow")
    assert fw.send(LAN, out(udp(H1, src, 546, 547))) == bridged(new=True)
    assert fw.send(WAN, inb(udp(src, H1, 547, 546))) == bridged()


def test_multicast_ra_from_wan_is_flooded(fw):
    f = bytes(Ether(src=WAN_MAC, dst="33:33:00:00:00:01") /
              IPv6(src=ISP_LL, dst="ff02::1", hlim=255) / ICMPv6ND_RA())
    assert fw.send(WAN, f) == passed("flood")


def test_multicast_ra_hop_limit_64_from_wan_kept_local(fw):
    f = bytes(Ether(src=WAN_MAC, dst="33:33:00:00:00:01") /
              IPv6(src=ISP_LL, dst="ff02::1", hlim=64) / ICMPv6ND_RA())
    assert fw.send(WAN, f) == passed("flood_local")


def test_inbound_multicast_mdns_kept_local(fw):
    f = bytes(Ether(src=WAN_MAC, dst="33:33:00:00:00:fb") /
              IPv6(src="fe80::99", dst="ff02::fb") /
              UDP(sport=5353, dport=5353) / Raw(b"mdns"))
    assert fw.send(WAN, f) == passed("flood_local")


def test_inbound_multicast_dhcpv6_reply_is_flooded(fw):
    f = bytes(Ether(src=WAN_MAC, dst="33:33:00:01:00:02") /
              IPv6(src=ISP_LL, dst="ff02::1:2") /
              UDP(sport=547, dport=546) / Raw(b"adv"))
    assert fw.send(WAN, f) == passed("flood")
