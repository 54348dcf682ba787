# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
Prometheus metrics: brouterd's metrics.listen endpoint and `brouterctl
metrics`, checked against frames sent through the real program, parsed by
Debian's promtool and scraped by a real Prometheus in the rig's namespace.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse

import pytest

from fwrig import (FwRig, H1, LAN, LAN_NET, R1, R2, WAN, bridged, dropped, inb, out,
                   tcp, udp)
from progrig import BROUTERCTL, STAT_NAMES, running

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root (netns, BPF)")

PORT = 9469
PROM_PORT = 9470
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$')


@pytest.fixture(scope="module")
def mrig():
    conf = f'metrics = {{ listen = "127.0.0.1:{PORT}"; }};\n' \
        'firewall = { pinholes = ( { name = "web"; dst = "2001:db8:1::10"; ' \
        'proto = "tcp"; ports = [ 443 ]; } ); };\n'
    for rig in running(FwRig(tag="m", conf=conf)):
        # not reset() between tests, which would remove the pinhole
        rig.add_prefix(LAN_NET, 64)
        yield rig


def http(rig, request, timeout=5.0):
    """Raw @request to the endpoint from inside the rig: the whole answer."""
    with rig.inside():
        s = socket.create_connection(("127.0.0.1", PORT), timeout=timeout)
    with s:
        s.sendall(request)
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                return b"".join(chunks)
            chunks.append(b)


def scrape(rig):
    head, _, body = http(rig, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n") \
        .partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200 OK"), head
    assert b"Content-Type: text/plain; version=0.0.4" in head
    length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
    assert length == len(body)
    return body.decode()


def parse(text):
    """{(name, frozenset(labels)): value} of every sample."""
    out = {}
    for line in text.splitlines():
        if line.startswith("#") or not line:
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        labels = frozenset(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def val(samples, name, **labels):
    return samples[(name, frozenset(labels.items()))]


def promtool_ok(text):
    p = subprocess.run(["promtool", "check", "metrics"], input=text,
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr


def test_every_counter_matches_the_stats_map(mrig):
    fw = mrig
    assert fw.send(WAN, inb(udp(R1, H1, 4000, 5000))) == dropped("no_flow")
    assert fw.send(WAN, inb(tcp(R1, H1, 4001, 22, "S"))) == dropped("syn_in")
    assert fw.send(LAN, out(udp(H1, R1, 5000, 53))) == bridged(new=True)
    assert fw.send(WAN, inb(tcp(R2, H1, 4002, 443, "S"))) == bridged(new=True)
    text = scrape(fw)
    promtool_ok(text)
    s, st = parse(text), fw.stats()
    # each counter in one place: a family of its own, or a drop reason
    for name in STAT_NAMES:
        for port, label in ((LAN, "lan"), (WAN, "wan")):
            pk, by = st[name][2 * port], st[name][2 * port + 1]
            own = [s.get((f"brouter_{name}_{u}_total",
                          frozenset({("port", label)})))
                   for u in ("packets", "bytes")]
            reason = [s.get((f"brouter_dropped_{u}_total",
                             frozenset({("port", label), ("reason", name)})))
                      for u in ("packets", "bytes")]
            assert (own == [None, None]) != (reason == [None, None]), name
            assert (reason if own == [None, None] else own) == [pk, by], \
                (name, label)
    assert val(s, "brouter_dropped_packets_total", port="wan",
               reason="syn_in") >= 1
    assert val(s, "brouter_up") == 1
    assert val(s, "brouter_flows_entries") == len(fw.flows()) >= 2
    assert val(s, "brouter_flows_entries_limit") == 131072
    assert val(s, "brouter_pinholes") == 1
    # no IPv6 of its own in the rig: brouterctl reads the same numbers
    ctl = subprocess.run([BROUTERCTL, "-p", fw.pin_dir, "metrics"],
                         capture_output=True, text=True, check=True).stdout
    assert parse(ctl) == s


def test_flow_cache_hits_are_bridged_minus_slow(mrig):
    fw = mrig
    before = parse(scrape(fw))
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    try:
        assert fw.send(LAN, out(udp(H1, R1, 5001, 53))) == bridged(new=True)
        for _ in range(4):  # the first fills the cache, three hit
            assert fw.send(WAN, inb(udp(R1, H1, 53, 5001))) == bridged()
    finally:
        os.sched_setaffinity(0, range(os.cpu_count()))
    after = parse(scrape(fw))

    def d(name, port):
        return val(after, name, port=port) - val(before, name, port=port)
    assert d("brouter_flow_cache_hits_total", "wan") == 3
    assert d("brouter_fc_miss_packets_total", "wan") == 1
    assert d("brouter_flow_cache_hits_total", "lan") == 0


def test_reloads_are_counted_and_refusals_too(mrig):
    fw = mrig
    s0 = parse(scrape(fw))
    t0 = val(s0, "brouter_last_reload_success_timestamp_seconds")
    assert val(s0, "brouter_start_time_seconds") <= t0 <= time.time()
    good = open(fw.conf.name).read()
    ctl = [BROUTERCTL, "-p", fw.pin_dir, "reload"]
    time.sleep(1.1)  # a whole second on, so the timestamp must move
    assert subprocess.run(ctl, capture_output=True).returncode == 0
    try:
        with open(fw.conf.name, "w") as f:
            f.write(good + "firewall = { mode = \"nonsense\"; };\n")
        t = time.monotonic()
        assert subprocess.run(ctl, capture_output=True).returncode == 1
        # told by the status map, not by waiting out brouterctl's patience
        assert time.monotonic() - t < 2
    finally:
        with open(fw.conf.name, "w") as f:
            f.write(good)
    s1 = parse(scrape(fw))
    assert val(s1, "brouter_reloads_total") == \
        val(s0, "brouter_reloads_total") + 1
    assert val(s1, "brouter_reload_failures_total") == \
        val(s0, "brouter_reload_failures_total") + 1
    assert val(s1, "brouter_last_reload_success_timestamp_seconds") > t0


def test_endpoint_serves_only_get_metrics(mrig):
    assert http(mrig, b"GET / HTTP/1.0\r\n\r\n").startswith(
        b"HTTP/1.0 404 Not Found")
    assert http(mrig, b"POST /metrics HTTP/1.0\r\n\r\n").startswith(
        b"HTTP/1.0 405 Method Not Allowed")
    assert http(mrig, b"nonsense\r\n\r\n").startswith(b"HTTP/1.0 400")
    assert http(mrig, b"GET /metrics?x=1 HTTP/1.0\r\n\r\n").startswith(
        b"HTTP/1.0 200 OK")
    assert http(mrig, b"GET /" + b"a" * 3000 + b"\r\n").startswith(
        b"HTTP/1.0 431")


def test_a_silent_client_neither_blocks_scrapes_nor_stays(mrig):
    with mrig.inside():
        idle = socket.create_connection(("127.0.0.1", PORT), timeout=10)
    with idle:
        idle.sendall(b"GET /metr")  # and nothing more
        assert "brouter_up 1" in scrape(mrig)
        t = time.monotonic()
        assert idle.recv(100) == b""  # closed by brouterd
        assert 3 < time.monotonic() - t < 8
    assert mrig.proc.poll() is None


def prom_query(rig, q):
    url = f"http://127.0.0.1:{PROM_PORT}/api/v1/query?" + \
        urllib.parse.urlencode({"query": q})
    p = rig.ns("curl", "-sf", url, check=False)
    if p.returncode:
        return None
    res = json.loads(p.stdout)["data"]["result"]
    return float(res[0]["value"][1]) if res else None


def test_a_real_prometheus_scrapes_the_endpoint(mrig):
    fw = mrig
    for i in range(5):
        assert fw.send(WAN, inb(udp(R2, H1, 4100 + i, 6000))) == \
            dropped("no_flow")
    want = fw.stats()["no_flow"][2 * WAN]
    tmp = tempfile.mkdtemp(prefix="brprom-")
    with open(os.path.join(tmp, "prometheus.yml"), "w") as f:
        f.write("global: { scrape_interval: 1s }\n"
                "scrape_configs:\n"
                "  - job_name: brouter\n"
                f"    static_configs: [ {{ targets: ['127.0.0.1:{PORT}'] }} ]\n")
    log = open(os.path.join(tmp, "log"), "w")
    prom = subprocess.Popen(
        ["nsenter", f"--net={fw.ns_path}", "prometheus",
         f"--config.file={tmp}/prometheus.yml", f"--storage.tsdb.path={tmp}/db",
         f"--web.listen-address=127.0.0.1:{PROM_PORT}"],
        stdout=log, stderr=log, start_new_session=True)
    try:
        q = 'brouter_dropped_packets_total{port="wan",reason="no_flow"}'
        end, got = time.monotonic() + 40, None
        while time.monotonic() < end and got != want:
            time.sleep(0.5)
            got = prom_query(fw, q)
        assert got == want, open(os.path.join(tmp, "log")).read()[-3000:]
        assert prom_query(fw, 'up{job="brouter"}') == 1
    finally:
        prom.terminate()
        try:
            prom.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(prom.pid, 9)
            prom.wait()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)
