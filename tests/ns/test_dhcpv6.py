# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
DHCPv6 through brouterd with real peers: dnsmasq on the ISP side leases a
LAN host (dhclient -6) an address, SLAAC from the ISP's radvd working
beside it. The firewall passes the server's answers to the client's
link-local address without a flow, and nothing else: 547 -> 546 to a
global LAN address from the WAN is dropped unless a flow asked for it.
"""
import ipaddress
import os
import textwrap

import pytest

import topo

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (netns, BPF)")

SEND_547 = textwrap.dedent("""
    import socket, sys
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind(("", 547))
    s.sendto(b"\\x07 unsolicited reply", (sys.argv[1], 546))
""")


def wan(t, name):
    return t.brouterctl_stats_json()["wan"][name]["packets"]


def dhcp6_addrs(t, host):
    lo, hi = (ipaddress.ip_address(a) for a in t.DHCP6_RANGE)
    return [a for a in topo.addrs6(host, "eth0")
            if lo <= ipaddress.ip_address(a.split("/")[0]) <= hi]


def test_lan_host_leases_an_address_from_the_isp_through_brouterd():
    with topo.Topology() as t:
        t.start_brouterd()
        slaac = t.wait_slaac()
        # Before any DHCPv6: an unsolicited 547 -> 546 to the host's
        # global address is dropped at the WAN port.
        script = os.path.join(t.tmp, "send547.py")
        with open(script, "w") as f:
            f.write(SEND_547)
        before = wan(t, "no_flow")
        t.run(t.isp, ["/usr/bin/python3", script, slaac.split("/")[0]])
        topo.wait_for(lambda: wan(t, "no_flow") == before + 1, timeout=5,
                      what="the unsolicited DHCPv6 reply counted no_flow")

        t.start_dhcp6_server()
        passed_before = wan(t, "bridged")
        _, log_path = t.start_dhcp6_client()
        leased = topo.wait_for(lambda: dhcp6_addrs(t, t.lan1), timeout=30,
                               what="a DHCPv6 lease on lan1")
        assert len(leased) == 1, leased
        addr = leased[0].split("/")[0]
        assert "Reply" in open(t.dnsmasq_log).read() or "DHCPREPLY" in \
            open(t.dnsmasq_log).read(), open(t.dnsmasq_log).read()
        # the answers crossed the WAN port bridged, not as exceptions gone wrong
        assert wan(t, "bridged") > passed_before
        assert wan(t, "no_flow") == before + 1, open(log_path).read()
        # the leased address and the SLAAC one both reach the ISP
        for src in (addr, slaac.split("/")[0]):
            t.run(t.lan1, ["ping", "-6", "-c", "1", "-W", "2", "-I", src,
                           topo.ISP_V6])
