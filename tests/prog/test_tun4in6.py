# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
BPF program tests for IPv4 over IPv6: the XDP decapsulation and the tc
egress encapsulation, run with BPF_PROG_TEST_RUN on the programs a real
brouterd loaded and attached from a config with a tunnel group (the rig of
progrig.py, with IPv6 on wan0 for the tunnel addresses).

Expected output frames are built with scapy from the RFCs, independently
of the code: the encapsulated frame is the IPv4 packet behind an IPv6
header CE/B4/local -> BR/AFTR/peer with next header 4 (RFC 2473), the
decapsulated one is the inner IPv4 packet behind the same Ethernet
addresses. Every refused 4in6 packet is dropped with its own counter.

MAP-E here is RFC 7597 Appendix A example 1: rule 2001:db8::/40 ->
192.0.2.0/24, EA-bits 16, PSID offset 6, end-user prefix
2001:db8:12:3400::/56 -> CE 192.0.2.18, PSID 0x34, ports A * 1024 + 0x34 *
4 + j (1232-1235, 2256-2259, ...), CE IPv6 2001:db8:12:3400:0:c000:212:34.
"""
import json
import os
import signal
import socket
import struct
import tempfile
import time

import pytest
from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, IPv6, IPerror, UDPerror, Raw

import bpfsys as bs
from fwrig import on_one_cpu
from progrig import (BR_META_NOTRACK, BROUTERCTL, LAN, WAN, Rig, counted, expect, meta, run,
                     running)

BR = "2001:db8:ffff::1"
AFTR = "2001:db8:ffff::2"
PEER = "2001:db8:ffff::3"
WRONG = "2001:db8:ffff::99"
CE4 = "192.0.2.18"
CE6 = "2001:db8:12:3400:0:c000:212:34"
PEER_LOCAL = "2001:db8:12:3400::100"
B4 = "2001:db8:12:3400::b4"
INET = "198.51.100.2"
PEER_NET_HOST = "10.20.1.1"
IN_SET = [1232, 1235, 2256, 64723]      # A = 1, 1, 2, 63 with PSID 0x34
NOT_IN_SET = [1231, 1236, 208, 65535]   # other PSIDs; A = 0 (208 = PSID 0x34, A 0)
BR_MAC = "02:b7:00:00:00:fe"
TC_ACT_REDIRECT = 7
TUN_COUNTERS = ("tun_bad_src", "tun_bad_dst", "tun_bad_port", "tun_bad_inner", "tun_bad_key",
                "decap", "encap", "encap_fail")

MAPE_CONF = f"""
tunnel = {{
  mode = "map-e";
  map-e = {{ rule-ipv6 = "2001:db8::/40"; rule-ipv4 = "192.0.2.0/24"; ea-len = 16;
            br = "{BR}"; prefix = "2001:db8:12:3400::/56"; }};
  ipip6 = ( {{ local = "{PEER_LOCAL}"; remote = "{PEER}"; prefixes = [ "10.20.0.0/16" ]; }} );
}};
"""

DSLITE_CONF = f"""
tunnel = {{
  mode = "ds-lite";
  ds-lite = {{ aftr = "{AFTR}"; local = "{B4}"; }};
}};
"""

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (netns, BPF)")

TUN = struct.Struct("<16s16sIIIHBBIB3x")  # struct br_tun
OUT_KEY = struct.Struct("<I4s")          # struct br_tun_out_key
IN_KEY = struct.Struct("<16s16s")        # struct br_tun_in_key


class TunRig(Rig):
    """The rig, brouterd started with a tunnel config."""

    MAPS = Rig.MAPS + ("tun_out", "tun_in")

    def __init__(self, name, conf_text):
        self.conf = tempfile.NamedTemporaryFile(mode="w", prefix=f"{name}-",
                                                suffix=".conf")
        self.write_conf(conf_text)
        super().__init__(name, ["-c", self.conf.name, "-v"], ipv6_on=("wan0",))
        self.tc_out_fd = None

    def write_conf(self, text):
        self.conf.seek(0)
        self.conf.truncate()
        self.conf.write(text)
        self.conf.flush()

    def start(self):
        super().start()
        if self.egress_progs():
            self.find_egress()

    def check_maps(self):
        super().check_maps()
        assert self.maps["tun_in"][1].value_size == TUN.size

    def stop(self):
        try:
            super().stop()
        finally:
            self.conf.close()

    def egress_progs(self):
        return self.tc_progs("egress")

    def find_egress(self):
        progs = self.egress_progs()
        assert "wan0" in progs, f"tc egress on {list(progs)}, not on wan0"
        # one program, on the LAN too while the IPv4 fast path is on
        assert set(progs.values()) == {progs["wan0"]}
        self.tc_out_fd = self._keep(bs.prog_get_fd_by_id(progs["wan0"]))
        assert bs.prog_info(self.tc_out_fd).name == b"tc_brouter_out"

    def tc_out(self, frame, port=WAN, from_port=None):
        """tc egress on @port; the skb forwarded from @from_port, if given."""
        ctx = bs.SkBuff(ifindex=self.ifindex[port],
                        ingress_ifindex=0 if from_port is None else self.ifindex[from_port])
        with self.inside():
            return bs.prog_test_run(self.tc_out_fd, frame, ctx=ctx)

    def tun_in(self):
        fd, info = self.maps["tun_in"]
        return {IN_KEY.unpack(k): TUN.unpack(bs.map_lookup(fd, k, info.value_size))
                for k in bs.map_keys(fd, info.key_size)}

    def tun_out(self):
        fd, info = self.maps["tun_out"]
        return {OUT_KEY.unpack(k): TUN.unpack(bs.map_lookup(fd, k, info.value_size))
                for k in bs.map_keys(fd, info.key_size)}

    def hup(self, wait_for):
        """SIGHUP brouterd and wait for @wait_for in its log."""
        n = self.log_text().count(wait_for)
        os.kill(self.proc.pid, signal.SIGHUP)
        end = time.monotonic() + 10
        while time.monotonic() < end:
            if self.log_text().count(wait_for) > n:
                return
            time.sleep(0.05)
        pytest.fail(f"no {wait_for!r} after SIGHUP:\n{self.log_text()}")


def tun_rig(suffix, conf):
    yield from running(TunRig(f"brtt{os.getpid()}{suffix}", conf))


@pytest.fixture(scope="module")
def mape():
    yield from tun_rig("m", MAPE_CONF)


@pytest.fixture(scope="module")
def dslite():
    yield from tun_rig("d", DSLITE_CONF)


def wan_mac(rig):
    return rig.mac["wan0"]


def in6(rig, src6, dst6, inner):
    """4in6 from the BR/AFTR/peer's router to the brouter's WAN MAC."""
    return bytes(Ether(src=BR_MAC, dst=wan_mac(rig)) /
                 IPv6(src=src6, dst=dst6, nh=4, hlim=64) / inner)


def decapsulated(rig, inner):
    """What the stack must receive: the same Ethernet addresses, then IPv4."""
    return bytes(Ether(src=BR_MAC, dst=wan_mac(rig), type=0x0800)) + bytes(inner)


def tun_counted(before, after):
    return {k: v for k, v in counted(before, after).items()
            if k[0] in TUN_COUNTERS + ("drop",)}


def assert_decap(rig, frame, want, handover=(b"",)):
    """@frame unwrapped into @want for the kernel, with no mark handover:
    none at all, or one of the @handover expected."""
    before = rig.stats()
    r, meta, pkt = rig.xdp(WAN, frame)
    assert r.retval == bs.XDP_PASS
    assert meta in handover, "decapsulated IPv4 carries no mark handover"
    assert pkt == want
    assert tun_counted(before, rig.stats()) == expect(WAN, len(frame), "decap")


def assert_dropped(rig, frame, reason):
    before = rig.stats()
    r, _, _ = rig.xdp(WAN, frame)
    assert r.retval == bs.XDP_DROP
    assert tun_counted(before, rig.stats()) == expect(WAN, len(frame), "drop", reason)


# ------------------------------------------------------------ setup


def test_maps_hold_the_rfc7597_example_ce_and_the_peer(mape):
    ins = mape.tun_in()
    ce6, br, peer, local = (socket.inet_pton(socket.AF_INET6, a)
                            for a in (CE6, BR, PEER, PEER_LOCAL))
    l6, r6, mode, mtu, ce4, psid, psid_len, psid_offset, key, flags = ins[(br, ce6)]
    assert (key, flags) == (0, 0), "ip4ip6: no GRE"
    assert (l6, r6, mode, mtu) == (ce6, br, 1, 1500 - 40)
    assert (ce4, psid, psid_len, psid_offset) == \
        (struct.unpack("<I", socket.inet_aton(CE4))[0], 0x34, 8, 6)
    assert ins[(peer, local)][:4] == (local, peer, 3, 1460)
    # the "refuse others" markers {::, local}
    assert (bytes(16), ce6) in ins and (bytes(16), local) in ins
    outs = mape.tun_out()
    assert outs[(0, bytes(4))][2] == 1
    assert outs[(16, bytes([10, 20, 0, 0]))][2] == 3


def test_tc_egress_is_attached_on_both_ports_with_the_ipv4_fast_path(mape):
    """The WAN's encapsulates; both record what the kernel forwards."""
    assert sorted(mape.egress_progs()) == ["lan0", "wan0"]


