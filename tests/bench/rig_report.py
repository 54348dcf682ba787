# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Statistics, the machine description and the terminal tables."""
import os
import platform
import statistics


def summary(runs):
    """Median and spread of repeated measurements."""
    runs = list(runs)
    if not runs:
        return {"median": None, "min": None, "max": None, "runs": []}
    return {"median": statistics.median(runs), "min": min(runs), "max": max(runs),
            "runs": runs}


def spread_pct(s):
    """Half the min..max range, in % of the median."""
    if not s["runs"] or not s["median"]:
        return 0.0
    return 100.0 * (s["max"] - s["min"]) / 2 / s["median"]


def machine():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"kernel": platform.release(), "kernel_version": platform.version(),
            "arch": platform.machine(), "cpu": cpu, "cores": os.cpu_count(),
            "hostname": platform.node()}


def traffic_key(size, flows, direction, mode="inline"):
    k = f"{size}B/{flows}flow{'s' if flows != 1 else ''}/{direction}"
    return k if mode == "inline" else f"{k}/{mode}"


def table(title, cols, rows, first_width=26, width=12):
    """rows: [(label, [cell str, ...])]; returns printable text."""
    out = [title, "-" * len(title)]
    out.append(f"{'':<{first_width}}" + "".join(f"{c:>{width}}" for c in cols))
    for label, cells in rows:
        out.append(f"{label:<{first_width}}" + "".join(f"{c:>{width}}" for c in cells))
    return "\n".join(out)


def fmt_rate(s):
    """'12.34 ±1%' from a summary of Mpps."""
    if s is None or s["median"] is None:
        return "-"
    return f"{s['median']:.2f} ±{spread_pct(s):.0f}%"


def fmt_num(v, fmt="{:.2f}"):
    return "-" if v is None else fmt.format(v)
