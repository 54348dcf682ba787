# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
brouterctl's live views against a real brouterd: `drops` following drops
both ways, `stats --watch` rates, and pinhole names in `flows`, also
across a reload that renumbers the pinholes.
"""
import json
import os
import select
import subprocess
import time

import pytest

from fwrig import (FwRig, H1, H2, LAN, LAN_NET, R1, R2, WAN, bridged,
                   dropped, inb, out, tcp, udp)
from progrig import BROUTERCTL, running

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root (netns, BPF)")

PINHOLES = """firewall = { pinholes = (
  { name = "web"; dst = "2001:db8:1::10"; proto = "tcp"; ports = [ 443 ]; },
  { dst = "2001:db8:1::10"; proto = "tcp"; ports = [ 8080 ]; } ); };
log = { drop-rate = 100000; };
"""
FIRST = """firewall = { pinholes = (
  { name = "mail"; dst = "2001:db8:1::20"; proto = "tcp"; ports = [ 25 ]; },
  { name = "web"; dst = "2001:db8:1::10"; proto = "tcp"; ports = [ 443 ]; },
  { dst = "2001:db8:1::10"; proto = "tcp"; ports = [ 8080 ]; } ); };
log = { drop-rate = 100000; };
"""


@pytest.fixture(scope="module")
def lrig():
    for rig in running(FwRig(tag="l", conf=PINHOLES)):
        # not reset() between tests, which would remove the pinholes
        rig.add_prefix(LAN_NET, 64)
        yield rig


def ctl(rig, *args):
    return subprocess.run([BROUTERCTL, "-p", rig.pin_dir, *args],
                          capture_output=True, text=True, check=True).stdout


class Follower:
    """`brouterctl drops` running, its lines read as they come."""

    def __init__(self, rig, *args):
        self.p = subprocess.Popen([BROUTERCTL, "-p", rig.pin_dir, "drops", *args],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)

    def line(self, timeout):
        r, _, _ = select.select([self.p.stdout], [], [], timeout)
        return self.p.stdout.readline() if r else None

    def close(self):
        if self.p.poll() is None:
            self.p.terminate()
        return self.p.communicate(timeout=10)


def follow_until(fol, send, want, timeout=5.0):
    """Send with @send until @fol prints a line containing @want: an event
    is lost while the follower is still connecting."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        send()
        line = fol.line(0.2)
        while line:
            if want in line:
                return line
            line = fol.line(0.05)
    raise AssertionError(f"no line with {want!r}: {fol.close()}")


def test_drops_follows_drops_both_ways(lrig):
    fw = lrig
    fol = Follower(fw, "--json")
    try:
        inbound = inb(udp(R1, H1, 4000, 5000))
        line = follow_until(fol, lambda: fw.send(WAN, inbound),
                            '"reason": "no_flow"')
        ev = json.loads(line)
        assert ev["port"] == "wan" and ev["proto"] == "udp"
        assert (ev["src"], ev["sport"], ev["dst"], ev["dport"]) == \
            (R1, 4000, H1, 5000)
        assert abs(ev["time"] - time.time()) < 5
        # a LAN host with a source no prefix advertises: counted and named
        spoofed = out(udp("2001:db8:99::5", R1, 6000, 53))
        assert fw.send(LAN, spoofed) == dropped("spoof_src_out")
        line = follow_until(fol, lambda: None, '"reason": "spoof_src_out"')
        ev = json.loads(line)
        assert ev["port"] == "lan" and ev["src"] == "2001:db8:99::5"
        assert (ev["dst"], ev["sport"], ev["dport"]) == (R1, 6000, 53)
    finally:
        fol.close()
    # brouterd logs the LAN side too
    assert "drop spoof_src_out: udp [2001:db8:99::5]:6000 -> " \
        "[2001:db8:f00::1]:53" in fw.log_text()


def test_drops_text_and_several_followers(lrig):
    fw = lrig
    a, b = Follower(fw, "-n", "1"), Follower(fw, "--json")
    try:
        syn = inb(tcp(R2, H1, 4001, 22, "S"))
        line = follow_until(a, lambda: fw.send(WAN, syn), "syn_in")
        assert line.split()[1:] == ["wan", "drop", "syn_in:", "tcp",
                                    f"[{R2}]:4001", "->", f"[{H1}]:22"]
        assert a.p.wait(timeout=5) == 0  # -n 1: one event, then exit
        assert '"syn_in"' in follow_until(b, lambda: fw.send(WAN, syn), "syn_in")
    finally:
        a.close()
        b.close()