# ------------------------------------------------------------ decapsulation


def stand_in(port):
    """
    The NAT stand-in of a port of PSID 0x34's set (RFC 7597 5.1: A * 1024 +
    0x34 * 4 + j): its rank in the set, from 1. The 252 stand-ins lie below
    1024, where no CE has ports.
    """
    a, j = port >> 10, port & 3
    assert (port >> 2) & 0xff == 0x34 and 1 <= a <= 63, port
    return 1 + (a - 1) * 4 + j


def as_ce_sees(inner):
    """@inner (IPv4 bytes from the BR) as the CE's stack gets it: UDP or TCP
    to CE4 carries the stand-in of its port of the set, checksum redone."""
    pkt = IP(bytes(inner))
    l4 = pkt.getlayer(UDP) or pkt.getlayer(TCP)
    if pkt.dst != CE4 or pkt.frag or l4 is None:
        return bytes(inner)
    l4.dport = stand_in(l4.dport)
    del l4.chksum
    return bytes(pkt)


def quote_patched(inner, off, port):
    """@inner (IPv4 + ICMP error) with the 16 bits at @off of the quote set
    to @port and the ICMP checksum recomputed, the quote's own left as is."""
    raw = bytearray(bytes(inner))
    at = 20 + 8 + 20 + off          # IPv4, ICMP header, quoted IPv4 header
    raw[at:at + 2] = port.to_bytes(2, "big")
    pkt = IP(bytes(raw))
    pkt[ICMP].chksum = None
    return pkt


