# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Addresses: anti-spoofing by port (RFC 6092 REC-5/6), forbidden and ULA addresses, IPsec pass-through."""
import os

import pytest
from scapy.all import (Ether, ICMPv6DestUnreach, ICMPv6EchoReply,
                       ICMPv6EchoRequest, ICMPv6ND_NS, ICMPv6PacketTooBig,
                       IPv6, IPv6ExtHdrFragment, Raw)

import bpfsys as bs
import fwmaps as fm
from fwrig import (ESP_P, H1, H2, H3, LAN, LAN_MAC2, R1, R2, TCP_P, UDP_P, WAN,
                   ah, bridged, dropped, esp, inb, mono_ago, open_udp, out,
                   tcp, udp)

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root (netns, BPF)")


def test_inbound_from_source_seen_on_lan_dropped_spoof_lan_src(fw):
    fw.send(LAN, out(udp(H2, R1, 6000, 53), src=LAN_MAC2))
    assert H2 in fw.lan_addrs()
    assert fw.send(WAN, inb(tcp(H2, H1, 6000, 80, "A"))) == \
        dropped("spoof_lan_src")
    assert fw.send(WAN, inb(udp(H2, H1, 6000, 7000))) == \
        dropped("spoof_lan_src")
    # the same packet from a source never seen on the LAN: just no flow
    assert fw.send(WAN, inb(udp(H3, H1, 6000, 7000))) == dropped("no_flow")


def test_source_learned_from_lan_multicast_nd_is_spoof_inbound(fw):
    ns = bytes(Ether(src=LAN_MAC2, dst="33:33:ff:00:00:10") /
               IPv6(src=H3, dst="ff02::1:ff00:10", hlim=255) /
               ICMPv6ND_NS(tgt=H1))
    assert fw.send(LAN, ns)[0] == bs.XDP_PASS
    assert H3 in fw.lan_addrs()
    assert fw.send(WAN, inb(tcp(H3, H1, 6000, 80, "A"))) == \
        dropped("spoof_lan_src")


SPOOF_IN = {
    # an EI binding admits any remote, but not one living on the LAN
    "udp_to_ei_binding": lambda: udp(H2, H1, 6000, 5000),
    "echo_request": lambda: IPv6(src=H2, dst=H1) / ICMPv6EchoRequest(id=5),
    "esp_with_ipsec_flag": lambda: esp(H2, H1),
    "icmp_error_of_open_flow": lambda: IPv6(src=H2, dst=H1) /
    ICMPv6PacketTooBig(mtu=1280) / udp(H1, R1, 5000, 53),
}


@pytest.mark.parametrize("kind", SPOOF_IN)
def test_inbound_from_lan_source_dropped_whatever_it_matches(fw, kind):
    """RFC 6092 REC-6, by port: any inbound packet, not only new flows."""
    open_udp(fw)
    fw.send(LAN, out(udp(H2, R1, 6000, 53), src=LAN_MAC2))
    assert H2 in fw.lan_addrs()
    assert fw.send(WAN, inb(SPOOF_IN[kind]())) == dropped("spoof_lan_src")


def test_no_flow_towards_lan_address_so_spoofed_replies_are_dropped(fw):
    """
    An outbound packet to an address seen on the LAN crosses but opens no
    flow: its "replies" from the WAN are spoofed (REC-6), and no flow may
    admit them.
    """
    fw.send(LAN, out(udp(H2, R1, 6000, 53), src=LAN_MAC2))
    assert fw.send(LAN, out(tcp(H1, H2, 40000, 443, "S"))) == bridged()
    assert fw.send(LAN, out(udp(H1, H2, 5000, 53))) == bridged()
    assert fw.flow(H1, H2, TCP_P, 40000, 443) is None
    assert fw.flow(H1, H2, UDP_P, 5000, 53) is None
    assert fw.send(WAN, inb(tcp(H2, H1, 443, 40000, "SA"))) == \
        dropped("spoof_lan_src")
    assert fw.send(WAN, inb(udp(H2, H1, 53, 5000))) == \
        dropped("spoof_lan_src")


def test_outbound_new_flow_from_unknown_global_dropped_spoof_src_out(fw):
    assert fw.send(LAN, out(udp("2001:db8:99::5", R1, 5000, 53))) == \
        dropped("spoof_src_out")
    assert fw.send(LAN, out(tcp("2001:db8:1:1::5", R1, 5000, 80, "S"))) == \
        dropped("spoof_src_out")
    assert fw.flows() == {}
    assert "2001:db8:99::5" not in fw.lan_addrs()


SPOOF_OUT = {
    "echo_reply": lambda src: IPv6(src=src, dst=R1) / ICMPv6EchoReply(id=1),
    "dest_unreach": lambda src: IPv6(src=src, dst=R1) /
    ICMPv6DestUnreach(code=4) / udp(R1, src, 53, 5000),
    "non_first_fragment": lambda src: IPv6(src=src, dst=R1) /
    IPv6ExtHdrFragment(m=0, offset=4, id=3, nh=UDP_P) / Raw(b"x" * 8),
}


