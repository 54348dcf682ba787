# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
How brouterd's cost grows with state: flows in the table and pinholes in
the policy (issue 5: 1M flows <= 25 % slower than 1k; 10k pinholes <= 10 %
slower than 1).

SCALES is the table: each row names the brouterd config for a point, the
traffic measured at it and, where the point needs more than this brouterd
offers (a flow table smaller than the flows), why it is skipped. Points
fill in by themselves once brouterd has what they need (e.g.
firewall.max-flows for 1M flows).
"""
import os

import rig_bpf
import rig_cost
import rig_dut
import rig_report as rep
import rig_traffic as tr
from rig_netns import RigError, log

SIZE = 64


def _flows_config(n):
    """Stateful config for n flows; asks for a big enough table if this
    brouterd knows firewall.max-flows."""
    return rig_dut.FW_STATEFUL % f"  max-flows = {max(2 * n, 1024)};\n"


def _flows_table(rig, handle):
    fd = rig_bpf.obj_get(os.path.join(handle.pin_dir, "flows"))
    try:
        return rig_bpf.map_info(fd).max_entries
    finally:
        os.close(fd)


SCALES = [
    {"key": "flows", "label": "flows in the table (WAN->LAN established, "
     "LAN->WAN refresh)", "points": (1, 1000, 100000, 1000000),
     "configs": (_flows_config, lambda n: rig_dut.FW_STATEFUL % ""),
     "traffic": lambda n: [("wan2lan", n), ("lan2wan", n)], "costs": ()},
    {"key": "pinholes", "label": "pinholes in the policy (WAN->LAN established; "
     "ns/packet of an inbound drop, which looks the pinholes up)",
     "points": (1, 100, 10000),
     "configs": (lambda n: rig_dut.FW_STATEFUL % rig_dut.pinholes(n),),
     "traffic": lambda n: [("wan2lan", 1000)], "costs": ("inbound_drop", "bridged_wan2lan")},
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


def _point(rig, plan, scale, n):
    res = {"n": n}
    h = _start(rig, scale["configs"], n)
    try:
        if scale["key"] == "flows":
            size = _flows_table(rig, h)
            res["flows_table"] = size
            if size < n:
                res["skipped"] = (f"flows table holds {size} < {n} flows; needs "
                                  "firewall.max-flows in brouterd")
                return res
        # open every flow (a LAN->WAN pass over all n), then measure
        tr.prime(rig, tr.Flow("lan2wan", SIZE, n), plan.prime + n / 2e6)
        for direction, flows in scale["traffic"](n):
            runs = [tr.measure(rig, tr.Flow(direction, SIZE, flows), plan.warmup,
                               plan.window) for _ in range(plan.reps)]
            res[direction] = rep.summary([r["pps"] / 1e6 for r in runs])
        res["mpps"] = res[scale["traffic"](n)[0][0]]
        if scale["costs"]:
            paths = rig_cost.run_paths(rig, rig_dut.find("brouterd-stateful").prog_id(rig),
                                       scale["costs"], plan.cost_repeat, plan.cost_reps)
            res["costs"] = {k: rep.summary(p["ns"]) | {"verdict": p["verdict"]}
                            for k, p in paths.items()}
            res["drop_ns"] = res["costs"].get("inbound_drop", {}).get("median")
        res["stats"] = rig_dut.brouterd_stats(rig, h)
    finally:
        rig_dut.brouterd_stop(rig, h)
    return res


def run(rig, plan):
    out = {}
    for scale in SCALES:
        s = out[scale["key"]] = {"label": scale["label"], "points": []}
        for n in scale["points"]:
            try:
                p = _point(rig, plan, scale, n)
            except RigError as e:
                p = {"n": n, "skipped": str(e)}
            if p.get("skipped"):
                log(f"scaling {scale['key']}={n}: skipped: {p['skipped']}")
            else:
                log(f"scaling {scale['key']}={n}: {rep.fmt_rate(p['mpps'])} Mpps")
            s["points"].append(p)
    return out