@pytest.mark.parametrize("port", IN_SET)
def test_mape_udp_to_a_port_of_the_set_is_decapsulated_onto_its_stand_in(mape, port):
    """conntrack knows the CE's flows by their stand-ins: the port of the
    set becomes one, with the UDP checksum still right."""
    inner = IP(src=INET, dst=CE4, ttl=60) / UDP(sport=53, dport=port) / Raw(b"dns")
    want = IP(src=INET, dst=CE4, ttl=60) / UDP(sport=53, dport=stand_in(port)) / Raw(b"dns")
    assert_decap(mape, in6(mape, BR, CE6, inner), decapsulated(mape, want))


def test_mape_tcp_echo_reply_and_icmp_errors_in_the_set_are_decapsulated(mape):
    tcp = IP(src=INET, dst=CE4) / TCP(sport=80, dport=2257, flags="SA")
    echo = IP(src=INET, dst=CE4) / ICMP(type=0, id=1233, seq=1) / Raw(b"ping")
    # an error quotes what the CE sent: its source port, its echo's id
    err_udp = IP(src=INET, dst=CE4) / ICMP(type=3, code=4) / \
        IPerror(src=CE4, dst=INET) / UDPerror(sport=2258, dport=53)
    err_echo = IP(src=INET, dst=CE4) / ICMP(type=11) / \
        IPerror(src=CE4, dst=INET, proto=1) / Raw(bytes(ICMP(type=8, id=2259, seq=3)))
    nochk = IP(src=INET, dst=CE4) / UDP(sport=53, dport=1235, chksum=0) / Raw(b"x")
    for inner, want in (
            (tcp, IP(src=INET, dst=CE4) / TCP(sport=80, dport=stand_in(2257), flags="SA")),
            (echo, IP(src=INET, dst=CE4) / ICMP(type=0, id=stand_in(1233), seq=1) /
             Raw(b"ping")),
            (err_udp, quote_patched(err_udp, 0, stand_in(2258))),
            (err_echo, quote_patched(err_echo, 4, stand_in(2259))),
            # no UDP checksum: none to fix, and still none
            (nochk, IP(src=INET, dst=CE4) / UDP(sport=53, dport=stand_in(1235), chksum=0) /
             Raw(b"x"))):
        assert_decap(mape, in6(mape, BR, CE6, inner), decapsulated(mape, want))


