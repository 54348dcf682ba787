# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
VLAN-tagged frames with the tag ethertypes configured as bridged
(bridge.ethertypes 0x8100, 0x88a8): what a frame carries behind up to two
tags decides, exactly as if it came untagged. Tagged IPv6 goes through
the firewall (flows, pinholes, the flow cache, the FDB), tagged IPv4 and
ARP to the stack, and nothing crosses around the firewall.
"""
import os

import pytest
from scapy.all import ARP, IP, UDP, Dot1AD, Dot1Q, Ether, IPv6, Raw

import bpfsys as bs
from fwrig import (H1, LAN, LAN_MAC, R1, WAN, WAN_MAC, FwRig, bridged, dropped,
                   on_one_cpu, passed, tcp, udp)
from progrig import running

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root (netns, BPF)")

TAGS = {
    "q": lambda: Dot1Q(vlan=10),
    "ad": lambda: Dot1AD(vlan=100),
    "qinq": lambda: Dot1AD(vlan=100) / Dot1Q(vlan=10),
}


@pytest.fixture(scope="module")
def vrig():
    yield from running(FwRig(tag="v", conf="bridge = { ethertypes = [ 0x8100, 0x88a8 ]; };\n"))


@pytest.fixture
def vfw(vrig):
    vrig.reset()
    with on_one_cpu():
        yield vrig


def tagged(port, tags, l3):
    src, dst = (LAN_MAC, WAN_MAC) if port == LAN else (WAN_MAC, LAN_MAC)
    return bytes(Ether(src=src, dst=dst) / TAGS[tags]() / l3)


@pytest.mark.parametrize("tags", TAGS)
def test_tagged_inbound_syn_without_a_flow_is_dropped_syn_in(vfw, tags):
    frame = tagged(WAN, tags, tcp(R1, H1, 40000, 22, "S"))
    assert vfw.send(WAN, frame) == dropped("syn_in")
    assert vfw.send(WAN, tagged(WAN, tags, udp(R1, H1, 53, 5000))) == \
        dropped("no_flow")


@pytest.mark.parametrize("tags", TAGS)
def test_tagged_flow_both_directions_and_the_cache(vfw, tags):
    """A tagged outbound packet opens the flow; its tagged replies pass,
    again and again (the flow cache, probed by the firewall, for these);
    the frames leave unchanged, tags and all."""
    frame = tagged(LAN, tags, udp(H1, R1, 5000, 53))
    assert vfw.send(LAN, frame) == bridged(new=True)
    reply = tagged(WAN, tags, udp(R1, H1, 53, 5000))
    for _ in range(3):
        r, _, pkt = vfw.xdp(WAN, reply)
        assert r.retval == bs.XDP_REDIRECT and pkt == reply
    assert vfw.fdb_port(LAN_MAC) == LAN
    # a TCP connection, handshake and all, tagged both ways
    assert vfw.send(LAN, tagged(LAN, tags, tcp(H1, R1, 40000, 443, "S"))) == \
        bridged(new=True)
    assert vfw.send(WAN, tagged(WAN, tags, tcp(R1, H1, 443, 40000, "SA"))) == bridged()
    assert vfw.send(WAN, tagged(WAN, tags, tcp(R1, H1, 443, 40000, "A"))) == bridged()


@pytest.mark.parametrize("tags", TAGS)
@pytest.mark.parametrize("port", [LAN, WAN], ids=["lan", "wan"])
def test_tagged_ipv4_and_arp_go_to_the_stack(vfw, tags, port):
    for l3 in (IP(src="192.0.2.1", dst="192.0.2.2") / UDP(), ARP()):
        r, meta, pkt = vfw.xdp(port, tagged(port, tags, l3))
        assert r.retval == bs.XDP_PASS and meta == b""


@pytest.mark.parametrize("port", [LAN, WAN], ids=["lan", "wan"])
def test_tagged_ipv6_checked_like_untagged(vfw, port):
    good = tagged(port, "q", udp(H1, R1, 5000, 53) if port == LAN else
                  udp(R1, H1, 53, 5000))
    assert vfw.send(port, good[:-3]) == dropped("truncated")
    bad = bytearray(good)
    bad[18] = 0x40  # version 4 in an IPv6 header
    assert vfw.send(port, bytes(bad)) == dropped("bad_ipv6")
    assert vfw.send(port, good[:16]) == dropped("runt")  # cut inside the tag


def test_more_than_two_tags_is_not_bridged(vfw):
    frame = bytes(Ether(src=WAN_MAC, dst=LAN_MAC) / Dot1AD(vlan=1) / Dot1Q(vlan=2) /
                  Dot1Q(vlan=3) / tcp(R1, H1, 40000, 22, "S"))
    assert vfw.send(WAN, frame) == passed("pass")


def test_tags_not_configured_go_to_the_stack(fw):
    """Without the tag ethertypes configured, tagged frames are the
    stack's (a VLAN device on the WAN, say), as before."""
    frame = tagged(WAN, "q", tcp(R1, H1, 40000, 22, "S"))
    assert fw.send(WAN, frame) == passed("pass")
