# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""TCP through the stateful firewall: states, timeouts, what opens a flow."""
import json

import os

import pytest
from scapy.all import (Raw)

import fwmaps as fm
from fwrig import (H1, LAN, NSEC, R1, TCP_KEY, WAN, bridged, dropped, inb,
                   mono_ns, open_tcp, out, state, tcp)
from progrig import BROUTERCTL, run

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root (netns, BPF)")


def test_tcp_outbound_syn_opens_syn_sent_flow(fw):
    assert fw.send(LAN, out(tcp(H1, R1, 40000, 443, "S"))) == \
        bridged(new=True)
    f = fw.flow(*TCP_KEY)
    assert f is not None, fw.flows()
    assert fm.FS_NAME[f["state"]] == "SYN_SENT"
    assert f["opened_by"] == LAN
    assert abs(f["seen_ns"] - mono_ns()) < 2 * NSEC
    assert H1 in fw.lan_addrs()


def test_tcp_inbound_synack_establishes_and_data_passes(fw):
    fw.send(LAN, out(tcp(H1, R1, 40000, 443, "S")))
    assert fw.send(WAN, inb(tcp(R1, H1, 443, 40000, "SA"))) == bridged()
    assert state(fw, *TCP_KEY) == "ESTABLISHED"
    assert fw.send(WAN, inb(tcp(R1, H1, 443, 40000, "PA") / Raw(b"data"))) \
        == bridged()
    assert fw.send(LAN, out(tcp(H1, R1, 40000, 443, "A"))) == bridged()
    assert state(fw, *TCP_KEY) == "ESTABLISHED"


def test_tcp_synack_from_other_port_of_remote_is_not_the_reply(fw):
    fw.send(LAN, out(tcp(H1, R1, 40000, 443, "S")))
    # TCP is always tracked per connection, whatever the UDP filtering.
    assert fw.send(WAN, inb(tcp(R1, H1, 444, 40000, "SA"))) == \
        dropped("no_flow")
    assert state(fw, *TCP_KEY) == "SYN_SENT"


def test_tcp_fin_both_ways_moves_to_closing(fw):
    open_tcp(fw)
    assert fw.send(LAN, out(tcp(H1, R1, 40000, 443, "FA"))) == bridged()
    assert state(fw, *TCP_KEY) == "FIN_WAIT"
    assert fw.send(WAN, inb(tcp(R1, H1, 443, 40000, "FA"))) == bridged()
    assert state(fw, *TCP_KEY) == "CLOSING"
    assert fw.send(LAN, out(tcp(H1, R1, 40000, 443, "A"))) == bridged()


def test_tcp_inbound_fin_first_then_outbound_fin_closing(fw):
    open_tcp(fw)
    assert fw.send(WAN, inb(tcp(R1, H1, 443, 40000, "FA"))) == bridged()
    assert state(fw, *TCP_KEY) == "FIN_WAIT"
    assert fw.send(LAN, out(tcp(H1, R1, 40000, 443, "FA"))) == bridged()
    assert state(fw, *TCP_KEY) == "CLOSING"


@pytest.mark.parametrize("port", [LAN, WAN], ids=["rst_out", "rst_in"])
def test_tcp_rst_moves_to_closed(fw, port):
    open_tcp(fw)
    f = out(tcp(H1, R1, 40000, 443, "R")) if port == LAN else \
        inb(tcp(R1, H1, 443, 40000, "R"))
    assert fw.send(port, f) == bridged()
    assert state(fw, *TCP_KEY) == "CLOSED"


def test_tcp_closed_flow_expires_after_tcp_closed_timeout(fw):
    open_tcp(fw)
    fw.send(WAN, inb(tcp(R1, H1, 443, 40000, "R")))
    fw.age_flows(5, lan=H1)
    assert fw.send(WAN, inb(tcp(R1, H1, 443, 40000, "R"))) == bridged()
    fw.age_flows(10 + 5, lan=H1)
    assert fw.send(WAN, inb(tcp(R1, H1, 443, 40000, "A"))) == \
        dropped("no_flow")


def test_tcp_simultaneous_open_passes(fw):
    """RFC 5382 REQ-2a: a SYN crossing ours is not unsolicited."""
    fw.send(LAN, out(tcp(H1, R1, 40000, 443, "S")))
    assert fw.send(WAN, inb(tcp(R1, H1, 443, 40000, "S"))) == bridged()
    assert fw.send(LAN, out(tcp(H1, R1, 40000, 443, "SA"))) == bridged()
    assert fw.send(WAN, inb(tcp(R1, H1, 443, 40000, "SA"))) == bridged()
    assert state(fw, *TCP_KEY) == "ESTABLISHED"


