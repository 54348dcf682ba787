# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Extension headers (RFC 5095, 7045) and fragments (RFC 7112): the walk's bounds and the fragment verdicts."""
import struct

import os

import pytest
from scapy.all import (IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                       IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, Raw, TCP, UDP)

import bpfsys as bs
import fwmaps as fm
from fwrig import (AH_P, ESP_P, H1, H2, LAN, R1, R2, TCP_P, UDP_P, WAN, bridged,
                   dropped, inb, mono_ago, open_udp, out)

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root (netns, BPF)")


def test_rh0_with_segments_left_dropped_rh0(fw):
    for port, mk, src, dst in [(LAN, out, H1, R1), (WAN, inb, R1, H1)]:
        p = IPv6(src=src, dst=dst) / \
            IPv6ExtHdrRouting(type=0, segleft=1, addresses=[R2]) / \
            UDP(sport=5000, dport=53)
        assert fw.send(port, mk(p)) == dropped("rh0")


def test_rh0_with_segments_left_0_passes_the_check(fw):
    p = IPv6(src=H1, dst=R1) / \
        IPv6ExtHdrRouting(type=0, segleft=0, addresses=[R2]) / \
        UDP(sport=5000, dport=53)
    assert fw.send(LAN, out(p)) == bridged(new=True)
    p = IPv6(src=R1, dst=H1) / \
        IPv6ExtHdrRouting(type=0, segleft=0, addresses=[R2]) / \
        UDP(sport=53, dport=5000)
    assert fw.send(WAN, inb(p)) == bridged()


def test_hop_by_hop_and_dstopts_chain_passes(fw):
    p = IPv6(src=H1, dst=R1) / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() / \
        UDP(sport=5000, dport=53)
    assert fw.send(LAN, out(p)) == bridged(new=True)
    assert fw.flow(H1, R1, UDP_P, 5000, 53) is not None
    p = IPv6(src=R1, dst=H1) / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() / \
        UDP(sport=53, dport=5000)
    assert fw.send(WAN, inb(p)) == bridged()


def test_nine_chained_dstopts_dropped_bad_exthdr(fw):
    chain = IPv6(src=R1, dst=H1)
    for _ in range(9):
        chain = chain / IPv6ExtHdrDestOpt()
    open_udp(fw)
    assert fw.send(WAN, inb(chain / UDP(sport=53, dport=5000))) == \
        dropped("bad_exthdr")


@pytest.mark.parametrize("port", [LAN, WAN], ids=["out", "in"])
def test_ext_header_cut_inside_its_first_bytes_dropped_bad_exthdr(fw, port):
    src, dst = (H1, R1) if port == LAN else (R1, H1)
    p = IPv6(src=src, dst=dst, nh=60) / Raw(bytes([UDP_P, 0]))
    assert fw.send(port, (out if port == LAN else inb)(p)) == \
        dropped("bad_exthdr")


@pytest.mark.parametrize("nh", [UDP_P, 59, ESP_P],
                         ids=["then_udp", "then_none", "then_esp"])
@pytest.mark.parametrize("port", [LAN, WAN], ids=["out", "in"])
def test_ext_header_longer_than_packet_dropped_bad_exthdr(fw, port, nh):
    """A dst-opts header claiming 32 bytes, of which the packet has 8."""
    src, dst = (H1, R1) if port == LAN else (R1, H1)
    p = IPv6(src=src, dst=dst, nh=60) / Raw(bytes([nh, 3, 1, 4, 0, 0, 0, 0]))
    assert fw.send(port, (out if port == LAN else inb)(p)) == \
        dropped("bad_exthdr")


# ------------------------------------------------------------- fragments


@pytest.mark.parametrize("port", [LAN, WAN], ids=["out", "in"])
def test_first_fragment_without_full_tcp_header_dropped_frag_short(fw, port):
    src, dst = (H1, R1) if port == LAN else (R1, H1)
    p = IPv6(src=src, dst=dst) / \
        IPv6ExtHdrFragment(m=1, offset=0, id=0x51, nh=TCP_P) / \
        Raw(bytes(TCP(sport=443, dport=40000, flags="A"))[:8])
    assert fw.send(port, (out if port == LAN else inb)(p)) == \
        dropped("frag_short")


def test_first_fragment_of_open_flow_passes_and_its_followers(fw):
    open_udp(fw)
    first = IPv6(src=R1, dst=H1) / \
        IPv6ExtHdrFragment(m=1, offset=0, id=0xabcd, nh=UDP_P) / \
        UDP(sport=53, dport=5000, len=8 + 64) / Raw(b"a" * 24)
    assert fw.send(WAN, inb(first)) == bridged()
    assert (R1, H1, 0xabcd) in fw.frags()
    nxt = IPv6(src=R1, dst=H1) / \
        IPv6ExtHdrFragment(m=1, offset=4, id=0xabcd, nh=UDP_P) / \
        Raw(b"b" * 16)
    assert fw.send(WAN, inb(nxt)) == bridged()
    last = IPv6(src=R1, dst=H1) / \
        IPv6ExtHdrFragment(m=0, offset=6, id=0xabcd, nh=UDP_P) / \
        Raw(b"c" * 16)
    assert fw.send(WAN, inb(last)) == bridged()


