# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
IPv4 through the box: brouterd routing and NATing IPv4 in the kernel
(today's path, ipv4.fast-path off) against the IPv4 fast path, for plain
NAT (nftables masquerade), MAP-E and DS-Lite, on the same rig.

    LAN host 192.168.50.10 -- lan0 192.168.50.1  [dut]  wan0 -- WAN host
                                                        NAT: 198.51.100.2/24, WAN host 198.51.100.1
                                                        4in6: the WAN host is the BR/AFTR's router

The WAN host stands for the Internet host (203.0.113.1, UDP port 9)
and, for MAP-E and DS-Lite, for the BR/AFTR too: it receives the 4in6
frames the box sends and sends the 4in6 replies. The sink counts UDP
to or from port 9 however it is wrapped. Replies go to the port NAT
chose for each flow: the driver reads conntrack after the LAN's first
packets and fills the generator's table ("gen_ports").

Keys of these devices' rates start with "ip4/"; the ratios and targets
that compare them are this module's (targets4()).
"""
import json
import os
import re
import socket
import struct

import rig_bpf
import rig_dut
import rig_report as rep
import rig_traffic as tr
from rig_netns import MAC, RigError

LAN4, RTR_LAN4 = "192.168.50.10", "192.168.50.1"
WAN4, WAN_GW = "198.51.100.2", "198.51.100.1"   # NAT: the WAN host as gateway
INET4 = "203.0.113.1"            # the Internet host (and 203.0.113.2.., "new")
BR6, B4 = "2001:db8:ffff::1", "2001:db8:12:3400::b4"
GW6 = "fe80::1"                  # the WAN host, as the box's IPv6 next hop
NEW_FLOWS = 400000               # new connections: a new flow every frame
NEW_CT_TIMEOUT = 1               # so a flow is new again when the cycle ends

NAT_RULES = """\
table ip bench_nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan0" masquerade
	}
}
"""
# PSID length 0 (a whole address): room for every flow the rig makes
MAPE = f"""\
tunnel = {{
  mode = "map-e";
  map-e = {{ rule-ipv6 = "2001:db8::/40"; rule-ipv4 = "192.0.2.0/24"; ea-len = 8;
            psid-offset = 6; br = "{BR6}"; prefix = "2001:db8:12:3400::/56"; }};
}};
"""
DSLITE = f"""\
tunnel = {{
  mode = "ds-lite";
  ds-lite = {{ aftr = "{BR6}"; local = "{B4}"; }};
}};
"""
OFF = 'ipv4 = { fast-path = false; };\n'
QUIET = 'log = { drops = false; };\n'


def key(size, flows, direction, mode="inline"):
    return "ip4/" + rep.traffic_key(size, flows, direction, mode)


# ---------------------------------------------------------------- frames

def _udp4(src, dst, sport, dport, size):
    """IPv4/UDP (UDP checksum 0), the packet of a @size-byte frame."""
    return tr.ip4_udp(MAC["lan"], MAC["lan0"], size, src=src, dst=dst, sport=sport,
                      dport=dport)[tr.ETH_HLEN:]


class Flow4:
    """rig_traffic.Flow for IPv4 through device @kind ("nat", "map-e",
    "ds-lite"): frames, where they are sent from, the generator's config.
    "new" is LAN->WAN with every frame a flow of its own."""

    def __init__(self, kind, ce, direction, size, nflows, ref=False, nat_table=True):
        self.direction, self.size, self.nflows = direction, size, nflows
        out = direction in ("lan2wan", "new")
        src, dst = ("lan", "wan") if out else ("wan", "lan")
        sfx = "_ref" if ref else ""
        self.where, self.ifindex_key = src, src + sfx
        # the box's port (its own MAC: routed); the other host's on the ref path
        smac = MAC[src + sfx]
        dmac = MAC[dst + sfx] if ref else MAC["lan0" if out else "wan0"]
        self.l3off, self.table = tr.ETH_HLEN, False
        if out:
            self.frame = _eth(smac, dmac, 0x0800) + _udp4(LAN4, INET4, tr.LAN_PORT_BASE,
                                                          tr.BENCH_PORT, size)
        elif kind == "nat":
            self.table = nat_table
            self.frame = _eth(smac, dmac, 0x0800) + _udp4(INET4, WAN4, tr.BENCH_PORT,
                                                          tr.LAN_PORT_BASE, size)
        else:
            # the BR/AFTR's reply: a @size-byte IPv4 frame's packet, in 4in6
            self.table = kind == "map-e" and nat_table
            inner = _udp4(INET4, ce["ce_ipv4"] if kind == "map-e" else LAN4, tr.BENCH_PORT,
                          tr.LAN_PORT_BASE, size)
            self.frame = tr.ip6_frame(smac, dmac, BR6, ce["local"], 4, inner)
            self.l3off = tr.ETH_HLEN + tr.IP6_HLEN
        self.vary = (tr.VARY_SRC if out else tr.VARY_DST) if nflows > 1 else tr.VARY_NONE
        # past 32768 flows LAN->WAN, the remote address moves on
        self.addr_base = struct.unpack("!I", socket.inet_aton(INET4))[0]

    def cfg(self, ifindex):
        """struct bench_gen_cfg (tests/bench/bench.h)."""
        return struct.pack("<IIIHHIBBH", ifindex, max(self.nflows, 1), self.vary,
                           tr.LAN_PORT_BASE, self.l3off, self.addr_base, 1,
                           int(self.table), self.l3off + 28)

    def hdr(self):
        """struct bench_hdr: the headers the generator puts back."""
        h = self.frame[:self.l3off + 28]
        return h + bytes(96 - len(h))


def _eth(src, dst, proto):
    return bytes.fromhex(dst.replace(":", "")) + bytes.fromhex(src.replace(":", "")) + \
        struct.pack("!H", proto)


# ---------------------------------------------------------------- the box

def _net_up(rig, kind):
    """Addresses, routes, neighbours (static: no ARP/ND in the way) and
    NAT of the box for @kind."""
    run = lambda *cmd: rig.run("dut", list(cmd))  # noqa: E731
    rig.sysctl("dut", "net.ipv4.ip_forward=1", "net.netfilter.nf_conntrack_max=1048576")
    run("ip", "addr", "add", f"{RTR_LAN4}/24", "dev", "lan0")
    run("ip", "neigh", "replace", LAN4, "lladdr", MAC["lan"], "dev", "lan0", "nud",
        "permanent")
    if kind == "nat":
        run("ip", "addr", "add", f"{WAN4}/24", "dev", "wan0")
        run("ip", "route", "add", "default", "via", WAN_GW, "dev", "wan0")
        run("ip", "neigh", "replace", WAN_GW, "lladdr", MAC["wan"], "dev", "wan0", "nud",
            "permanent")
        rig.run("dut", ["nft", "-f", "-"], input=NAT_RULES)
    else:
        run("ip", "-6", "route", "add", "2001:db8:ffff::/48", "via", GW6, "dev", "wan0")
        run("ip", "-6", "neigh", "replace", GW6, "lladdr", MAC["wan"], "dev", "wan0",
            "nud", "permanent")


def _net_down(rig):
    for cmd in (["nft", "delete", "table", "ip", "bench_nat"],
                ["ip", "-4", "addr", "flush", "dev", "lan0"],
                ["ip", "-4", "addr", "flush", "dev", "wan0"],
                ["ip", "-4", "route", "flush", "table", "main"],
                ["ip", "-6", "route", "del", "2001:db8:ffff::/48"],
                ["ip", "neigh", "flush", "nud", "permanent"],
                ["conntrack", "-F"]):
        rig.run("dut", cmd, check=False)
    rig.sysctl("dut", "net.netfilter.nf_conntrack_udp_timeout=30")


def _tunnel(rig, h):
    """What brouterd derived: CE/B4 addresses ("tun_out" via brouterctl)."""
    p = rig.run(None, [os.path.join(h.build, "brouterctl"), "-p", h.pin_dir, "tunnel", "--json"])
    out = json.loads(p.stdout)["tun_out"]
    if not out:
        raise RigError("brouterd set no tunnel up")
    return out[0]


def nat_ports(rig, nflows):
    """Fill the generator's table with the port NAT gave each LAN flow
    (conntrack's reply tuple): flow i is LAN port LAN_PORT_BASE + i.
    Returns whether NAT kept every port: the generator then needs no
    table (a lookup per frame that the 10,000-flow points would pay)."""
    p = rig.run("dut", ["conntrack", "-L", "-p", "udp", "--dport", str(tr.BENCH_PORT)],
                check=False, timeout=60)
    ports = {i: tr.LAN_PORT_BASE + i for i in range(nflows)}
    for m in re.finditer(r"sport=(\d+) dport=\d+ .*?sport=\d+ dport=(\d+)", p.stdout):
        i = int(m.group(1)) - tr.LAN_PORT_BASE
        if i in ports:
            ports[i] = int(m.group(2))
    for i, port in ports.items():
        rig_bpf.map_update(rig.fds["gen_ports"], struct.pack("<I", i), struct.pack("!H", port))
    return all(port == tr.LAN_PORT_BASE + i for i, port in ports.items())



class Dut4(rig_dut.Dut):
    """brouterd routing IPv4 of @kind, fast path on or off; or the
    brouterd of an earlier build (@base: its build directory), which
    routes IPv4 the way it did then."""

    def __init__(self, kind, fast_path, base=None):
        key = f"ip4-{kind}" + ("-base" if base else "" if fast_path else "-kernel")
        label = f"IPv4 {kind}, " + (f"brouterd of {base}" if base else "XDP fast path"
                                    if fast_path else "kernel path (ipv4.fast-path off)")
        conf = (QUIET + ("" if fast_path or base else OFF) +
                {"nat": "", "map-e": MAPE, "ds-lite": DSLITE}[kind])
        super().__init__(key, label, self._start, self._stop, stats=rig_dut.brouterd_stats)
        self.kind, self.fast_path, self.conf = kind, fast_path and not base, conf
        self.build = base or rig_dut.BUILD
        self.ce = None
        self.ipv4 = True
        self.nat_table = True

    def _start(self, rig):
        _net_up(rig, self.kind)
        try:
            h = rig_dut.brouterd_start(self.conf, self.build)(rig)
        except Exception:
            _net_down(rig)
            raise
        self.ce = _tunnel(rig, h) if self.kind != "nat" else {}
        return h

    def _stop(self, rig, h):
        try:
            if h:
                rig_dut.brouterd_stop(rig, h)
        finally:
            _net_down(rig)

    def points(self, plan):
        return plan.ipv4

    def paired_points(self, plan):
        return plan.ipv4_paired if self.fast_path else ()

    def key_of(self, size, flows, direction, mode="inline"):
        return key(size, flows, direction, mode)

    def flow(self, direction, size, flows, ref=False):
        return Flow4(self.kind, self.ce, direction, size, flows, ref=ref,
                     nat_table=self.nat_table)

    def prepare(self, rig, plan, size, flows, direction):
        """Flows established both ways, as the kernel leaves them (and the
        fast path has taken over); or, for "new", every frame a new one."""
        udp = NEW_CT_TIMEOUT if direction == "new" else 30
        rig.sysctl("dut", f"net.netfilter.nf_conntrack_udp_timeout={udp}")
        if direction == "new":
            rig.run("dut", ["conntrack", "-F"], check=False)
            return
        for d in ("lan2wan", "wan2lan", "lan2wan", "wan2lan"):
            tr.prime(rig, self.flow(d, size, flows), plan.prime, 2 * flows)
            if d == "lan2wan" and self.kind != "ds-lite":
                self.nat_table = not nat_ports(rig, flows)


KINDS = ("nat", "map-e", "ds-lite")
DUTS = [Dut4(k, fp) for k in KINDS for fp in (False, True)]


def base_duts(base):
    """The earlier build's devices (`make bench BASE=DIR`: rig_dut.BASE_BUILD), if any."""
    return [Dut4(k, False, base) for k in KINDS] if base else []


# ---------------------------------------------------------------- results

def _mpps(results, dkey, tkey, what="median"):
    """A point's rate: the median of its rounds, or their best ("max")."""
    r = results["duts"].get(dkey, {}).get("rates", {}).get(tkey)
    return r["mpps"][what] if r and r["mpps"][what] else None


def _ratio(a, b):
    return a / b if a and b else None


def _dut_ns(results, dkey, tkey):
    """A point's ns/frame in the device alone: the median rate's time less
    the rig's own (generator and sink, calibration), bench.finish_traffic."""
    r = results["duts"].get(dkey, {}).get("rates", {}).get(tkey)
    ns = r.get("dut_ns_per_frame") if r else None
    return ns if ns and ns > 0 else None  # at or under the rig's noise: unknown


def _ref_of(results, kind):
    """(device key, name) of today's kernel path for @kind: the earlier
    build's if it was measured, else this build's with the fast path off."""
    kp = f"ip4-{kind}-base"
    if kp in results["duts"]:
        return kp, "earlier build"
    return f"ip4-{kind}-kernel", "kernel path"


def _worst(vals):
    vals = [v for v in vals if v is not None]
    return min(vals) if vals else None


ESTABLISHED = [key(64, f, d) for f in (1, 10000) for d in ("lan2wan", "wan2lan")]


def targets4(results):
    """The IPv4 fast path's targets, per kind: ≥ 5× the kernel path and
    ≥ 60 % of the bare redirect (paired) at every established 64-byte
    point; new connections not slower than the kernel path alone (within
    5 %); 10,000 flows within 25 % of one. Rates are compared best round
    to best round: this host's noise only ever slows a window down. The
    5× is also read in the device's own ns/frame (medians less the rig's
    calibrated time), which the rig's fixed cost does not pull towards 1."""
    out = {}
    for kind in KINDS:
        fp = f"ip4-{kind}"
        kp, ref = _ref_of(results, kind)
        paired = results["duts"].get(fp, {}).get("paired", {})
        vals = {
            "vs_kernel": _worst(_ratio(_mpps(results, fp, t, "max"),
                                       _mpps(results, kp, t, "max")) for t in ESTABLISHED),
            "vs_kernel_dut": _worst(_ratio(_dut_ns(results, kp, t), _dut_ns(results, fp, t))
                                    for t in ESTABLISHED),
            "vs_redirect": _worst(p["best"] for t, p in paired.items() if t in ESTABLISHED),
            "new_conn": _ratio(_mpps(results, fp, key(64, NEW_FLOWS, "new"), "max"),
                               _mpps(results, kp, key(64, NEW_FLOWS, "new"), "max")),
            "10k_slowdown": _slowdown(results, fp),
        }
        for name, what, limit, how in (
                ("vs_kernel", f"fast path ÷ {ref}, 64 B, established, best", 5.0, "min"),
                ("vs_kernel_dut", f"fast path ÷ {ref}, 64 B, established, device's own ns",
                 5.0, "min"),
                ("vs_redirect", "fast path ÷ bare XDP redirect, 64 B, paired", 0.60, "min"),
                ("new_conn", f"new connections/s, fast path ÷ {ref}, best", 0.95, "min"),
                ("10k_slowdown", "10,000 flows slower than 1", 0.25, "max")):
            v = vals[name]
            met = None if v is None else (v >= limit if how == "min" else v <= limit)
            out[f"ip4_{kind}_{name}"] = {"what": f"IPv4 {kind}: {what}", "value": v,
                                         "limit": limit, "kind": how, "met": met}
    return out


def _best(results, dkey, tkey):
    """A point's best paired window (Mpps), else its median."""
    p = results["duts"].get(dkey, {}).get("paired", {}).get(tkey)
    if p and p.get("pairs"):
        return max(x["dut"] for x in p["pairs"]) / 1e6
    return _mpps(results, dkey, tkey)


def _slowdown(results, fp):
    """How much slower 10,000 flows go than one, the worse direction:
    best window against best window, as the scaling figures compare."""
    worst = None
    for d in ("lan2wan", "wan2lan"):
        one, many = _best(results, fp, key(64, 1, d)), _best(results, fp, key(64, 10000, d))
        if one and many:
            worst = max(worst or 0.0, 1 - many / one)
    return worst


def tables(results):
    """The IPv4 devices' rates, fast path ÷ kernel, and paired ratios."""
    duts = {k: d for k, d in results["duts"].items() if d.get("ipv4")}
    if not duts:
        return ""
    rows = []
    for d in duts.values():
        rows += [t for t in d["rates"] if t not in rows]
    short = {k: k[4:] for k in duts}
    out = [rep.table("IPv4 through the box, Mpps (median ±half-range); "
                     "4in6 replies are the 64-byte IPv4 frame + 40",
                     [short[k] for k in duts],
                     [(t[4:], [rep.fmt_rate(d["rates"].get(t, {}).get("mpps"))
                               for d in duts.values()]) for t in rows], width=16)]
    out.append("")
    out.append(rep.table("IPv4: fast path ÷ kernel path (ratio of medians)", list(KINDS),
                         [(t[4:], [rep.fmt_num(_ratio(_mpps(results, f"ip4-{k}", t),
                                                      _mpps(results, f"ip4-{k}-kernel", t)),
                                               "{:.2f}x") for k in KINDS]) for t in rows],
                         width=12))
    out.append("")
    refs = {k: _ref_of(results, k) for k in KINDS}
    out.append(rep.table("IPv4: fast path ÷ " + "/".join(sorted({r[1] for r in refs.values()})) +
                         ", device's own ns/frame (the rig's generator and sink taken off)",
                         list(KINDS),
                         [(t[4:], [rep.fmt_num(_ratio(_dut_ns(results, refs[k][0], t),
                                                      _dut_ns(results, f"ip4-{k}", t)),
                                               "{:.2f}x") for k in KINDS])
                          for t in rows if t in ESTABLISHED], width=12))
    pts = [t for t in ESTABLISHED if any(t in duts.get(f"ip4-{k}", {}).get("paired", {})
                                         for k in KINDS)]
    if pts:
        out.append("")
        out.append(rep.table("IPv4 fast path paired with the bare redirect: best ÷ best "
                             "(pairs' own ratio)", list(KINDS),
                             [(t[4:], [_paired_cell(duts.get(f"ip4-{k}", {}), t)
                                       for k in KINDS]) for t in pts], width=20))
    return "\n".join(out)


def _paired_cell(d, t):
    p = d.get("paired", {}).get(t)
    return f"{p['best']:.2f} ({rep.fmt_rate(p['ratio'])})" if p and p["best"] else "-"
