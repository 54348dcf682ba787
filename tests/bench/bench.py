#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
`make bench`: frames per second through brouterd and the references it
replaces, on one veth rig, in one run; ns/packet of brouter's program
paths; an informational TCP figure. `make bench QUICK=1` checks the rig
works in well under a minute (few, short runs: the numbers mean little).

    tests/bench/bench.py [--quick] [--out FILE] [--dut KEY ...]

Results: tables on stdout, JSON in build/bench/results.json (--out).
Progress and warnings go to stderr. Exit 0 when every device under test
was measured, 1 otherwise (the JSON says which failed and why).
"""
import argparse
import atexit
import datetime
import json
import os
import signal
import sys
import time

import rig_cost
import rig_dut
import rig_ipv4
import rig_report as rep
import rig_traffic as tr
from rig_netns import BENCH_BUILD, Rig, RigError, log


class Plan:
    """What one run measures. traffic: (size, flows, direction, mode)."""

    def __init__(self, name, traffic, calibration, reps, warmup, window, prime,
                 cost_repeat, cost_reps, iperf_s, scaling, paired=(), pairs=0,
                 pair_window=0.2, ipv4=(), ipv4_paired=()):
        self.name, self.traffic, self.calibration = name, traffic, calibration
        # the same for the IPv4 devices (rig_ipv4.py); direction "new":
        # every frame a new connection
        self.ipv4, self.ipv4_paired = ipv4, ipv4_paired
        self.reps, self.warmup, self.window, self.prime = reps, warmup, window, prime
        self.cost_repeat, self.cost_reps = cost_repeat, cost_reps
        self.iperf_s, self.scaling = iperf_s, scaling
        # (size, flows, direction): brouter and the reference redirect in
        # turn, `pairs` pairs of pair_window seconds each per round
        self.paired, self.pairs, self.pair_window = paired, pairs, pair_window


MANY_FLOWS = 10000
FULL = Plan(
    "full",
    traffic=[(size, flows, d, "inline") for size in (64, 1500)
             for flows in (1, MANY_FLOWS) for d in ("lan2wan", "wan2lan")] +
    [(64, 1, "lan2wan", "2cpu"), (64, 1, "lan2wan", "split")],
    calibration=[(size, flows, "inline") for size in (64, 1500)
                 for flows in (1, MANY_FLOWS)] + [(64, 1, "2cpu"), (64, 1, "split")],
    reps=3, warmup=0.25, window=1.0, prime=0.3,
    cost_repeat=1000000, cost_reps=1, iperf_s=3, scaling=True,
    paired=[(64, flows, d) for flows in (1, MANY_FLOWS) for d in ("lan2wan", "wan2lan")],
    pairs=6, pair_window=0.12,
    ipv4=[(64, flows, d, "inline") for flows in (1, MANY_FLOWS)
          for d in ("lan2wan", "wan2lan")] + [(64, rig_ipv4.NEW_FLOWS, "new", "inline")],
    ipv4_paired=[(64, flows, d) for flows in (1, MANY_FLOWS) for d in ("lan2wan", "wan2lan")])
QUICK = Plan(
    "quick",
    traffic=[(64, 1, "lan2wan", "inline"), (64, 1000, "wan2lan", "inline")],
    calibration=[(64, 1, "inline"), (64, 1000, "inline")],
    reps=1, warmup=0.1, window=0.3, prime=0.1,
    cost_repeat=100000, cost_reps=1, iperf_s=1, scaling=True,
    paired=[(64, 1, "lan2wan")], pairs=1, pair_window=0.1,
    ipv4=[(64, 1, "lan2wan", "inline"), (64, 1000, "wan2lan", "inline")],
    ipv4_paired=[(64, 1, "lan2wan")])

# Rig modes (see README "Performance"): where the generator and the
# device under test's receive processing run.
MODES = {
    "inline": "1 generator thread on CPU 0; DUT and sink NAPI run inline "
              "in CPU 0's softirq after each 64-frame batch",
    "2cpu": "generator threads on CPU 0 and CPU 1 (veth with one rx queue: "
            "both feed one ring, its NAPI runs on either CPU)",
    "split": "generator on CPU 0; the receiving veth's NAPI threaded "
             "(napi/<dev> kthread) and pinned to CPU 1, sink inline there",
}
GEN_CPU, DRIVER_CPU = 0, 1

NOTES = [
    "Frame size = bytes XDP sees (Ethernet header to end of payload, no FCS).",
    "Rates are what the sink counted: frames that crossed the device under "
    "test. In the default (inline) mode the generator, the device and the "
    "sink share CPU 0, so a rate is 1 / (generator + device + sink) time per "
    "frame; 'DUT ns/frame' subtracts the generator+sink time measured on a "
    "direct veth (calibration).",
    "TCP (iperf3) is informational: veth hands whole GSO/GRO super-packets "
    "(up to 64 KB) to the Linux bridge, while an XDP program sees one frame "
    "at a time (XDP runs before GRO), so TCP throughput here measures the "
    "kernel stack and segmentation, not per-packet forwarding.",
]


def modes_cpus(mode):
    return (GEN_CPU, DRIVER_CPU) if mode == "2cpu" else (GEN_CPU,)


class RigMode:
    """Context: set the rig up for a mode around a measurement."""

    def __init__(self, rig, mode, where, dev):
        self.rig, self.mode, self.where, self.dev = rig, mode, where, dev
        self.undo = None

    def __enter__(self):
        if self.mode == "split":
            self.undo = self.rig.napi_threaded(self.where, self.dev, DRIVER_CPU)
        return self

    def __exit__(self, *exc):
        if self.undo:
            self.undo()
        return False


def summarize(runs):
    mpps = rep.summary([r["pps"] / 1e6 for r in runs])
    return {"mpps": mpps,
            "gbps": rep.summary([r["bps"] / 1e9 for r in runs]),
            "offered_mpps": rep.summary([r["offered_pps"] / 1e6 for r in runs]),
            "frames": [r["frames"] for r in runs],
            "ns_per_frame": 1e3 / mpps["median"] if mpps["median"] else None}


def measure_one(rig, plan, flow, mode, where, dev):
    with RigMode(rig, mode, where, dev):
        return tr.measure(rig, flow, plan.warmup, plan.window, modes_cpus(mode))


def run_calibration(rig, plan, raw):
    """Generator straight into the sink over cal0: the rig's own cost.
    One run of each point per round, into raw {key: [runs]}."""
    for size, flows, mode in plan.calibration:
        flow = tr.Flow("lan2wan", size, flows, cal=True)
        key = rep.traffic_key(size, flows, "direct", mode)
        raw.setdefault(key, []).append(measure_one(rig, plan, flow, mode, "wan", "cal0"))


def finish_calibration(plan, raw):
    out = {}
    for size, flows, mode in plan.calibration:
        key = rep.traffic_key(size, flows, "direct", mode)
        out[key] = summarize(raw[key])
        out[key].update(size=size, flows=flows, mode=mode)
        log(f"calibration {key}: {rep.fmt_rate(out[key]['mpps'])} Mpps")
    return out


def calibration_ns(cal, size, flows):
    c = cal.get(rep.traffic_key(size, flows, "direct"))
    return c["ns_per_frame"] if c else None


def run_traffic(rig, dut, plan, raw):
    """One run of every traffic point through dut, into raw {key: [runs]}."""
    for size, flows, direction, mode in dut.points(plan):
        flow = dut.flow(direction, size, flows)
        dut.prepare(rig, plan, size, flows, direction)
        key = dut.key_of(size, flows, direction, mode)
        ingress = "wan0" if direction == "wan2lan" else "lan0"
        r = measure_one(rig, plan, flow, mode, "dut", ingress)
        raw.setdefault(key, []).append(r)
        log(f"{dut.key} {key}: {r['pps'] / 1e6:.2f} Mpps")


def run_paired(rig, dut, plan, raw):
    """Paired ratios: the device's rate and the reference redirect's (the
    rig's second path, set up for its whole life) measured in turn in
    short windows, pair after pair, in every round. What else the machine
    does only ever slows a window down, and within a second it comes and
    goes (no steal time shows in /proc/stat: the host's caches and memory
    are shared): each side's best window is its rate with the machine to
    itself, and interleaving gives both sides the same chances at one.
    The xdp-redirect device is paired too: the same program on both
    paths, so its ratio shows how alike the paths are.
    Into raw {key: [{"dut", "ref", "ratio"}]}."""
    for size, flows, direction in dut.paired_points(plan):
        dut.prepare(rig, plan, size, flows, direction)
        key = dut.key_of(size, flows, direction)
        # both paths are warm after the first pair: a short warm-up each
        for _ in range(plan.pairs):
            d = tr.measure(rig, dut.flow(direction, size, flows), tr.PAIR_WARMUP,
                           plan.pair_window)["pps"]
            r = tr.measure(rig, dut.flow(direction, size, flows, ref=True),
                           tr.PAIR_WARMUP, plan.pair_window)["pps"]
            raw.setdefault(key, []).append({"dut": d, "ref": r, "ratio": d / r if r else None})
        log(f"{dut.key} {key} paired: " + ", ".join(
            f"{p['ratio']:.2f}" for p in raw[key][-plan.pairs:] if p["ratio"]))


def finish_paired(res, raw):
    """Per point: best ÷ best (the ratio targets use) and the pairs' own
    ratios (median and spread)."""
    out = {}
    for key, pairs in raw.items():
        best_ref = max(p["ref"] for p in pairs)
        out[key] = {"best": max(p["dut"] for p in pairs) / best_ref if best_ref else None,
                    "ratio": rep.summary([p["ratio"] for p in pairs
                                          if p["ratio"] is not None]),
                    "pairs": pairs}
    res["paired"] = out


def finish_traffic(dut, plan, cal, res, raw):
    for size, flows, direction, mode in dut.points(plan):
        key = dut.key_of(size, flows, direction, mode)
        if key not in raw:
            continue
        r = summarize(raw[key])
        r.update(size=size, flows=flows, direction=direction, mode=mode,
                 sink="lan" if direction == "wan2lan" else "wan")
        cal_ns = calibration_ns(cal, size, flows) if mode == "inline" else None
        r["dut_ns_per_frame"] = (r["ns_per_frame"] - cal_ns
                                 if cal_ns and r["ns_per_frame"] else None)
        res["rates"][key] = r


def run_costs(rig, dut, handle, plan, raw):
    progs = dut.prog_ids(rig)
    for kind in {rig_cost.PATHS[k].kind for k in dut.costs}:
        if not progs[kind]:
            raise RigError(f"{dut.key}: no {kind} program for ns/packet")
    paths = rig_cost.run_paths(rig, progs, dut.costs, plan.cost_repeat, plan.cost_reps,
                               counters=lambda: dut.stats(rig, handle))
    for key, p in paths.items():
        if key in raw:
            raw[key]["ns"] += p["ns"]
            if p["verdict"] != p["expect"]:
                raw[key]["verdict"] = p["verdict"]
            for c in ("counted", "counted_expect"):
                if c in p:
                    raw[key][c] += p[c]
        else:
            raw[key] = p


def finish_costs(dut, res, raw):
    for key, p in raw.items():
        p["ns"] = rep.summary(p["ns"])
        p["ok"] = p["verdict"] == p["expect"]
        if not p["ok"]:
            log(f"WARNING {dut.key} {key}: verdict {p['verdict']}, expected {p['expect']}")
        # every measured run must have taken the path (not, say, a plain
        # pass of a frame a previous run changed, or a tun_bad_* drop)
        if "counted" in p and p["counted"] < p["counted_expect"]:
            p["ok"] = False
            log(f"WARNING {dut.key} {key}: {p['counter']} moved {p['counted']}, "
                f"expected {p['counted_expect']}")
    res["costs"] = raw


def run_round(rig, dut, plan, res, raw, last):
    """Set dut up, measure every point once, take it down. The TCP figure
    and the counters come from the last round only."""
    log(f"--- {dut.key}: {dut.label}")
    handle = None
    try:
        handle = dut.start(rig)
        time.sleep(0.2)  # the ports' first ND/MLD frames
        if dut.traffic:
            run_traffic(rig, dut, plan, raw["rates"])
        if dut.paired_points(plan) and plan.pairs:
            run_paired(rig, dut, plan, raw["paired"])
        if dut.costs:
            run_costs(rig, dut, handle, plan, raw["costs"])
        if last and dut.iperf and plan.iperf_s:
            res["tcp_gbps"] = tr.iperf3(rig, plan.iperf_s)
            log(f"{dut.key} TCP: {rep.fmt_num(res['tcp_gbps'])} Gbit/s")
        if last and dut.stats:
            res["stats"] = dut.stats(rig, handle)
    except Exception as e:  # pylint: disable=broad-except
        res["error"] = str(e)
        log(f"ERROR {dut.key}: {e}")
    finally:
        try:
            dut.stop(rig, handle)
        except Exception as e:  # pylint: disable=broad-except
            res["error"] = (res["error"] or "") + f" stop: {e}"
            log(f"ERROR {dut.key} stop: {e}")


def run_all(rig, duts, plan, results):
    """plan.reps rounds; each round measures the rig and then every
    device once, in turn, so that what else the machine is doing spreads
    over all devices alike instead of landing on one (the ratios compare
    devices measured minutes apart otherwise)."""
    cal_raw = {}
    res = {d.key: {"label": d.label, "brouter": d.brouter, "traffic": d.traffic,
                   "ipv4": d.ipv4,
                   "ok": False, "error": None, "rates": {}, "costs": {},
                   "paired": {}, "tcp_gbps": None} for d in duts}
    raw = {d.key: {"rates": {}, "costs": {}, "paired": {}} for d in duts}
    for rnd in range(plan.reps):
        log(f"=== round {rnd + 1} of {plan.reps}")
        run_calibration(rig, plan, cal_raw)
        for dut in duts:
            if res[dut.key]["error"]:
                continue  # failed once: its numbers would be partial
            run_round(rig, dut, plan, res[dut.key], raw[dut.key], rnd == plan.reps - 1)
    results["calibration"] = finish_calibration(plan, cal_raw)
    for dut in duts:
        r = res[dut.key]
        finish_traffic(dut, plan, results["calibration"], r, raw[dut.key]["rates"])
        finish_costs(dut, r, raw[dut.key]["costs"])
        finish_paired(r, raw[dut.key]["paired"])
        r["ok"] = not r["error"]
        results["duts"][dut.key] = r


def ratios(duts, field="mpps"):
    """{brouter key: {reference key: {traffic key: ratio of medians}}}.
    field "mpps": measured rates; "dut": DUT-only time (ref ns / brouter ns)."""
    out = {}
    for b, bres in duts.items():
        if not bres["brouter"]:
            continue
        out[b] = {}
        for ref in rig_dut.REFERENCES:
            rres = duts.get(ref)
            if not rres:
                continue
            out[b][ref] = {}
            for key, r in bres["rates"].items():
                rr = rres["rates"].get(key)
                if not rr:
                    continue
                if field == "mpps":
                    num, den = r["mpps"]["median"], rr["mpps"]["median"]
                else:
                    num, den = rr["dut_ns_per_frame"], r["dut_ns_per_frame"]
                out[b][ref][key] = num / den if num and den and den > 0 else None
    return out


# ---------------------------------------------------------------- output

SHORT = {"brouterd": "brouterd", "brouterd-stateful": "b-stateful",
         "brouterd-stateful-base": "b-st-base",
         "brouterd-10k-pinholes": "b-10kpinh", "brouterd-map-e": "b-map-e",
         "bridge-ip6tables": "br+ip6t",
         "bridge": "bridge", "xdp-redirect": "xdp-redir"}
REF_SHORT = {"bridge-ip6tables": "÷ip6t", "bridge": "÷bridge", "xdp-redirect": "÷redir"}


def short(key):
    return SHORT.get(key, key[:11])


def print_tables(results):
    # the IPv4 devices have tables of their own (rig_ipv4.tables())
    duts = {k: d for k, d in results["duts"].items() if not d.get("ipv4")}
    keys = [k for k, d in duts.items() if d.get("traffic", True)]
    traffic = []
    for d in duts.values():
        for k in d["rates"]:
            if k not in traffic:
                traffic.append(k)
    m = results["machine"]
    out = [f"brouter benchmark ({results['plan']}): {m['cpu']}, {m['cores']} cores, "
           f"Linux {m['kernel']}", ""]
    out.append("Devices: " + "; ".join(f"{short(k)} = {d['label']}" +
                                       ("" if d["ok"] else f" [FAILED: {d['error']}]")
                                       for k, d in duts.items()))
    out.append("")
    out.append(rep.table("Mpps through the device (median ±half-range of "
                         f"{results['reps']} runs)", [short(k) for k in keys],
                         [(t, [rep.fmt_rate(duts[k]["rates"].get(t, {}).get("mpps"))
                               for k in keys]) for t in traffic], width=13))
    out.append("")
    cal = results["calibration"]
    out.append(rep.table("Rig: generator straight into the sink (no device)",
                         ["Mpps", "ns/frame"],
                         [(k, [rep.fmt_rate(c["mpps"]), rep.fmt_num(c["ns_per_frame"], "{:.1f}")])
                          for k, c in cal.items()], width=13))
    out.append("")
    inline = [t for t in traffic if t.count("/") == 2]
    out.append(rep.table("DUT ns/frame: 1e9/rate minus the rig's own ns/frame "
                         "(inline mode)", [short(k) for k in keys],
                         [(t, [rep.fmt_num(duts[k]["rates"].get(t, {}).get("dut_ns_per_frame"),
                                           "{:.1f}") for k in keys]) for t in inline],
                         width=13))
    for field, title in (("ratios", "Ratios of measured Mpps (brouter ÷ reference)"),
                         ("ratios_excl_rig", "Ratios of DUT-only cost (reference ns "
                                             "÷ brouter ns)")):
        rat = results[field]
        cols = [(b, r) for b in rat for r in rat[b]]
        if not cols:
            continue
        out.append("")
        out.append("  ".join(f"[{i + 1}] {short(b)} {REF_SHORT.get(r, r)}"
                             for i, (b, r) in enumerate(cols)))
        out.append(rep.table(title, [f"[{i + 1}]" for i in range(len(cols))],
                             [(t, [rep.fmt_num(rat[b][r].get(t), "{:.2f}x")
                                   for b, r in cols]) for t in traffic
                              if field == "ratios" or t in inline], width=8))
    paired = [(k, d["paired"]) for k, d in duts.items() if d.get("paired")]
    if paired:
        keys = []
        for _, pr in paired:
            keys += [t for t in pr if t not in keys]
        n = max(len(v["pairs"]) for _, pr in paired for v in pr.values())
        out.append("")
        out.append(rep.table("Paired with the reference redirect path, in turn in "
                             f"{n} short windows: best ÷ best (each window's own "
                             "ratio: median ±half-range)",
                             [short(k) for k, _ in paired],
                             [(t, [f"{pr[t]['best']:.2f} ({rep.fmt_rate(pr[t]['ratio'])})"
                                   if t in pr and pr[t]["best"] else "-"
                                   for _, pr in paired]) for t in keys], width=20))
    costs = [(k, d["costs"]) for k, d in duts.items() if d["costs"]]
    if costs:
        paths = []
        for _, c in costs:
            paths += [p for p in c if p not in paths]
        out.append("")
        out.append(rep.table("ns/packet, BPF_PROG_TEST_RUN (median of "
                             f"{results['cost_reps']} x {results['cost_repeat']} "
                             "runs; '!' = unexpected verdict)",
                             [short(k) for k, _ in costs],
                             [(rig_cost.PATHS[p].label[:40],
                               [rep.fmt_num(c[p]["ns"]["median"], "{:.0f}") +
                                ("" if c[p]["ok"] else "!") if p in c else "-"
                                for _, c in costs]) for p in paths],
                             first_width=42, width=12))
    tcp = [(k, d["tcp_gbps"]) for k, d in duts.items() if d["tcp_gbps"] is not None]
    if tcp:
        out.append("")
        out.append(rep.table("TCP, iperf3 LAN host -> WAN host, Gbit/s "
                             "(informational, see note)", [short(k) for k, _ in tcp],
                             [("1 stream", [rep.fmt_num(v) for _, v in tcp])], width=12))
    if results.get("scaling"):
        out.append("")
        out.append(scaling_text(results["scaling"]))
    out.append("")
    out.append(rig_ipv4.tables(results))
    out.append("")
    out.append(targets_text(results["targets"]))
    out.append("")
    out += [f"Note: {n}" for n in NOTES]
    out.append("Modes: " + "; ".join(f"{k} = {v}" for k, v in MODES.items()))
    print("\n".join(out), flush=True)


def scaling_text(scaling):
    lines = ["Scaling: brouterd stateful, 64-byte frames, Mpps (and ns/packet "
             "where measured)", "-" * 72]
    for key, s in scaling.items():
        lines.append(f"{key}: {s['label']}")
        for p in s["points"]:
            if p.get("skipped"):
                lines.append(f"  {p['n']:>9}: skipped ({p['skipped']})")
                continue
            dirs = ", ".join(f"{d} {rep.fmt_rate(p[d])} (best {rep.fmt_num(p[d]['max'])})"
                             for d in ("wan2lan", "lan2wan", "wan2lan_active1k") if d in p)
            costs = ", ".join(f"{k} {c['median']:.0f} ns"
                              for k, c in p.get("costs", {}).items())
            lines.append(f"  {p['n']:>9}: {dirs}" + (f"; {costs}" if costs else ""))
        for k, v in s.items():
            if k.startswith("slowdown_") and v is not None:
                lines.append(f"  {k[len('slowdown_'):]}: {100 * v:.1f} % slower "
                             "(best window against best window)")
    return "\n".join(lines)


# (key, what, limit, "min" or "max"): the targets for this rig
TARGETS = [
    ("stateful_vs_ip6tables", "brouterd stateful ÷ bridge+ip6tables, 64 B", 5.0, "min"),
    ("stateful_vs_redirect", "brouterd stateful ÷ bare XDP redirect, 64 B, paired",
     0.75, "min"),
    ("established_ns", "ns/packet bridged established flow (worse way)", 60.0, "max"),
    ("pinholes_10k_slowdown", "10,000 pinholes slower than 1", 0.10, "max"),
    ("flows_1M_slowdown", "1M flows in the table slower than 1k (1k active)", 0.25, "max"),
    ("flows_1M_all_slowdown", "1M flows all active slower than 1k", 0.25, "max"),
    ("dispatcher_slowdown", "libxdp's dispatcher slower than a link, paired",
     0.05, "max"),
]


def dispatcher_slowdown(duts):
    """brouterd stateful through libxdp's dispatcher against the same with
    a link, each paired with the same reference redirect: 1 - the ratio of
    their paired figures at each 64-byte point, the worst point. None
    unless brouterd-stateful really ran the dispatcher (a kernel that
    refuses freplace programs gets a link in both)."""
    a, b = duts.get("brouterd-stateful", {}), duts.get("brouterd-stateful-link", {})
    if (a.get("stats") or {}).get("xdp_attach") != "dispatcher":
        return None
    worst = [1 - pa["best"] / b["paired"][k]["best"]
             for k, pa in a.get("paired", {}).items()
             if k.startswith("64B/") and pa["best"] and
             (b.get("paired", {}).get(k) or {}).get("best")]
    return max(worst) if worst else None


def targets(results):
    """Each target's measured value (the worst case over the 64-byte
    inline points) and whether it is met; None when not measured."""
    rat = results["ratios"].get("brouterd-stateful", {})

    def worst(ref):
        vals = [v for k, v in rat.get(ref, {}).items()
                if k.startswith("64B/") and k.count("/") == 2 and v is not None]
        return min(vals) if vals else None

    costs = results["duts"].get("brouterd-stateful", {}).get("costs", {})
    est = [costs[k]["ns"]["median"] for k in ("bridged_lan2wan", "bridged_wan2lan")
           if k in costs and costs[k]["ns"]["median"] is not None]
    sc = results.get("scaling") or {}
    paired = [p["best"] for k, p in
              results["duts"].get("brouterd-stateful", {}).get("paired", {}).items()
              if k.startswith("64B/") and p["best"] is not None]
    val = {"stateful_vs_ip6tables": worst("bridge-ip6tables"),
           "stateful_vs_redirect": min(paired) if paired else None,
           "established_ns": max(est) if est else None,
           "pinholes_10k_slowdown": sc.get("pinholes", {}).get("slowdown_10k_vs_1"),
           "flows_1M_slowdown": sc.get("flows", {}).get("slowdown_1M_vs_1k_active1k"),
           "flows_1M_all_slowdown": sc.get("flows", {}).get("slowdown_1M_vs_1k"),
           "dispatcher_slowdown": dispatcher_slowdown(results["duts"])}
    out = {}
    for key, what, limit, kind in TARGETS:
        v = val[key]
        ok = None if v is None else (v >= limit if kind == "min" else v <= limit)
        out[key] = {"what": what, "value": v, "limit": limit, "kind": kind, "met": ok}
    return out


def targets_text(t):
    lines = ["Targets (this rig, one run)", "-" * 27]
    for v in t.values():
        pct = "slower" in v["what"]
        fmt = (lambda x: f"{100 * x:.1f} %") if pct else (lambda x: f"{x:.2f}")
        val = "not measured" if v["value"] is None else fmt(v["value"])
        if v["value"] is None and v["what"].startswith("libxdp"):
            val = "no dispatcher"  # the kernel refuses freplace: link both
        lim = ("≥ " if v["kind"] == "min" else "≤ ") + fmt(v["limit"])
        met = {None: "-", True: "met", False: "MISSED"}[v["met"]]
        lines.append(f"{v['what']:<56}{val:>10}  (target {lim})  {met}")
    return "\n".join(lines)


# ---------------------------------------------------------------- main

def exit_on_signal():
    """SIGTERM/SIGHUP become SystemExit so finally/atexit clean up
    (Ctrl-C is KeyboardInterrupt already)."""
    def handler(signum, _frame):
        raise SystemExit(128 + signum)
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, handler)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="check the rig works (< 1 min)")
    ap.add_argument("--out", default=os.path.join(BENCH_BUILD, "results.json"))
    ap.add_argument("--dut", action="append", help="only these devices (repeatable)")
    args = ap.parse_args()
    plan = QUICK if args.quick else FULL
    duts = [d for d in rig_dut.DUTS + rig_ipv4.DUTS + rig_ipv4.base_duts(rig_dut.BASE_BUILD)
            if not args.dut or d.key in args.dut]

    exit_on_signal()
    if os.cpu_count() and os.cpu_count() > 1:
        # the driver, brouterd and iperf3 stay off the generator's CPU
        os.sched_setaffinity(0, {DRIVER_CPU})
    t0 = time.monotonic()
    results = {"plan": plan.name, "machine": rep.machine(),
               "started": datetime.datetime.now(datetime.timezone.utc).isoformat(),
               "reps": plan.reps, "window_s": plan.window, "warmup_s": plan.warmup,
               "cost_repeat": plan.cost_repeat, "cost_reps": plan.reps * plan.cost_reps,
               "modes": MODES, "notes": NOTES, "calibration": {}, "duts": {},
               "ratios": {}, "ratios_excl_rig": {}, "scaling": {}}
    rig = Rig()
    atexit.register(rig.close)
    try:
        rig.start()
        run_all(rig, duts, plan, results)
        if plan.scaling:
            import rig_scaling  # pylint: disable=import-outside-toplevel
            results["scaling"] = rig_scaling.run(rig, plan)
    finally:
        rig.close()
    results["ratios"] = ratios(results["duts"])
    results["ratios_excl_rig"] = ratios(results["duts"], "dut")
    results["targets"] = targets(results)
    results["targets"].update(rig_ipv4.targets4(results))
    results["duration_s"] = time.monotonic() - t0
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=1)
    print_tables(results)
    print(f"\n{len(results['duts'])} devices in {results['duration_s']:.0f} s; "
          f"JSON: {args.out}")
    return 0 if all(d["ok"] for d in results["duts"].values()) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        log("interrupted; cleaned up")
        sys.exit(130)
    except RigError as e:
        log(f"error: {e}")
        sys.exit(1)
