# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
How brouterd's cost grows with state: flows in the table and pinholes in
the policy (targets: 1M flows <= 25 % slower than 1k; 10k pinholes <= 10 %
slower than 1).

SCALES is the table: each row names the brouterd config for a point, the
points of each plan and the traffic measured at each.
"""
import os

import rig_bpf
import rig_cost
import rig_dut
import rig_report as rep
import rig_traffic as tr
from rig_netns import RigError, log

SIZE = 64
# One flow table size at every point, so that a point differs from the
# next only in how many flows the table holds.
FLOWS_TABLE = 1 << 21


def _flows_config(_n):
    return rig_dut.FW_STATEFUL % f"  max-flows = {FLOWS_TABLE};\n"


def _flows_table(rig, handle):
    fd = rig_bpf.obj_get(os.path.join(handle.pin_dir, "flows"))
    try:
        return rig_bpf.map_info(fd).max_entries
    finally:
        os.close(fd)


SCALES = [
    # Two questions per point: what the table's size costs (traffic over
    # 1,000 of the n flows it holds: "active1k") and what a working set of
    # n flows costs (traffic over all of them, round robin: every frame a
    # different flow, the worst case for caches and TLB).
    {"key": "flows", "label": "flows in the table (WAN->LAN established, "
     "LAN->WAN refresh; active1k: traffic over 1,000 of them)",
     "points": {"full": (1, 1000, 100000, 1000000), "quick": (1, 1000)},
     "configs": (_flows_config,),
     "traffic": lambda n: [("wan2lan", "wan2lan", n), ("lan2wan", "lan2wan", n),
                           ("wan2lan_active1k", "wan2lan", min(n, 1000))],
     "costs": ()},
    {"key": "pinholes", "label": "pinholes in the policy (WAN->LAN established; "
     "ns/packet of an inbound drop, which looks the pinholes up)",
     "points": {"full": (1, 100, 10000), "quick": (1, 100)},
     "configs": (lambda n: rig_dut.FW_STATEFUL % rig_dut.pinholes(n),),
     "traffic": lambda n: [("wan2lan", "wan2lan", 1000)],
     "costs": ("inbound_drop", "bridged_wan2lan")},
]


def _start(rig, configs, n):
    """brouterd with the first config of the list it accepts."""
    errors = []
    for make in configs:
        try:
            return rig_dut.brouterd_start(make(n))(rig)
        except RigError as e:
            errors.append(str(e).splitlines()[-1] if str(e) else "?")
    raise RigError("; ".join(errors))


def _round(rig, plan, scale, n, acc):
    """One round at one point: start brouterd, open the flows, one run of
    each direction (and the ns/packet paths), stop. Into acc."""
    h = _start(rig, scale["configs"], n)
    try:
        if scale["key"] == "flows":
            size = _flows_table(rig, h)
            acc["flows_table"] = size
            if size < n:
                acc["skipped"] = f"flows table holds {size} < {n} flows"
                return
        primed = 0
        for key, direction, flows in scale["traffic"](n):
            # open every flow of the point: a LAN->WAN pass over them all, twice
            if flows > primed:
                primed = n if scale["key"] == "flows" else flows
                tr.prime(rig, tr.Flow("lan2wan", SIZE, primed), plan.prime, 2 * primed)
            # short windows, as for the paired ratios (bench.run_paired):
            # the slowdowns compare each point's best window
            for i in range(max(plan.pairs, 1)):
                r = tr.measure(rig, tr.Flow(direction, SIZE, flows),
                               plan.warmup if i == 0 else tr.PAIR_WARMUP,
                               plan.pair_window if plan.pairs else plan.window)
                acc.setdefault(key, []).append(r["pps"] / 1e6)
        if scale["costs"]:
            paths = rig_cost.run_paths(rig, rig_dut.find("brouterd-stateful").prog_ids(rig),
                                       scale["costs"], plan.cost_repeat, plan.cost_reps)
            for k, p in paths.items():
                acc.setdefault("costs", {}).setdefault(k, []).extend(p["ns"])
                acc.setdefault("verdicts", {})[k] = p["verdict"]
        acc["stats"] = rig_dut.brouterd_stats(rig, h)
    finally:
        rig_dut.brouterd_stop(rig, h)


def _finish(scale, n, acc):
    if acc.get("error") or acc.get("skipped"):
        return {"n": n, "skipped": acc.get("skipped") or acc["error"]}
    res = {"n": n, "stats": acc.get("stats"), "flows_table": acc.get("flows_table")}
    for key, _, _ in scale["traffic"](n):
        res[key] = rep.summary(acc.get(key, []))
    res["mpps"] = res[scale["traffic"](n)[0][0]]
    if "costs" in acc:
        res["costs"] = {k: rep.summary(v) | {"verdict": acc["verdicts"][k]}
                        for k, v in acc["costs"].items()}
        res["drop_ns"] = res["costs"].get("inbound_drop", {}).get("median")
    return res


def slowdown(points, base_n, n, field="mpps"):
    """How much slower point n is than point base_n: 1 - rate_n / rate_base,
    of each point's best window. The points are brouterd instances minutes
    apart; what else the machine does only ever slows a window down, so
    the best window of each is the comparable figure (bench.run_paired)."""
    by_n = {p["n"]: p for p in points if not p.get("skipped")}
    try:
        return 1 - by_n[n][field]["max"] / by_n[base_n][field]["max"]
    except (KeyError, TypeError, ZeroDivisionError):
        return None


def run(rig, plan):
    """plan.reps rounds over every point of every scale, points in turn
    within a round (see bench.run_all for why)."""
    accs = {s["key"]: {n: {} for n in s["points"][plan.name]} for s in SCALES}
    for rnd in range(plan.reps):
        for scale in SCALES:
            for n, acc in accs[scale["key"]].items():
                if acc.get("error") or acc.get("skipped"):
                    continue
                try:
                    _round(rig, plan, scale, n, acc)
                except RigError as e:
                    acc["error"] = str(e)
                    log(f"scaling {scale['key']}={n}: {e}")
                    continue
                got = acc.get(scale["traffic"](n)[0][0])
                if got:
                    log(f"scaling {scale['key']}={n} round {rnd + 1}: {got[-1]:.2f} Mpps")
    out = {}
    for scale in SCALES:
        points = [_finish(scale, n, acc) for n, acc in accs[scale["key"]].items()]
        out[scale["key"]] = {"label": scale["label"], "points": points}
    f, p = out["flows"]["points"], out["pinholes"]["points"]
    out["flows"]["slowdown_1M_vs_1k"] = slowdown(f, 1000, 1000000)
    out["flows"]["slowdown_1M_vs_1k_lan2wan"] = slowdown(f, 1000, 1000000, "lan2wan")
    out["flows"]["slowdown_1M_vs_1k_active1k"] = slowdown(f, 1000, 1000000,
                                                          "wan2lan_active1k")
    out["pinholes"]["slowdown_10k_vs_1"] = slowdown(p, 1, 10000)
    out["pinholes"]["slowdown_100_vs_1"] = slowdown(p, 1, 100)
    return out
