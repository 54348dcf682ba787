# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
BPF program tests for fragmented IPv4-in-IPv6 (bpf/tun/reasm.h): the BR,
AFTR or peer fragments the outer IPv6 packet (RFC 2473 7.2) and the
brouter reassembles it in tc ingress on the WAN, after XDP has checked
the outer source and handed the fragment over.

Fragments are cut here from scapy-built inner packets, independently of
the code (RFC 8200 4.5: pieces of multiples of 8 bytes, the Fragment
header naming next header 4). tc runs are plain BPF_PROG_TEST_RUN of the
tc ingress program brouterd attached (no XDP handover there: tc checks
the tunnel itself and counts tc_no_meta), whose output frame is what the
stack gets: STOLEN (4) while a fragment is held, OK (0) with the whole
inner IPv4 packet behind the same Ethernet addresses when a datagram is
complete, SHOT (2) for a drop. Live XDP runs go the whole way: XDP, tc
with the handover, the kernel's IPv4 stack and a UDP socket.

Reassembly state is per CPU, so every test runs on one CPU and starts
with that CPU's slots empty; exact counter deltas are checked by name.
"""
import os
import random
import socket
import struct
import time

import pytest
from scapy.all import ICMP, IP, UDP, Ether, IPv6, IPv6ExtHdrFragment, Raw

import bpfsys as bs
from fwrig import on_one_cpu
from progrig import WAN, counted
from test_tun4in6 import (AFTR, B4, BR, BR_MAC, CE4, CE6, IN_SET, INET, NOT_IN_SET,
                          PEER, PEER_LOCAL, WRONG, as_ce_sees, decapsulated, stand_in,
                          tun_rig)
from test_tun4in6 import DSLITE_CONF, MAPE_CONF

TC_ACT_SHOT, TC_ACT_STOLEN = 2, 4
TC_PASS = bs.TC_PASS  # a whole datagram goes on to the stack (bpf/lib/tc.h)
SLOTS, REASM_MAX, MAX_FRAGS, TIMEOUT_S = 16, 15360, 16, 2   # include/brouter/abi.h
PIECE = 1232            # what a BR on a 1280-byte path puts in a fragment
SLOT = struct.Struct("<32sIBBBBHHII4xQQ")   # struct reasm_slot up to its ranges
REASM_FREE, REASM_REFUSED, REASM_OPEN = 0, 1, 2


def module_rig(name, suffix, conf):
    """A module fixture @name: a TunRig of its own with @conf."""
    def fixture():
        yield from tun_rig(suffix, conf)
    return pytest.fixture(scope="module", name=name)(fixture)


mape_rig = module_rig("mape_rig", "fm", MAPE_CONF)
dslite_rig = module_rig("dslite_rig", "fd", DSLITE_CONF)


def reasm_map(rig):
    """(fd, info) of the tc program's unpinned "reasm" array."""
    if not hasattr(rig, "reasm_fd"):
        for map_id in bs.prog_map_ids(rig.tc_fd):
            fd = bs.map_get_fd_by_id(map_id)
            info = bs.map_info(fd)
            if info.name == b"reasm":
                rig.reasm_fd, rig.reasm_info = rig._keep(fd), info
                break
            os.close(fd)
        else:
            raise AssertionError("the tc program has no reasm map")
    return rig.reasm_fd, rig.reasm_info


def this_cpu():
    return min(os.sched_getaffinity(0))


def slots(rig):
    """This CPU's slots: [(state, nfrag, id, total, have)]."""
    fd, info = reasm_map(rig)
    out = []
    for i in range(SLOTS):
        raw = bs.map_lookup(fd, struct.pack("=I", this_cpu() * SLOTS + i), info.value_size)
        _, ident, state, nfrag, _, _, total, have, _, _, _, _ = SLOT.unpack_from(raw)
        out.append((state, nfrag, socket.ntohl(ident), total, have))
    return out


