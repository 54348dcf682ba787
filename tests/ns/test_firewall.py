# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
The inbound IPv6 firewall end to end, with real kernel peers: an ISP
namespace, brouterd in the router namespace, two LAN hosts that got their
addresses by SLAAC through the bridge. Connections are real TCP sockets;
transfers compare SHA-256 of the bytes sent and received.
"""
import os
import signal
import textwrap
import time

import pytest

import topo

ISP_ADDR = "2001:db8:1::1"

# A TCP sender/receiver pair: the receiver prints byte count and SHA-256 of
# what it got, the sender of what it sent. Paced, so a transfer lasts long
# enough to reload or restart brouterd in the middle of it.
XFER = textwrap.dedent("""
    import hashlib, random, socket, sys, time
    mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    def report(h, n):
        print(n, h.hexdigest(), flush=True)
    if mode in ("recv", "serve-send"):
        s = socket.socket(socket.AF_INET6)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port)); s.listen(1)
        print("listening", flush=True)
        c, _ = s.accept()
    else:
        c = socket.create_connection((addr, port), timeout=30)
    c.settimeout(60)
    h, n = hashlib.sha256(), 0
    if mode in ("send", "serve-send"):
        total, chunk, rate = int(sys.argv[4]), 65536, float(sys.argv[5])
        rnd = random.Random(7)
        t0 = time.monotonic()
        while n < total:
            b = rnd.randbytes(min(chunk, total - n))
            c.sendall(b); h.update(b); n += len(b)
            ahead = n / rate - (time.monotonic() - t0)
            if ahead > 0:
                time.sleep(ahead)
        c.shutdown(socket.SHUT_WR)
        c.recv(1)
    else:
        while True:
            b = c.recv(65536)
            if not b:
                break
            h.update(b); n += len(b)
    report(h, n)
