# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
Inbound echo requests (RFC 4890 4.3.1: allowed by default) at most
firewall.echo-rate a second, unicast and multicast together, the rest
dropped and counted (echo_rate); time moved by the programs' clock.
"""
import os

import pytest
from scapy.all import Ether, ICMPv6EchoRequest, IPv6

import bpfsys as bs
import fwmaps as fm
from fwrig import (H1, H2, ICMP6_P, R1, WAN, WAN_MAC, bridged, dropped, inb,
                   passed)

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root (netns, BPF)")


def echo(dst=H1, seq=1):
    return inb(IPv6(src=R1, dst=dst) / ICMPv6EchoRequest(id=9, seq=seq))


def echo_all_nodes(seq=1):
    return bytes(Ether(src=WAN_MAC, dst="33:33:00:00:00:01") /
                 IPv6(src=R1, dst="ff02::1") / ICMPv6EchoRequest(id=9, seq=seq))


def flood(fw, n, frame=echo):
    """Verdicts of @n echo requests in a row, by what they counted. Runs
    without reading counters in between, so the burst takes milliseconds
    of the one-second window; the counters must agree at the end."""
    names = {bs.XDP_REDIRECT: "bridged", bs.XDP_DROP: "echo_rate",
             bs.XDP_PASS: "flood"}
    out = {}
    before = fw.stats()
    for i in range(n):
        key = names[fw.xdp(WAN, frame(seq=i))[0].retval]
        out[key] = out.get(key, 0) + 1
    moved = {name: counts[2] for name, counts in
             ((k, [a - b for a, b in zip(fw.stats()[k], before[k])]) for k in out)}
    assert moved == out, (moved, out)
    return out


def test_default_rate_is_100_a_second(fw):
    assert fw.policy()["echo_rate"] == 100
    fw.advance(2)  # a window of its own
    assert flood(fw, 110) == {"bridged": 100, "echo_rate": 10}


def test_echo_over_the_rate_is_dropped_until_the_next_second(fw):
    fw.set_policy(echo_rate=5)
    fw.advance(2)
    assert flood(fw, 8) == {"bridged": 5, "echo_rate": 3}
    assert fw.send(WAN, echo(H2)) == dropped("echo_rate")  # every host's share
    fw.advance(0.5)
    assert fw.send(WAN, echo()) == dropped("echo_rate")
    fw.advance(0.6)  # the window began 1.1 s ago
    assert flood(fw, 6) == {"bridged": 5, "echo_rate": 1}


def test_multicast_echo_shares_the_rate(fw):
    fw.set_policy(echo_rate=3)
    fw.advance(2)
    assert flood(fw, 2, echo_all_nodes) == {"flood": 2}
    assert fw.send(WAN, echo()) == bridged()
    assert fw.send(WAN, echo_all_nodes()) == dropped("echo_rate")
    assert fw.send(WAN, echo()) == dropped("echo_rate")


def test_rate_0_is_no_limit(fw):
    fw.set_policy(echo_rate=0)
    fw.advance(2)
    assert flood(fw, 300) == {"bridged": 300}


def test_echo_pinhole_is_not_limited(fw):
    """A pinhole for echo to one host is the operator's choice: its
    requests pass beyond the rate, which still binds the others."""
    fw.set_policy(echo_rate=2)
    fw.add_pinhole(H1, 128, 1, [(ICMP6_P, [128], 0, [])])
    fw.advance(2)
    assert flood(fw, 5) == {"bridged": 5}
    assert flood(fw, 3, lambda seq: echo(H2, seq)) == {"bridged": 2, "echo_rate": 1}


def test_echo_refused_by_policy_is_still_echo_in(fw):
    fw.set_policy(echo_rate=2)
    fw.set_flags(off=fm.BR_PF_ECHO_IN)
    fw.advance(2)
    assert fw.send(WAN, echo()) == dropped("echo_in")
    assert fw.send(WAN, echo_all_nodes()) == passed("flood_local")
