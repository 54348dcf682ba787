# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The per-CPU flow cache in front of the flows table, and the clock it reads."""
import os
import socket
import struct
import sys
import time

import pytest
from scapy.all import ICMPv6EchoRequest, IPv6

import bpfsys as bs
import fwmaps as fm
from fwrig import (CLOCK, FC_ENTRY, FC_GEN_MASK, FwRig, H1, LAN, LAN_MAC, LAN_MAC2, NSEC, R1, R2,
                   TCP_KEY, UDP_KEY, UDP_P, WAN, WAN_MAC, bridged, dropped,
                   inb, on_one_cpu, open_tcp, open_udp, out,
                   passed, state, tcp, udp)
from progrig import running

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root (netns, BPF)")


#
# These tests stay on one CPU: the cache is per CPU, and test runs execute
# on the CPU of the calling thread.


def cached(fw, key):
    """Entries of this CPU's cache holding flow @key: [(until_ns, gen)],
    gen widened to settings.gen's (the entry holds its low bits)."""
    k = fm.flow_key(*key)
    cpu = min(os.sched_getaffinity(0))
    g = fw.settings()["gen"]
    return [(until, (g & ~FC_GEN_MASK) | gen) for c, ck, until, gen, _ in fw.flow_cache()
            if c == cpu and ck == k]


def hot_tcp(fw):
    """An established connection with its cache entry filled and hit."""
    open_tcp(fw)
    for _ in range(2):
        assert fw.send(LAN, out(tcp(H1, R1, 40000, 443, "A"))) == bridged()
        assert fw.send(WAN, inb(tcp(R1, H1, 443, 40000, "A"))) == bridged()
    assert cached(fw, TCP_KEY), fw.flow_cache()



def hot_udp(fw):
    """A UDP flow whose replies come from the cache."""
    open_udp(fw)
    for _ in range(2):
        assert fw.send(WAN, inb(udp(R1, H1, 53, 5000))) == bridged()
    assert cached(fw, UDP_KEY), fw.flow_cache()


def reload(fw, **pol):
    """brouterd's reload, without the flush the in-place helpers do."""
    s = fw.settings()
    g = s["gen"]
    s["pol"][(g + 1) & 1] = dict(s["pol"][g & 1], **pol)
    fw.write_settings(s, flush=False)
    s["gen"] = g + 1
    fw.write_settings(s, flush=False)


def test_flow_cache_is_filled_by_established_traffic_both_ways(one_cpu):
    fw = one_cpu
    hot_tcp(fw)
    # one entry per flow, whichever way its packets go
    assert len(cached(fw, TCP_KEY)) == 1
    assert cached(fw, TCP_KEY)[0][1] == fw.settings()["gen"]


@pytest.mark.parametrize("flags,port,want", [
    ("R", WAN, "CLOSED"), ("R", LAN, "CLOSED"),
    ("FA", LAN, "FIN_WAIT"), ("FA", WAN, "FIN_WAIT")])
def test_flow_cache_rst_fin_take_the_slow_path(one_cpu, flags, port, want):
    fw = one_cpu
    hot_tcp(fw)
    pkt = out(tcp(H1, R1, 40000, 443, flags)) if port == LAN else \
        inb(tcp(R1, H1, 443, 40000, flags))
    assert fw.send(port, pkt) == bridged()
    assert state(fw, *TCP_KEY) == want
    if flags == "FA":
        # the other side's FIN still reaches the table
        other = inb(tcp(R1, H1, 443, 40000, "FA")) if port == LAN else \
            out(tcp(H1, R1, 40000, 443, "FA"))
        assert fw.send(1 - port, other) == bridged()
        assert state(fw, *TCP_KEY) == "CLOSING"


def test_flow_cache_rst_then_closed_timeout_applies(one_cpu):
    fw = one_cpu
    hot_tcp(fw)
    assert fw.send(WAN, inb(tcp(R1, H1, 443, 40000, "R"))) == bridged()
    # CLOSED is not cached: 10 s later it is gone, even with ACKs in between
    assert fw.send(WAN, inb(tcp(R1, H1, 443, 40000, "A"))) == bridged()
    fw.age_flows(10 + 5, lan=H1)
    assert fw.send(WAN, inb(tcp(R1, H1, 443, 40000, "A"))) == \
        dropped("no_flow")


