# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
brouterctl's command-line conventions, against a real brouterd on a
minimal namespace rig: --version, help and per-command help, -j for
--json, the pin dir read from -c FILE or the default config file, and
distinct exit codes: 0 done, 1 error, 2 usage, 3 brouterd not running.

Run as root: /usr/bin/python3 -m pytest -v tests/ns/test_ctl.py
"""
import json
import os
import re

import pytest

import topo
import unitrun
from topo import BROUTERCTL, BROUTERD, run

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (netns, BPF)")

COMMANDS = ("stats", "fdb", "flows", "tunnel", "reload")
NOWHERE = "/sys/fs/bpf/brouter-test-nothing-here"


def ctl(*args, pre=()):
    return run(None, [*pre, BROUTERCTL, *args], check=False)


@pytest.fixture(scope="module")
def rig():
    with topo.Topology(minimal=True) as t:
        t.start_brouterd()
        yield t


def test_version_matches_brouterd():
    v = run(None, [BROUTERD, "--version"]).stdout.split()[-1]
    p = ctl("--version")
    assert (p.returncode, p.stdout) == (0, f"brouterctl {v}\n"), p
    assert ctl("-V").stdout == p.stdout


def test_help_command_and_option_print_the_same_usage():
    a, b = ctl("help"), ctl("--help")
    assert a.returncode == b.returncode == 0, (a, b)
    assert a.stdout == b.stdout and a.stderr == b.stderr == ""
    for cmd in COMMANDS + ("map-e", "help"):
        assert f"\n  {cmd} " in a.stdout, f"{cmd} missing from help:\n{a.stdout}"
    assert "exit status: 0 done, 1 error, 2 usage error, 3 brouterd not running" in a.stdout


@pytest.mark.parametrize("cmd", COMMANDS)
def test_command_help_is_the_commands_own(cmd):
    """CMD --help and help CMD print that command's usage, not the global
    one, with no brouterd to talk to (nothing is opened)."""
    a = ctl("-p", NOWHERE, cmd, "--help")
    b = ctl("help", cmd)
    assert a.returncode == b.returncode == 0, (a, b)
    assert a.stdout == b.stdout
    assert a.stdout.startswith("usage: brouterctl") and f"] {cmd}" in a.stdout.splitlines()[0]
    assert a.stdout != ctl("help").stdout
    others = [ctl("help", c).stdout for c in COMMANDS if c != cmd]
    assert a.stdout not in others


def test_map_e_help_both_ways():
    a, b = ctl("map-e", "--help"), ctl("help", "map-e")
    assert a.returncode == b.returncode == 0
    assert a.stdout == b.stdout and "--rule-ipv6" in a.stdout


@pytest.mark.parametrize("args", [("nosuch",), ("help", "nosuch"), ("stats", "extra"),
                                  ("--no-such-option", "stats"), ()],
                         ids=["command", "help-command", "extra-argument", "option", "none"])
def test_usage_errors_exit_2(args):
    p = ctl("-p", NOWHERE, *args)
    assert p.returncode == 2, p
    assert p.stdout == ""


@pytest.mark.parametrize("cmd", ("stats", "fdb", "flows", "tunnel"))
def test_j_is_json(rig, cmd):
    a = ctl("-p", rig.pin_dir, cmd, "-j")
    b = ctl("-p", rig.pin_dir, cmd, "--json")
    assert a.returncode == b.returncode == 0, (a, b)
    ja, jb = json.loads(a.stdout), json.loads(b.stdout)
    assert type(ja) is type(jb)
    if isinstance(ja, dict):
        assert ja.keys() == jb.keys()


@pytest.mark.parametrize("cmd", COMMANDS)
def test_not_running_exits_3(cmd):
    p = ctl("-p", NOWHERE, cmd)
    assert p.returncode == 3, p
    assert "not running" in p.stderr, p.stderr


def test_reload_of_state_kept_by_a_stopped_brouterd_exits_3(rig):
    pd = f"{topo.BPFFS}/{rig.prefix}kept"
    try:
        b = rig.start_brouterd("--keep-state", pin_dir=pd, ports=["lanp", "wanp"])
        assert b.stop() == 0, b.log()
        p = ctl("-p", pd, "reload")
        assert p.returncode == 3, p
        assert "not running" in p.stderr
        # what it kept is still there to look at
        assert ctl("-p", pd, "stats").returncode == 0
    finally:
        topo._remove_pin_dir(pd)


def test_errors_exit_1_not_3(rig):
    """A brouterd runs but the command cannot do its job: 1, so a script
    (or systemctl reload) can tell it from 'not running'."""
    nobody = ctl("-p", rig.pin_dir, "stats",
                 pre=("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"))
    assert nobody.returncode == 1, nobody
    broken = os.path.join(rig.tmp, "broken.conf")
    with open(broken, "w") as f:
        f.write("pin-dir = ;\n")
    p = ctl("-c", broken, "stats")
    assert p.returncode == 1, p
    assert "broken.conf:1" in p.stderr, p.stderr
    p = ctl("-c", os.path.join(rig.tmp, "absent.conf"), "stats")
    assert p.returncode == 1, p


def test_pin_dir_from_config_file(rig):
    conf = os.path.join(rig.tmp, "ctl.conf")
    with open(conf, "w") as f:
        f.write(f'pin-dir = "{rig.pin_dir}";\nfirewall = {{ timeouts = {{ udp = 30; }}; }};\n')
    p = ctl("-c", conf, "stats", "-j")
    assert p.returncode == 0, p
    assert p.stderr == "", "brouterd's config warnings are not brouterctl's business"
    assert "rx" in json.loads(p.stdout)["lan"]
    # -p wins over the file
    assert ctl("-c", conf, "-p", NOWHERE, "stats").returncode == 3


def test_pin_dir_from_default_config_file(rig):
    """No -p, no -c: /etc/brouter/brouter.conf names the pin dir (the file
    is put there on an overlay of /etc, in a private mount namespace)."""
    work = os.path.join(rig.tmp, "default-conf")
    setup = unitrun.etc_config(work, f'pin-dir = "{rig.pin_dir}";\n')
    p = run(None, unitrun.in_mount_ns(setup, [BROUTERCTL, "fdb", "-j"]), check=False)
    assert p.returncode == 0, p
    assert isinstance(json.loads(p.stdout), list)
    setup = unitrun.etc_config(work, f'pin-dir = "{NOWHERE}";\n')
    p = run(None, unitrun.in_mount_ns(setup, [BROUTERCTL, "fdb"]), check=False)
    assert p.returncode == 3 and NOWHERE in p.stderr, p



def test_stats_columns_line_up_whatever_a_counters_name(rig):
    """Every counter row's four numbers end where the header's columns do,
    the longest names (tun_frag_evicted, fp4_unconfirmed) included."""
    text = ctl("-p", rig.pin_dir, "stats").stdout
    lines = text.splitlines()
    ends = [m.end() for m in re.finditer(r"packets|bytes", lines[0])]
    assert len(ends) == 4, lines[0]
    rows = [line for line in lines[1:] if re.match(r"^\s*\w+\s+\d", line)]
    assert len(rows) > 60, text
    for row in rows:
        nums = [m.end() for m in re.finditer(r"(?<= )\d+(?= |$)", row)][:4]
        assert nums == ends, (row, lines[0])