def test_mape_echo_request_to_the_ce_keeps_its_identifier(mape):
    """Someone pinging the CE is no flow the CE's NAT opened: its
    identifier is the caller's, and the reply goes back with it."""
    inner = IP(src=INET, dst=CE4) / ICMP(type=8, id=1234, seq=1)
    assert_decap(mape, in6(mape, BR, CE6, inner), decapsulated(mape, inner))


def test_mape_non_first_fragment_is_left_to_the_kernel(mape):
    inner = IP(src=INET, dst=CE4, proto=17, frag=100) / Raw(b"\x00\x00\x00\x01rest")
    assert_decap(mape, in6(mape, BR, CE6, inner), decapsulated(mape, inner))


def test_ipip6_peer_any_inner_packet_is_decapsulated(mape):
    inner = IP(src=PEER_NET_HOST, dst="192.168.1.10") / UDP(sport=1, dport=9) / Raw(b"x")
    assert_decap(mape, in6(mape, PEER, PEER_LOCAL, inner), decapsulated(mape, inner))


def test_4in6_to_an_address_without_tunnel_goes_to_the_stack(mape):
    inner = IP(src=INET, dst=CE4) / UDP(dport=1233)
    frame = in6(mape, BR, "2001:db8:12:3400::1", inner)
    before = mape.stats()
    r, _, pkt = mape.xdp(WAN, frame)
    assert r.retval == bs.XDP_PASS and pkt == frame
    assert tun_counted(before, mape.stats()) == {}


# ------------------------------------------------------------ refused 4in6


@pytest.mark.parametrize("src,dst", [(WRONG, CE6), (PEER, CE6), (BR, PEER_LOCAL),
                                     (WRONG, PEER_LOCAL)],
                         ids=["stranger_to_ce", "peer_to_ce", "br_to_peer_local",
                              "stranger_to_peer_local"])
def test_4in6_from_anyone_but_the_tunnel_end_is_tun_bad_src(mape, src, dst):
    inner = IP(src=INET, dst=CE4) / UDP(dport=1233)
    assert_dropped(mape, in6(mape, src, dst, inner), "tun_bad_src")


def test_mape_inner_destination_not_the_ce_is_tun_bad_dst(mape):
    for dst in ("192.0.2.19", "192.0.2.1", "10.0.0.1"):
        inner = IP(src=INET, dst=dst) / UDP(dport=1233)
        assert_dropped(mape, in6(mape, BR, CE6, inner), "tun_bad_dst")


@pytest.mark.parametrize("port", NOT_IN_SET)
def test_mape_port_outside_the_set_is_tun_bad_port(mape, port):
    for inner in (IP(src=INET, dst=CE4) / UDP(dport=port),
                  IP(src=INET, dst=CE4) / TCP(dport=port, flags="SA"),
                  IP(src=INET, dst=CE4) / ICMP(type=0, id=port),
                  IP(src=INET, dst=CE4) / ICMP(type=11) /
                  IPerror(src=CE4, dst=INET) / UDPerror(sport=port, dport=53),
                  IP(src=INET, dst=CE4) / ICMP(type=11) / IPerror(src=CE4, dst=INET, proto=1) /
                  Raw(bytes(ICMP(type=8, id=port)))):
        assert_dropped(mape, in6(mape, BR, CE6, inner), "tun_bad_port")


