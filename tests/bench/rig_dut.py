# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
The devices under test, one table. Each is set up on the same two ports
(lan0, wan0 in ns <P>dut), measured, and taken down before the next.

A Dut has:
  key, label    JSON key and what the table prints
  start(rig)    set it up; returns a handle passed to stop()
  stop(rig, h)  take it down (also called after a failure)
  brouter       counted as "brouter" in the ratios
  costs         BPF_PROG_TEST_RUN paths for ns/packet (rig_cost.PATHS keys)
  traffic       measure frame rates through it (False: ns/packet only)
  iperf         include in the informational TCP figure
  before_wan2lan  traffic to send before measuring WAN->LAN (stateful
                devices: the LAN->WAN flows the replies belong to)

To add a device (e.g. brouterd with 1M flows, or nftables flowtables as
another reference) write its start/stop and add a row to DUTS; the
driver, the ratios and the JSON pick it up.
"""
import json
import os

import rig_cost
import rig_report as rep
import rig_traffic as tr
from rig_netns import (BPFFS, BUILD, V6_PREFIX, RigError, kill_group,
                       tc_egress_prog_id, xdp_prog_id)

BROUTERD = os.path.join(BUILD, "brouterd")

# ---------------------------------------------------------------- brouterd

FW_OPEN = """\
# bridge only: no firewall state, every IPv6 frame crosses
firewall = { mode = "open"; };
log = { drops = false; };
"""

FW_STATEFUL = f"""\
# RFC 6092 stateful firewall; the rig's LAN host sends from {V6_PREFIX}
firewall = {{
  mode = "stateful";
  lan-prefixes = [ "{V6_PREFIX}" ];
%s}};
log = {{ drops = false; }};
"""


# MAP-E (rig_cost.MAPE_*): the prefix is configured, so no RA is needed
MAPE = f"""\
tunnel = {{
  mode = "map-e";
  map-e = {{ rule-ipv6 = "2001:db8::/40"; rule-ipv4 = "192.0.2.0/24"; ea-len = 16;
            psid-offset = 6; br = "{rig_cost.MAPE_BR}";
            prefix = "2001:db8:12:3400::/56"; }};
}};
"""


def pinholes(n):
    """n pinholes to distinct hosts in the LAN prefix, none of which the
    benchmark traffic hits: what established flows pay for a big policy."""
    rules = ",\n".join(
        f'    {{ dst = "2001:db8:1::1:{i >> 8:x}:{i & 0xff:x}"; proto = "tcp"; ports = [ 22 ]; }}'
        for i in range(n))
    return f"  pinholes = (\n{rules}\n  );\n"


# The same with XDP attached by a BPF link, not through libxdp's
# dispatcher: the pair measures what the dispatcher costs.
LINK = 'xdp-attach = "link";\n'


class BrouterdHandle:
    def __init__(self, proc, log_path, pin_dir, build):
        self.proc, self.log_path, self.pin_dir = proc, log_path, pin_dir
        self.build = build

    def xdp_attach(self):
        """How brouterd attached XDP, as its log says: "dispatcher" (libxdp)
        or "link" (asked for, or libxdp's dispatcher unavailable)."""
        with open(self.log_path) as f:
            return "dispatcher" if "through libxdp's dispatcher" in f.read() \
                else "link"


def brouterd_start(config, build=BUILD):
    """@build: the build directory whose brouterd runs (another
    worktree's, to compare two versions in one run: BASE_BUILD)."""
    brouterd = os.path.join(build, "brouterd")

    def start(rig):
        n = len(rig.procs)
        conf = rig.file(f"brouterd-{n}.conf", config)
        run = rig.run(None, [brouterd, "--check-config", "-c", conf], check=False)
        if run.returncode != 0:
            raise RigError(f"brouterd refuses the config:\n{run.stdout}{run.stderr}")
        pin_dir = f"{BPFFS}/{rig.prefix}brouterd-{n}"
        log_path = os.path.join(rig.tmp, f"brouterd-{n}.log")
        with open(log_path, "w") as lf:
            proc = rig.popen("dut", [brouterd, "-c", conf, "--pin-dir", pin_dir,
                                     "lan0", "wan0"], stdout=lf, stderr=lf)
        rig.wait_file(log_path, r"\bready\b", proc)
        return BrouterdHandle(proc, log_path, pin_dir, build)
    return start


def brouterd_stop(rig, h):
    code = kill_group(h.proc, timeout=15)
    if code != 0:
        with open(h.log_path) as f:
            raise RigError(f"brouterd exited {code}:\n{f.read()}")


def brouterd_stats(rig, h):
    """Non-zero counters (brouterctl stats --json), for the JSON."""
    ctl = os.path.join(h.build, "brouterctl")  # its own counter list
    p = rig.run(None, [ctl, "-p", h.pin_dir, "stats", "--json"], check=False)
    try:
        stats = json.loads(p.stdout or "{}")
    except ValueError:
        return {"error": p.stderr.strip()}
    out = {port: {k: v["packets"] for k, v in ctrs.items() if v.get("packets")}
           for port, ctrs in stats.items()}
    out["xdp_attach"] = h.xdp_attach()
    return out


# ---------------------------------------------------------------- Linux bridge

def bridge_start(netfilter):
    """Linux bridge of lan0 and wan0; with netfilter, the classic recipe:
    br_netfilter hands bridged IPv6 to ip6tables, stateful FORWARD."""
    def start(rig):
        br_nf = "1" if netfilter else "0"
        if not os.path.isdir("/proc/sys/net/bridge"):
            rig.run(None, ["modprobe", "br_netfilter"])  # built in on some kernels
        # per netns: the plain bridge must not go through netfilter at all
        rig.sysctl("dut", f"net.bridge.bridge-nf-call-ip6tables={br_nf}",
                   "net.bridge.bridge-nf-call-iptables=0",
                   "net.bridge.bridge-nf-call-arptables=0")
        rig.run("dut", ["ip", "link", "add", "br0", "type", "bridge", "stp_state", "0",
                        "forward_delay", "0", "mcast_snooping", "0"])
        for port in ("lan0", "wan0"):
            rig.run("dut", ["ip", "link", "set", port, "master", "br0"])
        rig.run("dut", ["ip", "link", "set", "br0", "up"])
        if netfilter:
            ipt = ip6tables_binary(rig)
            for rule in (["-P", "FORWARD", "DROP"],
                         ["-A", "FORWARD", "-m", "conntrack", "--ctstate",
                          "ESTABLISHED,RELATED", "-j", "ACCEPT"],
                         ["-A", "FORWARD", "-m", "physdev", "--physdev-in", "lan0",
                          "-j", "ACCEPT"]):
                rig.run("dut", [ipt, *rule])
            return {"ip6tables": ipt}
        return {}
    return start


def ip6tables_binary(rig):
    """ip6tables if its backend has the physdev and conntrack matches in a
    netns (the nft backend does on Debian 12), else ip6tables-legacy."""
    for ipt in ("ip6tables", "ip6tables-legacy"):
        p = rig.run("dut", [ipt, "-m", "physdev", "-h"], check=False)
        q = rig.run("dut", [ipt, "-m", "conntrack", "-h"], check=False)
        if p.returncode == 0 and q.returncode == 0:
            return ipt
    raise RigError("no ip6tables with the physdev and conntrack matches")


def bridge_stop(rig, h):
    rig.run("dut", ["ip", "link", "del", "br0"], check=False)
    if h and "ip6tables" in h:
        ipt = h["ip6tables"]
        rig.run("dut", [ipt, "-F", "FORWARD"], check=False)
        rig.run("dut", [ipt, "-P", "FORWARD", "ACCEPT"], check=False)
        rig.run("dut", ["nft", "flush", "ruleset"], check=False)
    rig.sysctl("dut", "net.bridge.bridge-nf-call-ip6tables=0")


# ---------------------------------------------------------------- bare XDP redirect

def redirect_start(rig):
    rig.redirect_between("lan0", "wan0")
    return {}


def redirect_stop(rig, _h):
    for port in ("lan0", "wan0"):
        rig.xdp_detach("dut", port)


# ---------------------------------------------------------------- the table

class Dut:
    def __init__(self, key, label, start, stop, brouter=False, costs=(),
                 iperf=False, before_wan2lan=True, stats=None, traffic=True):
        self.key, self.label = key, label
        self.start, self.stop = start, stop
        self.brouter, self.costs, self.iperf = brouter, costs, iperf
        self.traffic = traffic
        self.before_wan2lan = before_wan2lan
        self.stats = stats

    # What is measured through the device and how (IPv6 unless overridden).
    ipv4 = False

    def points(self, plan):
        """(size, flows, direction, mode) of the rates."""
        return plan.traffic

    def paired_points(self, plan):
        """(size, flows, direction) paired with the reference redirect."""
        return plan.paired if self.brouter or self.key == "xdp-redirect" else ()

    def key_of(self, size, flows, direction, mode="inline"):
        return rep.traffic_key(size, flows, direction, mode)

    def flow(self, direction, size, flows, ref=False):
        return tr.Flow(direction, size, flows, ref=ref)

    def prepare(self, rig, plan, size, flows, direction):
        """Before a point: replies need the flows LAN->WAN opened."""
        if direction == "wan2lan" and self.before_wan2lan:
            tr.prime(rig, tr.Flow("lan2wan", size, flows), plan.prime, 2 * flows)

    def prog_ids(self, rig):
        """The programs for ns/packet: {"xdp": XDP on lan0, "tc": tc egress
        on wan0}; None for one not attached."""
        return {"xdp": xdp_prog_id(rig.ns["dut"], "lan0"),
                "tc": tc_egress_prog_id(rig.ns["dut"], "wan0")}


BROUTER_PATHS = ("bridged_lan2wan", "bridged_wan2lan", "multicast", "own_mac", "ipv4")
FIREWALL_PATHS = ("new_flow_lan2wan", "inbound_drop")
MAPE_PATHS = ("mape_decap", "mape_encap")

DUTS = [
    Dut("brouterd", "brouterd (firewall open: bridge only)",
        brouterd_start(FW_OPEN), brouterd_stop, brouter=True,
        costs=BROUTER_PATHS, iperf=True, stats=brouterd_stats),
    Dut("brouterd-stateful", "brouterd stateful, established flows",
        brouterd_start(FW_STATEFUL % ""), brouterd_stop, brouter=True,
        costs=BROUTER_PATHS + FIREWALL_PATHS, iperf=True, stats=brouterd_stats),
    Dut("brouterd-stateful-link", "brouterd stateful, XDP by a BPF link (no dispatcher)",
        brouterd_start(FW_STATEFUL % "" + LINK), brouterd_stop, brouter=True,
        costs=BROUTER_PATHS, stats=brouterd_stats),
    Dut("brouterd-10k-pinholes", "brouterd stateful + 10,000 pinholes",
        brouterd_start(FW_STATEFUL % pinholes(10000)), brouterd_stop, brouter=True,
        costs=BROUTER_PATHS + FIREWALL_PATHS, stats=brouterd_stats),
    # ns/packet only: the rig's traffic is IPv6, which a tunnel leaves alone
    Dut("brouterd-map-e", "brouterd stateful + MAP-E tunnel (ns/packet only)",
        brouterd_start(FW_STATEFUL % "" + MAPE), brouterd_stop, costs=MAPE_PATHS,
        stats=brouterd_stats, traffic=False),
    Dut("bridge-ip6tables", "Linux bridge + br_netfilter + stateful ip6tables",
        bridge_start(netfilter=True), bridge_stop, iperf=True),
    Dut("bridge", "Linux bridge (plain)", bridge_start(netfilter=False), bridge_stop,
        iperf=True),
    Dut("xdp-redirect", "bare XDP devmap redirect (ceiling)", redirect_start,
        redirect_stop, costs=("redirect",)),
]

# `make bench BASE=DIR`: the stateful brouterd of another build directory
# (say, main's, in a worktree of its own) measured in the same run, in
# turn with the others, for before/after ratios on the same machine.
BASE_BUILD = os.environ.get("BROUTER_BENCH_BASE")
if BASE_BUILD:
    DUTS.insert(2, Dut("brouterd-stateful-base",
                       f"brouterd stateful, established flows, built in {BASE_BUILD}",
                       brouterd_start(FW_STATEFUL % "", BASE_BUILD), brouterd_stop,
                       brouter=True, costs=BROUTER_PATHS + FIREWALL_PATHS,
                       stats=brouterd_stats))

# The references the ratios divide by.
REFERENCES = ("bridge-ip6tables", "bridge", "xdp-redirect")


def find(key):
    for d in DUTS:
        if d.key == key:
            return d
    raise KeyError(key)