@pytest.mark.parametrize("kind", SPOOF_OUT)
def test_outbound_stateless_kinds_from_unknown_global_dropped(fw, kind):
    """RFC 6092 REC-5: every outbound packet, not only those opening flows."""
    assert fw.send(LAN, out(SPOOF_OUT[kind]("2001:db8:99::5"))) == \
        dropped("spoof_src_out")
    # the same from the LAN's prefix is fine
    assert fw.send(LAN, out(SPOOF_OUT[kind](H1))) == bridged()


def test_outbound_from_link_local_passes(fw):
    assert fw.send(LAN, out(udp("fe80::10", R1, 5000, 53))) == \
        bridged(new=True)


def test_outbound_prefix_learning_follows_prefixes_map(fw):
    src = "2001:db8:2::5"
    assert fw.send(LAN, out(udp(src, R1, 5000, 53))) == \
        dropped("spoof_src_out")
    fw.add_prefix("2001:db8:2::", 64)
    assert fw.send(LAN, out(udp(src, R1, 5000, 53))) == bridged(new=True)
    # an expired prefix is no longer valid
    fw.add_prefix("2001:db8:3::", 64)
    bs.map_update(fw.fd("prefixes"), fm.prefix_key("2001:db8:3::", 64),
                  fm.prefix_val(fm.BR_PFX_RA, mono_ago(1)))
    assert fw.send(LAN, out(udp("2001:db8:3::5", R1, 5000, 53))) == \
        dropped("spoof_src_out")


BAD_SRC = ["ff02::1", "ff0e::5", "::1", "::ffff:192.0.2.1", "::"]
BAD_DST = ["::", "::1", "::ffff:192.0.2.1"]


@pytest.mark.parametrize("src", BAD_SRC)
@pytest.mark.parametrize("port", [LAN, WAN], ids=["out", "in"])
def test_forbidden_source_dropped_bad_src(fw, port, src):
    if port == LAN:
        f = out(udp(src, R1, 5000, 53))
    else:
        f = inb(udp(src, H1, 53, 5000))
    assert fw.send(port, f) == dropped("bad_src")


@pytest.mark.parametrize("dst", BAD_DST)
@pytest.mark.parametrize("port", [LAN, WAN], ids=["out", "in"])
def test_forbidden_destination_dropped_bad_dst(fw, port, dst):
    f = out(udp(H1, dst, 5000, 53)) if port == LAN else \
        inb(udp(R1, dst, 53, 5000))
    assert fw.send(port, f) == dropped("bad_dst")


@pytest.mark.parametrize("src,dst,port", [
    ("fd00:1::5", R1, LAN), (H1, "fd00:2::1", LAN),
    ("fd00:2::1", H1, WAN), (R1, "fd00:1::5", WAN),
    ("fc00::1", R1, LAN)])
def test_ula_dropped_by_default(fw, src, dst, port):
    f = out(udp(src, dst, 5000, 53)) if port == LAN else \
        inb(udp(src, dst, 53, 5000))
    assert fw.send(port, f) == dropped("ula")


def test_ula_passes_with_ula_flag(fw):
    fw.set_flags(on=fm.BR_PF_ULA)
    assert fw.send(LAN, out(udp(H1, "fd00:2::1", 5000, 53))) == \
        bridged(new=True)
    assert fw.send(WAN, inb(udp("fd00:2::1", H1, 53, 5000))) == bridged()
    fw.add_prefix("fd00:1::", 64)
    assert fw.send(LAN, out(udp("fd00:1::5", R1, 5000, 53))) == \
        bridged(new=True)
    assert fw.send(WAN, inb(udp(R1, "fd00:1::5", 53, 5000))) == bridged()


# ----------------------------------------------------------------- IPsec


def test_inbound_esp_ah_ike_pass_with_ipsec_flag(fw):
    assert fw.send(WAN, inb(esp(R1, H1))) == bridged()
    assert fw.send(WAN, inb(ah(R1, H1))) == bridged()
    assert fw.send(WAN, inb(udp(R1, H1, 500, 500))) == bridged()
    assert fw.send(WAN, inb(udp(R1, H1, 4500, 4500))) == bridged()
    assert fw.flows() == {}


def test_inbound_esp_ike_dropped_no_flow_without_ipsec_flag(fw):
    fw.set_flags(off=fm.BR_PF_IPSEC)
    assert fw.send(WAN, inb(esp(R1, H1))) == dropped("no_flow")
    assert fw.send(WAN, inb(ah(R1, H1))) == dropped("no_flow")
    assert fw.send(WAN, inb(udp(R1, H1, 500, 500))) == dropped("no_flow")
    assert fw.send(WAN, inb(udp(R1, H1, 4500, 4500))) == dropped("no_flow")


def test_outbound_esp_opens_flow_by_addresses(fw):
    fw.set_flags(off=fm.BR_PF_IPSEC)
    assert fw.send(LAN, out(esp(H1, R1))) == bridged(new=True)
    assert fw.flow(H1, R1, ESP_P) is not None
    assert fw.send(WAN, inb(esp(R1, H1))) == bridged()
    assert fw.send(WAN, inb(esp(R2, H1))) == dropped("no_flow")
    assert fw.send(WAN, inb(esp(R1, H2))) == dropped("no_flow")
    # other protocols time out after 600 s
    fw.age_flows(600 + 10, lan=H1)
    assert fw.send(WAN, inb(esp(R1, H1))) == dropped("no_flow")
