# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
Every program loads where the verifier enforces strict alignment (CPUs
without efficient unaligned access: MIPS and some ARM, common in home
routers), checked here with BPF_F_STRICT_ALIGNMENT, which makes an x86
verifier check alignment the same way. brouterd itself loads with the
flag, so the other program tests run on programs verified that way too.
"""
import os
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STRICT_LOAD = os.path.join(REPO, "build", "tests", "strict_load")

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (BPF)")


def test_all_three_objects_load_with_strict_alignment():
    if not os.access(STRICT_LOAD, os.X_OK):
        pytest.fail(f"{STRICT_LOAD} missing: run `make check` (or make {STRICT_LOAD})")
    p = subprocess.run([STRICT_LOAD], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.split("\n")[:3] == [
        "xdp_brouter: ok", "tc_ingress: ok", "tc_egress: ok"], p.stdout
