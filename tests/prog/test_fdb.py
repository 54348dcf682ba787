# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
The learning FDB under the firewall: it learns only from frames that
cross, so spoofed frames the firewall drops (or keeps to the brouter's
stack) neither move a LAN station to the WAN nor fill the table, while a
station that really moves is followed.
"""
import os
import random

import pytest

import bpfsys as bs
from fwrig import (H1, H2, LAN, LAN_MAC, LAN_MAC2, R1, WAN, bridged, dropped,
                   open_udp, out, passed, tcp, udp)
from scapy.all import Ether, IPv6, UDP

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root (netns, BPF)")


def fdb_size(fw):
    return sum(1 for _ in bs.map_keys(fw.fd("fdb"), 8))


def spoofed_syn(src_mac, dport=22):
    """An unsolicited inbound SYN carrying @src_mac: dropped, syn_in."""
    return bytes(Ether(src=src_mac, dst=LAN_MAC) /
                 tcp(R1, H1, 40000, dport, "S"))


def lan_local(dst_mac=LAN_MAC):
    """LAN station 2 to station 1, as a switch floods it to the brouter."""
    return bytes(Ether(src=LAN_MAC2, dst=dst_mac) / udp(H2, H1, 7000, 7001))


def test_dropped_wan_frame_does_not_move_a_lan_station(fw):
    fw.clear_fdb()
    open_udp(fw)  # station 1 talks through the brouter: learned on the LAN
    assert fw.fdb_port(LAN_MAC) == LAN
    assert fw.send(WAN, spoofed_syn(LAN_MAC)) == dropped("syn_in")
    assert fw.fdb_port(LAN_MAC) == LAN
    # so LAN-local unicast to station 1 stays on the LAN
    assert fw.send(LAN, lan_local()) == dropped("same_port")


def test_multicast_kept_local_teaches_nothing(fw):
    """A WAN multicast the firewall keeps to the brouter (not copied to
    the LAN) is not a station's frame either."""
    fw.clear_fdb()
    open_udp(fw)
    frame = bytes(Ether(src=LAN_MAC, dst="33:33:00:00:00:01") /
                  IPv6(src=R1, dst="ff02::1") / UDP(sport=9, dport=9))
    assert fw.send(WAN, frame) == passed("flood_local")
    assert fw.fdb_port(LAN_MAC) == LAN


def test_station_that_moves_to_the_wan_is_followed(fw):
    """Seen on the LAN, then sending from the WAN frames the firewall
    admits (replies of a flow station 2 opened to it): now on the WAN,
    and frames from the LAN to it cross."""
    fw.clear_fdb()
    open_udp(fw)
    assert fw.fdb_port(LAN_MAC) == LAN
    assert fw.send(LAN, out(udp(H2, R1, 6000, 53), src=LAN_MAC2)) == \
        bridged(new=True)
    moved = bytes(Ether(src=LAN_MAC, dst=LAN_MAC2) / udp(R1, H2, 53, 6000))
    assert fw.send(WAN, moved) == bridged()
    assert fw.fdb_port(LAN_MAC) == WAN
    to_it = bytes(Ether(src=LAN_MAC2, dst=LAN_MAC) / udp(H2, R1, 6000, 53))
    assert fw.send(LAN, to_it) == bridged()


def test_spoofed_flood_from_the_wan_fills_nothing(fw):
    """
    A flood of spoofed inbound frames, each from another source MAC
    (unsolicited SYNs, UDP to closed ports, multicast the LAN never
    gets), all refused: the FDB keeps its size and the LAN station its
    port, while the station's own traffic still crosses.
    """
    fw.clear_fdb()
    open_udp(fw)
    before = fdb_size(fw)
    rnd = random.Random(13)
    kinds = {"syn_in": 0, "no_flow": 0, "flood_local": 0}
    for i in range(600):
        mac = "02:%02x:%02x:%02x:%02x:%02x" % tuple(rnd.randrange(256) for _ in range(5))
        if i % 3 == 0:
            frame, want = spoofed_syn(mac, 1 + i), "syn_in"
        elif i % 3 == 1:
            frame = bytes(Ether(src=mac, dst=LAN_MAC) / udp(R1, H1, 53, 1000 + i))
            want = "no_flow"
        else:
            frame = bytes(Ether(src=mac, dst="33:33:00:00:00:01") /
                          IPv6(src=R1, dst="ff02::1") / UDP(sport=9, dport=i))
            want = "flood_local"
        verdict, counts = fw.send(WAN, frame)
        assert counts.get(want) == 1, (i, counts)
        kinds[want] += 1
    assert kinds == {"syn_in": 200, "no_flow": 200, "flood_local": 200}
    assert fdb_size(fw) == before
    assert fw.fdb_port(LAN_MAC) == LAN
    assert fw.send(LAN, out(udp(H1, R1, 5000, 53))) == bridged()