@pytest.mark.parametrize("pol,reason", [
    ({"mode": fm.BR_FW_STATELESS_TCP}, "no_flow"),
    ({"lan_ipv6": 0}, "lan_ipv6_off")])
def test_flow_cache_reload_never_passes_a_cached_decision(one_cpu, pol,
                                                          reason):
    """Invariant 1: an entry half-way through its trust (the clock moved
    0.5 s) is worth nothing under the next policy."""
    fw = one_cpu
    hot_udp(fw)
    fw.advance(0.5)
    assert fw.send(WAN, inb(udp(R1, H1, 53, 5000))) == bridged()
    assert cached(fw, UDP_KEY)
    reload(fw, **pol)
    assert fw.send(WAN, inb(udp(R1, H1, 53, 5000))) == dropped(reason)


def test_flow_cache_two_quick_reloads_do_not_alias(one_cpu):
    """
    Two reloads within the second a cache entry is trusted bring back the
    same pol[] slot: only the full gen tells the entry is from before.
    The flow and its binding idled 5 s (the cache has not seen that) and
    the second reload's UDP timeout is 1 s: gone under that policy.
    """
    fw = one_cpu
    hot_udp(fw)
    for (lan, wan, proto, lport, wport, kind), v in fw.flows().items():
        v["seen_ns"] = fw.ago(5)
        fw.set_flow((lan, wan, proto, lport, wport, kind), v, flush=False)
    gen = fw.settings()["gen"]
    reload(fw, mode=fm.BR_FW_STATELESS_TCP)
    t = list(fw.policy()["timeout"])
    t[fm.BR_TO_UDP] = 1
    reload(fw, mode=fm.BR_FW_STATEFUL, timeout=t)
    assert fw.settings()["gen"] & 1 == gen & 1
    assert fw.send(WAN, inb(udp(R1, H1, 53, 5000))) == dropped("no_flow")


def test_flow_cache_deleted_flow_passes_until_the_cache_expires(one_cpu):
    """
    Documented: a flow removed by hand (or evicted from a full table)
    may pass for up to a second on a CPU that confirmed it. Once that
    second has passed (here: the cache flushed) it is dropped.
    """
    fw = one_cpu
    hot_udp(fw)
    for key in fw.flows():  # the flow and its binding
        fw.delete_flow(key, flush=False)
    assert fw.send(WAN, inb(udp(R1, H1, 53, 5000))) == bridged()
    fw.flush_flow_cache()
    assert fw.send(WAN, inb(udp(R1, H1, 53, 5000))) == dropped("no_flow")


def test_flow_cache_hits_still_refresh_seen_ns(one_cpu):
    """
    A flow carried by cache hits has its seen_ns refreshed once a second
    as before, so idle timeouts still work for long flows: simulated
    (age + flush, as time passing does) and for real (1.2 s of traffic).
    """
    fw = one_cpu
    hot_tcp(fw)
    fw.age_flows(5, lan=H1)
    aged = fw.flow(*TCP_KEY)["seen_ns"]
    assert fw.send(LAN, out(tcp(H1, R1, 40000, 443, "A"))) == bridged()
    seen = fw.flow(*TCP_KEY)["seen_ns"]
    assert seen - aged > 4 * NSEC and abs(seen - fw.now_ns()) < 2 * NSEC
    # within the second, hits leave the table alone
    assert fw.send(WAN, inb(tcp(R1, H1, 443, 40000, "A"))) == bridged()
    assert fw.flow(*TCP_KEY)["seen_ns"] == seen
    # real time, no flush: the entry expires by itself and the table is
    # refreshed again
    end = time.monotonic() + 1.2
    while time.monotonic() < end:
        assert fw.send(WAN, inb(tcp(R1, H1, 443, 40000, "A"))) == bridged()
        time.sleep(0.05)
    assert fw.flow(*TCP_KEY)["seen_ns"] - seen >= NSEC


