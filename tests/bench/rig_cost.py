# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
ns/packet of brouter's program paths: BPF_PROG_TEST_RUN without live
frames, one fixed frame run `repeat` times; the kernel reports the mean
time per run (`duration`). Nothing is sent: a redirect verdict is only
returned. The programs are found by id (XDP on the DUT's lan0, tc egress
on its wan0) and run in a thread that entered the DUT's netns (the
ifindex must resolve there), pinned to the generator's CPU.

PATHS is the table: key -> Path (label, port, frame builder, expected
verdict, program kind, counter). Paths in DRIVEN need a different frame
on every run: a new flow each time (cost.bpf.c rewrites the frame), or
MAP-E decapsulation (XDP on the WAN), which strips the header a repeat
would run on next (tun_cost.bpf.c puts it back). The driver tail-calls
the program; the same run into a program that only returns is
subtracted. Paths in PER_CALL cannot share one skb between runs at all
(MAP-E encapsulation, tc egress on the WAN: see tun_cost.bpf.c): each
run is its own test_run, and the same for a tc program that only
returns is subtracted (the timer and softirq-disable overhead a single
run's duration holds). A path with a counter must move that brouterd
counter once per measured run: a verdict alone cannot tell a
decapsulation from the plain IPv4 pass of an already decapsulated frame.
"""
import collections
import os
import struct

import rig_bpf
from rig_netns import ADDR, MAC
from rig_traffic import (BENCH_PORT, ETH_HLEN, IP6_HLEN, LAN_PORT_BASE, VARY_SRC,
                         icmp6_ns, ip4_udp, ip6_frame, udp6)

# New flows come from LAN addresses no traffic of the rig uses
# (2001:db8:1::1:0 and up, in the LAN prefix), enough for any repeat count.
NEW_FLOW_ADDR_BASE = 0x00010000
NEW_FLOWS = 1 << 26

LAN_LL = "fe80::ff:fe00:10"


def _lan2wan(_rig):
    return udp6(MAC["lan"], MAC["wan"], ADDR["lan"], ADDR["wan"], LAN_PORT_BASE,
                BENCH_PORT, 64)


def _wan2lan(_rig):
    return udp6(MAC["wan"], MAC["lan"], ADDR["wan"], ADDR["lan"], BENCH_PORT,
                LAN_PORT_BASE, 64)


def _unsolicited(_rig):
    """WAN->LAN to a LAN port no flow ever used."""
    return udp6(MAC["wan"], MAC["lan"], ADDR["wan"], ADDR["lan"], BENCH_PORT, 5555, 64)


# MAP-E as in tests/prog/test_tun4in6.py: RFC 7597 Appendix A example 1, end-user
# prefix 2001:db8:12:3400::/56 -> CE 192.0.2.18, PSID 0x34 (ports 1232-1235,
# 2256-2259, ...), CE IPv6 2001:db8:12:3400:0:c000:212:34. The rig's WAN
# host is the BR's router.
MAPE_BR = "2001:db8:ffff::1"
MAPE_CE4 = "192.0.2.18"
MAPE_CE6 = "2001:db8:12:3400:0:c000:212:34"
MAPE_PORT = 1232        # in the CE's port set
INET4 = "198.51.100.2"  # an Internet host


def _mape_in(_rig):
    """4in6 BR -> CE at the WAN port's MAC: UDP from the Internet to a port
    of the CE's set."""
    inner = ip4_udp(MAC["wan"], MAC["wan0"], 64, src=INET4, dst=MAPE_CE4, sport=53,
                    dport=MAPE_PORT)[ETH_HLEN:]
    return ip6_frame(MAC["wan"], MAC["wan0"], MAPE_BR, MAPE_CE6, 4, inner)


def _mape_out(_rig):
    """IPv4 as the kernel hands it to the WAN after NAPT into the port set."""
    return ip4_udp(MAC["wan0"], MAC["wan"], 64, src=MAPE_CE4, dst=INET4,
                   sport=MAPE_PORT, dport=53)


Path = collections.namedtuple("Path", "label port build expect kind counter",
                              defaults=("xdp", None))

PATHS = {
    "bridged_lan2wan": Path("bridged unicast LAN->WAN", "lan0", _lan2wan, "redirect"),
    "bridged_wan2lan": Path("bridged unicast WAN->LAN", "wan0", _wan2lan, "redirect"),
    "multicast": Path("multicast NS LAN->WAN (pass, tc copies)", "lan0",
                      lambda _r: icmp6_ns(MAC["lan"], LAN_LL, ADDR["wan"]), "pass"),
    "own_mac": Path("IPv6 to own MAC (pass)", "lan0",
                    lambda _r: udp6(MAC["lan"], MAC["lan0"], ADDR["lan"], "fe80::1",
                                    10000, BENCH_PORT, 64), "pass"),
    "ipv4": Path("IPv4 (pass to the kernel)", "lan0",
                 lambda _r: ip4_udp(MAC["lan"], MAC["lan0"]), "pass"),
    "inbound_drop": Path("inbound, no flow (drop)", "wan0", _unsolicited, "drop"),
    "redirect": Path("devmap redirect LAN->WAN", "lan0", _lan2wan, "redirect"),
    "new_flow_lan2wan": Path("new outbound flow LAN->WAN (table full: LRU evicts)",
                             "lan0", _lan2wan, "redirect"),
    "mape_decap": Path("MAP-E decapsulation (XDP, WAN)", "wan0", _mape_in, "pass",
                       counter=("wan", "decap")),
    # bpf_redirect_neigh(): the kernel fills the Ethernet header from its
    # IPv6 neighbour table (in a test run, only the verdict is returned)
    "mape_encap": Path("MAP-E encapsulation (tc egress, WAN)", "wan0", _mape_out,
                       "redirect", kind="tc", counter=("wan", "encap")),
}


class Driver:
    """A driver program (rig.fds key), its prog array, the baseline target
    and the config it needs: (map, value builder from the frame)."""

    def __init__(self, prog, target, nop, cfg=None):
        self.prog, self.target, self.nop, self.cfg = prog, target, nop, cfg


DRIVEN = {
    # struct bench_gen_cfg (bench.h): the sequence goes on from run to run,
    # so every run is new flows
    "new_flow_lan2wan": Driver("cost", "cost_target", "cost_nop", (
        "cost_cfg", lambda _f: struct.pack("<IIIHHII", 0, NEW_FLOWS, VARY_SRC,
                                           LAN_PORT_BASE, 0, NEW_FLOW_ADDR_BASE, 0))),
    # struct bench_tun_hdr: the Ethernet + IPv6 header to put back, and the
    # inner IPv4 + UDP headers (the NAT stand-in swap rewrote the port)
    "mape_decap": Driver("rewrap", "tun_xdp_target", "cost_nop", (
        "tun_hdr", lambda f: f[:ETH_HLEN + IP6_HLEN + 28] + bytes(2))),
}

# key -> the baseline program (rig.fds key). Runs per rep: the repeat, at
# most PER_CALL_MAX (each run is a syscall from Python, ~10 us).
PER_CALL = {"mape_encap": "tc_nop"}
PER_CALL_MAX = 100000


def _driven(rig, fd, key, frame, repeat, ifindex):
    """(verdict, ns) of one driven run of prog fd, minus the driver's own
    cost (the same run into a target that only returns)."""
    d, path = DRIVEN[key], PATHS[key]
    zero = struct.pack("<I", 0)
    if d.cfg:
        rig_bpf.map_update(rig.fds[d.cfg[0]], zero, d.cfg[1](frame))
    target = rig.fds[d.target]
    try:
        rig_bpf.map_update(target, zero, struct.pack("<I", rig.fds[d.nop]))
        _, base = rig_bpf.test_run_repeat(rig.fds[d.prog], frame, repeat, ifindex,
                                          path.kind)
        rig_bpf.map_update(target, zero, struct.pack("<I", fd))
        verdict, ns = rig_bpf.test_run_repeat(rig.fds[d.prog], frame, repeat, ifindex,
                                              path.kind)
    finally:
        # the array holds a reference: the device's program must be freed
        # when its daemon stops
        rig_bpf.map_delete(target, zero)
    return verdict, max(ns - base, 0)


def _per_call(rig, fd, key, frame, runs, ifindex):
    """(verdict, ns): the mean of runs single-run test_runs of prog fd,
    minus the same of the baseline, interleaved so both see the same
    machine."""
    nop, kind = rig.fds[PER_CALL[key]], PATHS[key].kind
    ns = base = 0
    for _ in range(runs):
        verdict, t = rig_bpf.test_run_repeat(fd, frame, 1, ifindex, kind)
        ns += t
        _, t = rig_bpf.test_run_repeat(nop, frame, 1, ifindex, kind)
        base += t
    return verdict, max(round((ns - base) / runs), 0)


def _count(counters, path):
    port, name = path.counter
    return counters().get(port, {}).get(name, 0)


def run_paths(rig, prog_ids, keys, repeat, reps, counters=None):
    """{key: {"label", "ns": [per rep], "verdict", "expect"}} for each path,
    and for a path with a counter "counted" (how far the counter moved,
    via counters(): {port: {counter: packets}}) and "counted_expect".
    prog_ids: {"xdp": id, "tc": id} (tc only for tc paths)."""
    def work():
        out = {}
        fds = {}
        try:
            for kind in {PATHS[k].kind for k in keys}:
                fds[kind] = rig_bpf.prog_get_fd_by_id(prog_ids[kind])
            for key in keys:
                path = PATHS[key]
                frame = path.build(rig)
                runs = min(repeat, PER_CALL_MAX) if key in PER_CALL else repeat
                res = {"label": path.label, "port": path.port, "expect": path.expect,
                       "ns": [], "runs_per_rep": runs}
                if path.counter:
                    before = _count(counters, path)
                for _ in range(reps):
                    if key in DRIVEN:
                        verdict, ns = _driven(rig, fds[path.kind], key, frame, repeat,
                                              rig.ifindex[path.port])
                    elif key in PER_CALL:
                        verdict, ns = _per_call(rig, fds[path.kind], key, frame, runs,
                                                rig.ifindex[path.port])
                    else:
                        verdict, ns = rig_bpf.test_run_repeat(
                            fds[path.kind], frame, repeat, rig.ifindex[path.port],
                            path.kind)
                    res["ns"].append(ns)
                    res["verdict"] = rig_bpf.VERDICT[path.kind].get(verdict, str(verdict))
                if path.counter:
                    res["counter"] = "/".join(path.counter)
                    res["counted"] = _count(counters, path) - before
                    res["counted_expect"] = runs * reps
                out[key] = res
        finally:
            for fd in fds.values():
                os.close(fd)
        return out
    return rig.in_netns("dut", work, cpu=0)
