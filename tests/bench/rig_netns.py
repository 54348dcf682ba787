# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
The benchmark's namespaces and veths:

    ns <P>lan                 ns <P>dut                      ns <P>wan
    eth0 ------------------- lan0  [device under test]  wan0 ------------------- eth0
    2001:db8:1::10/64                                        2001:db8:1::1/64
    eth1 ------------------- lanr0 [bare XDP redirect] wanr0 ------------------- eth1
    cal0 ----------------------------------------------------------------------- cal0
                       (calibration: generator straight into the sink)

eth1-lanr0-wanr0-eth1 is the reference path: the same plumbing with the
bare XDP redirect attached for the rig's life, so a device's rate can be
measured in turn with the ceiling's, a fraction of a second apart, as
often as needed (bench.py's paired ratios), with nothing set up between.

The LAN host generates LAN->WAN traffic and sinks WAN->LAN traffic, the WAN
host the other way round; both veths carry the sink XDP program, which
counts and drops the benchmark's UDP and passes everything else.

Everything is named with one prefix per run ("brb<pid>-"); close() removes
namespaces, processes, pins and temp files (called from try/finally,
atexit and the signal handlers), and a new run first removes what dead
runs left behind. No frame ever leaves these namespaces.
"""
import contextlib
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time

import rig_bpf

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(REPO, "build")
BENCH_BUILD = os.path.join(BUILD, "bench")
BPFFS = "/sys/fs/bpf"
NETNS_DIR = "/run/netns"
PREFIX_RE = re.compile(r"^brb(\d+)-")

# Fixed, locally administered MACs: tables and tcpdump read the same every run.
MAC = {"lan": "02:00:00:00:00:10", "wan": "02:00:00:00:00:01",
       "lan0": "02:00:00:00:01:00", "wan0": "02:00:00:00:01:01",
       "lan_cal": "02:00:00:00:02:10", "wan_cal": "02:00:00:00:02:01",
       "lan_ref": "02:00:00:00:03:10", "wan_ref": "02:00:00:00:03:01",
       "lanr0": "02:00:00:00:04:00", "wanr0": "02:00:00:00:04:01"}
# The device ports of each path in the dut namespace, LAN side first.
PATH_PORTS = {"dut": ("lan0", "wan0"), "ref": ("lanr0", "wanr0")}
ADDR = {"lan": "2001:db8:1::10", "wan": "2001:db8:1::1"}
V6_PREFIX = "2001:db8:1::/64"


class RigError(RuntimeError):
    pass


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def cmdline(ns, cmd):
    """argv running cmd in netns ns. nsenter --net, not `ip netns exec`:
    the latter remounts /sys, hiding the bpffs at /sys/fs/bpf."""
    cmd = [str(c) for c in cmd]
    return ["nsenter", f"--net={NETNS_DIR}/{ns}", *cmd] if ns else cmd


def run(ns, cmd, check=True, timeout=30, input=None):
    argv = cmdline(ns, cmd)
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                           input=input,
                           stdin=None if input is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise RigError(f"timeout after {timeout}s: {' '.join(argv)}") from None
    if check and p.returncode != 0:
        raise RigError(f"exit {p.returncode}: {' '.join(argv)}\n"
                       f"{p.stdout.strip()}\n{p.stderr.strip()}".rstrip())
    return p


# Process and namespace plumbing shared with the namespace tests.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from topo import _delete_netns, _netns_list, _pid_alive, run_cleanup  # noqa: E402
from topo import _kill_group as kill_group  # noqa: E402,F401


def ensure_bpffs():
    """Mount bpffs where a fresh boot has none, as brouterd itself does."""
    if os.path.ismount(BPFFS):
        return
    os.makedirs(BPFFS, exist_ok=True)
    subprocess.run(["mount", "-t", "bpf", "bpf", BPFFS], check=True)


def cleanup_prefix(prefix):
    for name in _netns_list():
        if name.startswith(prefix):
            _delete_netns(name)
    with contextlib.suppress(FileNotFoundError):
        for name in os.listdir(BPFFS):
            if name.startswith(prefix):
                shutil.rmtree(os.path.join(BPFFS, name), ignore_errors=True)


def cleanup_stale():
    """Remove what benchmark runs of dead processes left (brb<pid>-*)."""
    names = _netns_list()
    with contextlib.suppress(FileNotFoundError):
        names += os.listdir(BPFFS)
    stale = set()
    for name in names:
        m = PREFIX_RE.match(name)
        if m and int(m.group(1)) != os.getpid() and not _pid_alive(int(m.group(1))):
            stale.add(m.group(0))
    for prefix in sorted(stale):
        log(f"removing leftovers of a dead run: {prefix}*")
        cleanup_prefix(prefix)


def link(ns, dev):
    """`ip -d -j link show dev` as a dict."""
    return json.loads(run(ns, ["ip", "-d", "-j", "link", "show", "dev", dev]).stdout)[0]


def tc_egress_prog_id(ns, dev):
    """Id of brouter's program on dev's tc egress (a tcx link or a clsact
    filter), or None."""
    for i, name in rig_bpf.tcx_progs(ns, dev, "egress"):
        if name.startswith("tc_brouter"):
            return i
    net = json.loads(run(ns, ["bpftool", "net", "-j"]).stdout)[0]
    for e in net.get("tc", []):
        if e.get("devname") == dev and e.get("kind") == "clsact/egress":
            return e["id"]
    return None


def xdp_prog_id(ns, dev):
    """Id of the XDP program attached to dev, or None."""
    xdp = link(ns, dev).get("xdp") or {}
    prog = xdp.get("prog") or {}
    if "id" in prog:
        return prog["id"]
    for a in xdp.get("attached", []):
        if a.get("prog", {}).get("id"):
            return a["prog"]["id"]
    return None


class Rig:
    """The namespaces, veths and the rig's own BPF programs."""

    def __init__(self):
        self.prefix = f"brb{os.getpid()}-"
        self.ns = {"lan": self.prefix + "lan", "dut": self.prefix + "dut",
                   "wan": self.prefix + "wan"}
        self.pin_dir = f"{BPFFS}/{self.prefix}rig"
        self.tmp = None
        self.ifindex = {}
        self.procs = []
        self.fds = {}
        self._started = False
        self._closed = False

    # ------------------------------------------------------------ lifecycle

    def start(self):
        if os.geteuid() != 0:
            raise RigError("needs root (network namespaces, BPF)")
        self._started = True
        ensure_bpffs()
        cleanup_stale()
        cleanup_prefix(self.prefix)
        self.tmp = tempfile.mkdtemp(prefix=self.prefix)
        self._build()
        self._load_programs()
        return self

    def close(self):
        """Stop everything and remove it all; safe to call twice, and a
        signal arriving meanwhile waits until it is done."""
        if self._closed or not self._started:
            return
        steps = [lambda p=p: kill_group(p) for p in reversed(self.procs)]
        steps += [lambda fd=fd: os.close(fd) for fd in self.fds.values()]
        steps.append(lambda: cleanup_prefix(self.prefix))
        if self.tmp:
            steps.append(lambda: shutil.rmtree(self.tmp, ignore_errors=True))
        run_cleanup(steps, self.prefix, log)
        self._closed = True

    # ------------------------------------------------------------ helpers

    def run(self, where, cmd, **kw):
        return run(self.ns[where] if where else None, cmd, **kw)

    def popen(self, where, cmd, **kw):
        """Background process in a rig namespace, stopped by close()."""
        kw.setdefault("stdin", subprocess.DEVNULL)
        p = subprocess.Popen(cmdline(self.ns[where], cmd), start_new_session=True, **kw)
        self.procs.append(p)
        return p

    def ns_path(self, where):
        return f"{NETNS_DIR}/{self.ns[where]}"

    def in_netns(self, where, fn, cpu=None):
        """fn() in a thread that entered the rig namespace (and, if cpu is
        given, is pinned to it); its result. Needed wherever the kernel
        resolves an ifindex in the caller's netns: devmap updates,
        test_run ingress_ifindex, live-frames redirects. Done from the
        driver's own (root) netns, an ifindex would name a host device."""
        out, err = [], []

        def work():
            try:
                if cpu is not None:
                    os.sched_setaffinity(0, {cpu})
                rig_bpf.setns_thread(self.ns_path(where))
                out.append(fn())
            except BaseException as e:  # pylint: disable=broad-except
                err.append(e)

        t = threading.Thread(target=work, name=f"in-{where}")
        t.start()
        t.join()
        if err:
            raise err[0]
        return out[0]

    def sysctl(self, where, *settings):
        self.run(where, ["sysctl", "-qw", *settings])

    def file(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    # ------------------------------------------------------------ build

    def _build(self):
        for where, name in self.ns.items():
            run(None, ["ip", "netns", "add", name])
            self.run(where, ["ip", "link", "set", "lo", "up"])
            # no DAD: static addresses usable at once; no RAs, no routing
            self.sysctl(where, "net.ipv6.conf.all.accept_dad=0",
                        "net.ipv6.conf.default.accept_dad=0",
                        "net.ipv6.conf.default.accept_ra=0")
        dut = self.ns["dut"]
        for port, dev, host, mac in (("lan0", "eth0", "lan", MAC["lan"]),
                                     ("wan0", "eth0", "wan", MAC["wan"]),
                                     ("lanr0", "eth1", "lan", MAC["lan_ref"]),
                                     ("wanr0", "eth1", "wan", MAC["wan_ref"])):
            run(None, ["ip", "link", "add", port, "netns", dut, "address", MAC[port],
                       "type", "veth", "peer", "name", dev, "netns",
                       self.ns[host], "address", mac])
        run(None, ["ip", "link", "add", "cal0", "netns", self.ns["lan"], "address",
                   MAC["lan_cal"], "type", "veth", "peer", "name", "cal0", "netns",
                   self.ns["wan"], "address", MAC["wan_cal"]])
        for port in ("lan0", "wan0", "lanr0", "wanr0"):
            # A frame redirected into a veth is only delivered if the peer
            # has NAPI: an XDP program or GRO. The Linux bridge devices
            # have no XDP program, so GRO on for every device alike.
            self.run("dut", ["ethtool", "-K", port, "gro", "on"])
            self.run("dut", ["ip", "link", "set", port, "up"])
        for host in ("lan", "wan"):
            # Locally sent TCP leaves a veth with a partial checksum that
            # an XDP redirect carries across unfinished: tx offload off
            # (iperf3 only; the generator's frames carry full checksums).
            self.run(host, ["ethtool", "-K", "eth0", "tx", "off"])
            for dev in ("eth0", "eth1", "cal0"):
                self.run(host, ["ip", "link", "set", dev, "up"])
            self.run(host, ["ip", "-6", "addr", "add", f"{ADDR[host]}/64", "dev",
                            "eth0", "nodad"])
            self.ifindex[host] = link(self.ns[host], "eth0")["ifindex"]
            self.ifindex[host + "_cal"] = link(self.ns[host], "cal0")["ifindex"]
            self.ifindex[host + "_ref"] = link(self.ns[host], "eth1")["ifindex"]
        for port in ("lan0", "wan0", "lanr0", "wanr0"):
            self.ifindex[port] = link(dut, port)["ifindex"]
        # Static neighbours: no device under test needs to pass ND for
        # iperf3, so the firewall recipes stay exactly as documented.
        for host, peer in (("lan", "wan"), ("wan", "lan")):
            self.run(host, ["ip", "-6", "neigh", "replace", ADDR[peer], "lladdr",
                            MAC[peer], "dev", "eth0", "nud", "permanent"])

    def _load_programs(self):
        os.makedirs(self.pin_dir)
        for prog in ("gen", "sink", "redirect", "cost", "tun_cost"):
            obj = os.path.join(BENCH_BUILD, f"{prog}.bpf.o")
            if not os.path.exists(obj):
                raise RigError(f"{obj} missing: run `make bench` (it builds it)")
            # cost.bpf.o has two programs: loadall pins each by name;
            # tun_cost.bpf.o mixes XDP and tc: types from the section names
            many = prog in ("cost", "tun_cost")
            run(None, ["bpftool", "prog", "loadall" if many else "load", obj,
                       f"{self.pin_dir}/{prog}",
                       *([] if prog == "tun_cost" else ["type", "xdp"]),
                       "pinmaps", f"{self.pin_dir}/{prog}_maps"])
        for name, path in (("gen", "gen"), ("gen_cfg", "gen_maps/gen_cfg"),
                           ("gen_ports", "gen_maps/gen_ports"),
                           ("gen_hdr", "gen_maps/gen_hdr"),
                           ("sink_cnt", "sink_maps/sink_cnt"),
                           ("redirect", "redirect"),
                           ("redir_ports", "redirect_maps/redir_ports"),
                           ("cost", "cost/bench_cost"), ("cost_nop", "cost/bench_nop"),
                           ("cost_cfg", "cost_maps/cost_cfg"),
                           ("cost_target", "cost_maps/cost_target"),
                           ("rewrap", "tun_cost/bench_rewrap"),
                           ("tc_nop", "tun_cost/bench_tc_nop"),
                           ("tun_hdr", "tun_cost_maps/tun_hdr"),
                           ("tun_xdp_target", "tun_cost_maps/tun_xdp_target")):
            self.fds[name] = rig_bpf.obj_get(f"{self.pin_dir}/{path}")
        for host in ("lan", "wan"):
            self.xdp_attach(host, "eth0", "sink")
            self.xdp_attach(host, "eth1", "sink")
        self.xdp_attach("wan", "cal0", "sink")
        self._park_generator()
        self.redirect_between(*PATH_PORTS["ref"])

    def redirect_between(self, a, b):
        """The bare XDP redirect between DUT-namespace ports a and b."""
        ia, ib = self.ifindex[a], self.ifindex[b]

        def fill():
            for x, y in ((ia, ib), (ib, ia)):
                rig_bpf.map_update(self.fds["redir_ports"], struct.pack("<I", x),
                                   struct.pack("<I", y))
        # the kernel resolves a devmap's ifindex in the updater's netns
        self.in_netns("dut", fill)
        for port in (a, b):
            self.xdp_attach("dut", port, "redirect")

    def _park_generator(self):
        """Attach the generator to an idle veth pair for the rig's life.
        BPF_PROG_TEST_RUN of an XDP program that no device has attached
        swaps it into the kernel's XDP dispatcher and out again, each
        with a synchronize_rcu() (bpf_prog_change_xdp()): 15-30 ms of
        sleep per call, which made every rate the rig measured a count
        of test_run calls (~0.05 Mpps whatever the device). Attached, the
        program is already in the dispatcher and a call costs only its
        frames. The pair stays down: nothing ever reaches the program."""
        self.run("lan", ["ip", "link", "add", "gen0", "type", "veth", "peer",
                         "name", "gen1"])
        self.xdp_attach("lan", "gen0", "gen")

    def xdp_attach(self, where, dev, prog):
        """Attach one of the rig's pinned programs in native mode."""
        self.run(where, ["ip", "link", "set", "dev", dev, "xdpdrv", "pinned",
                         f"{self.pin_dir}/{prog}"])

    def xdp_detach(self, where, dev):
        self.run(where, ["ip", "link", "set", "dev", dev, "xdpdrv", "off"], check=False)

    def wait_file(self, path, pattern, proc, timeout=30):
        """Wait until the file matches pattern; fail if proc exits first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(path) as f:
                text = f.read()
            if re.search(pattern, text):
                return text
            if proc.poll() is not None:
                raise RigError(f"{proc.args[2:]} exited {proc.returncode}:\n{text}")
            time.sleep(0.05)
        raise RigError(f"no /{pattern}/ in {path} after {timeout}s")

    def napi_threaded(self, where, dev, cpu):
        """Run dev's NAPI in a kthread pinned to cpu ("split" mode);
        returns the undo. Set through the namespace's own sysfs (ip netns
        exec remounts /sys), kthread found by name napi/<dev>-<id>, new
        since the switch."""
        def kthreads():
            found = set()
            for pid in os.listdir("/proc"):
                if pid.isdigit():
                    with contextlib.suppress(OSError):
                        with open(f"/proc/{pid}/comm") as f:
                            if f.read().startswith(f"napi/{dev}-"):
                                found.add(int(pid))
            return found

        def threaded(on):
            run(None, ["ip", "netns", "exec", self.ns[where], "sh", "-c",
                       f"echo {on} > /sys/class/net/{dev}/threaded"])

        before = kthreads()
        threaded(1)
        new = kthreads() - before
        if not new:
            threaded(0)
            raise RigError(f"{where}/{dev}: no napi/{dev}-* kthread after threaded=1")
        for pid in new:
            os.sched_setaffinity(pid, {cpu})
        return lambda: threaded(0)