# how far a coarse reading kept for a jiffy may lag CLOCK_MONOTONIC: two
# ticks, at HZ 100 or more
CLOCK_LAG_NS = 20 * 1000000


def test_clock_read_once_per_tick(one_cpu):
    """
    now_ns() reads the coarse clock once per jiffy on each CPU and keeps
    the reading: a CPU whose reading is from another jiffy reads the
    clock afresh, and within the jiffy a new flow is stamped with the
    reading kept (here one set 30 s back, so it shows).
    """
    fw = one_cpu
    cpu = min(os.sched_getaffinity(0))
    fd, info = fw.prog_map("clock")
    zero, ncpus = struct.pack("=I", 0), bs.possible_cpus()
    assert info.value_size == CLOCK.size

    def reading():
        return CLOCK.unpack(bs.percpu_lookup(fd, zero, CLOCK.size, ncpus)[cpu])

    def keep(jiffies, ns):
        vals = bs.percpu_lookup(fd, zero, CLOCK.size, ncpus)
        vals[cpu] = CLOCK.pack(jiffies, ns, fw.skew_ns)
        bs.map_update(fd, zero, b"".join(vals))

    keep(0, 0)
    t0 = fw.now_ns()
    open_udp(fw)
    t1 = fw.now_ns()
    jiffies, ns, _ = reading()
    assert jiffies and t0 - CLOCK_LAG_NS <= ns <= t1, (t0, ns, t1)
    try:
        # Each try opens two new flows of their own (other source ports),
        # so nothing is cleared between the two packets, and the second is
        # sent bare, its frame built beforehand: all that can take longer
        # than the jiffy the two must share.
        frame = [out(udp(H1, R1, 6001 + 2 * i, 53)) for i in range(50)]
        for i in range(50):
            first, second = 6000 + 2 * i, 6001 + 2 * i
            open_udp(fw, lport=first)
            jiffies, ns, _ = reading()
            keep(jiffies, ns - 30 * NSEC)
            # a bare test_run: fw.send() reads every counter around it
            fw.xdp(LAN, frame[i])
            if reading()[0] != jiffies:
                continue  # a tick came between: read afresh, try again
            key = (*UDP_KEY[:3], second, UDP_KEY[4])
            assert fw.flow(*key)["seen_ns"] == ns - 30 * NSEC
            return
        raise AssertionError("no two packets within one jiffy in 50 tries")
    finally:
        keep(0, 0)


@pytest.mark.parametrize("port", [LAN, WAN])
def test_flow_cache_hit_needs_the_same_stations(one_cpu, port):
    """
    A cache hit skips the FDB too, so an entry holds both stations' MACs
    and only a frame between the same two passes on it. With the flow
    deleted behind the cache's back, the cached frame still passes, the
    same flow to another LAN station's MAC takes the slow path (FDB
    learning, firewall) and is refused there, and another source MAC
    for the LAN host is learned by the FDB.
    """
    fw = one_cpu
    hot_tcp(fw)
    for key in fw.flows():
        fw.delete_flow(key, flush=False)
    if port == WAN:
        assert fw.send(WAN, inb(tcp(R1, H1, 443, 40000, "A"))) == bridged()
        assert fw.send(WAN, inb(tcp(R1, H1, 443, 40000, "A"), dst=LAN_MAC2)) == \
            dropped("no_flow")
    else:
        assert fw.send(LAN, out(tcp(H1, R1, 40000, 443, "A"))) == bridged()
        assert fw.send(LAN, out(tcp(H1, R1, 40000, 443, "A"), src=LAN_MAC2)) == \
            bridged(new=True)  # the slow path: mid-stream pickup opens it again
        assert fw.fdb_port(LAN_MAC2) == LAN