def test_tcp_new_outbound_syn_reuses_closed_ports(fw):
    open_tcp(fw)
    fw.send(LAN, out(tcp(H1, R1, 40000, 443, "FA")))
    fw.send(WAN, inb(tcp(R1, H1, 443, 40000, "FA")))
    assert state(fw, *TCP_KEY) == "CLOSING"
    assert fw.send(LAN, out(tcp(H1, R1, 40000, 443, "S"))) == bridged()
    assert state(fw, *TCP_KEY) == "SYN_SENT"
    assert fw.flow(*TCP_KEY)["fin_seen"] == 0
    assert fw.send(WAN, inb(tcp(R1, H1, 443, 40000, "SA"))) == bridged()
    assert state(fw, *TCP_KEY) == "ESTABLISHED"


def test_tcp_outbound_midstream_is_picked_up_established(fw):
    """A connection that outlived a restart: outbound ACK, no flow yet."""
    assert fw.send(LAN, out(tcp(H1, R1, 40000, 443, "PA"))) == \
        bridged(new=True)
    assert state(fw, *TCP_KEY) == "ESTABLISHED"
    assert fw.send(WAN, inb(tcp(R1, H1, 443, 40000, "A"))) == bridged()


@pytest.mark.parametrize("flags", ["R", "RA", "FA"])
def test_tcp_outbound_close_of_unknown_connection_opens_nothing(fw, flags):
    assert fw.send(LAN, out(tcp(H1, R1, 40000, 443, flags))) == bridged()
    assert fw.flows() == {}
    assert fw.send(WAN, inb(tcp(R1, H1, 443, 40000, "A"))) == \
        dropped("no_flow")


def test_tcp_inbound_syn_without_pinhole_dropped_syn_in_no_state(fw):
    assert fw.send(WAN, inb(tcp(R1, H1, 51000, 22, "S"))) == \
        dropped("syn_in")
    assert fw.flows() == {}


@pytest.mark.parametrize("flags", ["A", "PA", "R", "RA", "FA", "SA"])
def test_tcp_inbound_without_flow_dropped_no_flow(fw, flags):
    assert fw.send(WAN, inb(tcp(R1, H1, 443, 40001, flags))) == \
        dropped("no_flow")
    assert fw.flows() == {}


def test_tcp_established_survives_just_under_7440s_idle(fw):
    open_tcp(fw)
    fw.age_flows(7440 - 20, lan=H1)
    assert fw.send(WAN, inb(tcp(R1, H1, 443, 40000, "A"))) == bridged()


def test_tcp_established_aged_past_7440s_inbound_dropped(fw):
    open_tcp(fw)
    fw.age_flows(7440 + 10, lan=H1)
    assert fw.send(WAN, inb(tcp(R1, H1, 443, 40000, "A"))) == \
        dropped("no_flow")


def test_tcp_syn_sent_survives_just_under_240s(fw):
    fw.send(LAN, out(tcp(H1, R1, 40000, 443, "S")))
    fw.age_flows(240 - 10, lan=H1)
    assert fw.send(WAN, inb(tcp(R1, H1, 443, 40000, "SA"))) == bridged()
    assert state(fw, *TCP_KEY) == "ESTABLISHED"


def test_tcp_syn_sent_aged_past_240s_inbound_dropped(fw):
    fw.send(LAN, out(tcp(H1, R1, 40000, 443, "S")))
    fw.age_flows(240 + 10, lan=H1)
    assert fw.send(WAN, inb(tcp(R1, H1, 443, 40000, "SA"))) == \
        dropped("no_flow")


def test_tcp_closing_uses_transitory_timeout(fw):
    open_tcp(fw)
    fw.send(LAN, out(tcp(H1, R1, 40000, 443, "FA")))
    fw.send(WAN, inb(tcp(R1, H1, 443, 40000, "FA")))
    fw.age_flows(240 + 10, lan=H1)
    assert fw.send(WAN, inb(tcp(R1, H1, 443, 40000, "A"))) == \
        dropped("no_flow")


def test_flow_seen_just_after_now_is_live_not_stale(fw):
    """
    Another CPU may refresh a flow after this one read the clock: a
    seen_ns a little ahead of "now" is a live flow, not one idle for
    centuries, and brouterctl shows it idle 0 s.
    """
    open_tcp(fw)
    v = fw.flow(*TCP_KEY)
    v["seen_ns"] = mono_ns() + 3 * NSEC
    fw.set_flow(TCP_KEY, v)
    assert fw.send(WAN, inb(tcp(R1, H1, 443, 40000, "A"))) == bridged()
    assert fw.send(LAN, out(tcp(H1, R1, 40000, 443, "A"))) == bridged()
    assert state(fw, *TCP_KEY) == "ESTABLISHED"
    flows = json.loads(run(BROUTERCTL, "-p", fw.pin_dir, "flows",
                           "--json").stdout)
    mine = [f for f in flows if f["lan"] == H1 and f["proto"] == "tcp"]
    assert len(mine) == 1 and mine[0]["idle_s"] == 0, flows