def test_atomic_fragment_is_a_whole_packet(fw):
    """Offset 0 without M (RFC 6946): judged like an unfragmented one."""
    p = IPv6(src=H1, dst=R1) / \
        IPv6ExtHdrFragment(m=0, offset=0, id=5, nh=UDP_P) / \
        UDP(sport=5000, dport=53)
    assert fw.send(LAN, out(p)) == bridged(new=True)
    p = IPv6(src=R1, dst=H1) / \
        IPv6ExtHdrFragment(m=0, offset=0, id=6, nh=UDP_P) / \
        UDP(sport=53, dport=5000)
    assert fw.send(WAN, inb(p)) == bridged()
    assert fw.frags() == set()


def test_non_first_fragment_with_unknown_id_dropped_frag_orphan(fw):
    open_udp(fw)
    fw.send(WAN, inb(IPv6(src=R1, dst=H1) /
                     IPv6ExtHdrFragment(m=1, offset=0, id=1, nh=UDP_P) /
                     UDP(sport=53, dport=5000) / Raw(b"a" * 24)))
    for src, fid in [(R1, 2), (R2, 1)]:
        nxt = IPv6(src=src, dst=H1) / \
            IPv6ExtHdrFragment(m=0, offset=4, id=fid, nh=UDP_P) / \
            Raw(b"b" * 16)
        assert fw.send(WAN, inb(nxt)) == dropped("frag_orphan")


def test_fragments_follow_their_first_for_60s_only(fw):
    open_udp(fw)
    fw.send(WAN, inb(IPv6(src=R1, dst=H1) /
                     IPv6ExtHdrFragment(m=1, offset=0, id=0x60, nh=UDP_P) /
                     UDP(sport=53, dport=5000) / Raw(b"a" * 24)))
    key = fm.pack("br_frag_key", src=fm.a6(R1), dst=fm.a6(H1),
                  id=struct.pack("!I", 0x60))
    bs.map_update(fw.fd("frags"), key,
                  fm.pack("br_frag_val", seen_ns=mono_ago(70)))
    nxt = IPv6(src=R1, dst=H1) / \
        IPv6ExtHdrFragment(m=0, offset=4, id=0x60, nh=UDP_P) / Raw(b"b" * 8)
    assert fw.send(WAN, inb(nxt)) == dropped("frag_orphan")


def test_fragments_of_a_dropped_first_are_orphans(fw):
    first = IPv6(src=R1, dst=H1) / \
        IPv6ExtHdrFragment(m=1, offset=0, id=0x99, nh=UDP_P) / \
        UDP(sport=53, dport=5000) / Raw(b"a" * 24)
    assert fw.send(WAN, inb(first)) == dropped("no_flow")
    assert fw.frags() == set()
    nxt = IPv6(src=R1, dst=H1) / \
        IPv6ExtHdrFragment(m=0, offset=4, id=0x99, nh=UDP_P) / Raw(b"b" * 8)
    assert fw.send(WAN, inb(nxt)) == dropped("frag_orphan")


# AH, Mobility, HIP and Shim6 end the walk: they are the protocol.

def header8(next_header):
    """An 8-byte header in the extension-header format whose next header
    is @next_header (as a shim6 payload header carries the upper layer)."""
    return bytes([next_header, 0, 0, 0, 0, 0, 0, 0])


def tcp_syn_bytes(sport, dport):
    return bytes(TCP(sport=sport, dport=dport, flags="S"))


@pytest.mark.parametrize("proto", [135, 139, 140])
def test_mobility_hip_shim6_are_protocols_not_walked(fw, proto):
    """What follows them (here a TCP SYN) is not looked into: inbound
    they need a flow or a pinhole for the protocol itself, which then
    matches whatever they carry; outbound they open a flow of their own."""
    syn = header8(TCP_P) + tcp_syn_bytes(40000, 22)
    pkt = IPv6(src=R1, dst=H1, nh=proto) / Raw(syn)
    assert fw.send(WAN, inb(pkt)) == dropped("no_flow")
    fw.add_pinhole(H1, 128, 1, [(proto, None, 0, [])])
    assert fw.send(WAN, inb(pkt)) == bridged(new=True)
    assert fw.flow(H1, R1, proto) is not None
    assert fw.flow(H1, R1, TCP_P, 22, 40000) is None
    # outbound: a flow of that protocol, replies from that peer only
    fw.clear("pin_rules")
    fw.clear("flows")
    assert fw.send(LAN, out(IPv6(src=H2, dst=R1, nh=proto) / Raw(syn))) == \
        bridged(new=True)
    assert fw.send(WAN, inb(IPv6(src=R1, dst=H2, nh=proto) / Raw(syn))) == \
        bridged()
    assert fw.send(WAN, inb(IPv6(src=R2, dst=H2, nh=proto) / Raw(syn))) == \
        dropped("no_flow")


def test_ah_is_the_protocol_with_ipsec_off(fw):
    """AH carrying a TCP SYN: with ipsec = false it needs an AH flow
    (no_flow, not syn_in: the SYN behind it is not looked at)."""
    fw.set_flags(off=fm.BR_PF_IPSEC)
    pkt = IPv6(src=R1, dst=H1, nh=AH_P) / Raw(
        bytes([TCP_P, 4, 0, 0]) + b"\0\0\1\0" + bytes(16) + tcp_syn_bytes(40000, 22))
    assert fw.send(WAN, inb(pkt)) == dropped("no_flow")
    fw.set_flags(on=fm.BR_PF_IPSEC)
    assert fw.send(WAN, inb(pkt)) == bridged()
