# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
BPF program tests for the IPv4 fast path: frames through the XDP program
a real brouterd attached, with BPF_PROG_TEST_RUN, in a namespace whose
conntrack holds the flows (inserted with conntrack -I, the NAT mapping in
the reply tuple), whose routes and neighbours bpf_fib_lookup() reads, and
whose tc egress program records what "the kernel" forwarded (run here on
the frame the kernel would send).

Every rewrite is compared byte for byte with the frame scapy builds from
scratch (checksums computed whole, not updated), so an incremental
checksum that is off by a carry fails. The slow path's WAIT entries last
10 ms and the cache is per CPU: the tests run on one CPU and sleep past
that where a decision must be made again.
"""
import mmap
import os
import re
import socket
import struct
import time

import pytest
from scapy.all import ICMP, IP, TCP, UDP, Ether, IPv6, Raw

import bpfsys as bs
import ctnl
from fwrig import on_one_cpu
from progrig import BR_META_NOTRACK, LAN, WAN, counted, meta, running
from test_tun4in6 import AFTR, B4, BR, CE4, CE6, DSLITE_CONF, MAPE_CONF, TunRig, stand_in
from test_tun_gre import CONF as GRE_CONF, IPIP_LOCAL, IPIP_PEER, SITE as GRE_SITE

HOST, HOST_MAC = "192.168.1.10", "02:00:00:00:00:10"
GW, GW_MAC = "203.0.113.1", "02:00:00:00:00:01"      # the IPv4 WAN's next hop
GW6, GW6_MAC = "fe80::1", "02:00:00:00:06:01"        # the IPv6 WAN's next hop
WAN4 = "203.0.113.2"
INET = "198.51.100.2"
NAT_PORT, MAPE_PORT = 61000, 1233                    # 1233 is in the CE's set
MAPE_NAT = stand_in(MAPE_PORT)  # what conntrack NATs to; tc egress or the fast path swap it
FP4_ENTRY = 64      # bytes of struct fp4_entry (bpf/maps.h), one cache line
RETRY = 0.03        # past a WAIT entry's 10 ms, on a 4 ms clock
RELOADED = "IPv4 fast path flushed (reload)"   # the end of a reload (-v)
TIMEOUTS = {"udp_timeout": 31, "udp_timeout_stream": 321,
            "tcp_timeout_established": 4321}

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (netns, BPF)")


class Fp4Rig(TunRig):
    """A brouterd rig with IPv4 routes, neighbours and conntrack to use."""

    def before_daemon(self):
        self.ns("sysctl", "-qw", "net.ipv4.ip_forward=1",
                *[f"net.netfilter.nf_conntrack_{k}={v}" for k, v in TIMEOUTS.items()])
        self.ns("ip", "addr", "add", "192.168.1.1/24", "dev", "lan0")
        self.ns("ip", "neigh", "add", HOST, "lladdr", HOST_MAC, "dev", "lan0",
                "nud", "permanent")
        if "tunnel" in self.conf_text:
            self.ns("ip", "-6", "route", "add", "2001:db8:ffff::/48", "via", GW6,
                    "dev", "wan0")
            self.ns("ip", "-6", "neigh", "add", GW6, "lladdr", GW6_MAC, "dev", "wan0",
                    "nud", "permanent")
            return
        self.ns("ip", "addr", "add", f"{WAN4}/24", "dev", "wan0")
        self.ns("ip", "link", "set", "wan0", "mtu", "1400")
        self.ns("ip", "route", "add", "default", "via", GW, "dev", "wan0")
        self.ns("ip", "neigh", "add", GW, "lladdr", GW_MAC, "dev", "wan0",
                "nud", "permanent")

    def write_conf(self, text):
        self.conf_text = text
        super().write_conf(text)

    def ct_add(self, proto, orig, reply, *extra):
        """A conntrack entry: @orig and @reply as (src, dst, sport, dport)."""
        self.ns("conntrack", "-I", "-p", proto, "-s", orig[0], "-d", orig[1],
                "--sport", str(orig[2]), "--dport", str(orig[3]),
                "--reply-src", reply[0], "--reply-dst", reply[1],
                "--reply-port-src", str(reply[2]), "--reply-port-dst", str(reply[3]),
                "-t", "50", "-u", "SEEN_REPLY,ASSURED", *extra)

    def ct_list(self):
        return self.ns("conntrack", "-L", check=False).stdout

    def forwarded(self, frame, out):
        """tc egress on @out sees @frame forwarded from the other port."""
        return self.tc_out(bytes(frame), out, from_port=1 - out)

    def run_xdp(self, port, frame):
        """(retval, XDP metadata, output frame, counters that moved) of one
        XDP run."""
        before = self.stats()
        r, meta, pkt = self.xdp(port, bytes(frame))
        moved = {k[0] for k in counted(before, self.stats())} - {"rx"}
        return r.retval, bytes(meta), pkt, moved

    def fp4(self, port, frame):
        """(retval, output frame, counters that moved) of one XDP run."""
        ret, _, pkt, moved = self.run_xdp(port, frame)
        return ret, pkt, moved

    def handed_up(self, port, frame):
        """(retval, XDP metadata for tc, counters that moved) of one XDP run."""
        ret, meta, _, moved = self.run_xdp(port, frame)
        return ret, meta, moved


def fp4_rig(suffix, conf):
    yield from running(Fp4Rig(f"brf{os.getpid()}{suffix}", conf))


def rig_fixture(name, conf):
    """A module fixture @name: a rig with brouterd started on @conf."""
    @pytest.fixture(scope="module", name=name)
    def fixture():
        yield from fp4_rig(name[0], conf)
    return fixture


nat = rig_fixture("nat", "# plain IPv4 NAT\n")
mape = rig_fixture("mape", MAPE_CONF)
dslite = rig_fixture("dslite", DSLITE_CONF)


@pytest.fixture(autouse=True)
def cpu0():
    with on_one_cpu():
        yield


def scapy_bytes(pkt):
    """@pkt with every length and checksum computed by scapy."""
    return bytes(pkt.__class__(bytes(pkt)))


def lan_frame(rig, l4, dst=INET, **ip):
    return Ether(src=HOST_MAC, dst=rig.mac["lan0"]) / IP(src=HOST, dst=dst, **ip) / l4


def take_over(rig, port, frame, out, nated, tries=40):
    """
    Run @frame until the fast path forwards it, doing for it what the
    kernel and brouterd would: tc egress records @nated leaving @out,
    brouterd answers the window request. Returns the redirected frame.
    """
    for _ in range(tries):
        ret, pkt, moved = rig.fp4(port, frame)
        if ret == bs.XDP_REDIRECT:
            assert moved == {"fp4_fwd"}, moved
            return pkt
        # to the kernel as it came (or only decapsulated)
        assert ret == bs.XDP_PASS and (pkt == bytes(frame) or IPv6 in frame)
        if "fp4_unconfirmed" in moved:
            assert rig.forwarded(nated, out).retval in (bs.TC_PASS, 7)
        time.sleep(RETRY)
    pytest.fail(f"not taken over: {moved}\n{rig.log_text()}")


# ------------------------------------------------------------ plain NAT

# The flows of the module fixtures: LAN host port 5000 to INET:53, NATed.
FLOWS = {"nat": ((HOST, INET, 5000, 53), (INET, WAN4, 53, NAT_PORT)),
         "map-e": ((HOST, INET, 5000, 53), (INET, CE4, 53, MAPE_NAT))}


@pytest.fixture(scope="module")
def udp_flow(nat):
    nat.ct_add("udp", *FLOWS["nat"])
    return nat


def own_flow(rig, sport):
    """A NATed UDP flow of the test's own (LAN port @sport, NAT port
    @sport + 56000), taken over: its LAN frame and what the kernel sends."""
    rig.ct_add("udp", (HOST, INET, sport, 53), (INET, WAN4, 53, sport + 56000))
    frame = lan_frame(rig, UDP(sport=sport, dport=53) / Raw(b"q"))
    nated = Ether() / IP(src=WAN4, dst=INET) / UDP(sport=sport + 56000, dport=53)
    take_over(rig, LAN, frame, WAN, nated)
    return frame, nated


def nated_out(rig, payload=b"query", ttl=63, **udp):
    return (Ether(src=rig.mac["wan0"], dst=GW_MAC) /
            IP(src=WAN4, dst=INET, ttl=ttl, id=77, tos=0x10) /
            UDP(sport=NAT_PORT, dport=53, **udp) / Raw(payload))


def test_udp_out_is_snat_ed_with_ttl_and_checksums_as_scapy_computes(udp_flow):
    rig = udp_flow
    frame = lan_frame(rig, UDP(sport=5000, dport=53) / Raw(b"query"), ttl=64, id=77,
                      tos=0x10)
    out = take_over(rig, LAN, frame, WAN, nated_out(rig))
    assert out == scapy_bytes(nated_out(rig))
    # and again, now from the cache
    assert rig.fp4(LAN, frame) == (bs.XDP_REDIRECT, out, {"fp4_fwd"})


def test_udp_without_checksum_keeps_none(udp_flow):
    rig = udp_flow
    frame = lan_frame(rig, UDP(sport=5000, dport=53, chksum=0) / Raw(b"zero"), ttl=9,
                      id=77, tos=0x10)
    want = nated_out(rig, b"zero", ttl=8, chksum=0)
    take_over(rig, LAN, frame, WAN, want)
    ret, pkt, _ = rig.fp4(LAN, frame)
    assert ret == bs.XDP_REDIRECT and pkt == scapy_bytes(want)
    assert UDP(pkt[34:]).chksum == 0


def test_udp_reply_is_un_nat_ed_to_the_lan_host(udp_flow):
    rig = udp_flow
    frame = (Ether(src=GW_MAC, dst=rig.mac["wan0"]) /
             IP(src=INET, dst=WAN4, ttl=50, id=3) / UDP(sport=53, dport=NAT_PORT) /
             Raw(b"answer" * 30))
    want = (Ether(src=rig.mac["lan0"], dst=HOST_MAC) /
            IP(src=INET, dst=HOST, ttl=49, id=3) / UDP(sport=53, dport=5000) /
            Raw(b"answer" * 30))
    assert take_over(rig, WAN, frame, LAN, want) == scapy_bytes(want)


def test_conntrack_entry_is_refreshed_to_the_kernels_stream_timeout(udp_flow):
    """Inserted with 50 s; taking it over sets nf_conntrack_udp_timeout_stream."""
    rig = udp_flow
    own_flow(rig, 5005)
    line = [l for l in rig.ct_list().splitlines() if "sport=5005" in l][0]
    assert 300 < int(line.split()[2]) <= TIMEOUTS["udp_timeout_stream"], line


def test_tcp_is_taken_over_once_brouterd_stops_window_tracking(nat):
    rig = nat
    rig.ct_add("tcp", (HOST, INET, 5001, 443), (INET, WAN4, 443, 61001),
               "--state", "ESTABLISHED")
    with rig.inside():  # window-tracked both ways, as the kernel makes entries
        ctnl.set_tcp_liberal((HOST, INET, 5001, 443), False)
    frame = lan_frame(rig, TCP(sport=5001, dport=443, flags="A", seq=1, ack=2) /
                      Raw(b"x" * 100), ttl=64, id=5)
    # first the request to brouterd, while the kernel keeps the flow
    ret, _, moved = rig.fp4(LAN, frame)
    assert ret == bs.XDP_PASS and moved == {"pass", "fp4_window"}
    want = (Ether(src=rig.mac["wan0"], dst=GW_MAC) / IP(src=WAN4, dst=INET, ttl=63, id=5) /
            TCP(sport=61001, dport=443, flags="A", seq=1, ack=2) / Raw(b"x" * 100))
    assert take_over(rig, LAN, frame, WAN, want) == scapy_bytes(want)
    line = [l for l in rig.ct_list().splitlines() if "sport=5001" in l][0]
    assert 4000 < int(line.split()[2]) <= TIMEOUTS["tcp_timeout_established"], line


@pytest.mark.parametrize("flags", ["S", "F", "R", "FA", "SA"])
def test_tcp_syn_fin_rst_go_to_the_kernel(nat, flags):
    frame = lan_frame(nat, TCP(sport=5001, dport=443, flags=flags))
    assert nat.fp4(LAN, frame) == (bs.XDP_PASS, bytes(frame), {"pass", "fp4_tcp_flags"})


@pytest.mark.parametrize("what,why", [
    ("ttl1", "fp4_ttl"), ("fragment", "fp4_frag"), ("last_fragment", "fp4_frag"),
    ("options", "fp4_options"), ("icmp", "fp4_proto"), ("truncated", "fp4_bad"),
    ("no_conntrack", "fp4_no_ct"), ("udp_len", "fp4_bad")])
def test_what_the_fast_path_does_not_understand_goes_to_the_kernel(udp_flow, what, why):
    rig, udp = udp_flow, UDP(sport=5000, dport=53) / Raw(b"query")
    frame = {
        "ttl1": lan_frame(rig, udp, ttl=1),
        "fragment": lan_frame(rig, udp, flags="MF"),
        "last_fragment": lan_frame(rig, udp, frag=100),
        "options": lan_frame(rig, udp, options=b"\x01\x01\x01\x00"),
        "icmp": lan_frame(rig, ICMP(id=5000)),
        "truncated": lan_frame(rig, udp, len=200),
        "no_conntrack": lan_frame(rig, UDP(sport=4999, dport=53)),
        "udp_len": lan_frame(rig, UDP(sport=5000, dport=53, len=99) / Raw(b"q")),
    }[what]
    assert rig.fp4(LAN, frame) == (bs.XDP_PASS, bytes(frame), {"pass", why})


def test_larger_than_the_path_mtu_goes_to_the_kernel(udp_flow):
    """The WAN has MTU 1400: the kernel fragments or sends the ICMP error."""
    rig = udp_flow
    small, big = (lan_frame(rig, UDP(sport=5000, dport=53) / Raw(b"m" * n)) for n in (1372, 1373))
    take_over(rig, LAN, small, WAN, Ether() / IP(src=WAN4, dst=INET) /
              UDP(sport=NAT_PORT, dport=53))
    assert len(bytes(small)) - 14 == 1400
    assert rig.fp4(LAN, small)[0] == bs.XDP_REDIRECT
    assert rig.fp4(LAN, big) == (bs.XDP_PASS, bytes(big), {"pass", "fp4_mtu"})


def test_ipv4_to_another_mac_is_left_alone(udp_flow):
    """A promiscuous LAN port sees the LAN's own IPv4: not the router's."""
    frame = Ether(src=HOST_MAC, dst="02:00:00:00:00:99") / IP(src=HOST, dst=INET) / \
        UDP(sport=5000, dport=53)
    assert udp_flow.fp4(LAN, frame) == (bs.XDP_PASS, bytes(frame), {"pass"})


def test_to_the_router_itself_is_not_forwarded(nat):
    nat.ct_add("udp", (HOST, "192.168.1.1", 5002, 53), ("192.168.1.1", HOST, 53, 5002))
    frame = lan_frame(nat, UDP(sport=5002, dport=53), dst="192.168.1.1")
    assert nat.fp4(LAN, frame) == (bs.XDP_PASS, bytes(frame), {"pass", "fp4_route"})


def test_conntrack_deletion_ends_the_fast_path_within_a_second(nat):
    rig = nat
    frame, _ = own_flow(rig, 5003)
    rig.ns("conntrack", "-D", "-p", "udp", "--sport", "5003")
    time.sleep(1.05)
    assert rig.fp4(LAN, frame) == (bs.XDP_PASS, bytes(frame), {"pass", "fp4_no_ct"})


def fp4_set_index(saddr, daddr, sport, dport, bits):
    """The set fp4/cache.h's fp4_set_of() picks on CPU 0: the key's words
    as the program loads them (little-endian loads of network order)."""
    h = (struct.unpack("<I", socket.inet_aton(saddr))[0] ^
         struct.unpack("<I", socket.inet_aton(daddr))[0] ^
         struct.unpack("<I", struct.pack(">HH", sport, dport))[0])
    return (h * 2654435761 % 2**32) >> (32 - bits)


def fp4_way(cache, saddr, daddr, sport, dport):
    """Which way of its set holds the LAN->WAN UDP entry, on any CPU
    (@cache: the map's fd and info)."""
    fd, info = cache
    with mmap.mmap(fd, info.max_entries * info.value_size, mmap.MAP_SHARED,
                   mmap.PROT_READ) as mem:
        key = (socket.inet_aton(saddr) + socket.inet_aton(daddr) +
               struct.pack(">HHBB", sport, dport, socket.IPPROTO_UDP, LAN))
        ways = [off // FP4_ENTRY % 2 for off in range(0, len(mem), FP4_ENTRY)
                if mem[off:off + len(key)] == key]
    assert len(ways) == 1, ways
    return ways[0]


def test_a_flow_still_sending_moves_to_the_way_read_first(nat):
    """
    Two flows in one set: the second made sits in the second way, whose
    cache line a lookup reads only after the first's. Once the first flow
    goes quiet and its trust has lapsed, the second takes the first way
    when its own entry is made again.
    """
    rig = nat
    cache = rig.prog_map("fp4_cache")
    bits = (cache[1].max_entries // bs.possible_cpus()).bit_length() - 1
    quiet = (HOST, INET, 5300, 53)
    want = fp4_set_index(*quiet, bits)
    busy = next((HOST, INET, sport, dport) for dport in (53, 123, 443, 853)
                for sport in range(5301, 65536)
                if fp4_set_index(HOST, INET, sport, dport, bits) == want)
    frames = {}
    for i, flow in enumerate((quiet, busy)):
        rig.ct_add("udp", flow, (INET, WAN4, flow[3], 40000 + i))
        frames[flow] = lan_frame(rig, UDP(sport=flow[2], dport=flow[3]) / Raw(b"q"))
        nated = Ether() / IP(src=WAN4, dst=INET) / UDP(sport=40000 + i, dport=flow[3])
        take_over(rig, LAN, frames[flow], WAN, nated)
    assert (fp4_way(cache, *quiet), fp4_way(cache, *busy)) == (0, 1)
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        assert rig.fp4(LAN, frames[busy])[0] == bs.XDP_REDIRECT
        time.sleep(0.05)
    assert (fp4_way(cache, *busy), fp4_way(cache, *quiet)) == (0, 1)
    # the quiet flow's entry is still found where it went, as no new flow
    ret, _, moved = rig.fp4(LAN, frames[quiet])
    assert ret == bs.XDP_REDIRECT and moved == {"fp4_fwd"}, moved


def test_a_ruleset_change_flushes_until_the_kernel_forwards_again(nat):
    """What the fast path took over, it gives back on any nftables commit."""
    rig = nat
    frame, nated = own_flow(rig, 5004)
    rig.ns("nft", "add", "table", "ip", "somebody_elses")
    try:
        deadline = time.monotonic() + 5
        while rig.fp4(LAN, frame)[0] == bs.XDP_REDIRECT:
            assert time.monotonic() < deadline, "no flush after an nftables commit"
            time.sleep(RETRY)
        assert rig.fp4(LAN, frame)[2] == {"pass", "fp4_unconfirmed"}
        time.sleep(RETRY)
        assert rig.fp4(LAN, frame)[2] == {"pass", "fp4_unconfirmed"}, \
            "taken back before the kernel forwarded a packet under the new rules"
        take_over(rig, LAN, frame, WAN, nated)
    finally:
        rig.ns("nft", "delete", "table", "ip", "somebody_elses")


def test_fast_path_off_by_reload_and_back(nat):
    rig = nat
    frame, nated = own_flow(rig, 5006)
    rig.write_conf("ipv4 = { fast-path = false; };\n")
    rig.hup(RELOADED)
    assert rig.fp4(LAN, frame) == (bs.XDP_PASS, bytes(frame), {"pass"})
    assert rig.egress_progs() == {}, "no tunnel, no fast path: no egress filter"
    rig.write_conf("# plain IPv4 NAT\n")
    rig.hup(RELOADED)
    assert sorted(rig.egress_progs()) == ["lan0", "wan0"]
    take_over(rig, LAN, frame, WAN, nated)


# ------------------------------------------------------------ MAP-E


@pytest.fixture(scope="module")
def mape_flow(mape):
    mape.ct_add("udp", *FLOWS["map-e"])
    return mape


def encap(rig, src6, dst6, tc, inner):
    inner = scapy_bytes(inner)
    return (Ether(src=rig.mac["wan0"], dst=GW6_MAC) /
            IPv6(src=src6, dst=dst6, nh=4, hlim=64, tc=tc, plen=len(inner)) / Raw(inner))


def kernel_out(inner):
    """What the kernel forwards for @inner: its source port the stand-in."""
    ip = IP(bytes(inner))
    ip[UDP].sport = MAPE_NAT
    return Ether() / ip


@pytest.mark.parametrize("tos", [0x00, 0xb9, 0x02, 0x03])
def test_mape_out_is_napt_ed_and_wrapped_with_the_inner_ecn(mape_flow, tos):
    """RFC 6040 normal mode: ECN copied; the outer DSCP 0 (tunnel.dscp default).
    conntrack's stand-in leaves as the port of the set it stands for."""
    rig = mape_flow
    frame = lan_frame(rig, UDP(sport=5000, dport=53) / Raw(b"mape"), ttl=64, id=9, tos=tos)
    inner = IP(src=CE4, dst=INET, ttl=63, id=9, tos=tos) / \
        UDP(sport=MAPE_PORT, dport=53) / Raw(b"mape")
    out = take_over(rig, LAN, frame, WAN, kernel_out(inner))
    assert out == bytes(encap(rig, CE6, BR, tos & 3, inner))


def test_mape_reply_is_decapsulated_un_nat_ed_and_sent_to_the_lan(mape_flow):
    rig = mape_flow
    frame = (Ether(src=GW6_MAC, dst=rig.mac["wan0"]) / IPv6(src=BR, dst=CE6, nh=4) /
             IP(src=INET, dst=CE4, ttl=55, id=4) / UDP(sport=53, dport=MAPE_PORT) /
             Raw(b"reply"))
    want = (Ether(src=rig.mac["lan0"], dst=HOST_MAC) / IP(src=INET, dst=HOST, ttl=54, id=4) /
            UDP(sport=53, dport=5000) / Raw(b"reply"))
    assert take_over(rig, WAN, frame, LAN, want) == scapy_bytes(want)
    assert rig.fp4(WAN, frame)[2] == {"fp4_fwd"}, "no decap counted: not to the stack"


def test_mape_dscp_copy_by_reload(mape_flow):
    rig = mape_flow
    rig.write_conf(MAPE_CONF.replace('mode = "map-e";', 'mode = "map-e"; dscp = "copy";'))
    rig.hup(RELOADED)
    try:
        frame = lan_frame(rig, UDP(sport=5000, dport=53) / Raw(b"ef"), ttl=64, id=9,
                          tos=0xb9)
        inner = IP(src=CE4, dst=INET, ttl=63, id=9, tos=0xb9) / \
            UDP(sport=MAPE_PORT, dport=53) / Raw(b"ef")
        assert take_over(rig, LAN, frame, WAN, kernel_out(inner)) == \
            bytes(encap(rig, CE6, BR, 0xb9, inner))
        # tc egress, for the kernel's packets, alike
        r = rig.tc_out(bytes(Ether(src="02:00:00:00:00:aa", dst="02:00:c0:00:00:01") / inner))
        assert IPv6(r.data[14:]).tc == 0xb9
    finally:
        rig.write_conf(MAPE_CONF)
        rig.hup(RELOADED)


def test_tc_egress_copies_ecn_into_the_outer_header(mape):
    inner = IP(src=CE4, dst=INET, tos=0x2a) / UDP(sport=MAPE_PORT, dport=53)
    r = mape.tc_out(bytes(Ether(src="02:00:00:00:00:aa", dst="02:00:c0:00:00:01") / inner))
    assert r.retval == 7 and IPv6(r.data[14:]).tc == 0x02


def test_tc_egress_drops_portless_protocols_of_a_shared_address(mape):
    frame = bytes(Ether(src="02:00:00:00:00:aa", dst="02:00:c0:00:00:01") /
                  IP(src=CE4, dst=INET, proto=47) / Raw(b"gre" * 10))
    before = mape.stats()
    assert mape.tc_out(frame).retval == bs.TC_ACT_SHOT
    assert counted(before, mape.stats()) == {("encap_portless", WAN): (1, len(frame)),
                                              ("drop", WAN): (1, len(frame))}


def mss_of(tcp_bytes):
    return dict(TCP(tcp_bytes).options).get("MSS")


@pytest.mark.parametrize("opts", [[("MSS", 1460)], [("NOP", None), ("MSS", 1460)],
                                  [("NOP", None), ("NOP", None), ("MSS", 1400)]],
                         ids=["even", "odd", "below"])
def test_tc_egress_clamps_the_syn_mss_at_any_offset(mape, opts):
    syn = IP(src=CE4, dst=INET, id=1) / TCP(sport=MAPE_PORT, dport=443, flags="S",
                                            options=opts + [("SAckOK", b"")])
    r = mape.tc_out(bytes(Ether(src="02:00:00:00:00:aa", dst="02:00:c0:00:00:01") / syn))
    inner = r.data[54:]
    want = min(dict(opts)["MSS"], 1420)
    assert mss_of(inner[20:]) == want
    # the checksum is what scapy computes for the clamped segment
    fixed = IP(inner)
    del fixed[TCP].chksum
    assert inner == bytes(fixed.__class__(bytes(fixed)))


def test_xdp_clamps_a_syn_ack_arriving_through_the_tunnel(mape):
    syn = IP(src=INET, dst=CE4, id=2) / TCP(sport=443, dport=MAPE_PORT, flags="SA",
                                            options=[("NOP", None), ("MSS", 1460)])
    frame = Ether(src=GW6_MAC, dst=mape.mac["wan0"]) / IPv6(src=BR, dst=CE6, nh=4) / syn
    ret, pkt, moved = mape.fp4(WAN, frame)
    assert ret == bs.XDP_PASS and moved == {"decap", "mss_clamped", "fp4_tcp_flags"}
    assert mss_of(pkt[34:]) == 1420
    fixed = IP(pkt[14:])
    del fixed[TCP].chksum
    assert pkt[14:] == bytes(fixed.__class__(bytes(fixed)))


@pytest.mark.parametrize("outer,inner,want", [(3, 2, 3), (3, 1, 3), (1, 2, 1), (2, 1, 1),
                                              (0, 3, 3), (3, 3, 3)])
def test_decapsulation_carries_congestion_marks_inside(mape, outer, inner, want):
    """RFC 6040 4.2, checked on what the kernel receives (on the port's stand-in)."""
    ip = IP(src=INET, dst=CE4, tos=0x20 | inner) / UDP(sport=53, dport=MAPE_PORT + 1)
    frame = Ether(src=GW6_MAC, dst=mape.mac["wan0"]) / IPv6(src=BR, dst=CE6, nh=4, tc=outer) / ip
    ret, pkt, _ = mape.fp4(WAN, frame)
    assert ret == bs.XDP_PASS
    got = IP(pkt[14:])
    assert got.tos == 0x20 | want
    assert pkt[14:] == scapy_bytes(IP(src=INET, dst=CE4, tos=0x20 | want) /
                                   UDP(sport=53, dport=stand_in(MAPE_PORT + 1)))


def test_outer_ce_on_a_not_ect_packet_is_dropped(mape):
    ip = IP(src=INET, dst=CE4, tos=0x20) / UDP(sport=53, dport=MAPE_PORT)
    frame = Ether(src=GW6_MAC, dst=mape.mac["wan0"]) / IPv6(src=BR, dst=CE6, nh=4, tc=3) / ip
    ret, _, moved = mape.fp4(WAN, frame)
    assert ret == bs.XDP_DROP and moved == {"drop", "tun_ecn"}


# ------------------------------------------------------------ DS-Lite


def test_dslite_wraps_b4_to_aftr_without_nat_and_unwraps_the_reply(dslite):
    rig = dslite
    rig.ct_add("udp", (HOST, INET, 6000, 53), (INET, HOST, 53, 6000))
    frame = lan_frame(rig, UDP(sport=6000, dport=53) / Raw(b"ds"), ttl=30, id=6)
    inner = IP(src=HOST, dst=INET, ttl=29, id=6) / UDP(sport=6000, dport=53) / Raw(b"ds")
    assert take_over(rig, LAN, frame, WAN, Ether() / inner) == \
        bytes(encap(rig, B4, AFTR, 0, inner))
    back = (Ether(src=GW6_MAC, dst=rig.mac["wan0"]) / IPv6(src=AFTR, dst=B4, nh=4) /
            IP(src=INET, dst=HOST, ttl=40, id=8) / UDP(sport=53, dport=6000) / Raw(b"sd"))
    want = (Ether(src=rig.mac["lan0"], dst=HOST_MAC) / IP(src=INET, dst=HOST, ttl=39, id=8) /
            UDP(sport=53, dport=6000) / Raw(b"sd"))
    assert take_over(rig, WAN, back, LAN, want) == scapy_bytes(want)


def test_dslite_first_udp_packet_each_way_goes_up_untracked(dslite):
    """Without NAT of brouterd's, conntrack runs for the fast path alone:
    the first UDP packet from the LAN of a flow direction it has no entry
    of goes up with the metadata that has tc ingress make conntrack skip
    it. The next packet, even after its WAIT entry lapsed, and TCP go up
    as always, to be tracked. From the WAN every packet skips conntrack
    until the LAN side made the entry: else a reply tracked before the
    LAN host's next packet (on another CPU, whose cache had not seen the
    flow) made an entry the wrong way round."""
    rig = dslite
    frame = lan_frame(rig, UDP(sport=6100, dport=53) / Raw(b"first"))
    assert rig.handed_up(LAN, frame) == (bs.XDP_PASS, meta(LAN, BR_META_NOTRACK),
                                          {"pass", "fp4_untracked"})
    assert rig.handed_up(LAN, frame) == (bs.XDP_PASS, b"", {"pass", "fp4_no_ct"})
    time.sleep(RETRY)
    assert rig.handed_up(LAN, frame) == (bs.XDP_PASS, b"", {"pass", "fp4_no_ct"})

    back = (Ether(src=GW6_MAC, dst=rig.mac["wan0"]) / IPv6(src=AFTR, dst=B4, nh=4) /
            IP(src=INET, dst=HOST) / UDP(sport=53, dport=6100) / Raw(b"answer"))
    for _ in range(2):
        assert rig.handed_up(WAN, back) == (bs.XDP_PASS, meta(WAN, BR_META_NOTRACK),
                                             {"decap", "fp4_untracked"})
        time.sleep(RETRY)
    rig.ct_add("udp", (HOST, INET, 6100, 53), (INET, HOST, 53, 6100))
    time.sleep(RETRY)
    ret, handover, moved = rig.handed_up(WAN, back)
    assert (ret, handover) == (bs.XDP_PASS, b"") and "fp4_untracked" not in moved, moved

    tcp = lan_frame(rig, TCP(sport=6101, dport=80, flags="A"))
    assert rig.handed_up(LAN, tcp) == (bs.XDP_PASS, b"", {"pass", "fp4_no_ct"})


def test_mape_nat_of_its_own_has_every_packet_tracked(mape):
    """brouterd's NAT needs conntrack to see every flow from its first
    packet: no packet of a MAP-E box goes up untracked."""
    frame = lan_frame(mape, UDP(sport=6102, dport=53) / Raw(b"first"))
    assert mape.handed_up(LAN, frame) == (bs.XDP_PASS, b"", {"pass", "fp4_no_ct"})


# ------------------------------------------------------------ ipip6 and GRE peers

gre = rig_fixture("gre", GRE_CONF)


def test_ipip6_peer_flow_is_wrapped_and_gre_peer_flow_stays_the_kernels(gre):
    """Into an ip4ip6 peer the fast path wraps as tc egress would; a GRE
    peer's flows it leaves to the kernel (fp4_tunnel), packet unchanged."""
    rig = gre
    ipip_host = "10.40.1.1"
    rig.ct_add("udp", (HOST, ipip_host, 7000, 53), (ipip_host, HOST, 53, 7000))
    frame = lan_frame(rig, UDP(sport=7000, dport=53) / Raw(b"ipip"), dst=ipip_host,
                      ttl=20, id=11)
    inner = IP(src=HOST, dst=ipip_host, ttl=19, id=11) / UDP(sport=7000, dport=53) / \
        Raw(b"ipip")
    assert take_over(rig, LAN, frame, WAN, Ether() / inner) == \
        bytes(encap(rig, IPIP_LOCAL, IPIP_PEER, 0, inner))

    rig.ct_add("udp", (HOST, GRE_SITE, 7001, 53), (GRE_SITE, HOST, 53, 7001))
    frame = lan_frame(rig, UDP(sport=7001, dport=53) / Raw(b"gre"), dst=GRE_SITE)
    for _ in range(3):
        assert rig.fp4(LAN, frame) == (bs.XDP_PASS, bytes(frame), {"pass", "fp4_tunnel"})
        time.sleep(RETRY)