def fc_set_index(fw, lan, wan, lport, wport):
    """bpf/flowcache.h fc_set_of() for a TCP/UDP flow, within one CPU."""
    la, wa = socket.inet_pton(socket.AF_INET6, lan), socket.inet_pton(socket.AF_INET6, wan)
    words = [la[12:16], wa[8:12], wa[12:16], struct.pack("!HH", lport, wport)]
    h = 0
    for w in words:
        h ^= int.from_bytes(w, sys.byteorder)
    bits = fw.fc_sets.bit_length() - 1
    return ((h * 2654435761) & 0xffffffff) >> (32 - bits)


def test_flow_cache_two_flows_share_a_set_a_third_evicts_the_oldest(one_cpu):
    """
    Two ways per set: two flows whose keys hash alike are both cached; a
    third takes the entry whose trust ends first, the one confirmed
    earliest.
    """
    fw = one_cpu
    want = fc_set_index(fw, H1, R1, 5000, 53)
    flows = [(lp, wp) for wp in (53, 123, 443, 4500) for lp in range(1024, 65536)
             if fc_set_index(fw, H1, R1, lp, wp) == want][:3]
    assert len(flows) == 3, flows
    keys = [(H1, R1, UDP_P, lp, wp) for lp, wp in flows]
    for lp, wp in flows:
        open_udp(fw, lport=lp, wport=wp)
    for lp, wp in flows[:2]:
        assert fw.send(LAN, out(udp(H1, R1, lp, wp))) == bridged()  # confirms it
        time.sleep(0.01)
    assert all(cached(fw, k) for k in keys[:2])
    lp, wp = flows[2]
    assert fw.send(LAN, out(udp(H1, R1, lp, wp))) == bridged()
    assert [bool(cached(fw, k)) for k in keys] == [False, True, True]