def test_truncated_or_malformed_inner_ipv4_is_tun_bad_inner(mape):
    hdr = bytes(IP(src=INET, dst=CE4) / UDP(dport=1233))
    bad = [
        hdr[:12],                                     # IPv4 header cut short
        bytes([0x65]) + hdr[1:],                      # version 6
        bytes([0x44]) + hdr[1:],                      # ihl 4 < 5
        bytes([0x4f]) + hdr[1:],                      # ihl 15: options past the end
        hdr[:20] + hdr[20:22],                        # UDP ports cut short
        bytes(IP(src=INET, dst=CE4) / ICMP(type=3)) + hdr[:10],  # quoted header cut
    ]
    for inner in bad:
        assert_dropped(mape, in6(mape, BR, CE6, Raw(inner)), "tun_bad_inner")
    # ipip6 checks the IPv4 header too, not the ports
    assert_dropped(mape, in6(mape, PEER, PEER_LOCAL, Raw(hdr[:12])), "tun_bad_inner")


def test_inner_ipv4_longer_than_the_outer_carries_is_tun_bad_inner(mape):
    """
    The inner total length must lie within the outer packet: one that
    claims more, even where the frame goes on (Ethernet padding past the
    outer payload length), is malformed, not decapsulated. The same inner
    packet with the right length and the same padding is decapsulated.
    """
    inner = IP(src=INET, dst=CE4) / UDP(sport=53, dport=1233) / Raw(b"answer")
    good = in6(mape, BR, CE6, inner)
    padded = good + bytes(30)
    long_ip = bytes(inner)
    long_ip = long_ip[:2] + (len(long_ip) + 10).to_bytes(2, "big") + long_ip[4:]
    assert_dropped(mape, in6(mape, BR, CE6, Raw(long_ip)) + bytes(30),
                   "tun_bad_inner")
    assert_dropped(mape, in6(mape, PEER, PEER_LOCAL, Raw(long_ip)), "tun_bad_inner")
    assert_decap(mape, padded, decapsulated(mape, as_ce_sees(inner)) + bytes(30))


# ------------------------------------------------------------ encapsulation


def ipv4_out(src, dst):
    """IPv4 as the kernel hands it to the WAN, after NAT, to the fake next hop."""
    return (Ether(src="02:00:00:00:00:aa", dst="02:00:c0:00:00:01") /
            IP(src=src, dst=dst, ttl=63, id=7) / TCP(sport=1233, dport=443, flags="S") /
            Raw(b"payload" * 20))


def encapsulated(frame, src6, dst6):
    eth, inner = frame[Ether], bytes(frame[IP])
    return bytes(Ether(src=eth.src, dst=eth.dst) /
                 IPv6(src=src6, dst=dst6, nh=4, hlim=64, plen=len(inner)) / Raw(inner))


def assert_encap(rig, frame, src6, dst6):
    before = rig.stats()
    r = rig.tc_out(bytes(frame))
    assert r.retval == TC_ACT_REDIRECT, "bpf_redirect_neigh fills the real L2 addresses"
    assert r.data == encapsulated(frame, src6, dst6)
    assert IPv6(r.data[14:]).plen == len(frame[IP])
    assert tun_counted(before, rig.stats()) == expect(WAN, len(frame), "encap")


def test_mape_ipv4_to_the_internet_is_wrapped_ce_to_br(mape):
    assert_encap(mape, ipv4_out(CE4, INET), CE6, BR)


def assert_encap_swapped(rig, frame, want):
    """@frame out of the CE is wrapped to the BR as @want: stand-ins swapped."""
    before = rig.stats()
    r = rig.tc_out(bytes(frame))
    assert r.retval == TC_ACT_REDIRECT
    assert r.data == encapsulated(want, CE6, BR)
    assert tun_counted(before, rig.stats()) == expect(WAN, len(frame), "encap")


def out_of_ce(l4):
    return (Ether(src="02:00:00:00:00:aa", dst="02:00:c0:00:00:01") /
            IP(src=CE4, dst=INET, ttl=63, id=7) / l4)


