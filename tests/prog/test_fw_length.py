# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
The IPv6 payload length against the frame: a packet that claims more
than the frame holds is truncated and dropped, headers that run past the
payload length are malformed and dropped, and Ethernet padding past it
is the frame's, not the packet's: it crosses untouched.
"""
import os

import pytest
from scapy.all import IPv6, IPv6ExtHdrHopByHop, Raw, TCP, UDP

import bpfsys as bs
from fwrig import (H1, LAN, R1, TCP_P, UDP_P, WAN, bridged, dropped, inb,
                   open_tcp, open_udp, out, tcp, udp)

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root (netns, BPF)")


def with_plen(frame, plen):
    """@frame (Ethernet + IPv6) with the payload length rewritten."""
    return frame[:18] + plen.to_bytes(2, "big") + frame[20:]


def plen_of(frame):
    return int.from_bytes(frame[18:20], "big")


@pytest.mark.parametrize("what", ["tcp_ack", "udp"])
@pytest.mark.parametrize("port", [LAN, WAN], ids=["out", "in"])
def test_payload_length_past_the_frame_is_dropped_truncated(fw, what, port):
    """An established flow's packet cut short (its payload length says
    more than the frame holds) is dropped, not passed on its flow: the
    fast path (TCP ACK, UDP) checks it too."""
    if what == "tcp_ack":
        open_tcp(fw)
        l3 = tcp(H1, R1, 40000, 443, "A") if port == LAN else \
            tcp(R1, H1, 443, 40000, "A")
    else:
        open_udp(fw)
        l3 = udp(H1, R1, 5000, 53) if port == LAN else udp(R1, H1, 53, 5000)
    frame = out(l3 / Raw(b"x" * 100)) if port == LAN else inb(l3 / Raw(b"x" * 100))
    for _ in range(2):  # the second would be a cache hit
        assert fw.send(port, frame) == bridged()
    cut = frame[:-60]
    assert fw.send(port, cut) == dropped("truncated")
    assert fw.send(port, with_plen(frame, plen_of(frame) + 1)) == \
        dropped("truncated")


def test_upper_layer_past_the_payload_length_is_bad_l4(fw):
    """A TCP header in the frame but past the payload length (8 bytes):
    not a TCP packet of the open connection, however its bytes read."""
    open_tcp(fw)
    frame = inb(tcp(R1, H1, 443, 40000, "A"))
    for _ in range(2):
        assert fw.send(WAN, frame) == bridged()
    assert fw.send(WAN, with_plen(frame, 8)) == dropped("bad_l4")


def test_extension_header_past_the_payload_length_is_bad_exthdr(fw):
    """A hop-by-hop header and UDP in the frame, the payload length
    covering neither: the walk must not read what lies past it."""
    open_udp(fw)
    frame = inb(IPv6(src=R1, dst=H1) / IPv6ExtHdrHopByHop() /
                UDP(sport=53, dport=5000) / Raw(b"reply"))
    assert fw.send(WAN, frame) == bridged()
    assert fw.send(WAN, with_plen(frame, 4)) == dropped("bad_exthdr")
    assert fw.send(WAN, with_plen(frame, 0)) == dropped("bad_exthdr")
    # the header fits, the UDP header does not
    assert fw.send(WAN, with_plen(frame, 8 + 4)) == dropped("bad_l4")


@pytest.mark.parametrize("port", [LAN, WAN], ids=["out", "in"])
@pytest.mark.parametrize("pad", [1, 6, 40])
def test_ethernet_padding_past_the_payload_passes_untouched(fw, port, pad):
    """A frame longer than its packet (Ethernet pads short frames to 60
    bytes, some links add trailers) crosses with every byte as it came,
    on the slow path and on the cache's fast path alike."""
    if port == LAN:
        frames = [out(udp(H1, R1, 5000, 53, b"q")), out(tcp(H1, R1, 40000, 443, "A"))]
    else:
        open_udp(fw)
        open_tcp(fw)
        frames = [inb(udp(R1, H1, 53, 5000, b"r")), inb(tcp(R1, H1, 443, 40000, "A"))]
    for frame in frames:
        padded = frame + bytes(range(pad))
        for _ in range(2):
            r, _, pkt = fw.xdp(port, padded)
            assert r.retval == bs.XDP_REDIRECT
            assert pkt == padded
