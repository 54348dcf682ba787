# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
brouter beside another XDP program on the WAN port: Debian's xdp-filter,
loaded before brouterd and after it.

Through libxdp's dispatcher both run, xdp-filter first (run priority 10
against brouter's 100): it drops what it was told to (TCP from the ISP's
port 8080), brouter bridges the rest, and stopping either leaves the
other working. A kernel that refuses freplace programs cannot run the
dispatcher (xdp-filter then loads alone, as a plain program): there
brouterd says so and attaches with a link, and the tests check that the
two refuse each other cleanly instead. Which case this kernel is, a
probe with xdp-filter itself decides.
"""
import os
import subprocess

import pytest

import topo
from topo import run, wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root (netns, BPF)")

FILTERED = topo.HTTP_PORT  # xdp-filter drops TCP from this source port


# xdp-filter keeps its state under bpffs and leaves the directory behind
FILTER_STATE = "/sys/fs/bpf/xdp-filter"
FILTER_STATE_WAS_THERE = os.path.exists(FILTER_STATE)


def forget_filter_state():
    """Remove xdp-filter's (empty) state directory if this file made it."""
    if FILTER_STATE_WAS_THERE or not os.path.isdir(FILTER_STATE):
        return
    for sub in os.listdir(FILTER_STATE):
        os.rmdir(os.path.join(FILTER_STATE, sub))
    os.rmdir(FILTER_STATE)


def probe_dispatcher():
    """Does libxdp run its dispatcher on this kernel? Ask xdp-filter."""
    ns, dev = f"brxp{os.getpid()}", f"brxp{os.getpid() % 100000}"
    try:
        run(None, ["ip", "netns", "add", ns])
        run(ns, ["ip", "link", "add", dev, "type", "veth", "peer", "name", "p"])
        run(ns, ["ip", "link", "set", dev, "up"])
        run(ns, ["xdp-filter", "load", "-m", "skb", dev])
        return "xdp_dispatcher" in run(ns, ["xdp-loader", "status", dev]).stdout
    finally:
        run(ns, ["xdp-filter", "unload", dev], check=False)
        run(None, ["ip", "netns", "del", ns], check=False)
        forget_filter_state()


DISPATCHER = os.geteuid() == 0 and probe_dispatcher()
needs_dispatcher = pytest.mark.skipif(
    not DISPATCHER, reason="this kernel refuses freplace programs: libxdp "
    "cannot run its dispatcher (xdp-filter itself loads alone)")
without_dispatcher = pytest.mark.skipif(
    DISPATCHER, reason="libxdp's dispatcher runs here: the shared tests apply")


@pytest.fixture(scope="module")
def rig():
    t = topo.Topology()
    t.start()
    try:
        yield t
    finally:
        t.close()
        forget_filter_state()


@pytest.fixture
def t(rig):
    """Each test starts and ends with no XDP program and no filter on the router."""
    yield rig
    rig.stop_brouterd()
    rig.brouterd = None
    filter_unload(rig)
    for dev in ("lan0", "wan0"):
        assert "xdp" not in topo.link_info(rig.rtr, dev), f"{dev}: XDP left"


def filter_load(t):
    run(t.rtr, ["xdp-filter", "load", "wan0"])
    run(t.rtr, ["xdp-filter", "port", "-m", "src", "-p", "tcp", str(FILTERED)])


def filter_unload(t):
    return run(t.rtr, ["xdp-filter", "unload", "wan0"], check=False)


def isp_addr():
    return str(topo.ISP_V6)


def bridges(t):
    """ping6 from the LAN host to the ISP: brouter bridges it (and the RA
    that gave the host its address)."""
    if not topo.slaac_addr(t.lan1):
        return False
    return run(t.lan1, ["ping", "-6", "-c", "2", "-i", "0.2", "-W", "2",
                        isp_addr()], check=False, timeout=15).returncode == 0


def http_ok(t):
    """TCP from the LAN host to the ISP's port 8080, which xdp-filter drops."""
    p = run(t.lan1, ["curl", "-s", "-m", "3", "-o", "/dev/null", "-w", "%{http_code}",
                     f"http://[{isp_addr()}]:{FILTERED}/"], check=False, timeout=10)
    return p.stdout.strip() == "200"