def test_mape_stand_ins_leave_as_the_ports_of_the_set(mape):
    """After the kernel's NAT a packet from the CE carries a stand-in; on
    the wire to the BR it is the port of the set it stands for, with the
    checksums right: TCP, UDP (with and without checksum), the echo
    identifier of a request, and the destination port quoted by an error
    about a packet the CE received."""
    v = stand_in(2257)
    err = out_of_ce(ICMP(type=3, code=3) / IPerror(src=INET, dst=CE4) /
                    UDPerror(sport=53, dport=v))
    err_want = out_of_ce(quote_patched(err[IP], 2, 2257)[ICMP])
    for frame, want in (
            (out_of_ce(TCP(sport=v, dport=443, flags="S") / Raw(b"x" * 30)),
             out_of_ce(TCP(sport=2257, dport=443, flags="S") / Raw(b"x" * 30))),
            (out_of_ce(UDP(sport=v, dport=53) / Raw(b"q")),
             out_of_ce(UDP(sport=2257, dport=53) / Raw(b"q"))),
            (out_of_ce(UDP(sport=v, dport=53, chksum=0) / Raw(b"q")),
             out_of_ce(UDP(sport=2257, dport=53, chksum=0) / Raw(b"q"))),
            (out_of_ce(ICMP(type=8, id=v, seq=9) / Raw(b"ping")),
             out_of_ce(ICMP(type=8, id=2257, seq=9) / Raw(b"ping"))),
            (err, err_want)):
        assert_encap_swapped(mape, frame, want)


def test_mape_egress_swaps_nothing_else(mape):
    """A port that is no stand-in, a packet not from the CE, a non-first
    fragment, an echo reply (to someone who pinged the CE) leave as they are."""
    v = stand_in(2257)
    for frame in (out_of_ce(TCP(sport=40000, dport=443, flags="S")),
                  out_of_ce(ICMP(type=0, id=v, seq=1)),
                  Ether(src="02:00:00:00:00:aa", dst="02:00:c0:00:00:01") /
                  IP(src=CE4, dst=INET, proto=17, frag=10) / Raw(v.to_bytes(2, "big") * 4)):
        assert_encap_swapped(mape, frame, frame)
    frame = Ether(src="02:00:00:00:00:aa", dst="02:00:c0:00:00:01") / \
        IP(src="192.168.1.10", dst=PEER_NET_HOST) / UDP(sport=v, dport=9)
    assert_encap(mape, frame, PEER_LOCAL, PEER)


def test_ipv4_to_a_peer_prefix_is_wrapped_to_the_peer(mape):
    assert_encap(mape, ipv4_out(CE4, PEER_NET_HOST), PEER_LOCAL, PEER)


def test_ipv4_that_cannot_be_wrapped_is_a_counted_drop(mape):
    """
    A UDP GSO super-packet (one skb standing for several datagrams) cannot
    grow an outer header without changing its segments' sizes:
    bpf_skb_adjust_room refuses, and the packet is dropped as encap_fail,
    a drop reason like any other, so "drop" moves with it.
    """
    frame = bytes(ipv4_out(CE4, INET))
    ctx = bs.SkBuff(ifindex=mape.ifindex[WAN], gso_segs=2, gso_size=100)
    before = mape.stats()
    with mape.inside():
        r = bs.prog_test_run(mape.tc_out_fd, frame, ctx=ctx)
    assert r.retval == bs.TC_ACT_SHOT
    assert tun_counted(before, mape.stats()) == expect(WAN, len(frame), "drop",
                                                      "encap_fail")


@pytest.mark.parametrize("what", ["ipv6", "arp", "lan_port"])
def test_tc_egress_leaves_everything_else_alone(mape, what):
    """(A truncated IPv4 header cannot be tried: test_run refuses it, EINVAL.)"""
    port, eth = WAN, Ether(src="02:00:00:00:00:aa", dst="02:00:00:00:00:bb")
    if what == "ipv6":
        frame = bytes(eth / IPv6(src=CE6, dst=BR) / UDP(dport=9))
    elif what == "arp":
        frame = bytes(eth / ARP(psrc=CE4, pdst=INET))
    else:
        frame, port = bytes(ipv4_out(CE4, INET)), LAN
    before = mape.stats()
    r = mape.tc_out(frame, port)
    assert r.retval == bs.TC_PASS and r.data == frame
    assert tun_counted(before, mape.stats()) == {}


