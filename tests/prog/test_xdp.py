# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
BPF program tests: frames built with scapy run with BPF_PROG_TEST_RUN
through the XDP and tc ingress programs *as the real brouterd loaded and
attached them* (same object, same rodata ifindexes, same pinned maps), on
the rig of progrig.py (lan0/wan0 and their veth peers lanp/wanp).

Verdicts, output bytes (including the br_meta handover XDP writes in front
of the frame), ctx_out marks and exact per-CPU counter deltas are checked;
BPF_F_TEST_XDP_LIVE_FRAMES runs send the frame for real, so the redirect
target and the tc copy are proved by capturing on the veth peers.

XDP test_run rejects frames shorter than ETH_HLEN with EINVAL
(bpf_test_init), and veth cannot carry them either: the "runt" counter is
unreachable from here, which test_runt_frames_are_refused_by_kernel
asserts explicitly.
"""
import contextlib
import json
import os
import socket
import struct
import subprocess
import time

import pytest
from scapy.all import (ARP, ICMPv6EchoReply, ICMPv6ND_NS, ICMPv6ND_RA, IP, PPP, PPPoE, PPPoED,
                       UDP, Ether, IPv6, Raw)

import bpfsys as bs
from progrig import (BR_META_CLONE, BR_META_MARK, LAN, WAN, PEER_IF, PORT_IF, Rig, counted,
                     expect, meta, running)

PORT_NAME = ("lan", "wan")

ETH_P_ALL = 0x0003
ETH_HLEN = 14
IP6_HLEN = 40

BR_F_MARK = 1

FDB_VAL = struct.Struct("<IIQ")        # struct br_fdb_val
SETTINGS = struct.Struct("<12s8H2II")  # head of struct br_settings

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root (netns, BPF)")


class XdpRig(Rig):
    """The rig, with the bridge's own maps read."""

    MAPS = Rig.MAPS + ("fdb", "settings", "tx_ports")

    def check_maps(self):
        super().check_maps()
        # struct br_settings grows (firewall policy); its head is fixed.
        assert self.maps["settings"][1].value_size >= SETTINGS.size
        assert self.maps["fdb"][1].value_size == FDB_VAL.size

    def fdb(self):
        """{mac: (port, seen_ns)}"""
        fd, info = self.maps["fdb"]
        out = {}
        for key in bs.map_keys(fd, info.key_size):
            port, _, seen = FDB_VAL.unpack(
                bs.map_lookup(fd, key, info.value_size))
            out[":".join(f"{b:02x}" for b in key[:6])] = (port, seen)
        return out

    def settings(self):
        fd, info = self.maps["settings"]
        macs, *rest = SETTINGS.unpack_from(
            bs.map_lookup(fd, struct.pack("<I", 0), info.value_size))
        ethertypes, marks, flags = rest[:8], rest[8:10], rest[10]
        return {"mac": [":".join(f"{b:02x}" for b in macs[i:i + 6])
                        for i in (0, 6)],
                "ethertypes": [socket.ntohs(e) for e in ethertypes],
                "mark": list(marks), "flags": flags}


@pytest.fixture(scope="module")
def rig():
    yield from running(XdpRig(f"brtp{os.getpid()}"))


@pytest.fixture(scope="module")
def rig_opts():
    """A second brouterd with non-default marks and PPPoE bridged."""
    yield from running(XdpRig(f"brtp{os.getpid()}o",
                              ["--mark-out", "0x10", "--mark-in", "0x20",
                               "--bridge-pppoe"]))


# ----------------------------------------------------------------- frames

_mac_seq = [0]


