# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""UDP: flows and bindings (RFC 4787 filtering), refreshes and timeouts."""
import os

import pytest

import fwmaps as fm
from fwrig import (H1, H2, LAN, NSEC, R1, R2, UDP_P, WAN, bridged, dropped,
                   inb, mono_ns, open_udp, out, udp)

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root (netns, BPF)")


def test_udp_outbound_opens_flow_and_ei_binding(fw):
    open_udp(fw)
    f = fw.flow(H1, R1, UDP_P, 5000, 53)
    assert f is not None and fm.FS_NAME[f["state"]] == "ACTIVE"
    assert f["opened_by"] == LAN
    assert fw.flow(H1, "::", UDP_P, 5000, 0, fm.BR_FK_BIND_EI) is not None


def test_udp_reply_passes(fw):
    open_udp(fw)
    assert fw.send(WAN, inb(udp(R1, H1, 53, 5000))) == bridged()


def test_udp_to_other_lan_port_dropped_no_flow(fw):
    open_udp(fw)
    assert fw.send(WAN, inb(udp(R1, H1, 53, 5001))) == dropped("no_flow")
    assert fw.send(WAN, inb(udp(R1, H2, 53, 5000))) == dropped("no_flow")


def test_udp_endpoint_independent_any_remote_passes(fw):
    open_udp(fw)
    assert fw.send(WAN, inb(udp(R2, H1, 9999, 5000))) == bridged()
    assert fw.send(WAN, inb(udp(R1, H1, 54, 5000))) == bridged()


def test_udp_address_dependent_filtering(fw):
    fw.set_policy(filtering=fm.BR_FILT_AD)
    open_udp(fw)
    assert fw.flow(H1, R1, UDP_P, 5000, 0, fm.BR_FK_BIND_AD) is not None
    assert fw.send(WAN, inb(udp(R1, H1, 54, 5000))) == bridged()
    assert fw.send(WAN, inb(udp(R2, H1, 53, 5000))) == dropped("no_flow")


def test_udp_address_and_port_dependent_filtering(fw):
    fw.set_policy(filtering=fm.BR_FILT_APD)
    open_udp(fw)
    assert fw.send(WAN, inb(udp(R1, H1, 53, 5000))) == bridged()
    assert fw.send(WAN, inb(udp(R1, H1, 54, 5000))) == dropped("no_flow")
    assert fw.send(WAN, inb(udp(R2, H1, 53, 5000))) == dropped("no_flow")


def test_udp_aged_past_300s_dropped(fw):
    open_udp(fw)
    fw.age_flows(300 + 10, lan=H1)
    assert fw.send(WAN, inb(udp(R1, H1, 53, 5000))) == dropped("no_flow")
    assert fw.send(WAN, inb(udp(R2, H1, 53, 5000))) == dropped("no_flow")


def test_udp_inbound_does_not_refresh_outbound_does(fw):
    open_udp(fw)
    fw.age_flows(300 - 10, lan=H1)
    seen = {k: v["seen_ns"] for k, v in fw.flows().items()}
    assert fw.send(WAN, inb(udp(R1, H1, 53, 5000))) == bridged()
    assert fw.send(WAN, inb(udp(R2, H1, 53, 5000))) == bridged()
    assert {k: v["seen_ns"] for k, v in fw.flows().items()} == seen
    # past the timeout: inbound alone did not keep it open
    fw.age_flows(300 + 10, lan=H1)
    assert fw.send(WAN, inb(udp(R1, H1, 53, 5000))) == dropped("no_flow")
    assert fw.send(WAN, inb(udp(R1, H1, 53, 5000))) == dropped("no_flow")
    # outbound refreshes (REC-12): flow and binding open again
    fw.age_flows(300 - 10, lan=H1)
    assert fw.send(LAN, out(udp(H1, R1, 5000, 53))) == bridged()
    for v in fw.flows().values():
        assert abs(v["seen_ns"] - mono_ns()) < 2 * NSEC
    fw.age_flows(20, lan=H1)
    assert fw.send(WAN, inb(udp(R2, H1, 53, 5000))) == bridged()