# ------------------------------------------------------------ DS-Lite


def test_dslite_wraps_lan_ipv4_unchanged_b4_to_aftr(dslite):
    assert_encap(dslite, ipv4_out("192.168.1.10", INET), B4, AFTR)


def test_dslite_decapsulates_from_the_aftr_whatever_the_port(dslite):
    """(A UDP flow's first packet: conntrack, running for the IPv4 fast
    path alone, is to skip it; tests/prog/test_fp4.py has the rest.)"""
    inner = IP(src=INET, dst="192.168.1.10") / UDP(sport=53, dport=208) / Raw(b"x")
    assert_decap(dslite, in6(dslite, AFTR, B4, inner), decapsulated(dslite, inner),
                 (meta(WAN, BR_META_NOTRACK),))


def test_dslite_refuses_4in6_to_the_b4_from_others(dslite):
    inner = IP(src=INET, dst="192.168.1.10") / UDP(dport=9)
    assert_dropped(dslite, in6(dslite, BR, B4, inner), "tun_bad_src")
    assert_dropped(dslite, in6(dslite, AFTR, B4, Raw(bytes(inner)[:8])), "tun_bad_inner")


# ------------------------------------------------------------ reload


# Without the IPv4 fast path, tc egress exists for the tunnel alone.
NO_FP4 = "ipv4 = { fast-path = false; };\n"


@pytest.fixture
def plain():
    yield from tun_rig("r", NO_FP4 + "# no tunnel\n")


def test_4in6_from_a_tunnel_end_a_reload_replaced_or_removed_is_not_decapsulated(plain):
    """XDP's copy of the tunnel (tun_in_last, per CPU: the test stays on
    one) must not outlive the tunnel: the first 4in6 after the change is
    judged by the new tunnels."""
    r = plain
    with on_one_cpu():
        inner = IP(src=INET, dst="192.168.1.10") / UDP(sport=53, dport=208) / Raw(b"x")
        r.write_conf(NO_FP4 + DSLITE_CONF)
        r.hup("ds-lite set up on wan0")
        for _ in range(3):  # the copy is made, then used
            assert_decap(r, in6(r, AFTR, B4, inner), decapsulated(r, inner))

        # the AFTR moves; the B4 address stays, so the old AFTR is refused
        r.write_conf(NO_FP4 + DSLITE_CONF.replace(AFTR, BR))
        r.hup(f"-> AFTR {BR},")
        assert_dropped(r, in6(r, AFTR, B4, inner), "tun_bad_src")
        assert_decap(r, in6(r, BR, B4, inner), decapsulated(r, inner))

        # no tunnel at all: 4in6 to the old B4 address is the stack's, unopened
        r.write_conf(NO_FP4 + "# no tunnel\n")
        r.hup("tc egress program removed")
        frame = in6(r, BR, B4, inner)
        res, _, pkt = r.xdp(WAN, frame)
        assert res.retval == bs.XDP_PASS and pkt == frame


def test_reload_adds_and_removes_the_tunnel_and_a_bad_one_changes_nothing(plain):
    r = plain
    # No tunnel configured: no egress program at all (zero cost).
    assert r.egress_progs() == {}
    assert r.tun_in() == {} and r.tun_out() == {}

    r.write_conf(NO_FP4 + MAPE_CONF)
    r.hup("map-e + ipip6 set up on wan0")
    assert list(r.egress_progs()) == ["wan0"]
    ins, outs = r.tun_in(), r.tun_out()
    assert len(ins) == 4 and len(outs) == 2
    addrs = r.ns("ip", "-6", "addr", "show", "dev", "wan0").stdout
    assert CE6 in addrs and PEER_LOCAL in addrs

    # a broken tunnel group: reported with its line, nothing changes
    r.write_conf(NO_FP4 + MAPE_CONF.replace('ea-len = 16;', 'ea-len = 16; colour = "blue";'))
    r.hup("reload refused: nothing changed")
    assert "tunnel.map-e.colour: unknown key" in r.log_text()
    assert r.tun_in() == ins and r.tun_out() == outs
    assert list(r.egress_progs()) == ["wan0"]

    # the tunnel taken out again: egress program, addresses, routes, table gone
    r.write_conf(NO_FP4 + "# no tunnel\n")
    r.hup("tc egress program removed")
    assert r.egress_progs() == {}
    assert r.tun_in() == {} and r.tun_out() == {}
    addrs = r.ns("ip", "-6", "addr", "show", "dev", "wan0").stdout
    assert CE6 not in addrs and PEER_LOCAL not in addrs
    assert "proto 180" not in r.ns("ip", "-4", "route", "show").stdout
    assert "brouter" not in r.ns("nft", "list", "tables").stdout
    # XDP and tc ingress are untouched by all of it
    r._find_programs()