def fc_set_held(fw, key):
    """Sets of this CPU's cache (index within the CPU) holding flow @key."""
    k, cpu = fm.flow_key(*key), min(os.sched_getaffinity(0))
    esz, mem = FC_ENTRY.size, fw.fc_mem[:]
    return [off // esz // fm.BR_FC_WAYS - cpu * fw.fc_sets
            for off in range(0, len(mem), esz)
            if off // esz // fw.fc_per_cpu == cpu and mem[off:off + 40] == k]


def test_flow_cache_entry_sits_in_its_set(one_cpu):
    fw = one_cpu
    hot_udp(fw)
    assert fc_set_held(fw, UDP_KEY) == [fc_set_index(fw, H1, R1, 5000, 53)]


def own_brouterd(rig):
    """Body of a fixture: a rig beside the module's, started and reset,
    with this thread on one CPU."""
    with on_one_cpu():
        for r in running(rig):
            r.reset()
            yield r


@pytest.fixture(params=[0, fm.BR_FC_MIN_PER_CPU], ids=["off", "1024"])
def sized(request):
    """A brouterd started with firewall.flow-cache = the param."""
    yield from own_brouterd(FwRig(flow_cache=request.param,
                                  tag=f"c{request.param}"))


def test_flow_cache_size_from_the_config(sized):
    """
    firewall.flow-cache sizes the map (FwRig.start() checks max_entries)
    and the program indexes within it; 0 turns the cache off, and then
    the flows table alone decides: a deleted flow's replies drop at once.
    """
    fw = sized
    log = fw.log_text()
    if fw.fc_per_cpu:
        assert f"flow cache: {fw.fc_per_cpu} entries per CPU" in log, log
    else:
        assert "flow cache: off" in log, log
    open_udp(fw)
    for _ in range(3):
        assert fw.send(WAN, inb(udp(R1, H1, 53, 5000))) == bridged()
    if fw.fc_per_cpu:
        assert fc_set_held(fw, UDP_KEY) == \
            [fc_set_index(fw, H1, R1, 5000, 53)], fw.flow_cache()
    else:
        assert fw.fc_mem[:] == bytes(len(fw.fc_mem))  # never written
    for key in fw.flows():
        fw.delete_flow(key, flush=False)
    want = bridged() if fw.fc_per_cpu else dropped("no_flow")
    assert fw.send(WAN, inb(udp(R1, H1, 53, 5000))) == want


@pytest.fixture
def own_rig():
    """A brouterd of its own: its port MACs are changed."""
    yield from own_brouterd(FwRig(tag="m"))


@pytest.mark.parametrize("dev,mac,want", [
    ("wan0", WAN_MAC, passed("local")),          # the frame's destination
    ("lan0", LAN_MAC, dropped("own_src_mac")),   # the frame's source
])
def test_flow_cache_port_mac_change_is_a_new_generation(own_rig, dev, mac,
                                                        want):
    """
    The fast path runs before the own-MAC checks: a hit stands for them
    because brouterd starts a new generation when a port's MAC changes.
    A port taking the MAC of a cached flow's station: its frames are then
    the brouter's own (to it: local; from it: impossible), not bridged.
    """
    fw = own_rig
    hot_tcp(fw)
    frame = out(tcp(H1, R1, 40000, 443, "A"))
    assert fw.send(LAN, frame) == bridged()
    gen = fw.settings()["gen"]
    fw.ns("ip", "link", "set", dev, "address", mac)
    deadline = time.monotonic() + 5  # brouterd looks once a second
    while "port MAC address changed" not in fw.log_text():
        assert time.monotonic() < deadline, fw.log_text()
        time.sleep(0.05)
    assert fw.send(LAN, frame) == want
    assert fw.settings()["gen"] == gen + 1


def test_flow_cache_one_way_inbound_stream_stays_cached(one_cpu):
    """
    UDP is refreshed by outbound packets only, so a one-way inbound stream
    (a download, a video) sees its flow's seen_ns grow old while the flow
    lives on. Its entry is trusted from when the slow path confirmed it,
    not from seen_ns: the replies keep hitting the cache, shown here by a
    flow deleted from the table (flush=False) still passing.
    """
    fw = one_cpu
    hot_udp(fw)
    fw.age_flows(5, lan=H1)  # flushes: the next reply takes the slow path
    assert fw.send(WAN, inb(udp(R1, H1, 53, 5000))) == bridged()
    for key in fw.flows():
        fw.delete_flow(key, flush=False)
    assert fw.send(WAN, inb(udp(R1, H1, 53, 5000))) == bridged()
    fw.flush_flow_cache()
    assert fw.send(WAN, inb(udp(R1, H1, 53, 5000))) == dropped("no_flow")


def test_flow_cache_entry_ends_with_the_flow(one_cpu):
    """
    An entry is trusted for a second at most, and never past the flow's
    own idle expiry: a flow 0.5 s from its UDP timeout gets an entry that
    ends exactly then.
    """
    fw = one_cpu
    hot_udp(fw)
    udp_to = fw.policy()["timeout"][fm.BR_TO_UDP] * NSEC
    (until, _), = cached(fw, UDP_KEY)
    assert 0 < until - fw.now_ns() <= NSEC
    fw.age_flows(udp_to / NSEC - 0.5, lan=H1)
    seen = fw.flow(*UDP_KEY)["seen_ns"]
    assert fw.send(WAN, inb(udp(R1, H1, 53, 5000))) == bridged()
    assert cached(fw, UDP_KEY) == [((seen + udp_to) % 2**64, fw.settings()["gen"])]


def test_flow_cache_udp_outbound_keeps_binding_refresh(one_cpu):
    """Outbound UDP through the cache still refreshes flow and binding."""
    fw = one_cpu
    open_udp(fw)
    for _ in range(2):
        assert fw.send(LAN, out(udp(H1, R1, 5000, 53))) == bridged()
    assert cached(fw, UDP_KEY)
    fw.age_flows(300 - 10, lan=H1)
    assert fw.send(LAN, out(udp(H1, R1, 5000, 53))) == bridged()
    flows = fw.flows()
    assert len(flows) == 2  # the flow and its endpoint-independent binding
    for v in flows.values():
        assert abs(v["seen_ns"] - fw.now_ns()) < 2 * NSEC
    # inbound from another remote matches the refreshed binding
    fw.age_flows(20, lan=H1)
    assert fw.send(WAN, inb(udp(R2, H1, 53, 5000))) == bridged()


def test_cache_accounting_counts_misses_and_slow_bridging_only(one_cpu):
    fw = one_cpu
    slow = {"rx": 1, "bridged": 1, "fc_miss": 1, "bridged_slow": 1}
    # the first packet of a flow: probed, missed, bridged by the full path
    assert fw.send(LAN, out(udp(H1, R1, 5000, 53)), accounting=True) == \
        (bs.XDP_REDIRECT, dict(slow, flow_new=1))
    # the reply: the open flow passes it and fills the cache
    assert fw.send(WAN, inb(udp(R1, H1, 53, 5000)), accounting=True) == \
        (bs.XDP_REDIRECT, slow)
    # then hits both ways, counted only as bridged (hits = bridged -
    # bridged_slow)
    assert fw.send(WAN, inb(udp(R1, H1, 53, 5000)), accounting=True) == \
        (bs.XDP_REDIRECT, {"rx": 1, "bridged": 1})
    assert fw.send(LAN, out(udp(H1, R1, 5000, 53)), accounting=True) == \
        (bs.XDP_REDIRECT, {"rx": 1, "bridged": 1})
    # a flow the cache cannot take (ICMPv6 echo) is bridged slow, unprobed
    echo = IPv6(src=H1, dst=R1) / ICMPv6EchoRequest(id=7)
    assert fw.send(LAN, out(echo), accounting=True) == \
        (bs.XDP_REDIRECT, {"rx": 1, "bridged": 1, "bridged_slow": 1,
                           "flow_new": 1})
    # an entry past its second of trust: a miss again
    fw.flush_flow_cache()
    assert fw.send(WAN, inb(udp(R1, H1, 53, 5000)), accounting=True) == \
        (bs.XDP_REDIRECT, slow)


# ------------------------------------------------------------------------
# The cache's invariants (bpf/fw/flowcache.h), each with time moved by the
# programs' own clock (FwRig.advance()) while the cache stays populated.

STEP = 0.01  # the clock moves in steps of 10 ms between packets
UDP_TIMEOUT = 3
# refresh + trust (invariant 4), and what the coarse clock's tick and a
# loaded host add between a packet's run and this process reading the time
LAG_MAX = 2 * NSEC + NSEC // 10


def short_udp_timeout(fw):
    t = list(fw.policy()["timeout"])
    t[fm.BR_TO_UDP] = UDP_TIMEOUT
    fw.set_policy(timeout=t)


def run_verdict(fw, port, frame):
    """Verdict alone (no counter reads: the loops below send thousands)."""
    return fw.xdp(port, bytes(frame))[0].retval


def test_flow_cache_sparse_outbound_keeps_a_busy_inbound_udp_flow_alive(one_cpu):
    """
    Invariant 4 (refreshes): RTP with sparse RTCP, a QUIC download, a game.
    Inbound every 10 ms keeps the flow's entry filled by inbound packets,
    which refresh nothing; the LAN host sends every 0.5 s, and those
    packets must still refresh the flow and its binding, so with a 3 s
    UDP timeout no inbound packet is ever refused. After every outbound
    packet the flow's seen_ns lags by at most refresh + trust (2 s).
    """
    fw = one_cpu
    short_udp_timeout(fw)
    open_udp(fw)
    refused = []
    for i in range(1200):  # 12 s
        fw.advance(STEP)
        if i % 50 == 25:
            assert run_verdict(fw, LAN, out(udp(H1, R1, 5000, 53))) == bs.XDP_REDIRECT
            for v in fw.flows().values():  # the flow and its binding
                assert fw.now_ns() - v["seen_ns"] <= LAG_MAX, i
            assert cached(fw, UDP_KEY), f"step {i}: the cache was emptied"
        if run_verdict(fw, WAN, inb(udp(R1, H1, 53, 5000))) != bs.XDP_REDIRECT:
            refused.append(i)
    assert refused == []


def test_flow_cache_tcp_seen_ns_lags_at_most_refresh_plus_trust(one_cpu):
    """
    Invariant 4 for TCP, which both directions refresh: an established
    connection carried by cache hits alone, one way or the other, keeps
    its seen_ns within refresh + trust of now, for 10 s of clock.
    """
    fw = one_cpu
    hot_tcp(fw)
    for i in range(100):
        fw.advance(0.1)
        frame = (LAN, out(tcp(H1, R1, 40000, 443, "A"))) if (i // 25) % 2 else \
            (WAN, inb(tcp(R1, H1, 443, 40000, "A")))
        assert run_verdict(fw, *frame) == bs.XDP_REDIRECT
        assert fw.now_ns() - fw.flow(*TCP_KEY)["seen_ns"] <= LAG_MAX, i
    assert cached(fw, TCP_KEY)


def test_flow_cache_one_way_inbound_stream_hits_with_one_refill_a_second(one_cpu):
    """
    Invariant 4, the other half: inbound packets refresh nothing, so a
    one-way inbound UDP stream keeps hitting the cache; the slow path
    confirms it again (a new until_ns) once per second of clock, not on
    every packet, although the flow's seen_ns grows old.
    """
    fw = one_cpu
    hot_udp(fw)
    untils = set()
    for _ in range(50):  # 5 s of clock (and the real time the test takes)
        fw.advance(0.1)
        assert run_verdict(fw, WAN, inb(udp(R1, H1, 53, 5000))) == bs.XDP_REDIRECT
        (until, _), = cached(fw, UDP_KEY)
        untils.add(until)
    # confirmed again only once the last confirmation's second was over
    untils = sorted(untils)
    assert len(untils) >= 5
    assert all(b - a >= NSEC for a, b in zip(untils, untils[1:])), untils
    assert fw.now_ns() - fw.flow(*UDP_KEY)["seen_ns"] >= 5 * NSEC


def test_flow_cache_entry_never_outlives_the_flow(one_cpu):
    """
    Invariant 2: an entry confirmed 0.5 s before the flow idles out ends
    with the flow, not a second later: 0.6 s on, the cache still holds
    it, yet the reply is refused as the table would refuse it.
    """
    fw = one_cpu
    short_udp_timeout(fw)
    open_udp(fw)
    fw.advance(UDP_TIMEOUT - 0.5)
    assert fw.send(WAN, inb(udp(R1, H1, 53, 5000))) == bridged()
    assert cached(fw, UDP_KEY)
    fw.advance(0.6)
    assert cached(fw, UDP_KEY)
    assert fw.send(WAN, inb(udp(R1, H1, 53, 5000))) == dropped("no_flow")


def test_flow_cache_deleted_flow_passes_at_most_the_trust(one_cpu):
    """
    Invariant 2: a flow deleted behind the cache's back (or evicted from
    a full table) still passes on the CPU that confirmed it, for at most
    BR_FC_TRUST_NS (1 s) of clock.
    """
    fw = one_cpu
    hot_udp(fw)
    for key in fw.flows():
        fw.delete_flow(key, flush=False)
    fw.advance(0.9)
    assert fw.send(WAN, inb(udp(R1, H1, 53, 5000))) == bridged()
    fw.advance(0.2)
    assert cached(fw, UDP_KEY)
    assert fw.send(WAN, inb(udp(R1, H1, 53, 5000))) == dropped("no_flow")


def test_flow_cache_fin_reaches_the_table_and_its_timeout_applies(one_cpu):
    """
    Invariant 3: a FIN while the entry is trusted goes to the table, so
    the connection then lives by the closing timeout (4 min), not the
    established one (2 h), although ACKs kept hitting the cache.
    """
    fw = one_cpu
    hot_tcp(fw)
    fw.advance(0.3)
    assert fw.send(LAN, out(tcp(H1, R1, 40000, 443, "FA"))) == bridged()
    assert state(fw, *TCP_KEY) == "FIN_WAIT"
    assert fw.send(WAN, inb(tcp(R1, H1, 443, 40000, "A"))) == bridged()
    closing = fw.policy()["timeout"][fm.BR_TO_TCP_TRANS]
    fw.advance(closing + 1)
    assert fw.send(WAN, inb(tcp(R1, H1, 443, 40000, "A"))) == dropped("no_flow")