""")


@pytest.fixture(scope="module")
def net():
    t = topo.Topology(lan2=True)
    t.start()
    try:
        t.start_brouterd()
        t.addr = {ns: topo.wait_for(lambda ns=ns: topo.slaac_addr(ns), timeout=20,
                                    what=f"SLAAC address on {ns}")
                  for ns in t.hosts}
        topo.wait_for(lambda: "learned from RA" in t.brouterd.log(), timeout=20,
                      what="brouterd learning the WAN prefix")
        yield t
    finally:
        t.close()


def write_config(t, text):
    return t.config_file(text)  # same path every time: brouterd re-reads it


def reload_ok(t):
    return topo.run(None, [topo.BROUTERCTL, "-p", t.pin_dir, "reload"],
                    check=False)


def tcp_connects(t, ns, addr, port, timeout=2):
    """Can @ns open a TCP connection to [addr]:port (a listener is there)?"""
    code = ("import socket,sys\n"
            "try:\n"
            f"  socket.create_connection(('{addr}', {port}), timeout={timeout}).close()\n"
            "except OSError:\n"
            "  sys.exit(1)\n")
    return t.run(ns, ["/usr/bin/python3", "-c", code], check=False,
                 timeout=timeout + 5).returncode == 0


def listen(t, ns, port):
    """A TCP listener on [::]:port in @ns that accepts forever."""
    code = ("import socket\n"
            "s=socket.socket(socket.AF_INET6)\n"
            "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
            f"s.bind(('::', {port})); s.listen(16)\n"
            "while True: s.accept()[0].close()\n")
    return t.popen(ns, ["/usr/bin/python3", "-c", code])


def xfer_script(t):
    path = os.path.join(t.tmp, "xfer.py")
    with open(path, "w") as f:
        f.write(XFER)
    return path


def wait_line(proc, what, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line:
            return line.decode().strip()
    raise AssertionError(f"no output from {what}")


def test_outbound_connection_works_and_unsolicited_inbound_fails(net):
    t = net
    lan = t.addr[t.lan1]
    l = listen(t, t.lan1, 8081)
    isp = listen(t, t.isp, 8082)
    try:
        time.sleep(0.3)
        assert tcp_connects(t, t.lan1, ISP_ADDR, 8082), "LAN -> ISP TCP failed"
        assert not tcp_connects(t, t.isp, lan, 8081), \
            "unsolicited inbound TCP reached a LAN host"
        st = t.brouterd.stats()
        assert st["wan"]["syn_in"]["packets"] >= 1
        assert st["lan"]["flow_new"]["packets"] >= 1
        assert "drop syn_in: tcp" in t.brouterd.log()
    finally:
        topo._kill_group(l)
        topo._kill_group(isp)


def test_pinhole_opens_exactly_that_port_on_that_host(net):
    t = net
    a1, a2 = t.addr[t.lan1], t.addr[t.lan2_ns]
    procs = [listen(t, t.lan1, 22), listen(t, t.lan1, 23), listen(t, t.lan2_ns, 22)]
    try:
        time.sleep(0.3)
        assert not tcp_connects(t, t.isp, a1, 22), "port 22 open before the pinhole"
        write_config(t, f"""
            firewall = {{ pinholes = (
              {{ name = "ssh"; dst = "{a1}"; proto = "tcp"; ports = [ 22 ]; }} ); }};
        """)
        r = reload_ok(t)
        assert r.returncode == 0, r.stderr
        assert tcp_connects(t, t.isp, a1, 22), "pinhole did not open lan1:22"
        assert not tcp_connects(t, t.isp, a1, 23), "pinhole for 22 opened lan1:23"
        assert not tcp_connects(t, t.isp, a2, 22), "pinhole for lan1 opened lan2:22"
    finally:
        for p in procs:
            topo._kill_group(p)


def test_reload_with_broken_config_changes_nothing(net):
    t = net
    a1 = t.addr[t.lan1]
    good = f"""
        firewall = {{ pinholes = (
          {{ dst = "{a1}"; proto = "tcp"; ports = [ 2222 ]; }} ); }};
    """
    p = listen(t, t.lan1, 2222)
    try:
        write_config(t, good)
        assert reload_ok(t).returncode == 0
        time.sleep(0.3)
        assert tcp_connects(t, t.isp, a1, 2222)
        # a bad port and an unknown key: brouterd must refuse all of it
        write_config(t, f"""
            firewall = {{ mode = "open"; pinholes = (
              {{ dst = "{a1}"; proto = "tcp"; ports = [ 70000 ]; }} ); colour = 1; }};
        """)
        t0 = time.monotonic()
        r = reload_ok(t)
        took = time.monotonic() - t0
        assert r.returncode == 1, "brouterctl reload claimed a broken config worked"
        assert "kept its running policy" in r.stderr
        # brouterd decides in milliseconds; brouterctl must not sit out a timeout
        assert took < 1.5, f"brouterctl reload took {took:.1f} s to report a refusal"
        log = t.brouterd.log()
        assert "70000" in log or "colour" in log, log[-2000:]
        # the old policy still runs: the pinhole works, "open" did not apply
        assert tcp_connects(t, t.isp, a1, 2222)
        q = listen(t, t.lan1, 2223)
        try:
            time.sleep(0.3)
            assert not tcp_connects(t, t.isp, a1, 2223), "half-applied 'open' mode"
        finally:
            topo._kill_group(q)
    finally:
        topo._kill_group(p)


def test_reload_of_an_empty_file_is_refused_and_pinholes_stay(net):
    """A save cut short leaves a zero-byte file: read as "all defaults" it
    would silently close every pinhole. brouterd refuses it, brouterctl
    says so at once, and the pinhole still opens its port."""
    t = net
    a1 = t.addr[t.lan1]
    p = listen(t, t.lan1, 2224)
    try:
        write_config(t, f"""
            firewall = {{ pinholes = (
              {{ name = "app"; dst = "{a1}"; proto = "tcp"; ports = [ 2224 ]; }} ); }};
        """)
        assert reload_ok(t).returncode == 0
        time.sleep(0.3)
        assert tcp_connects(t, t.isp, a1, 2224)
        log_from = len(t.brouterd.log())
        with open(write_config(t, "x"), "w"):
            pass                                   # truncated to 0 bytes
        t0 = time.monotonic()
        r = reload_ok(t)
        assert r.returncode == 1 and time.monotonic() - t0 < 1.5, r
        log = t.brouterd.log()[log_from:]
        assert "is empty (0 bytes): refused" in log, log
        assert "reload refused: nothing changed" in log, log
        assert tcp_connects(t, t.isp, a1, 2224), "the empty file removed the pinhole"
    finally:
        topo._kill_group(p)


def test_reload_whose_tunnel_cannot_be_set_up_changes_nothing(net):
    """One file, two changes: a new pinhole and a DS-Lite tunnel that
    cannot come up (the router's IPv4 default route is in its way). The
    reload is refused as a whole: the pinhole does not open, no tunnel
    address or route is left, and brouterctl reload exits 1 at once."""
    t = net
    a1 = t.addr[t.lan1]
    p = listen(t, t.lan1, 2225)
    try:
        write_config(t, "")
        assert reload_ok(t).returncode == 0
        time.sleep(0.3)
        assert not tcp_connects(t, t.isp, a1, 2225)
        log_from = len(t.brouterd.log())
        write_config(t, f"""
            firewall = {{ pinholes = (
              {{ name = "late"; dst = "{a1}"; proto = "tcp"; ports = [ 2225 ]; }} ); }};
            tunnel = {{ mode = "ds-lite";
              ds-lite = {{ aftr = "2001:db8:ffff::2"; local = "2001:db8:1::100"; }}; }};
        """)
        t0 = time.monotonic()
        r = reload_ok(t)
        assert r.returncode == 1 and time.monotonic() - t0 < 1.5, r
        log = t.brouterd.log()[log_from:]
        assert "exists already" in log and "reload refused: nothing changed" in log, log
        assert not tcp_connects(t, t.isp, a1, 2225), "half a reload: the pinhole opened"
        addrs = t.run(t.rtr, ["ip", "addr", "show", "dev", "wan0"]).stdout
        assert "192.0.0.2" not in addrs and "2001:db8:1::100" not in addrs, addrs
        assert "proto 180" not in t.run(t.rtr, ["ip", "-4", "route"]).stdout
        assert "brouter" not in t.run(t.rtr, ["nft", "list", "tables"]).stdout
        # and the same file without the tunnel applies, saying what changed
        write_config(t, f"""
            firewall = {{ pinholes = (
              {{ name = "late"; dst = "{a1}"; proto = "tcp"; ports = [ 2225 ]; }} ); }};
        """)
        log_from = len(t.brouterd.log())
        assert reload_ok(t).returncode == 0
        assert f"reload: pinhole added: late: {a1}/128 tcp 2225" in \
            t.brouterd.log()[log_from:]
        assert tcp_connects(t, t.isp, a1, 2225)
    finally:
        topo._kill_group(p)


def test_reload_adding_pinhole_during_transfer_keeps_it_running(net):
    t = net
    a1 = t.addr[t.lan1]
    script = xfer_script(t)
    size, rate = 24 << 20, 6e6  # ~4 s
    rx = t.popen(t.isp, ["/usr/bin/python3", script, "recv", "::", "5301"],
                 stdout=-1)
    assert wait_line(rx, "receiver") == "listening"
    tx = t.popen(t.lan1, ["/usr/bin/python3", script, "send", ISP_ADDR, "5301",
                          str(size), str(rate)], stdout=-1)
    try:
        for port in (3001, 3002, 3003):
            time.sleep(0.8)
            write_config(t, f"""
                firewall = {{ pinholes = (
                  {{ dst = "{a1}"; proto = "tcp"; ports = [ {port} ]; }} ); }};
            """)
            r = reload_ok(t)
            assert r.returncode == 0, r.stderr
        sent = wait_line(tx, "sender", timeout=60)
        got = wait_line(rx, "receiver", timeout=60)
        assert tx.wait(10) == 0 and rx.wait(10) == 0
        assert sent == got, f"sent {sent}, received {got}"
        assert sent.split()[0] == str(size)
        # the last pinhole is the one in force
        p = listen(t, t.lan1, 3003)
        try:
            time.sleep(0.3)
            assert tcp_connects(t, t.isp, a1, 3003)
            assert not tcp_connects(t, t.isp, a1, 3001)
        finally:
            topo._kill_group(p)
    finally:
        topo._kill_group(tx)
        topo._kill_group(rx)


def test_restart_with_keep_state_during_download_keeps_connection(net):
    """
    The LAN host downloads: data flows inbound, so after a restart only the
    kept flow lets it back in (the host has nothing to send to re-open it).
    """
    t = net
    script = xfer_script(t)
    size, rate = 24 << 20, 6e6
    t.brouterd.stop()
    t.brouterd = None
    t.start_brouterd("--keep-state", log_name="keep1.log")
    srv = t.popen(t.isp, ["/usr/bin/python3", script, "serve-send", "::", "5302",
                          str(size), str(rate)], stdout=-1)
    try:
        assert wait_line(srv, "server") == "listening"
        cli = t.popen(t.lan1, ["/usr/bin/python3", script, "recv-from", ISP_ADDR,
                               "5302"], stdout=-1)
        time.sleep(1.0)
        first = t.brouterd
        assert first.stop() == 0
        assert os.path.exists(os.path.join(t.pin_dir, "flows")), \
            "--keep-state removed the flow table"
        t.brouterd = None
        second = t.start_brouterd("--keep-state", log_name="keep2.log")
        assert "reusing state pinned" in second.log()
        sent = wait_line(srv, "sender", timeout=90)
        got = wait_line(cli, "receiver", timeout=90)
        assert sent == got, f"sent {sent}, received {got}"
        assert got.split()[0] == str(size)
    finally:
        topo._kill_group(srv)
        # leave a brouterd without --keep-state so teardown removes the pins
        if t.brouterd:
            t.brouterd.stop()
        t.brouterd = None
        t.start_brouterd(log_name="after-keep.log")
