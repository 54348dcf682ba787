# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
ns/packet of an XDP program's paths: BPF_PROG_TEST_RUN without live
frames, one fixed frame run `repeat` times; the kernel reports the mean
time per run (`duration`). Nothing is sent: a redirect verdict is only
returned. The program is found by id from the DUT's lan0 and run in a
thread that entered the DUT's netns (ingress_ifindex must resolve there),
pinned to the generator's CPU.

PATHS is the table: key -> (label, ingress port, frame builder, expected
verdict). Paths in DRIVEN need a different frame on every run (a new
flow each time): they run through cost.bpf.c, which rewrites the frame
and tail-calls the program; the same run into a program that only
returns is subtracted. MAP-E encap/decap (tc egress, XDP on the WAN) are
not measured yet.
"""
import os
import struct

import rig_bpf
from rig_netns import ADDR, MAC
from rig_traffic import BENCH_PORT, LAN_PORT_BASE, VARY_SRC, icmp6_ns, ip4_udp, udp6

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


PATHS = {
    "bridged_lan2wan": ("bridged unicast LAN->WAN", "lan0", _lan2wan, "redirect"),
    "bridged_wan2lan": ("bridged unicast WAN->LAN", "wan0", _wan2lan, "redirect"),
    "multicast": ("multicast NS LAN->WAN (pass, tc copies)", "lan0",
                  lambda _r: icmp6_ns(MAC["lan"], LAN_LL, ADDR["wan"]), "pass"),
    "own_mac": ("IPv6 to own MAC (pass)", "lan0",
                lambda _r: udp6(MAC["lan"], MAC["lan0"], ADDR["lan"], "fe80::1", 10000,
                                BENCH_PORT, 64), "pass"),
    "ipv4": ("IPv4 (pass to the kernel)", "lan0",
             lambda _r: ip4_udp(MAC["lan"], MAC["lan0"]), "pass"),
    "inbound_drop": ("inbound, no flow (drop)", "wan0", _unsolicited, "drop"),
    "redirect": ("devmap redirect LAN->WAN", "lan0", _lan2wan, "redirect"),
    "new_flow_lan2wan": ("new outbound flow LAN->WAN (table full: LRU evicts)",
                         "lan0", _lan2wan, "redirect"),
}

# key -> struct bench_gen_cfg of the driver (cost.bpf.c)
DRIVEN = {
    "new_flow_lan2wan": struct.pack("<IIIHHII", 0, NEW_FLOWS, VARY_SRC, LAN_PORT_BASE,
                                    0, NEW_FLOW_ADDR_BASE, 0),
}


def _driven(rig, fd, key, frame, repeat, ifindex):
    """(verdict, ns) of one driven run of prog fd, minus the driver's own
    cost. The sequence goes on from run to run: every run is new flows."""
    zero = struct.pack("<I", 0)
    rig_bpf.map_update(rig.fds["cost_cfg"], zero, DRIVEN[key])
    try:
        rig_bpf.map_update(rig.fds["cost_target"], zero,
                           struct.pack("<I", rig.fds["cost_nop"]))
        _, base = rig_bpf.test_run_repeat(rig.fds["cost"], frame, repeat, ifindex)
        rig_bpf.map_update(rig.fds["cost_target"], zero, struct.pack("<I", fd))
        verdict, ns = rig_bpf.test_run_repeat(rig.fds["cost"], frame, repeat, ifindex)
    finally:
        # the array holds a reference: the device's program must be freed
        # when its daemon stops
        rig_bpf.map_delete(rig.fds["cost_target"], zero)
    return verdict, max(ns - base, 0)


def run_paths(rig, prog_id, keys, repeat, reps):
    """{key: {"label", "ns": [per rep], "verdict", "expect"}} for each path."""
    def work():
        out = {}
        fd = rig_bpf.prog_get_fd_by_id(prog_id)
        try:
            for key in keys:
                label, port, build, expect = PATHS[key]
                frame = build(rig)
                res = {"label": label, "port": port, "expect": expect, "ns": []}
                for _ in range(reps):
                    if key in DRIVEN:
                        verdict, ns = _driven(rig, fd, key, frame, repeat,
                                              rig.ifindex[port])
                    else:
                        verdict, ns = rig_bpf.test_run_repeat(fd, frame, repeat,
                                                              rig.ifindex[port])
                    res["ns"].append(ns)
                    res["verdict"] = rig_bpf.XDP_VERDICT.get(verdict, str(verdict))
                out[key] = res
        finally:
            os.close(fd)
        return out
    return rig.in_netns("dut", work, cpu=0)
