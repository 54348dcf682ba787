# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""What `bpftool map dump` makes of brouter's pinned maps: names, not numbers."""
import json
import os
import subprocess

import pytest

from fwrig import LAN_MAC, open_tcp

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root (netns, BPF)")


def dump(rig, name):
    return json.loads(subprocess.run(
        ["bpftool", "-j", "map", "dump", "pinned", f"{rig.pin_dir}/{name}"],
        capture_output=True, text=True, check=True).stdout)


def test_flow_state_kind_and_opener_are_enum_names(fw):
    open_tcp(fw)
    flows = dump(fw, "flows")
    assert len(flows) == 1
    k, v = flows[0]["formatted"]["key"], flows[0]["formatted"]["value"]
    assert k["kind"] == "BR_FK_FLOW" and k["proto"] == 6
    assert (v["state"], v["opened_by"]) == ("BR_FS_ESTABLISHED", "BR_OPENED_OUT")


def test_fdb_port_and_policy_modes_are_enum_names(fw):
    open_tcp(fw)
    mac = [int(b, 16) for b in LAN_MAC.split(":")]
    ports = {tuple(e["formatted"]["key"]["mac"]): e["formatted"]["value"]["port"]
             for e in dump(fw, "fdb")}
    assert ports[tuple(mac)] == "BR_PORT_LAN"
    s = dump(fw, "settings")[0]["formatted"]["value"]
    pol = s["pol"][s["gen"] & 1]
    assert (pol["mode"], pol["filtering"]) == ("BR_FW_STATEFUL", "BR_FILT_EI")


def test_stats_keys_stay_numbers(fw):
    """The kernel takes only an integer as an array map's key type: stats
    keys are counter ids (brouterctl stats names them)."""
    keys = [e["formatted"]["key"] for e in dump(fw, "stats")]
    assert keys == list(range(len(keys)))