@pytest.fixture
def mape(mape_rig):
    with on_one_cpu():
        empty(mape_rig)
        yield mape_rig


@pytest.fixture
def dslite(dslite_rig):
    with on_one_cpu():
        empty(dslite_rig)
        yield dslite_rig


def empty(rig):
    fd, info = reasm_map(rig)
    assert info.max_entries == SLOTS * bs.possible_cpus()
    for i in range(SLOTS):
        bs.map_update(fd, struct.pack("=I", this_cpu() * SLOTS + i), bytes(info.value_size))


# ------------------------------------------------------------ frames


def cut(inner, sizes):
    """[(offset, piece, more)] of @inner in pieces of @sizes bytes (the last
    takes the rest)."""
    out, off = [], 0
    for n in sizes:
        out.append((off, inner[off:off + n], True))
        off += n
    out.append((off, inner[off:], False))
    return out


def frame(rig, piece, ident, src6=BR, dst6=CE6):
    off, data, more = piece
    return bytes(Ether(src=BR_MAC, dst=rig.mac["wan0"]) /
                 IPv6(src=src6, dst=dst6, hlim=64) /
                 IPv6ExtHdrFragment(nh=4, offset=off // 8, m=int(more), id=ident) /
                 Raw(data))


def frames(rig, inner, sizes, ident, src6=BR, dst6=CE6):
    return [frame(rig, p, ident, src6, dst6) for p in cut(inner, sizes)]


def udp_in(size, dport=IN_SET[0], dst=CE4, seed=1):
    payload = random.Random(seed).randbytes(size)
    return bytes(IP(src=INET, dst=dst, id=4242, flags=0) /
                 UDP(sport=53, dport=dport) / Raw(payload))


def tc(rig, data):
    """tc ingress on the WAN, room for a grown frame."""
    ctx = bs.SkBuff(ingress_ifindex=rig.ifindex[WAN], ifindex=rig.ifindex[WAN])
    with rig.inside():
        return bs.prog_test_run(rig.tc_fd, data, ctx=ctx, data_out_size=REASM_MAX + 1024)


def run_all(rig, data):
    """Run @data through tc; (results, counter deltas)."""
    before = rig.stats()
    res = [tc(rig, d) for d in data]
    return res, counted(before, rig.stats())


def no_meta(data):
    return {("tc_no_meta", WAN): (len(data), sum(map(len, data)))}


def held(data):
    return {("tun_frag_held", WAN): (len(data), sum(map(len, data)))} if data else {}


def dropped(reason, data):
    n, b = len(data), sum(map(len, data))
    return {("drop", WAN): (n, b), (reason, WAN): (n, b)}


def reassembled(inner):
    return {("tun_reasm", WAN): (1, 14 + len(inner))}


def assert_reassembled(rig, inner, data):
    """@data, in the order given, make @inner on the last frame."""
    res, got = run_all(rig, data)
    assert [r.retval for r in res] == [TC_ACT_STOLEN] * (len(data) - 1) + [TC_PASS]
    # the CE's port becomes its NAT stand-in, as for a whole packet
    assert res[-1].data == decapsulated(rig, as_ce_sees(inner))
    assert got == {**no_meta(data), **held(data[:-1]), **reassembled(inner)}
    assert all(s[0] == REASM_FREE for s in slots(rig)), "a reassembled datagram holds no slot"


# ------------------------------------------------------------ delivery


@pytest.mark.parametrize("order", ["in_order", "reversed", "shuffled", "last_first"])
@pytest.mark.parametrize("n", [2, 3, 5, 13])
def test_n_fragments_in_any_order_make_the_inner_packet(mape, n, order):
    """13 fragments of 1232 bytes carry the largest datagram (15360)."""
    inner = udp_in(PIECE * (n - 1) + 100 - 28 if n < 13 else REASM_MAX - 28)
    data = frames(mape, inner, [PIECE] * (n - 1), ident=0x1000 + n)
    if order == "reversed":
        data.reverse()
    elif order == "shuffled":
        random.Random(n).shuffle(data)
    elif order == "last_first":
        data = data[-1:] + data[:-1]
    assert_reassembled(mape, inner, data)


def test_uneven_pieces_and_an_odd_last_one(mape):
    inner = udp_in(3001)
    assert_reassembled(mape, inner, frames(mape, inner, [1448, 8, 1000], ident=7))


def test_atomic_fragment_is_delivered_alone(mape):
    """RFC 6946: offset 0 and no more fragments is a whole packet."""
    inner = udp_in(200)
    assert_reassembled(mape, inner, frames(mape, inner, [], ident=9))


def test_interleaved_datagrams_of_one_source_each_come_out_whole(mape):
    a, b = udp_in(2500, seed=1), udp_in(2500, IN_SET[1], seed=2)
    fa, fb = frames(mape, a, [PIECE, PIECE], 21), frames(mape, b, [PIECE, PIECE], 22)
    res, got = run_all(mape, [fa[0], fb[2], fb[0], fa[2], fb[1], fa[1]])
    assert [r.retval for r in res] == [TC_ACT_STOLEN] * 4 + [TC_PASS] * 2
    assert res[4].data == decapsulated(mape, as_ce_sees(b)) and \
        res[5].data == decapsulated(mape, as_ce_sees(a))
    assert got[("tun_reasm", WAN)] == (2, 28 + len(a) + len(b))


def test_dslite_and_ipip6_datagrams_are_reassembled_whatever_the_port(dslite):
    inner = bytes(IP(src=INET, dst="192.168.1.10") / UDP(sport=53, dport=208) /
                  Raw(b"d" * 3000))
    assert_reassembled(dslite, inner, frames(dslite, inner, [PIECE, PIECE], 5, AFTR, B4))


def test_ipip6_peer_datagram_is_reassembled(mape):
    inner = bytes(IP(src="10.20.1.1", dst="192.168.1.10") / ICMP(type=8, id=1) /
                  Raw(b"p" * 2900))
    assert_reassembled(mape, inner,
                       frames(mape, inner, [PIECE, PIECE], 6, PEER, PEER_LOCAL))


# ------------------------------------------------------------ the checks of a whole packet


def assert_dropped_all(rig, data, reason, held_before=0):
    """Every frame of @data dropped for @reason; the first @held_before
    ones were held first and dropped when their datagram was refused."""
    res, got = run_all(rig, data)
    want = [TC_ACT_STOLEN] * held_before + [TC_ACT_SHOT] * (len(data) - held_before)
    assert [r.retval for r in res] == want
    assert got == {**no_meta(data), **held(data[:held_before]), **dropped(reason, data)}


@pytest.mark.parametrize("port", NOT_IN_SET)
def test_mape_datagram_to_a_port_outside_the_set_is_dropped_fragment_by_fragment(mape, port):
    """The port is in the first fragment: a non-first one held before it
    is dropped with it, and the one after it too."""
    inner = udp_in(3000, dport=port)
    f = frames(mape, inner, [PIECE, PIECE], ident=port)
    assert_dropped_all(mape, [f[1], f[0], f[2]], "tun_bad_port", held_before=1)
    assert (REASM_REFUSED, 0, port) in [s[:3] for s in slots(mape)], "refusal remembered"


def test_mape_icmp_echo_identifier_outside_the_set_is_tun_bad_port(mape):
    inner = bytes(IP(src=INET, dst=CE4) / ICMP(type=0, id=NOT_IN_SET[0]) / Raw(b"e" * 3000))
    f = frames(mape, inner, [PIECE, PIECE], ident=31)
    assert_dropped_all(mape, f, "tun_bad_port")


def test_mape_datagram_not_to_the_ce_address_is_tun_bad_dst(mape):
    inner = udp_in(2000, dst="192.0.2.19")
    assert_dropped_all(mape, frames(mape, inner, [PIECE], ident=32), "tun_bad_dst")


def test_first_fragment_without_the_ports_is_tun_bad_inner(mape):
    inner = udp_in(2000)
    f = frames(mape, inner, [16, PIECE], ident=33)     # IPv4 header cut at 16
    assert_dropped_all(mape, f, "tun_bad_inner")


def test_inner_length_beyond_what_arrived_is_tun_bad_inner(mape):
    inner = bytearray(udp_in(2000))
    inner[2:4] = struct.pack("!H", len(inner) + 8)
    f = frames(mape, bytes(inner), [PIECE], ident=34)
    assert_dropped_all(mape, f, "tun_bad_inner", held_before=1)


@pytest.mark.parametrize("src,dst", [(WRONG, CE6), (PEER, CE6), (BR, PEER_LOCAL)],
                         ids=["stranger", "peer_to_ce", "br_to_peer_local"])
def test_fragments_from_anyone_but_the_tunnel_end_are_tun_bad_src(mape, src, dst):
    inner = udp_in(2000)
    f = frames(mape, inner, [PIECE], 35, src, dst)
    # XDP refuses them first ...
    for d in f:
        before = mape.stats()
        r, _, _ = mape.xdp(WAN, d)
        assert r.retval == bs.XDP_DROP
        assert counted(before, mape.stats()) == {
            ("rx", WAN): (1, len(d)), **dropped("tun_bad_src", [d])}
    # ... and tc, which checks the tunnel itself when XDP handed nothing over
    assert_dropped_all(mape, f, "tun_bad_src")


def test_xdp_hands_fragments_from_the_br_to_tc_and_leaves_other_ipv6_fragments(mape):
    inner = udp_in(2000)
    for d in frames(mape, inner, [PIECE], ident=36):
        before = mape.stats()
        r, meta, pkt = mape.xdp(WAN, d)
        assert r.retval == bs.XDP_PASS and pkt == d
        assert meta[5] == 1 << 2, "BR_META_REASM, and no direction mark"   # flags byte
        assert counted(before, mape.stats()) == {("rx", WAN): (1, len(d)),
                                                  ("tun_frag", WAN): (1, len(d))}
    # a fragment of UDP (not 4in6) to the CE address is the stack's, as before
    other = bytes(Ether(src=BR_MAC, dst=mape.mac["wan0"]) / IPv6(src=BR, dst=CE6) /
                  IPv6ExtHdrFragment(nh=17, m=1, id=5) / Raw(b"u" * 64))
    before = mape.stats()
    r, _, _ = mape.xdp(WAN, other)
    assert r.retval == bs.XDP_PASS
    assert counted(before, mape.stats()) == {("rx", WAN): (1, len(other)),
                                              ("local", WAN): (1, len(other))}
    res, got = run_all(mape, [other])
    assert res[0].retval == TC_PASS and res[0].data == other
    assert ("tun_frag_held", WAN) not in got and ("drop", WAN) not in got


# ------------------------------------------------------------ overlaps, malformed, too big


def test_overlapping_fragment_drops_its_whole_datagram(mape):
    """RFC 5722: held, overlapping and later fragments all go."""
    inner = udp_in(3000)
    f = frames(mape, inner, [PIECE, PIECE], ident=41)
    bad = frame(mape, (PIECE - 8, inner[PIECE - 8:2 * PIECE - 8], True), 41)
    assert_dropped_all(mape, [f[0], bad, f[1], f[2]], "tun_frag_overlap", held_before=1)


def test_exact_duplicate_is_dropped_alone_and_the_datagram_completes(mape):
    inner = udp_in(3000)
    f = frames(mape, inner, [PIECE, PIECE], ident=42)
    res, got = run_all(mape, [f[0], f[1], f[1], f[2]])
    assert [r.retval for r in res] == [TC_ACT_STOLEN, TC_ACT_STOLEN, TC_ACT_SHOT, TC_PASS]
    assert res[3].data == decapsulated(mape, as_ce_sees(inner))
    assert got == {**no_meta(f + [f[1]]), **held(f[:2]), **dropped("tun_frag_overlap", [f[1]]),
                   **reassembled(inner)}


def test_malformed_fragments_are_dropped_alone(mape):
    inner = udp_in(3000)
    f = frames(mape, inner, [PIECE, PIECE], ident=43)
    odd = frame(mape, (PIECE, inner[PIECE:2 * PIECE - 4], True), 43)         # M=1, not x8
    past = frame(mape, (len(inner), b"x" * 8, True), 43)                      # after the end
    short_last = frame(mape, (PIECE, inner[PIECE:PIECE + 8], False), 43)     # ends twice
    cut_frame = f[1][:-100]                                                   # plen > frame
    res, got = run_all(mape, [f[2], odd, past, short_last, cut_frame, f[0], f[1]])
    assert [r.retval for r in res] == [TC_ACT_STOLEN] + [TC_ACT_SHOT] * 4 + [TC_ACT_STOLEN, TC_PASS]
    assert res[-1].data == decapsulated(mape, as_ce_sees(inner))
    bad = [odd, past, short_last, cut_frame]
    assert got == {**no_meta([f[2], *bad, f[0], f[1]]), **held([f[2], f[0]]),
                   **dropped("tun_frag_bad", bad), **reassembled(inner)}


def test_last_fragment_ending_before_held_data_is_tun_frag_bad(mape):
    inner = udp_in(3000)
    f = frames(mape, inner, [PIECE, PIECE], ident=44)
    early_end = frame(mape, (8, inner[8:16], False), 44)
    res, got = run_all(mape, [f[1], early_end])
    assert [r.retval for r in res] == [4, 2]
    assert got == {**no_meta([f[1], early_end]), **held([f[1]]),
                   **dropped("tun_frag_bad", [early_end])}


def test_more_than_16_fragments_drop_the_datagram(mape):
    inner = udp_in(17 * 64 - 28)
    f = frames(mape, inner, [64] * MAX_FRAGS, ident=45)
    assert len(f) == MAX_FRAGS + 1
    assert_dropped_all(mape, f, "tun_frag_bad", held_before=MAX_FRAGS)


def test_datagram_beyond_15360_bytes_is_tun_frag_big(mape):
    inner = udp_in(REASM_MAX - 28 + 8)
    f = frames(mape, inner, [PIECE] * 12, ident=46)
    res, got = run_all(mape, f)
    assert [r.retval for r in res] == [4] * 12 + [2]
    assert got == {**no_meta(f), **held(f[:12]), **dropped("tun_frag_big", f)}
    # the rest of it is refused too
    res, got = run_all(mape, [f[0]])
    assert res[0].retval == TC_ACT_SHOT
    assert got == {**no_meta([f[0]]), **dropped("tun_frag_big", [f[0]])}


# ------------------------------------------------------------ bounded state, over time


def test_incomplete_datagram_expires_after_2_s_counted(mape):
    inner = udp_in(3000)
    f = frames(mape, inner, [PIECE, PIECE], ident=51)
    res, _ = run_all(mape, f[:2])
    assert [r.retval for r in res] == [4, 4]
    assert [s[:3] for s in slots(mape) if s[0]] == [(REASM_OPEN, 2, 51)]
    time.sleep(TIMEOUT_S + 0.1)
    # counted when this CPU next looks for a slot; the late last fragment
    # then starts a datagram of its own, which never completes
    res, got = run_all(mape, f[2:])
    assert res[0].retval == TC_ACT_STOLEN
    assert got == {**no_meta(f[2:]), **held(f[2:]), **dropped("tun_frag_timeout", f[:2])}
    assert [s[:3] for s in slots(mape) if s[0]] == [(REASM_OPEN, 1, 51)]


def test_a_datagram_within_2_s_is_not_expired(mape):
    inner = udp_in(3000)
    f = frames(mape, inner, [PIECE, PIECE], ident=52)
    run_all(mape, f[:2])
    time.sleep(TIMEOUT_S - 1)
    assert_reassembled(mape, inner, f[2:])


def test_flood_of_first_fragments_costs_16_slots_and_spares_a_datagram_in_progress(mape):
    """A datagram holding two fragments is never pushed out by single
    fragments of distinct ids: they push out each other, oldest first,
    in this CPU's 16 slots."""
    inner = udp_in(3000)
    f = frames(mape, inner, [PIECE, PIECE], ident=61)
    flood = [frame(mape, (0, udp_in(PIECE - 28, seed=i)[:PIECE], True), 10000 + i)
             for i in range(200)]
    res, got = run_all(mape, f[:2] + flood)
    assert all(r.retval == TC_ACT_STOLEN for r in res)
    evicted = flood[:200 - (SLOTS - 1)]
    assert got == {**no_meta(f[:2] + flood), **held(f[:2] + flood),
                   **dropped("tun_frag_evicted", evicted)}
    st = [s for s in slots(mape)]
    assert sum(1 for s in st if s[0] == REASM_OPEN) == SLOTS
    assert sorted(s[2] for s in st if s[1] == 1) == list(range(10185, 10200))
    assert_reassembled_last(mape, inner, f[2])


def assert_reassembled_last(rig, inner, last):
    res, got = run_all(rig, [last])
    assert res[0].retval == TC_PASS and res[0].data == decapsulated(rig, as_ce_sees(inner))
    assert got == {**no_meta([last]), **reassembled(inner)}


def test_a_datagram_holding_one_fragment_is_pushed_out_by_the_16th_newer_one(mape):
    """Among datagrams holding one fragment each, the one idle longest
    goes first: 15 newer ones leave it in place, the 16th pushes it out."""
    inner = udp_in(2000)
    f = frames(mape, inner, [PIECE], ident=62)
    flood = [frame(mape, (0, udp_in(200, seed=i)[:208], True), 20000 + i) for i in range(16)]
    run_all(mape, [f[0]] + flood[:15])
    assert (REASM_OPEN, 1, 62) in [s[:3] for s in slots(mape)]
    res, got = run_all(mape, flood[15:])
    assert got == {**no_meta(flood[15:]), **held(flood[15:]),
                   **dropped("tun_frag_evicted", [f[0]])}
    assert 62 not in [s[2] for s in slots(mape) if s[0]]


# ------------------------------------------------------------ the whole way, live


def test_live_fragments_go_through_xdp_and_tc_to_a_udp_socket_on_the_ce(mape):
    """What the kernel makes of it: the largest datagram, reassembled at a
    real tc ingress, passes the stack's IPv4 and UDP checks (a checksum
    over 15,340 bytes) and reaches a socket."""
    assert CE4 in mape.ns("ip", "-4", "addr", "show", "dev", "wan0").stdout
    payload = random.Random(5).randbytes(REASM_MAX - 28)
    inner = bytes(IP(src=INET, dst=CE4, flags=0) / UDP(sport=53, dport=IN_SET[2]) /
                  Raw(payload))
    with mape.inside():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        # a flow the CE opened, as NAT makes them: from a stand-in port
        # (conntrack keeps it), so the answer's port of the set maps to it
        s.bind((CE4, stand_in(IN_SET[2])))
        s.sendto(b"q", (INET, 53))
        s.settimeout(5)
        data = frames(mape, inner, [PIECE] * 12, ident=71)
        data = data[5:] + data[:5]
        before = mape.stats()
        for d in data:
            mape.xdp_live(WAN, d)
        got, peer = s.recvfrom(65536)
    finally:
        s.close()
    assert got == payload and peer == (INET, 53)
    c = counted(before, mape.stats())
    assert c[("tun_frag", WAN)] == (13, sum(map(len, data)))
    assert c[("tun_frag_held", WAN)][0] == 12 and c[("tun_reasm", WAN)] == (1, 14 + len(inner))
    assert ("tc_no_meta", WAN) not in c and ("drop", WAN) not in c
