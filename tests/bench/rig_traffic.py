# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
Frames, the live-frames generator and the sink's counter.

The generator is the rig's gen.bpf.c run with BPF_PROG_TEST_RUN in
live-frames mode from a thread that has entered the sending host's
network namespace and is pinned to one CPU. Each call sends `repeat`
frames in batches of 64; after each batch the kernel runs the softirqs
the batch raised on that same CPU, so the device under test's NAPI
(veth, one rx queue) and the sink's run right there, inline: a run
measures what one core forwards with generator and sink on it too (see
rig_calibration in bench.py for their share).
"""
import json
import os
import socket
import struct
import subprocess
import threading
import time

import rig_bpf
from rig_netns import ADDR, MAC, RigError, kill_group

BENCH_PORT = 9          # tests/bench/bench.h
LAN_PORT_BASE = 10000   # first LAN-side port of a flow
VARY_NONE, VARY_SRC, VARY_DST = 0, 1, 2
ETH_HLEN, IP6_HLEN, UDP_HLEN = 14, 40, 8
# Warm-up of a short window that follows another of the same traffic.
PAIR_WARMUP = 0.04


def _csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s


def _mac(m):
    return bytes.fromhex(m.replace(":", ""))


def _a6(a):
    return socket.inet_pton(socket.AF_INET6, a)


def ip6_frame(smac, dmac, src, dst, nh, l4, hlim=64):
    """Ethernet + IPv6 around an upper-layer payload whose checksum, if
    any, is already set."""
    return (_mac(dmac) + _mac(smac) + b"\x86\xdd" +
            struct.pack("!IHBB", 6 << 28, len(l4), nh, hlim) + _a6(src) + _a6(dst) + l4)


def l4_checksum(src, dst, nh, l4, at):
    """l4 with the RFC 8200 pseudo-header checksum written at offset at."""
    ph = _a6(src) + _a6(dst) + struct.pack("!I3xB", len(l4), nh)
    c = (~_csum(ph + l4)) & 0xffff or 0xffff
    return l4[:at] + struct.pack("!H", c) + l4[at + 2:]


def udp6(smac, dmac, src, dst, sport, dport, size):
    """IPv6/UDP frame of size bytes (what XDP sees: no FCS), valid checksum."""
    plen = size - ETH_HLEN - IP6_HLEN
    if plen < UDP_HLEN:
        raise ValueError(f"{size}-byte frame cannot hold IPv6/UDP")
    l4 = struct.pack("!HHHH", sport, dport, plen, 0) + bytes(plen - UDP_HLEN)
    return ip6_frame(smac, dmac, src, dst, 17, l4_checksum(src, dst, 17, l4, 6))


def icmp6_ns(smac, src, target):
    """Neighbor Solicitation to target's solicited-node group (multicast)."""
    t = _a6(target)
    group = "ff02::1:ff%02x:%02x%02x" % (t[13], t[14], t[15])
    gmac = "33:33:ff:%02x:%02x:%02x" % (t[13], t[14], t[15])
    l4 = struct.pack("!BBHI", 135, 0, 0, 0) + t + b"\x01\x01" + _mac(smac)
    return ip6_frame(smac, gmac, src, group, 58, l4_checksum(src, group, 58, l4, 2),
                     hlim=255)


def ip4_udp(smac, dmac, size=64, src="192.168.50.10", dst="198.51.100.1",
            sport=10000, dport=BENCH_PORT):
    """IPv4/UDP frame (routed by the kernel, never bridged by brouter);
    no UDP checksum (0: none, allowed in IPv4)."""
    plen = size - ETH_HLEN - 20
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, plen + 20, 0, 0x4000, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", (~_csum(ip)) & 0xffff) + ip[12:]
    udp = struct.pack("!HHHH", sport, dport, plen, 0) + bytes(plen - 8)
    return _mac(dmac) + _mac(smac) + b"\x08\x00" + ip + udp


class Flow:
    """Where a traffic direction's generator runs and what it sends.

    lan2wan: the LAN host sends from 2001:db8:1::10 port 10000.. to the
    WAN host port 9; wan2lan: the exact replies. Flow i differs in the
    LAN-side port (and address past 32768 flows, bench.h), the same way
    both ways, so wan2lan frames belong to the flows lan2wan opened."""

    def __init__(self, direction, size, nflows, cal=False, ref=False):
        self.direction, self.size, self.nflows = direction, size, nflows
        if direction == "lan2wan":
            src, dst, vary = "lan", "wan", VARY_SRC
            sport, dport = LAN_PORT_BASE, BENCH_PORT
        elif direction == "wan2lan":
            src, dst, vary = "wan", "lan", VARY_DST
            sport, dport = BENCH_PORT, LAN_PORT_BASE
        else:
            raise ValueError(direction)
        self.where = src
        # path: "cal" straight into the sink, "ref" through the reference
        # redirect, else through the device under test
        sfx = "_cal" if cal else "_ref" if ref else ""
        self.dev = "cal0" if cal else "eth1" if ref else "eth0"
        self.frame = udp6(MAC[src + sfx], MAC[dst + sfx], ADDR[src], ADDR[dst], sport,
                          dport, size)
        self.vary = vary if nflows > 1 else VARY_NONE
        self.addr_base = struct.unpack("!I", _a6(ADDR["lan"])[12:])[0]
        self.ifindex_key = src + sfx

    def cfg(self, ifindex):
        """struct bench_gen_cfg."""
        return struct.pack("<IIIHHII", ifindex, max(self.nflows, 1), self.vary,
                           LAN_PORT_BASE, 0, self.addr_base, 0)