def new_mac():
    """A fresh locally administered unicast MAC: no FDB history."""
    _mac_seq[0] += 1
    n = _mac_seq[0] + (os.getpid() & 0xff) * 0x1000
    return "02:b7:{:02x}:{:02x}:{:02x}:{:02x}".format(
        (n >> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff)


def ip6_frame(src, dst, port=LAN, payload=b"brouter test"):
    """
    IPv6 unicast arriving on @port, of a kind the IPv6 firewall always
    lets across without state (RFC 6092/4890): an ICMPv6 echo reply going
    out (from a link-local source: a global one must be in a prefix the
    brouter knows, RFC 6092 REC-5), a DHCPv6 reply (547 -> 546) to a
    link-local client coming in.
    These tests are about the layer-2 path; the firewall's own decisions
    are tested elsewhere.
    """
    if port == LAN:
        l3 = (IPv6(src="fe80::10", dst="2001:db8:2::20") /
              ICMPv6EchoReply(id=0x4242, seq=1, data=payload))
    else:
        l3 = (IPv6(src="fe80::1", dst="fe80::10") /
              UDP(sport=547, dport=546) / Raw(payload))
    return bytes(Ether(src=src, dst=dst) / l3)


def ra_frame(src):
    """IPv6 multicast like the ISP's router advertisement."""
    return bytes(Ether(src=src, dst="33:33:00:00:00:01") /
                 IPv6(src="fe80::1", dst="ff02::1", hlim=255) /
                 ICMPv6ND_RA())


def ns_frame(src):
    """Neighbour solicitation to a solicited-node group."""
    return bytes(Ether(src=src, dst="33:33:ff:00:00:20") /
                 IPv6(src="fe80::10", dst="ff02::1:ff00:20", hlim=255) /
                 ICMPv6ND_NS(tgt="2001:db8:1::20"))


def pppoe_disc(src, dst):
    return bytes(Ether(src=src, dst=dst, type=0x8863) /
                 PPPoED(code=0x09, sessionid=0) / Raw(b"\x01\x01\x00\x00"))


def pppoe_sess(src, dst):
    return bytes(Ether(src=src, dst=dst, type=0x8864) /
                 PPPoE(sessionid=0x1234) / PPP(proto=0x0021) /
                 IP(src="192.0.2.1", dst="198.51.100.1") / UDP(dport=9) /
                 Raw(b"ppp"))


class Tap:
    """AF_PACKET socket on one interface of the rig's namespace."""

    def __init__(self, rig, ifname):
        with rig.inside():
            # Protocol 0 until bound: nothing from other interfaces queues.
            self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
            self.sock.bind((ifname, ETH_P_ALL))

    def frames(self, timeout, until=None):
        """Frames received (not sent) within timeout; stop at until."""
        out = []
        end = time.monotonic() + timeout
        while (left := end - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                data, addr = self.sock.recvfrom(65535)
            except socket.timeout:
                break
            if addr[2] == socket.PACKET_OUTGOING:
                continue
            out.append(data)
            if until is not None and data == until:
                break
        return out

    def close(self):
        self.sock.close()


@contextlib.contextmanager
def taps(rig):
    t = [Tap(rig, PEER_IF[LAN]), Tap(rig, PEER_IF[WAN])]
    try:
        yield t
    finally:
        for x in t:
            x.close()


def from_src(frames, src):
    raw_src = bytes.fromhex(src.replace(":", ""))
    return [f for f in frames if f[6:12] == raw_src]


# ------------------------------------------------- IPv6 unicast is bridged


@pytest.mark.parametrize("port", [LAN, WAN], ids=["lan_to_wan", "wan_to_lan"])
def test_ipv6_unicast_is_redirected_unchanged_and_counted_bridged(rig, port):
    frame = ip6_frame(new_mac(), new_mac(), port)
    before = rig.stats()
    r, m, pkt = rig.xdp(port, frame)
    assert r.retval == bs.XDP_REDIRECT
    assert m == b"" and pkt == frame
    assert counted(before, rig.stats()) == \
        expect(port, len(frame), "rx", "bridged")


def test_counters_are_exact_over_repeated_runs(rig):
    frame = ip6_frame(new_mac(), new_mac())
    ctx = bs.XdpMd(data_end=len(frame), ingress_ifindex=rig.ifindex[LAN])
    before = rig.stats()
    with rig.inside():
        r = bs.prog_test_run(rig.xdp_fd, frame, ctx=ctx, repeat=1000)
    assert r.retval == bs.XDP_REDIRECT
    assert counted(before, rig.stats()) == \
        expect(LAN, len(frame), "rx", "bridged", n=1000)


@pytest.mark.parametrize("port", [LAN, WAN], ids=["lan_to_wan", "wan_to_lan"])
def test_live_ipv6_unicast_arrives_byte_exact_on_other_peer_only(rig, port):
    src = new_mac()
    frame = ip6_frame(src, new_mac(), port, payload=b"live unicast" * 4)
    with taps(rig) as t:
        before = rig.stats()
        rig.xdp_live(port, frame)
        got = t[1 - port].frames(3.0, until=frame)
        back = t[port].frames(0.3)
    assert from_src(got, src) == [frame]
    assert from_src(back, src) == []
    assert counted(before, rig.stats()) == \
        expect(port, len(frame), "rx", "bridged")


def test_fdb_learns_source_and_drops_same_port_destination(rig):
    a, b = new_mac(), new_mac()
    f1 = ip6_frame(a, b)
    r, _, _ = rig.xdp(LAN, f1)
    assert r.retval == bs.XDP_REDIRECT
    port, seen = rig.fdb()[a]
    assert port == LAN and seen > 0

    # b on the LAN talking to a, which lives on the LAN: not bridged.
    f2 = ip6_frame(b, a)
    before = rig.stats()
    r, m, pkt = rig.xdp(LAN, f2)
    assert r.retval == bs.XDP_DROP
    assert counted(before, rig.stats()) == \
        expect(LAN, len(f2), "rx", "drop", "same_port")
    assert b not in rig.fdb(), "a dropped frame teaches the FDB nothing"

    # From the WAN, a is on the other side: bridged.
    f3 = ip6_frame(new_mac(), a, WAN)
    before = rig.stats()
    r, _, _ = rig.xdp(WAN, f3)
    assert r.retval == bs.XDP_REDIRECT
    assert counted(before, rig.stats()) == \
        expect(WAN, len(f3), "rx", "bridged")


def test_fdb_moves_station_to_new_port(rig):
    a = new_mac()
    rig.xdp(LAN, ip6_frame(a, new_mac()))
    assert rig.fdb()[a][0] == LAN
    rig.xdp(WAN, ip6_frame(a, new_mac(), WAN))
    assert rig.fdb()[a][0] == WAN
    # Now a frame from the LAN to a is bridged, from the WAN it is not.
    r, _, _ = rig.xdp(LAN, ip6_frame(new_mac(), a))
    assert r.retval == bs.XDP_REDIRECT
    r, _, _ = rig.xdp(WAN, ip6_frame(new_mac(), a, WAN))
    assert r.retval == bs.XDP_DROP


@pytest.mark.parametrize("port", [LAN, WAN], ids=["lan", "wan"])
def test_multicast_source_mac_is_dropped_src_multicast(rig, port):
    frame = ip6_frame("03:00:5e:00:00:01", new_mac(), port)
    before = rig.stats()
    r, _, _ = rig.xdp(port, frame)
    assert r.retval == bs.XDP_DROP
    assert counted(before, rig.stats()) == \
        expect(port, len(frame), "rx", "drop", "src_multicast")
    assert "03:00:5e:00:00:01" not in rig.fdb()


@pytest.mark.parametrize("which", [LAN, WAN], ids=["lan0_mac", "wan0_mac"])
def test_own_source_mac_is_dropped_as_loop(rig, which):
    frame = ip6_frame(rig.mac[PORT_IF[which]], new_mac())
    before = rig.stats()
    r, _, _ = rig.xdp(LAN, frame)
    assert r.retval == bs.XDP_DROP
    assert counted(before, rig.stats()) == \
        expect(LAN, len(frame), "rx", "drop", "own_src_mac")


# ------------------------------------------------- IPv6 multicast: flood


@pytest.mark.parametrize("port", [LAN, WAN], ids=["lan", "wan"])
@pytest.mark.parametrize("make", [ra_frame, ns_frame], ids=["ra", "ns"])
def test_ipv6_multicast_is_passed_with_mark_and_clone_request(rig, port, make):
    frame = make(new_mac())
    before = rig.stats()
    r, m, pkt = rig.xdp(port, frame)
    assert r.retval == bs.XDP_PASS
    assert m == meta(port, BR_META_MARK | BR_META_CLONE)
    assert pkt == frame
    assert counted(before, rig.stats()) == \
        expect(port, len(frame), "rx", "flood")


@pytest.mark.parametrize("port", [LAN, WAN], ids=["lan_to_wan", "wan_to_lan"])
def test_live_multicast_reaches_stack_marked_and_copy_leaves_other_port(
        rig, port):
    src = new_mac()
    frame = ra_frame(src)
    mark = (0x600, 0x601)[port]
    dev = PORT_IF[port]
    # A netdev ingress hook runs after tc ingress: it sees the skb the
    # stack gets, with the mark tc set from the XDP metadata.
    nft = (f"table netdev {rig.name} {{\n chain in {{\n"
           f"  type filter hook ingress device \"{dev}\" priority 0;\n"
           f"  ether saddr {src} meta mark {mark:#x} counter\n }}\n}}\n")
    p = subprocess.run(["nsenter", f"--net={rig.ns_path}", "nft", "-f", "-"],
                       input=nft, text=True, capture_output=True)
    assert p.returncode == 0, p.stderr
    try:
        with taps(rig) as t:
            before = rig.stats()
            rig.xdp_live(port, frame)
            got = t[1 - port].frames(3.0, until=frame)
            back = t[port].frames(0.3)
        assert from_src(got, src) == [frame]
        assert from_src(back, src) == []
        assert counted(before, rig.stats()) == expect(
            port, len(frame), "rx", "flood", "tc_cloned", "tc_marked")
        out = rig.ns("nft", "-j", "list", "table", "netdev", rig.name).stdout
        counters = [x["counter"]["packets"] for x in _nft_exprs(out)
                    if "counter" in x]
        assert counters == [1], out
    finally:
        rig.ns("nft", "delete", "table", "netdev", rig.name, check=False)


def _nft_exprs(js):
    for obj in json.loads(js)["nftables"]:
        if "rule" in obj:
            yield from obj["rule"]["expr"]


# ---------------------------------------- frames for the brouter itself


@pytest.mark.parametrize("port", [LAN, WAN], ids=["on_lan", "on_wan"])
@pytest.mark.parametrize("which", [LAN, WAN], ids=["lan0_mac", "wan0_mac"])
def test_ipv6_to_own_mac_is_passed_local_with_mark(rig, port, which):
    src = new_mac()
    frame = ip6_frame(src, rig.mac[PORT_IF[which]], port)
    before = rig.stats()
    r, m, pkt = rig.xdp(port, frame)
    assert r.retval == bs.XDP_PASS
    assert m == meta(port, BR_META_MARK)
    assert pkt == frame
    assert counted(before, rig.stats()) == \
        expect(port, len(frame), "rx", "local")
    # Router-local traffic teaches the FDB nothing.
    assert src not in rig.fdb()


# ------------------------------------------------ non-IPv6 goes up as is


def _ipv4(rig, src):
    return bytes(Ether(src=src, dst=rig.mac["lan0"]) /
                 IP(src="192.168.1.10", dst="192.168.1.1") / UDP(dport=53) /
                 Raw(b"q"))


def _arp(rig, src):
    return bytes(Ether(src=src, dst="ff:ff:ff:ff:ff:ff") /
                 ARP(hwsrc=src, psrc="192.168.1.10", pdst="192.168.1.1"))


NON_IPV6 = {
    "ipv4": _ipv4,
    "arp": _arp,
    "pppoe_padi": lambda rig, src: pppoe_disc(src, "ff:ff:ff:ff:ff:ff"),
    "pppoe_disc_unicast": lambda rig, src: pppoe_disc(src, new_mac()),
    "pppoe_session": lambda rig, src: pppoe_sess(src, new_mac()),
    "lldp": lambda rig, src: bytes(Ether(src=src, dst="01:80:c2:00:00:0e",
                                         type=0x88cc) / Raw(b"\x00" * 46)),
}


@pytest.mark.parametrize("port", [LAN, WAN], ids=["lan", "wan"])
@pytest.mark.parametrize("kind", sorted(NON_IPV6))
def test_non_ipv6_is_passed_unchanged_without_metadata(rig, port, kind):
    src = new_mac()
    frame = NON_IPV6[kind](rig, src)
    before = rig.stats()
    r, m, pkt = rig.xdp(port, frame)
    assert r.retval == bs.XDP_PASS
    assert m == b"" and pkt == frame
    # IPv4 to the port's own MAC: the IPv4 fast path says why it is the kernel's
    why = ("fp4_no_ct",) if kind == "ipv4" and port == LAN else ()
    assert counted(before, rig.stats()) == \
        expect(port, len(frame), "rx", "pass", *why)
    assert src not in rig.fdb()


# ------------------------------------------------------ malformed frames


def test_runt_frames_are_refused_by_kernel(rig):
    """
    Below ETH_HLEN, BPF_PROG_TEST_RUN fails with EINVAL before the program
    runs (and veth cannot carry such a frame): the "runt" path is not
    reachable from a test. Assert exactly that, and that nothing counted.
    """
    frame = ip6_frame(new_mac(), new_mac())
    before = rig.stats()
    for n in range(ETH_HLEN):
        with pytest.raises(OSError) as e:
            rig.xdp(LAN, frame[:n])
        assert e.value.errno == 22, n
    assert counted(before, rig.stats()) == {}


@pytest.mark.parametrize("port", [LAN, WAN], ids=["lan", "wan"])
def test_every_truncated_ipv6_header_is_dropped_bad_ipv6(rig, port):
    frame = ip6_frame(new_mac(), new_mac(), port)
    before = rig.stats()
    lengths = range(ETH_HLEN, ETH_HLEN + IP6_HLEN)
    for n in lengths:
        r, _, _ = rig.xdp(port, frame[:n])
        assert r.retval == bs.XDP_DROP, f"length {n}"
    nbytes = sum(lengths)
    assert counted(before, rig.stats()) == {
        (name, port): (len(lengths), nbytes)
        for name in ("rx", "drop", "bad_ipv6")}
    # One byte more and the IPv6 header is whole: whatever happens next
    # (the upper layer is missing), it is no longer "bad_ipv6".
    before = rig.stats()
    rig.xdp(port, frame[:ETH_HLEN + IP6_HLEN])
    d = counted(before, rig.stats())
    assert d[("rx", port)] == (1, ETH_HLEN + IP6_HLEN)
    assert ("bad_ipv6", port) not in d


@pytest.mark.parametrize("version", [0, 4, 5, 7, 15])
def test_ipv6_header_with_wrong_version_is_dropped_bad_ipv6(rig, version):
    frame = bytearray(ip6_frame(new_mac(), new_mac(), WAN))
    frame[ETH_HLEN] = (version << 4) | (frame[ETH_HLEN] & 0x0f)
    before = rig.stats()
    r, _, _ = rig.xdp(WAN, bytes(frame))
    assert r.retval == bs.XDP_DROP
    assert counted(before, rig.stats()) == \
        expect(WAN, len(frame), "rx", "drop", "bad_ipv6")


def test_foreign_ingress_ifindex_is_passed_uncounted(rig):
    """A port brouter does not own (here lanp) is not its business."""
    frame = ip6_frame(new_mac(), new_mac())
    with rig.inside():
        lanp = socket.if_nametoindex(PEER_IF[LAN])
    ctx = bs.XdpMd(data_end=len(frame), ingress_ifindex=lanp)
    before = rig.stats()
    with rig.inside():
        r = bs.prog_test_run(rig.xdp_fd, frame, ctx=ctx)
    assert r.retval == bs.XDP_PASS and r.data == frame
    assert counted(before, rig.stats()) == {}


# ------------------------------------------------------------ tc ingress


@pytest.mark.parametrize("port", [LAN, WAN], ids=["lan", "wan"])
def test_tc_marks_ipv6_without_metadata_by_arrival_port(rig, port):
    frame = ip6_frame(new_mac(), new_mac(), port)
    before = rig.stats()
    r = rig.tc(rig.ifindex[port], frame)
    assert r.retval == bs.TC_PASS
    assert r.ctx.mark == (0x600, 0x601)[port]
    assert r.data == frame
    assert counted(before, rig.stats()) == \
        expect(port, len(frame), "tc_no_meta", "tc_marked")


@pytest.mark.parametrize("port", [LAN, WAN], ids=["lan", "wan"])
@pytest.mark.parametrize("mark", [0, 0x42])
def test_tc_leaves_ipv4_mark_alone(rig, port, mark):
    frame = _ipv4(rig, new_mac())
    before = rig.stats()
    r = rig.tc(rig.ifindex[port], frame, mark=mark)
    assert r.retval == bs.TC_PASS
    assert r.ctx.mark == mark
    assert r.data == frame
    assert counted(before, rig.stats()) == {}


def test_tc_ignores_foreign_interface(rig):
    with rig.inside():
        lanp = socket.if_nametoindex(PEER_IF[LAN])
    frame = ip6_frame(new_mac(), new_mac())
    before = rig.stats()
    r = rig.tc(lanp, frame)
    assert r.retval == bs.TC_PASS and r.ctx.mark == 0
    assert counted(before, rig.stats()) == {}


# ---------------------------------------------------- loader -> settings


def test_settings_hold_port_macs_and_default_marks(rig):
    s = rig.settings()
    assert s["mac"] == [rig.mac["lan0"], rig.mac["wan0"]]
    assert s["mark"] == [0x600, 0x601]
    assert s["ethertypes"] == [0] * 8
    assert s["flags"] == BR_F_MARK


def test_settings_follow_options(rig_opts):
    s = rig_opts.settings()
    assert s["mac"] == [rig_opts.mac["lan0"], rig_opts.mac["wan0"]]
    assert s["mark"] == [0x10, 0x20]
    assert s["ethertypes"] == [0x8863, 0x8864] + [0] * 6
    assert s["flags"] == BR_F_MARK


# ------------------------------------------- options: marks, PPPoE bridged


@pytest.mark.parametrize("port", [LAN, WAN], ids=["lan", "wan"])
def test_tc_marks_follow_mark_options(rig_opts, port):
    frame = ip6_frame(new_mac(), new_mac(), port)
    r = rig_opts.tc(rig_opts.ifindex[port], frame)
    assert r.retval == bs.TC_PASS
    assert r.ctx.mark == (0x10, 0x20)[port]


@pytest.mark.parametrize("port", [LAN, WAN], ids=["lan_to_wan", "wan_to_lan"])
@pytest.mark.parametrize("make", [pppoe_disc, pppoe_sess],
                         ids=["discovery", "session"])
def test_bridged_pppoe_unicast_is_redirected(rig_opts, port, make):
    frame = make(new_mac(), new_mac())
    before = rig_opts.stats()
    r, m, pkt = rig_opts.xdp(port, frame)
    assert r.retval == bs.XDP_REDIRECT
    assert m == b"" and pkt == frame
    assert counted(before, rig_opts.stats()) == \
        expect(port, len(frame), "rx", "bridged")


@pytest.mark.parametrize("port", [LAN, WAN], ids=["lan", "wan"])
def test_bridged_pppoe_broadcast_is_flooded_without_mark(rig_opts, port):
    frame = pppoe_disc(new_mac(), "ff:ff:ff:ff:ff:ff")
    before = rig_opts.stats()
    r, m, pkt = rig_opts.xdp(port, frame)
    assert r.retval == bs.XDP_PASS
    # Not IPv6: tc copies it across but sets no direction mark.
    assert m == meta(port, BR_META_CLONE)
    assert pkt == frame
    assert counted(before, rig_opts.stats()) == \
        expect(port, len(frame), "rx", "flood")


def test_live_pppoe_padi_is_copied_to_wan_unmarked(rig_opts):
    src = new_mac()
    frame = pppoe_disc(src, "ff:ff:ff:ff:ff:ff")
    with taps(rig_opts) as t:
        before = rig_opts.stats()
        rig_opts.xdp_live(LAN, frame)
        got = t[WAN].frames(3.0, until=frame)
    assert from_src(got, src) == [frame]
    assert counted(before, rig_opts.stats()) == \
        expect(LAN, len(frame), "rx", "flood", "tc_cloned")


def test_live_pppoe_session_unicast_arrives_on_wan_peer(rig_opts):
    src = new_mac()
    frame = pppoe_sess(src, new_mac())
    with taps(rig_opts) as t:
        rig_opts.xdp_live(LAN, frame)
        got = t[WAN].frames(3.0, until=frame)
    assert from_src(got, src) == [frame]


@pytest.mark.parametrize("make", [pppoe_disc, pppoe_sess],
                         ids=["discovery", "session"])
def test_bridged_pppoe_to_own_mac_is_passed(rig_opts, make):
    frame = make(new_mac(), rig_opts.mac["wan0"])
    before = rig_opts.stats()
    r, m, pkt = rig_opts.xdp(WAN, frame)
    assert r.retval == bs.XDP_PASS
    assert m == b"" and pkt == frame
    assert counted(before, rig_opts.stats()) == \
        expect(WAN, len(frame), "rx", "pass")


def test_ipv4_still_passed_with_pppoe_bridged(rig_opts):
    frame = _ipv4(rig_opts, new_mac())
    r, m, pkt = rig_opts.xdp(LAN, frame)
    assert r.retval == bs.XDP_PASS and m == b"" and pkt == frame


def test_missing_tx_port_drops_no_tx_port(rig_opts):
    fd, info = rig_opts.maps["tx_ports"]
    key = struct.pack("<I", WAN)
    saved = bs.map_lookup(fd, key, info.value_size)
    frame = ip6_frame(new_mac(), new_mac())
    bs.map_delete(fd, key)
    try:
        before = rig_opts.stats()
        r, _, _ = rig_opts.xdp(LAN, frame)
        assert r.retval == bs.XDP_DROP
        assert counted(before, rig_opts.stats()) == \
            expect(LAN, len(frame), "rx", "drop", "no_tx_port")
    finally:
        # A devmap resolves the ifindex in the caller's namespace.
        with rig_opts.inside():
            bs.map_update(fd, key, saved)
    r, _, _ = rig_opts.xdp(LAN, ip6_frame(new_mac(), new_mac()))
    assert r.retval == bs.XDP_REDIRECT