# ------------------------------------------------------------ brouterctl


def brouterctl(rig, *args):
    return run(BROUTERCTL, "-p", rig.pin_dir, *args)


def test_brouterctl_tunnel_shows_mode_ce_psid_ports_ends_and_mtu(mape):
    st = json.loads(brouterctl(mape, "tunnel", "--json").stdout)
    out = {e["prefix"]: e for e in st["tun_out"]}
    assert set(out) == {"0.0.0.0/0", "10.20.0.0/16"}
    m = out["0.0.0.0/0"]
    assert (m["mode"], m["local"], m["remote"], m["mtu"]) == ("map-e", CE6, BR, 1460)
    assert (m["ce_ipv4"], m["psid"], m["psid_len"], m["psid_offset"]) == (CE4, 0x34, 8, 6)
    assert m["ports"][0] == [1232, 1235] and m["ports"][-1] == [64720, 64723]
    assert m["port_count"] == 252
    p = out["10.20.0.0/16"]
    assert (p["mode"], p["local"], p["remote"]) == ("ipip6", PEER_LOCAL, PEER)
    ins = {(e["src"], e["dst"]): e["mode"] for e in st["tun_in"]}
    assert ins == {(BR, CE6): "map-e", (PEER, PEER_LOCAL): "ipip6",
                   ("any", CE6): "refuse", ("any", PEER_LOCAL): "refuse"}
    text = brouterctl(mape, "tunnel").stdout
    assert f"0.0.0.0/0 via map-e    {CE6} -> {BR} mtu 1460" in text
    assert "PSID 52 (8 bits, offset 6), ports 1232-1235 2256-2259 ... 63696-63699 " \
           "64720-64723 (252 ports in 63 ranges)" in text


def test_brouterctl_tunnel_without_a_tunnel_says_none(plain):
    assert json.loads(brouterctl(plain, "tunnel", "--json").stdout) == \
        {"tun_out": [], "tun_in": []}
    assert "none" in brouterctl(plain, "tunnel").stdout


# ------------------------------------------------------------ start failure


class BlockedRig(TunRig):
    """Someone else's IPv4 default route is on the system already."""

    def before_daemon(self):
        self.ns("ip", "addr", "add", "203.0.113.2/24", "dev", "lan0")
        self.ns("ip", "route", "add", "default", "via", "203.0.113.1")


def test_tunnel_that_cannot_be_set_up_stops_brouterd_leaving_nothing_behind():
    r = BlockedRig(f"brtt{os.getpid()}b", MAPE_CONF)
    try:
        with pytest.raises(pytest.fail.Exception):
            r.start()
        assert r.proc.wait(timeout=10) == 1
        log = r.log_text()
        assert "a route for 0.0.0.0/0 exists already; the tunnel needs it" in log, log
        assert "nothing of it is left" in log
        assert r.egress_progs() == {} and r.tc_progs("ingress") == {}
        net = json.loads(r.ns("bpftool", "net", "-j").stdout)[0]
        assert not net.get("xdp") and not net.get("tc"), net
        addrs = r.ns("ip", "addr", "show").stdout
        assert CE6 not in addrs and CE4 not in addrs and PEER_LOCAL not in addrs
        routes = r.ns("ip", "-4", "route", "show").stdout
        assert "proto 180" not in routes and "default via 203.0.113.1" in routes
        assert "192.0.0.1" not in r.ns("ip", "-4", "neigh", "show").stdout
        assert "brouter" not in r.ns("nft", "list", "tables").stdout
        assert not os.path.exists(r.pin_dir)
    finally:
        r.stop()
