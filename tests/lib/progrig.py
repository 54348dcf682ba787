# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
The rig of the BPF program tests: a network namespace with two veth pairs
and a real brouterd attached to them,

    lan0 <-> lanp        wan0 <-> wanp        brouterd lan0 wan0

with the XDP and tc ingress programs it attached and the maps it pinned
opened from here, so frames run with BPF_PROG_TEST_RUN go through the same
object, the same rodata ifindexes and the same maps as real traffic.

Two kernel facts shape it:
- XDP test_run resolves ctx.ingress_ifindex in the caller's netns, so every
  run (and every AF_PACKET socket) is made inside() the rig's namespace;
  the pytest process returns to its own namespace right after.
- IPv6 is disabled in the namespace (but on the ipv6_on ports, without
  DAD or RS) so the kernel sends no ND/MLD of its own: every frame the
  programs see is one a test sent, and counter deltas are exact.
"""
import contextlib
import glob
import json
import os
import re
import signal
import socket
import struct
import subprocess
import tempfile
import time

import pytest

import bpfsys as bs
import fwmaps as fm

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BROUTERD = os.path.join(REPO, "build", "brouterd")
BROUTERCTL = os.path.join(REPO, "build", "brouterctl")

LAN, WAN = fm.BR_PORT_LAN, fm.BR_PORT_WAN

# struct br_meta, XDP's handover to tc ingress (include/brouter/abi.h)
BR_META_MAGIC = (0xB40E, 0x7E60)
BR_META_MARK, BR_META_CLONE, BR_META_REASM, BR_META_NOTRACK = 1, 2, 4, 8
META = struct.Struct("<HHBBH")


def meta(port, flags):
    """The handover XDP writes for a frame that arrived on @port."""
    return META.pack(*BR_META_MAGIC, port, flags, 0)
PORT_IF = ("lan0", "wan0")
PEER_IF = ("lanp", "wanp")

STAT_NAMES = fm.stat_names()
# The flow cache's accounting moves beside the verdicts of most frames;
# counted() and FwRig.send() leave it out, test_flowcache.py checks it.
CACHE_ACCOUNTING = ("fc_miss", "bridged_slow")
DROP_REASONS = fm.drop_reason_names()


def run(*args, check=True):
    p = subprocess.run(args, capture_output=True, text=True)
    if check and p.returncode:
        raise RuntimeError(f"{' '.join(args)}: exit {p.returncode}: "
                           f"{p.stderr.strip()}")
    return p


class Rig:
    """A namespace with lan0/wan0 (+ peers) and a brouterd on them."""

    # Pinned maps opened as self.maps[name] = (fd, info).
    MAPS = ("stats",)

    def __init__(self, name, extra_args=(), ipv6_on=()):
        self.name = name
        self.ipv6_on = tuple(ipv6_on)  # ports that need IPv6 (tunnel addresses)
        self.ns_path = f"/run/netns/{name}"
        self.pin_dir = f"/sys/fs/bpf/{name}"
        self.extra_args = list(extra_args)
        self.proc = None
        self.log = None
        self.fds = []
        self.maps = {}
        self.host_ns = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        self.ns_fd = -1

    # -- setup / teardown

    def ns(self, *args, check=True):
        return run("nsenter", f"--net={self.ns_path}", *args, check=check)

    def start(self):
        if not os.access(BROUTERD, os.X_OK):
            pytest.fail(f"{BROUTERD} missing: run `make` first")
        run("ip", "netns", "add", self.name)
        self.ns_fd = os.open(self.ns_path, os.O_RDONLY)
        for conf in ("all", "default"):
            self.ns("sysctl", "-qw", f"net.ipv6.conf.{conf}.disable_ipv6=1")
        for port, peer in zip(PORT_IF, PEER_IF):
            run("ip", "-n", self.name, "link", "add", port, "type", "veth",
                "peer", "name", peer)
        # Addresses only, no DAD, no RS: still nothing of the kernel's own
        # arrives at the programs (what a port sends skips its XDP).
        for dev in self.ipv6_on:
            self.ns("sysctl", "-qw", f"net.ipv6.conf.{dev}.disable_ipv6=0",
                    f"net.ipv6.conf.{dev}.accept_dad=0",
                    f"net.ipv6.conf.{dev}.router_solicitations=0",
                    f"net.ipv6.conf.{dev}.accept_ra=0")
        for dev in PORT_IF + PEER_IF + ("lo",):
            run("ip", "-n", self.name, "link", "set", dev, "up")
        # veth delivers XDP-redirected frames only to a peer with NAPI on.
        for peer in PEER_IF:
            self.ns("ethtool", "-K", peer, "gro", "on")

        self.before_daemon()
        self.log = tempfile.NamedTemporaryFile(
            mode="w+", prefix=f"{self.name}-", suffix=".log")
        self.proc = subprocess.Popen(
            ["nsenter", f"--net={self.ns_path}", BROUTERD, "--pin-dir",
             self.pin_dir, *self.extra_args, PORT_IF[LAN], PORT_IF[WAN]],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
            start_new_session=True)
        self._wait_ready(timeout=20)
        self._find_programs()
        self._open_maps()
        with self.inside():
            self.ifindex = [socket.if_nametoindex(d) for d in PORT_IF]
        info = json.loads(self.ns("ip", "-j", "link", "show").stdout)
        self.mac = {l["ifname"]: l["address"] for l in info}

    def before_daemon(self):
        """What a test needs on the system before brouterd starts."""

    def log_text(self):
        self.log.seek(0)
        return self.log.read()

    def _wait_ready(self, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            # \b: "already running" is an error, not the ready line.
            if re.search(r"\bready\b", self.log_text()):
                return
            if self.proc.poll() is not None:
                pytest.fail(f"brouterd exited {self.proc.returncode}:\n"
                            f"{self.log_text()}")
            time.sleep(0.05)
        pytest.fail(f"brouterd not ready after {timeout}s:\n{self.log_text()}")

    def tc_progs(self, hook):
        """{device: id} of brouter's tc program on @hook ("ingress" or
        "egress") of each port that has it, however it was attached: a
        tcx link (BPF_PROG_QUERY: bpftool 7.1 does not list tcx) or a
        clsact filter (bpftool net)."""
        net = json.loads(self.ns("bpftool", "net", "-j").stdout)[0]
        progs = {e["devname"]: e["id"] for e in net.get("tc", [])
                 if e.get("kind") == f"clsact/{hook}"}
        for dev in PORT_IF:
            for i, name in bs.tcx_progs(self.name, dev, hook):
                if name.startswith("tc_brouter"):
                    progs[dev] = i
        return progs

    def _find_programs(self):
        net = json.loads(self.ns("bpftool", "net", "-j").stdout)[0]
        xdp = {e["devname"]: e["id"] for e in net.get("xdp", [])}
        tc = self.tc_progs("ingress")
        for dev in PORT_IF:
            assert dev in xdp, f"no XDP program on {dev}: {net}"
            assert dev in tc, f"no tc ingress program on {dev}: {net}"
        # One program of each kind serves both ports.
        assert tc[PORT_IF[LAN]] == tc[PORT_IF[WAN]]
        # What runs on each port: brouter's program attached by a link,
        # or libxdp's dispatcher that calls it (one per port).
        self.xdp_fds = [self._keep(bs.prog_get_fd_by_id(xdp[d])) for d in PORT_IF]
        self.xdp_fd = self.xdp_fds[LAN]
        if bs.prog_info(self.xdp_fd).name == b"xdp_dispatcher":
            self.brouter_fd = self._keep(self._component(xdp[PORT_IF[LAN]]))
        else:
            assert xdp[PORT_IF[LAN]] == xdp[PORT_IF[WAN]]
            self.brouter_fd = self.xdp_fd
        self.tc_fd = self._keep(bs.prog_get_fd_by_id(tc[PORT_IF[LAN]]))
        assert bs.prog_info(self.brouter_fd).name == b"xdp_brouter"
        assert bs.prog_info(self.tc_fd).name == b"tc_brouter_in"

    @staticmethod
    def _component(dispatcher_id):
        """brouter's program in libxdp's dispatcher @dispatcher_id, through
        the pins libxdp keeps (/sys/fs/bpf/xdp/dispatch-IFINDEX-ID/)."""
        for d in glob.glob(f"/sys/fs/bpf/xdp/dispatch-*-{dispatcher_id}"):
            for pin in sorted(glob.glob(os.path.join(d, "prog*-prog"))):
                fd = bs.obj_get(pin)
                if bs.prog_info(fd).name == b"xdp_brouter":
                    return fd
                os.close(fd)
        raise AssertionError(f"no xdp_brouter in dispatcher {dispatcher_id}")

    def _open_maps(self):
        for name in self.MAPS:
            fd = self._keep(bs.obj_get(os.path.join(self.pin_dir, name)))
            self.maps[name] = (fd, bs.map_info(fd))
        self.check_maps()

    def check_maps(self):
        """The pinned maps have the layout the tests read."""
        info = self.maps["stats"][1]
        assert info.value_size == fm.S["br_stat"].size
        assert info.max_entries == len(STAT_NAMES), (
            f"stats map has {info.max_entries} counters, include/brouter/counters.h "
            f"lists {len(STAT_NAMES)}: build/ is stale, run make")

    def prog_map(self, name):
        """(fd, info) of the XDP program's map @name, pinned or not."""
        for map_id in bs.prog_map_ids(self.brouter_fd):
            fd = bs.map_get_fd_by_id(map_id)
            info = bs.map_info(fd)
            if info.name == name.encode():
                return self._keep(fd), info
            os.close(fd)
        raise AssertionError(f"the XDP program has no {name} map")

    def _keep(self, fd):
        self.fds.append(fd)
        return fd

    def fd(self, name):
        return self.maps[name][0]

    def stop(self):
        for fd in self.fds:
            os.close(fd)
        self.fds = []
        self.maps = {}
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    # Its own session (start_new_session): only ours dies.
                    os.killpg(self.proc.pid, signal.SIGKILL)
                    self.proc.wait()
            self.proc = None
        # brouterd unpins and removes the directory; clean up if it did not.
        if os.path.isdir(self.pin_dir):
            for f in os.listdir(self.pin_dir):
                os.unlink(os.path.join(self.pin_dir, f))
            os.rmdir(self.pin_dir)
        if self.ns_fd >= 0:
            os.close(self.ns_fd)
            self.ns_fd = -1
        run("ip", "netns", "del", self.name, check=False)
        if self.log is not None:
            self.log.close()
            self.log = None
        os.close(self.host_ns)

    @contextlib.contextmanager
    def inside(self):
        """Run the body in the rig's netns (ifindexes, sockets)."""
        bs.setns(self.ns_fd)
        try:
            yield
        finally:
            bs.setns(self.host_ns)

    # -- programs

    def xdp(self, port, frame):
        """Plain XDP test_run on arrival port; returns (result, meta, pkt)."""
        ctx = bs.XdpMd(data_end=len(frame), ingress_ifindex=self.ifindex[port])
        with self.inside():
            r = bs.prog_test_run(self.xdp_fds[port], frame, ctx=ctx,
                                 ctx_out_type=bs.XdpMd)
        metalen = r.ctx.data
        assert r.ctx.data_end == len(r.data)
        return r, r.data[:metalen], r.data[metalen:]

    def xdp_live(self, port, frame):
        """
        Live-frames run: the verdict is carried out for real. The kernel
        reports no retval in this mode; the frames show what happened.
        """
        ctx = bs.XdpMd(data_end=len(frame), ingress_ifindex=self.ifindex[port])
        with self.inside():
            return bs.prog_test_run(self.xdp_fds[port], frame, ctx=ctx,
                                    data_out_size=0,
                                    flags=bs.BPF_F_TEST_XDP_LIVE_FRAMES)

    def tc(self, ifindex, frame, mark=0):
        ctx = bs.SkBuff(ingress_ifindex=ifindex, ifindex=ifindex, mark=mark)
        with self.inside():
            return bs.prog_test_run(self.tc_fd, frame, ctx=ctx,
                                    ctx_out_type=bs.SkBuff)

    # -- maps

    def stats(self):
        """{name: [lan_pkts, lan_bytes, wan_pkts, wan_bytes]} over CPUs."""
        fd = self.fd("stats")
        out = {}
        for i, name in enumerate(STAT_NAMES):
            tot = [0, 0, 0, 0]
            for v in bs.percpu_lookup(fd, struct.pack("=I", i),
                                      fm.S["br_stat"].size):
                tot = [a + b for a, b in zip(tot, fm.stat_decode(v))]
            out[name] = tot
        return out


def running(rig):
    """Body of a fixture: @rig started, yielded, stopped whatever happens."""
    try:
        rig.start()
        yield rig
    finally:
        rig.stop()


def drops_add_up(deltas):
    """"drop" moved by the sum of the reasons: {name: packets} of a port."""
    reasons = sum(deltas.get(r, 0) for r in DROP_REASONS)
    assert deltas.get("drop", 0) == reasons, \
        f"drop moved {deltas.get('drop', 0)}, the reasons {reasons}: {deltas}"


def counted(before, after):
    """Non-zero counter deltas as {(name, port): (packets, bytes)}; checks
    on the way that each port's drops add up."""
    out = {}
    for name in STAT_NAMES:
        if name in CACHE_ACCOUNTING:
            continue
        d = [a - b for a, b in zip(after[name], before[name])]
        for port in (LAN, WAN):
            if d[2 * port] or d[2 * port + 1]:
                out[(name, port)] = (d[2 * port], d[2 * port + 1])
    for port in (LAN, WAN):
        drops_add_up({n: v[0] for (n, p), v in out.items() if p == port})
    return out


def expect(port, nbytes, *names, n=1):
    return {(name, port): (n, n * nbytes) for name in names}