class Generator:
    """Live-frames generator threads; use as a context manager."""

    TARGET_CALL_S = 0.02  # one test_run call; stop() waits at most this

    def __init__(self, rig, flow, cpus=(0,), batch=64):
        self.rig, self.flow, self.cpus, self.batch = rig, flow, cpus, batch
        self.sent = [0] * len(cpus)
        self.errors = []
        self._stop = threading.Event()
        self._threads = []

    def _worker(self, i, cpu):
        try:
            os.sched_setaffinity(0, {cpu})
            rig_bpf.setns_thread(self.rig.ns_path(self.flow.where))
            repeat = 4096
            prog = self.rig.fds["gen"]
            while not self._stop.is_set():
                t0 = time.monotonic()
                rig_bpf.test_run_live(prog, self.flow.frame, repeat, self.batch)
                self.sent[i] += repeat
                dt = max(time.monotonic() - t0, 1e-6)
                repeat = int(min(max(repeat * self.TARGET_CALL_S / dt, 1024), 1 << 22))
        except Exception as e:  # pylint: disable=broad-except
            self.errors.append(e)

    def __enter__(self):
        rig_bpf.map_update(self.rig.fds["gen_cfg"], struct.pack("<I", 0),
                           self.flow.cfg(self.rig.ifindex[self.flow.ifindex_key]))
        if hasattr(self.flow, "hdr"):
            rig_bpf.map_update(self.rig.fds["gen_hdr"], struct.pack("<I", 0),
                               self.flow.hdr())
        for i, cpu in enumerate(self.cpus):
            t = threading.Thread(target=self._worker, args=(i, cpu), daemon=True,
                                 name=f"gen-cpu{cpu}")
            t.start()
            self._threads.append(t)
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for t in self._threads:
            t.join()
        if self.errors and exc[0] is None:
            raise self.errors[0]
        return False

    def offered(self):
        return sum(self.sent)


def sink_count(rig):
    """(packets, bytes) the sink has counted so far, all CPUs."""
    fd, n = rig.fds["sink_cnt"], rig_bpf.possible_cpus()
    return rig_bpf.percpu_u64_sum(fd, 0, n), rig_bpf.percpu_u64_sum(fd, 1, n)


def measure(rig, flow, warmup, window, cpus=(0,)):
    """Frames per second through the device under test: the sink's count
    over window seconds, after warmup seconds of traffic."""
    with Generator(rig, flow, cpus) as gen:
        time.sleep(warmup)
        p0, b0 = sink_count(rig)
        o0, t0 = gen.offered(), time.monotonic()
        time.sleep(window)
        p1, b1 = sink_count(rig)
        o1, t1 = gen.offered(), time.monotonic()
    dt = t1 - t0
    return {"pps": (p1 - p0) / dt, "bps": 8 * (b1 - b0) / dt,
            "offered_pps": (o1 - o0) / dt, "frames": p1 - p0}


def prime(rig, flow, seconds, min_frames=0, timeout=60):
    """Send flow's frames for at least seconds and min_frames frames
    without measuring (open flows, teach FDBs)."""
    with Generator(rig, flow) as gen:
        time.sleep(seconds)
        deadline = time.monotonic() + timeout
        while gen.offered() < min_frames:
            if time.monotonic() > deadline:
                raise RigError(f"priming {flow.nflows} flows: {gen.offered()} of "
                               f"{min_frames} frames sent in {timeout} s")
            time.sleep(0.05)


def iperf3(rig, seconds, port=5201):
    """One TCP stream, LAN host -> WAN host, through the device: Gbit/s
    received. Both ends may use both CPUs (taskset undoes the driver's
    own pinning, which children inherit)."""
    server = rig.popen("wan", ["taskset", "-c", "0-1", "iperf3", "-s", "-1", "-B",
                               ADDR["wan"], "-p", port],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for attempt in range(20):
            p = rig.run("lan", ["taskset", "-c", "0-1", "iperf3", "-J", "-c", ADDR["wan"],
                                "-p", port, "-t", seconds, "--connect-timeout", 1000],
                        check=False, timeout=seconds + 20)
            try:
                res = json.loads(p.stdout)
            except ValueError:
                res = {"error": p.stderr.strip() or p.stdout.strip()}
            if "error" not in res:
                return res["end"]["sum_received"]["bits_per_second"] / 1e9
            if "refused" not in res["error"] or attempt == 19:
                raise RigError(f"iperf3: {res['error']}")
            time.sleep(0.1)  # server not listening yet
    finally:
        kill_group(server)
    return None