def programs(t):
    return run(t.rtr, ["xdp-loader", "status", "wan0"]).stdout


# ---------------------------------------------------------------- shared


def check_both_run(t, b):
    status = programs(t)
    assert "xdp_dispatcher" in status and "xdp_brouter" in status, status
    assert "xdpfilt_" in status, status
    # the filter in front, as the run priorities say
    assert status.index("xdpfilt_") < status.index("xdp_brouter"), status
    wait_for(lambda: bridges(t), timeout=40, what="ping6 through brouter")
    assert not http_ok(t), "xdp-filter let TCP from port 8080 through"
    assert "through libxdp's dispatcher" in b.log()


@needs_dispatcher
def test_filter_loaded_before_brouterd_both_run_and_each_survives_the_other(t):
    filter_load(t)
    b = t.start_brouterd()
    check_both_run(t, b)
    # stopping the filter leaves brouter bridging, port 8080 included
    assert filter_unload(t).returncode == 0
    assert "xdp_brouter" in programs(t)
    assert bridges(t) and wait_for(lambda: http_ok(t), timeout=10, what="HTTP")


@needs_dispatcher
def test_filter_loaded_after_brouterd_both_run_and_each_survives_the_other(t):
    b = t.start_brouterd()
    wait_for(lambda: bridges(t), timeout=40, what="ping6 through brouter")
    filter_load(t)
    check_both_run(t, b)
    # stopping brouterd removes its program only: the filter stays
    assert b.stop() == 0, b.log()
    status = programs(t)
    assert "xdp_brouter" not in status and "xdpfilt_" in status, status


@needs_dispatcher
def test_killed_brouterd_leaves_nothing_that_blocks_the_next(t):
    b = t.start_brouterd()
    b.proc.kill()
    b.proc.wait()
    assert "xdp_brouter" in programs(t)  # pinned by libxdp, still running
    b2 = t.start_brouterd()
    assert "removed the XDP program of a brouterd that is gone" in b2.log()
    assert programs(t).count("xdp_brouter") == 1
    wait_for(lambda: bridges(t), timeout=40, what="ping6 through brouter")


# ---------------------------------------------------------------- fallback


@without_dispatcher
def test_brouterd_says_why_it_attaches_with_a_link(t):
    b = t.start_brouterd()
    log = b.log()
    assert "libxdp cannot run its dispatcher here" in log, log
    assert "wan0: XDP attached in native mode" in log, log
    wait_for(lambda: bridges(t), timeout=40, what="ping6 through brouter")


@without_dispatcher
def test_libxdp_demanded_fails_cleanly(t):
    p = t.run_brouterd("--pin-dir", t.pin_dir, "--xdp-attach", "libxdp",
                       "lan0", "wan0")
    assert p.returncode == 1, p.stderr
    assert "not supported" in p.stderr.lower(), p.stderr
    for dev in ("lan0", "wan0"):
        assert "xdp" not in topo.link_info(t.rtr, dev), p.stderr
    assert not os.path.exists(t.pin_dir)


@without_dispatcher
def test_filter_first_is_named_and_kept(t):
    filter_load(t)
    p = t.run_brouterd("--pin-dir", t.pin_dir, "lan0", "wan0")
    assert p.returncode == 1, p.stderr
    assert "wan0: the port already has an XDP program (xdpfilt_" in p.stderr, \
        p.stderr
    assert "xdpfilt_" in programs(t)  # the filter is untouched
    assert "xdp" not in topo.link_info(t.rtr, "lan0"), p.stderr


@without_dispatcher
def test_filter_after_brouterd_is_refused_and_brouter_keeps_bridging(t):
    b = t.start_brouterd()
    wait_for(lambda: bridges(t), timeout=40, what="ping6 through brouter")
    p = run(t.rtr, ["xdp-filter", "load", "wan0"], check=False)
    assert p.returncode != 0, p.stdout + p.stderr
    assert b.proc.poll() is None and bridges(t) and http_ok(t)
    assert "xdp_brouter" in programs(t)