def test_stats_watch_reports_rates_that_add_up_to_the_traffic(lrig):
    fw = lrig
    p = subprocess.Popen([BROUTERCTL, "-p", fw.pin_dir, "stats", "--watch",
                          "-i", "0.5", "-n", "4", "--json"],
                         stdout=subprocess.PIPE, text=True)
    time.sleep(0.1)
    sent = 0
    for i in range(12):  # over the first intervals
        assert fw.send(LAN, out(udp(H2, R2, 7000 + i, 53))) == bridged(new=True)
        sent += 1
        time.sleep(0.05)
    lines = p.communicate(timeout=10)[0].splitlines()
    assert p.returncode == 0 and len(lines) == 4
    reports = [json.loads(l) for l in lines]
    for r in reports:
        assert 0.4 < r["interval_s"] < 1.0
    # rate x interval is the count: nothing else crosses the rig
    got = sum(r["lan"]["rx"]["packets_per_s"] * r["interval_s"] for r in reports)
    assert round(got) == sent
    assert round(sum(r["lan"]["flow_new"]["packets_per_s"] * r["interval_s"]
                     for r in reports)) == sent
    assert all(r["wan"]["rx"]["packets_per_s"] == 0 for r in reports)


def test_stats_watch_text_shows_what_moved(lrig):
    fw = lrig
    p = subprocess.Popen([BROUTERCTL, "-p", fw.pin_dir, "stats", "--watch",
                          "-i", "1", "-n", "1"], stdout=subprocess.PIPE, text=True)
    time.sleep(0.2)
    for i in range(5):
        assert fw.send(WAN, inb(udp(R1, H1, 4100 + i, 5001))) == \
            dropped("no_flow")
    text = p.communicate(timeout=10)[0]
    lines = text.splitlines()
    assert lines[0].split()[1:] == ["LAN->", "pkt/s", "bit/s", "WAN->",
                                    "pkt/s", "bit/s"]
    rows = {l.split()[0]: l.split()[1:] for l in lines[1:]
            if l and not l.startswith("flow cache")}
    # the UDP probed the flow cache on its way to no flow: a miss
    assert set(rows) == {"rx", "drop", "no_flow", "fc_miss"}, text
    assert rows["no_flow"][0] == "0" and 4 <= float(rows["no_flow"][2]) <= 6
    assert "flow cache hits wan: 0.0%" in lines, text


def test_flows_name_the_pinhole_that_opened_them_across_reloads(lrig):
    fw = lrig
    assert fw.send(WAN, inb(tcp(R1, H1, 4200, 443, "S"))) == bridged(new=True)
    assert fw.send(WAN, inb(tcp(R1, H1, 4201, 8080, "S"))) == bridged(new=True)
    good = open(fw.conf.name).read()
    try:
        # "mail" comes first now: "web" is rule 1, the unnamed one rule 2
        with open(fw.conf.name, "w") as f:
            f.write(FIRST)
        ctl(fw, "reload")
        assert fw.send(WAN, inb(tcp(R2, H1, 4202, 443, "S"))) == \
            bridged(new=True)
        flows = {(f["wan"], f["wan_port"]): f
                 for f in json.loads(ctl(fw, "flows", "--json"))}
        text = ctl(fw, "flows")
    finally:
        with open(fw.conf.name, "w") as f:
            f.write(good)
        ctl(fw, "reload")
    # opened before the reload, by rule 0 then: still "web", not "mail"
    assert (flows[(R1, 4200)]["pinhole"], flows[(R1, 4200)]["rule"]) == ("web", 0)
    assert (flows[(R2, 4202)]["pinhole"], flows[(R2, 4202)]["rule"]) == ("web", 1)
    assert flows[(R1, 4201)]["pinhole"] == "#1"  # unnamed
    assert f"[{H1}]:443 <-> [{R1}]:4200 syn_recv opened-in by pinhole web " in text
    outbound = [f for f in flows.values() if f["opened"] == "out"]
    assert outbound and all("pinhole" not in f for f in outbound)
