# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
ns/packet of an XDP program's paths: BPF_PROG_TEST_RUN without live
frames, one fixed frame run `repeat` times; the kernel reports the mean
time per run (`duration`). Nothing is sent: a redirect verdict is only
returned. The program is found by id from the DUT's lan0 and run in a
thread that entered the DUT's netns (ingress_ifindex must resolve there),
pinned to the generator's CPU.

PATHS is the table: key -> (label, ingress port, frame builder, expected
verdict). Firewall paths to add later (hooks): a new outbound flow per
run needs a frame that changes between repeats (live frames through the
generator, or a map reset between runs); MAP-E encap/decap are tc/XDP
paths of their own.
"""
import os

import rig_bpf
from rig_netns import ADDR, MAC
from rig_traffic import BENCH_PORT, LAN_PORT_BASE, icmp6_ns, ip4_udp, udp6

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
}


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
                    verdict, ns = rig_bpf.test_run_repeat(fd, frame, repeat,
                                                          rig.ifindex[port])
                    res["ns"].append(ns)
                    res["verdict"] = rig_bpf.XDP_VERDICT.get(verdict, str(verdict))
                out[key] = res
        finally:
            os.close(fd)
        return out
    return rig.in_netns("dut", work, cpu=0)
