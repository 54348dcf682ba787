# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
The bpf(2) and setns(2) calls the benchmark rig needs: tests/bpfsys.py
(stdlib only) plus the few shapes the rig uses over and over.

Programs are loaded and pinned by bpftool (see rig_netns.load_pinned); this
module opens pins, reads and writes maps, runs BPF_PROG_TEST_RUN (live
frames for traffic, repeat for ns/packet) and finds an attached program by
id. Every call raises OSError(errno) on failure.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))

from bpfsys import (BPF_F_TEST_XDP_LIVE_FRAMES,  # noqa: E402,F401
                    TC_ACT_OK, TC_ACT_SHOT, TC_ACT_UNSPEC, XDP_ABORTED, XDP_DROP,
                    XDP_PASS, XDP_REDIRECT, XDP_TX, SkBuff, XdpMd, map_delete,
                    map_info, map_lookup, map_update, obj_get, possible_cpus,
                    prog_get_fd_by_id, prog_info, prog_test_run, setns_path, tcx_progs)

TC_ACT_REDIRECT = 7  # <linux/pkt_cls.h>

XDP_VERDICT = {XDP_ABORTED: "aborted", XDP_DROP: "drop", XDP_PASS: "pass",
               XDP_TX: "tx", XDP_REDIRECT: "redirect"}
TC_VERDICT = {TC_ACT_OK: "ok", TC_ACT_UNSPEC: "next", TC_ACT_SHOT: "shot",
              TC_ACT_REDIRECT: "redirect"}
VERDICT = {"xdp": XDP_VERDICT, "tc": TC_VERDICT}


setns_thread = setns_path  # the calling thread into the netns at a path


def percpu_u64_sum(fd, key, ncpus):
    """Sum over CPUs of a per-CPU array of __u64 at index key."""
    raw = map_lookup(fd, struct.pack("<I", key), 8 * ncpus)
    return sum(struct.unpack(f"<{ncpus}Q", raw))


def test_run_live(prog_fd, frame, repeat, batch_size=64):
    """Send repeat copies of frame through prog for real
    (BPF_F_TEST_XDP_LIVE_FRAMES): the program's redirect happens. Runs in
    the calling thread's network namespace (ifindexes resolve there). The
    GIL is released during the call (ctypes), so generator threads run
    their test_runs in parallel."""
    prog_test_run(prog_fd, frame, data_out_size=0, repeat=repeat,
                  flags=BPF_F_TEST_XDP_LIVE_FRAMES, batch_size=batch_size)


def test_run_repeat(prog_fd, frame, repeat, ifindex, kind="xdp"):
    """Run prog repeat times on frame (nothing is sent). Returns
    (verdict, mean ns per run). ifindex (XDP: the ingress port; tc: the
    skb's device) must exist in the calling thread's network namespace."""
    if kind == "tc":
        ctx = SkBuff(ifindex=ifindex)
    else:
        ctx = XdpMd(data=0, data_end=len(frame), ingress_ifindex=ifindex)
    r = prog_test_run(prog_fd, frame, ctx=ctx, data_out_size=len(frame) + 256,
                      repeat=repeat)
    return r.retval, r.duration
