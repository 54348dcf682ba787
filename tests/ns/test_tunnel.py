# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
IPv4 over IPv6 end to end, in network namespaces:

    ns <P>tlan            ns <P>trtr (brouterd)          ns <P>tisp                    ns <P>tinet
    eth0 ------------- lan0          wan0 ----------- eth0        inet ------------- eth0
    192.168.50.10/24   192.168.50.1/24   SLAAC        2001:db8:12:3000::1/64        198.51.100.2/24
                       ip_forward=1                   radvd 2001:db8:12:3000::/64   10.20.0.1/32 (lo)
                                                      lo: BR ::1, AFTR ::2,         TCP/UDP echo,
                                                          peer ::3 (2001:db8:ffff::) source, sink
                                                      tests/lib/br4in6.py (BR/AFTR/peer)

MAP-E rule 2001:db8::/40 -> 192.0.2.0/24, EA-bits 12, PSID offset 4: the
router's WAN prefix 2001:db8:12:3000::/64 (learned from the RA) gives CE
192.0.2.18, PSID 3 of 4 bits, 15 ranges of 256 ports (3840), CE IPv6
2001:db8:12:3000:0:c000:212:3. tests/lib/br4in6.py computes all of that on its
own, from the RFC, and refuses traffic that does not fit.

brouterd does all of it from the config's "tunnel" group alone.
"""
import hashlib
import ipaddress
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

import bpfsys as bs

import br4in6
import topo
from topo import run, wait_for

PYTHON = "/usr/bin/python3"
HERE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib")
BR4IN6 = os.path.join(HERE, "br4in6.py")

ISP_LINK = "2001:db8:12:3000::1"
WAN_PREFIX = "2001:db8:12:3000::/64"
BR = "2001:db8:ffff::1"
AFTR = "2001:db8:ffff::2"
PEER = "2001:db8:ffff::3"
WRONG_BR = "2001:db8:ffff::99"
PEER_LOCAL = "2001:db8:12:3000::100"
INET = "198.51.100.2"
INET_GW = "198.51.100.1"
PEER_HOST = "10.20.0.1"
LAN_HOST = "192.168.50.10"
RTR_LAN = "192.168.50.1"
RULE = br4in6.MapRule("2001:db8::/40", "192.0.2.0/24", 12, psid_offset=4)
CE4, PSID, CE6 = RULE.ce_of_prefix(WAN_PREFIX)
RESERVED = RULE.ports(PSID)[0]          # forwarded to the LAN host's port 2222
# Renumbering: the ISP moves the router to another /64 inside the rule,
# which gives another CE IPv4 address and another PSID.
NEW_PREFIX = "2001:db8:34:7000::/64"
NEW_ISP_LINK = "2001:db8:34:7000::1"
NEW_CE4, NEW_PSID, NEW_CE6 = RULE.ce_of_prefix(NEW_PREFIX)
TUNNEL_MTU, TUNNEL_MSS = 1460, 1420
ECHO, SINK, SOURCE, UDP_ECHO, UDP_BIG, FWD = 7000, 7001, 7002, 7003, 7004, 2222
BIG = 8 << 20

MAPE_CONF = f"""
tunnel = {{
  mode = "map-e";
  map-e = {{ rule-ipv6 = "2001:db8::/40"; rule-ipv4 = "192.0.2.0/24"; ea-len = 12; psid-offset = 4;
            br = "{BR}";
            reserved-ports = ( {{ proto = "tcp"; port = {RESERVED}; to = "{LAN_HOST}"; to-port = {FWD}; }} ); }};
}};
"""

DSLITE_IPIP6_CONF = f"""
tunnel = {{
  mode = "ds-lite";
  ds-lite = {{ aftr = "{AFTR}"; }};
  ipip6 = ( {{ local = "{PEER_LOCAL}"; remote = "{PEER}"; prefixes = [ "10.20.0.0/16" ]; }} );
}};
"""

RADVD_IF = """\
interface eth0 {
	AdvSendAdvert on;
	MinRtrAdvInterval 3;
	MaxRtrAdvInterval 4;
	AdvDefaultLifetime 600;
%s};
"""
RADVD_PREFIX = """\
	prefix %s {
		AdvOnLink on;
		AdvAutonomous on;
	};
"""
# valid lifetime 0 (RFC 4861 6.3.4): the prefix is withdrawn
RADVD_WITHDRAWN = """\
	prefix %s {
		AdvOnLink on;
		AdvAutonomous on;
		AdvValidLifetime 0;
		AdvPreferredLifetime 0;
	};
"""
RADVD = RADVD_IF % (RADVD_PREFIX % "%s")

# The Internet host: TCP echo (logs each peer), sink (logs sha256), source
# (sends a file), UDP echo (logs each peer), and a DNS-like UDP server
# whose answer to "N SEED" is N bytes made from SEED (logs each query).
# One line per event in the log. Large UDP leaves without DF, in IPv4
# fragments.
SERVERS = r"""
import hashlib, os, random, resource, selectors, socket, sys, threading
# as many connections as a CE has ports, and more
resource.setrlimit(resource.RLIMIT_NOFILE, (1 << 14, 1 << 14))
log = open(sys.argv[1], "a", buffering=1)
big = sys.argv[2]
ECHO, SINK, SOURCE, UDP_ECHO, UDP_BIG = 7000, 7001, 7002, 7003, 7004

def listener(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(2048)
    return s

def echo_loop():
    sel = selectors.DefaultSelector()
    ls = listener(ECHO)
    ls.setblocking(False)
    sel.register(ls, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            if s is ls:
                while True:
                    try:
                        c, peer = ls.accept()
                    except BlockingIOError:
                        break
                    log.write("echo %s %d\n" % peer)
                    c.setblocking(False)
                    sel.register(c, selectors.EVENT_READ)
                continue
            try:
                data = s.recv(65536)
            except (BlockingIOError, ConnectionError):
                data = b""
            if data:
                s.setblocking(True)
                s.sendall(data)
                s.setblocking(False)
            else:
                sel.unregister(s)
                s.close()

def sink_one(c, peer):
    h, n = hashlib.sha256(), 0
    while True:
        d = c.recv(1 << 16)
        if not d:
            break
        h.update(d)
        n += len(d)
    log.write("sink %s %d %s %d\n" % (peer[0], peer[1], h.hexdigest(), n))
    c.close()

def source_one(c, peer):
    log.write("source %s %d\n" % peer)
    with open(big, "rb") as f:
        c.sendall(f.read())
    c.close()

def serve(port, fn):
    ls = listener(port)
    while True:
        c, peer = ls.accept()
        threading.Thread(target=fn, args=(c, peer), daemon=True).start()

def udp_socket(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, 10, 0)  # IP_MTU_DISCOVER, IP_PMTUDISC_DONT
    s.bind(("0.0.0.0", port))
    return s

def udp_echo():
    s = udp_socket(UDP_ECHO)
    while True:
        d, peer = s.recvfrom(65536)
        log.write("udp %s %d\n" % peer)
        s.sendto(d, peer)

def udp_big():
    s = udp_socket(UDP_BIG)
    while True:
        d, peer = s.recvfrom(100)
        n, seed = map(int, d.split())
        log.write("big %s %d %d\n" % (peer[0], peer[1], n))
        s.sendto(random.Random(seed).randbytes(n), peer)

for t in (echo_loop, udp_echo, udp_big, lambda: serve(SINK, sink_one),
          lambda: serve(SOURCE, source_one)):
    threading.Thread(target=t, daemon=True).start()
print("listening", flush=True)
threading.Event().wait()
"""


# From the LAN host: N concurrent connections to argv[1]:port mixed, in a
# random order, with M to the other addresses given, all held open until
# every one has been echoed; what made it, by destination.
MIXED = r"""
import json, random, resource, selectors, socket, sys, time
resource.setrlimit(resource.RLIMIT_NOFILE, (1 << 14, 1 << 14))
one, port, n, m, others = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5:]
dsts = [one] * n + [random.choice(others) for _ in range(m)]
random.Random(7).shuffle(dsts)
socks, started, late = {}, {}, 0
for i, dst in enumerate(dsts):
    s = socket.socket()
    s.setblocking(False)
    started[s] = time.monotonic()
    s.connect_ex((dst, port))
    socks[s] = dst
    if i % 50 == 49:
        time.sleep(0.02)   # a burst, not a flood the relay BR would drop
sel = selectors.DefaultSelector()
for s in socks:
    sel.register(s, selectors.EVENT_WRITE)
pending, failed, deadline = set(socks), {}, time.time() + 40
while pending and time.time() < deadline:
    for key, _ in sel.select(1):
        s = key.fileobj
        sel.unregister(s)
        pending.discard(s)
        if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
            failed[socks[s]] = failed.get(socks[s], 0) + 1
        # a SYN retransmitted (1 s): its first one found no port
        late += time.monotonic() - started[s] > 0.9
echoed = {}
for i, (s, dst) in enumerate(socks.items()):
    if s in pending or s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
        continue
    try:
        s.setblocking(True)
        s.settimeout(20)
        msg = b"hello %d\n" % i
        s.sendall(msg)
        got = b""
        while len(got) < len(msg):
            d = s.recv(100)
            if not d:
                break
            got += d
        if got == msg:
            echoed[dst] = echoed.get(dst, 0) + 1
    except OSError:
        pass
for s in socks:
    s.close()
print(json.dumps({"echoed": echoed, "failed": failed, "timed_out": len(pending),
                  "late": late}))
"""

TCP_ONE = r"""
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
s.sendall(b"brouter tunnel\n")
got = b""
while len(got) < 15:
    d = s.recv(100)
    if not d:
        break
    got += d
print(got.decode().strip())
"""

# One UDP exchange with the echo server; with a source port (argv[3]) run
# twice it is the same flow (one conntrack entry) each time.
UDP_ONE = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
if len(sys.argv) > 3:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", int(sys.argv[3])))
s.settimeout(2)
for _ in range(5):
    s.sendto(b"udp through the tunnel", (sys.argv[1], int(sys.argv[2])))
    try:
        print(s.recvfrom(100)[0].decode())
        break
    except socket.timeout:
        pass
"""

UPLOAD = r"""
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=20)
with open(sys.argv[3], "rb") as f:
    s.sendall(f.read())
s.shutdown(socket.SHUT_WR)
s.recv(1)
"""

DOWNLOAD = r"""
import hashlib, socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=20)
h, n = hashlib.sha256(), 0
while True:
    d = s.recv(1 << 16)
    if not d:
        break
    h.update(d)
    n += len(d)
print(h.hexdigest(), n)
"""

# A LAN server for the reserved (port-forwarded) MAP-E port.
LAN_SERVER = r"""
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(8)
print("listening", flush=True)
while True:
    c, peer = s.accept()
    c.sendall(("lan server sees %s\n" % peer[0]).encode())
    c.close()
"""


class Rig:
    """The four namespaces above; brouterd and a BR are started per test group."""

    def __init__(self):
        self.prefix = topo.new_prefix()
        self.isp, self.rtr = self.prefix + "tisp", self.prefix + "trtr"
        self.lan, self.inet = self.prefix + "tlan", self.prefix + "tinet"
        self.pin_dir = f"{topo.BPFFS}/{self.prefix}tpins"
        self.tmp = None
        self._procs = []     # for topo.Brouterd

    # ------------------------------------------------------------ setup

    def start(self):
        if os.geteuid() != 0:
            pytest.skip("needs root (network namespaces, BPF)")
        topo.cleanup_stale()
        topo.cleanup_prefix(self.prefix)
        import tempfile
        self.tmp = tempfile.mkdtemp(prefix=self.prefix)
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def close(self):
        steps = [lambda p=p: topo._kill_group(p) for p in reversed(self._procs)]
        steps.append(lambda: topo.cleanup_prefix(self.prefix))
        steps.append(lambda: topo._remove_pin_dir(self.pin_dir))
        topo.run_cleanup(steps, self.prefix)

    def popen(self, ns, cmd, **kw):
        kw.setdefault("stdin", subprocess.DEVNULL)
        p = subprocess.Popen(topo._cmdline(ns, cmd), start_new_session=True, **kw)
        self._procs.append(p)
        return p

    def _ns(self, name):
        run(None, ["ip", "netns", "add", name])
        run(name, ["ip", "link", "set", "lo", "up"])
        run(name, ["sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0",
                   "net.ipv6.conf.default.accept_dad=0"])

    def _build(self):
        for n in (self.isp, self.rtr, self.lan, self.inet):
            self._ns(n)
        run(self.rtr, ["ip", "link", "add", "wan0", "type", "veth", "peer", "name", "eth0",
                       "netns", self.isp])
        run(self.rtr, ["ip", "link", "add", "lan0", "type", "veth", "peer", "name", "eth0",
                       "netns", self.lan])
        run(self.isp, ["ip", "link", "add", "inet", "type", "veth", "peer", "name", "eth0",
                       "netns", self.inet])

        # ISP: IPv6 router with the BR/AFTR/peer addresses; IPv4 not routed
        # (br4in6.py relays it), the CE side blackholed so it stays quiet.
        run(self.isp, ["sysctl", "-qw", "net.ipv6.conf.all.forwarding=1",
                       "net.ipv4.ip_forward=0"])
        for d in ("eth0", "inet"):
            run(self.isp, ["ip", "link", "set", d, "up"])
        run(self.isp, ["ip", "-6", "addr", "add", f"{ISP_LINK}/64", "dev", "eth0", "nodad"])
        for a in (BR, AFTR, PEER, WRONG_BR):
            run(self.isp, ["ip", "-6", "addr", "add", f"{a}/128", "dev", "lo"])
        run(self.isp, ["ip", "addr", "add", f"{INET_GW}/24", "dev", "inet"])
        for p in ("192.0.2.0/24", "192.168.50.0/24"):
            run(self.isp, ["ip", "route", "add", "blackhole", p])
        run(self.isp, ["ip", "route", "add", "10.20.0.0/16", "via", INET])
        # frames brouter's XDP redirects to the ISP need NAPI on this veth
        run(self.isp, ["ethtool", "-K", "eth0", "gro", "on"])

        # The Internet host (its TCP checksums must be complete: tx off).
        run(self.inet, ["ip", "link", "set", "eth0", "up"])
        run(self.inet, ["ip", "addr", "add", f"{INET}/24", "dev", "eth0"])
        run(self.inet, ["ip", "addr", "add", f"{PEER_HOST}/32", "dev", "lo"])
        run(self.inet, ["ip", "route", "add", "default", "via", INET_GW])
        run(self.inet, ["ethtool", "-K", "eth0", "tx", "off"])

        # Router: routes IPv4, learns its WAN address and IPv6 default route.
        run(self.rtr, ["sysctl", "-qw", "net.ipv4.ip_forward=1",
                       "net.ipv6.conf.all.forwarding=0"])
        for d in ("wan0", "lan0"):
            run(self.rtr, ["ip", "link", "set", d, "up"])
        run(self.rtr, ["ip", "addr", "add", f"{RTR_LAN}/24", "dev", "lan0"])

        # LAN host
        run(self.lan, ["ip", "link", "set", "eth0", "up"])
        run(self.lan, ["ip", "addr", "add", f"{LAN_HOST}/24", "dev", "eth0"])
        run(self.lan, ["ip", "route", "add", "default", "via", RTR_LAN])
        run(self.lan, ["ethtool", "-K", "eth0", "gro", "on"])
        run(self.lan, ["ethtool", "-K", "eth0", "tx", "off"])

        self.radvd_conf = os.path.join(self.tmp, "radvd.conf")
        with open(self.radvd_conf, "w") as f:
            f.write(RADVD % WAN_PREFIX)
        lf = open(os.path.join(self.tmp, "radvd.log"), "w")
        self.radvd = self.popen(self.isp, ["radvd", "-C", self.radvd_conf, "-p",
                                           os.path.join(self.tmp, "radvd.pid"),
                                           "-n", "-m", "stderr"], stdout=lf, stderr=lf)
        wait_for(self.wan_slaac, timeout=30, what="router SLAAC address on wan0")
        wait_for(lambda: run(self.rtr, ["ip", "-6", "route", "show", "default"]).stdout,
                 timeout=30, what="router IPv6 default route")

        self.big = os.path.join(self.tmp, "big.bin")
        with open(self.big, "wb") as f:
            f.write(os.urandom(BIG))
        self.inet_log = os.path.join(self.tmp, "inet.log")
        script = self.script("servers.py", SERVERS)
        p = self.popen(self.inet, [PYTHON, script, self.inet_log, self.big],
                       stdout=subprocess.PIPE, text=True)
        assert "listening" in p.stdout.readline()

    def advertise(self, prefixes, withdrawn=()):
        """radvd advertises @prefixes from now on, and @withdrawn with
        valid lifetime 0: new config, SIGHUP (radvd re-reads it and sends
        at least every MaxRtrAdvInterval, 4 s)."""
        body = "".join(RADVD_PREFIX % p for p in prefixes) + \
            "".join(RADVD_WITHDRAWN % p for p in withdrawn)
        # whole or not at all: radvd may still be reading after the last SIGHUP
        with open(self.radvd_conf + ".tmp", "w") as f:
            f.write(RADVD_IF % body)
        os.replace(self.radvd_conf + ".tmp", self.radvd_conf)
        assert self.radvd.poll() is None, \
            "radvd is gone: " + open(os.path.join(self.tmp, "radvd.log")).read()
        os.kill(self.radvd.pid, signal.SIGHUP)

    def forget_new_prefix(self):
        """NEW_PREFIX's addresses off both sides of the WAN link again."""
        run(self.isp, ["ip", "-6", "addr", "del", f"{NEW_ISP_LINK}/64", "dev", "eth0"],
            check=False)
        for a in topo.addrs6(self.rtr, "wan0"):
            if ipaddress.ip_address(a) in ipaddress.ip_network(NEW_PREFIX):
                run(self.rtr, ["ip", "-6", "addr", "del", f"{a}/64", "dev", "wan0"],
                    check=False)

    def script(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    # ------------------------------------------------------------ state

    def wan_slaac(self):
        for a in topo.addrs6(self.rtr, "wan0"):
            if ipaddress.ip_address(a) in ipaddress.ip_network(WAN_PREFIX) and \
                    a not in (CE6, PEER_LOCAL):
                return a
        return None

    def wan_addrs(self):
        out = run(self.rtr, ["ip", "-j", "addr", "show", "dev", "wan0"]).stdout
        return [a["local"] for l in json.loads(out) for a in l.get("addr_info", [])]

    def routes4(self):
        return run(self.rtr, ["ip", "-4", "route", "show"]).stdout

    def nft_tables(self):
        return run(self.rtr, ["nft", "list", "tables"]).stdout

    def egress_filters(self):
        """brouter's tc egress on wan0, a tcx link or a clsact filter ("": none)."""
        tcx = " ".join(name for _, name in bs.tcx_progs(self.rtr, "wan0", "egress"))
        return (tcx + run(self.rtr, ["tc", "filter", "show", "dev", "wan0", "egress"],
                          check=False).stdout).strip()

    def neigh4(self):
        return run(self.rtr, ["ip", "-4", "neigh", "show", "dev", "wan0"]).stdout

    def tcpdump(self, ns, flt):
        """tcpdump on eth0 of @ns, started and listening; stop with
        capture_lines()."""
        p = self.popen(ns, ["tcpdump", "-i", "eth0", "-n", "-l", "-v", "-p", flt],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = p.stderr.readline()
        assert "listening on" in line, line + p.stderr.read()
        return p

    @staticmethod
    def capture_lines(p):
        """What tcpdump @p printed, once it has flushed and exited."""
        os.killpg(p.pid, signal.SIGINT)
        try:
            out, _ = p.communicate(timeout=10)
        finally:
            topo._kill_group(p)
        return out

    def inet_events(self, kind):
        with open(self.inet_log) as f:
            return [l.split()[1:] for l in f if l.startswith(kind + " ")]

    # ------------------------------------------------------------ processes

    def start_brouterd(self, conf_text, name):
        """brouterd with @conf_text, which --check-config must accept first."""
        conf = self.script(name + ".conf", conf_text)
        chk = run(self.rtr, [topo.BROUTERD, "--check-config", "-c", conf, "lan0", "wan0"],
                  check=False)
        assert chk.returncode == 0, f"config refused:\n{chk.stderr}"
        assert ", tunnel " in chk.stdout, chk.stdout
        b = topo.Brouterd(self, ["-c", conf, "-v", "lan0", "wan0"], self.pin_dir,
                          os.path.join(self.tmp, name + ".log"))
        b.start()
        return b

    def stop_brouterd(self, b):
        assert b.stop() == 0, b.log()

    def start_mape(self):
        """The MAP-E BR and brouterd with MAPE_CONF (b.br: the BR)."""
        br = self.start_br("br", "--mode", "map-e", "--addr", BR, "--rule-ipv6",
                           "2001:db8::/40", "--rule-ipv4", "192.0.2.0/24", "--ea-len",
                           "12", "--psid-offset", "4")
        b = self.start_brouterd(MAPE_CONF, "mape")
        b.brs = [br]
        b.br = br
        wait_for(lambda: CE6 in self.wan_addrs(), timeout=20, what="CE IPv6 address on wan0")
        return b

    def start_dslite(self):
        """The AFTR, the ipip6 peer and brouterd with DSLITE_IPIP6_CONF."""
        aftr = self.start_br("aftr", "--mode", "ds-lite", "--addr", AFTR,
                             "--return-prefix", "192.168.50.0/24", "--match-src",
                             f"{INET}/32")
        peer = self.start_br("peer", "--mode", "ipip6", "--addr", PEER, "--peer",
                             PEER_LOCAL, "--return-prefix", "192.168.50.0/24",
                             "--match-src", "10.20.0.0/16")
        b = self.start_brouterd(DSLITE_IPIP6_CONF, "dslite")
        b.brs = [aftr, peer]
        b.aftr, b.peer = aftr, peer
        wait_for(lambda: "192.0.0.2" in self.wan_addrs(), timeout=20,
                 what="B4 address on wan0")
        run(self.inet, ["ip", "route", "replace", "192.168.50.0/24", "via", INET_GW])
        return b

    def stop_tunnel(self, b):
        """brouterd @b stopped (unless a test did), and its BRs."""
        if b.proc.poll() is None:
            self.stop_brouterd(b)
        for p in b.brs:
            topo._kill_group(p)

    def start_br(self, name, *args):
        stats = os.path.join(self.tmp, name + ".json")
        logf = open(os.path.join(self.tmp, name + ".log"), "w")
        p = self.popen(self.isp, [PYTHON, BR4IN6, "serve", "--inet-if", "inet",
                                  "--stats", stats, *args], stdout=logf,
                       stderr=subprocess.STDOUT)
        wait_for(lambda: os.path.exists(stats) or p.poll() is not None, timeout=10,
                 what=f"{name} ready")
        assert p.poll() is None, open(logf.name).read()
        p.stats_path = stats
        return p

    @staticmethod
    def br_stats(p, settle=0.5):
        """The BR's counters, once they have stopped changing."""
        last, deadline = None, time.monotonic() + 10
        while time.monotonic() < deadline:
            time.sleep(settle)
            with open(p.stats_path) as f:
                st = json.load(f)
            if st == last:
                break
            last = st
        return st

    def lan_py(self, script, *args, timeout=60):
        path = self.script(f"lan-{abs(hash(script))}.py", script)
        p = run(self.lan, [PYTHON, path, *map(str, args)], check=False, timeout=timeout)
        assert p.returncode == 0, p.stdout + p.stderr
        return p.stdout.strip()

    def ping(self, dst, count=3):
        p = run(self.lan, ["ping", "-c", str(count), "-i", "0.2", "-W", "2", dst],
                check=False, timeout=30)
        assert p.returncode == 0, f"ping {dst}:\n{p.stdout}{p.stderr}"


@pytest.fixture(scope="module")
def rig():
    r = Rig()
    r.start()
    yield r
    r.close()


def wan_counter(b, name):
    return b.stats()["wan"][name]["packets"]


# ------------------------------------------------------------ pure checks


def test_br_math_reproduces_rfc7597_and_vsix_plus_vectors():
    """br4in6.py's own RFC 7597 arithmetic gives the published values, so
    it is a fair independent check of brouterd's."""
    r = br4in6.MapRule("2001:db8::/40", "192.0.2.0/24", 16, psid_offset=6)
    assert r.ce_of_prefix("2001:db8:12:3400::/56") == \
        ("192.0.2.18", 0x34, "2001:db8:12:3400:0:c000:212:34")
    assert r.ranges(0x34)[:2] == [(1232, 1235), (2256, 2259)]
    assert r.ranges(0x34)[-1] == (64720, 64723)
    v6plus = br4in6.MapRule("240b:10::/31", "106.72.0.0/15", 25, psid_offset=4, legacy=True)
    assert v6plus.ce_of_prefix("240b:10:3f6c:d400::/56") == \
        ("106.72.63.108", 212, "240b:10:3f6c:d400:6a:483f:6c00:d400")
    assert v6plus.ranges(212)[0] == (7488, 7503) and len(v6plus.ranges(212)) == 15
    assert (CE4, PSID, CE6) == ("192.0.2.18", 3, "2001:db8:12:3000:0:c000:212:3")
    assert len(RULE.ports(PSID)) == 3840


# ------------------------------------------------------------ MAP-E


@pytest.fixture(scope="module")
def mape(rig):
    b = rig.start_mape()
    yield b
    rig.stop_tunnel(b)


def test_mape_puts_ce_addresses_route_and_nat_table_in_place(rig, mape):
    addrs = rig.wan_addrs()
    assert CE6 in addrs and CE4 in addrs
    assert f"default via 192.0.0.1 dev wan0 proto 180 onlink mtu 1460" in rig.routes4()
    assert "192.0.0.1 lladdr 02:00:c0:00:00:01 PERMANENT" in rig.neigh4()
    table = run(rig.rtr, ["nft", "list", "table", "ip", "brouter"]).stdout
    # NAT into stand-ins for the 3840 ports of the set but the reserved one
    assert f"snat to {CE4}:1-3839" in table
    assert "th dport 1-3839 ct state new drop" in table
    assert f"dport {RESERVED} dnat to {LAN_HOST}:{FWD}" in table
    # no chain every forwarded packet runs: the BPF programs clamp SYNs
    assert "hook forward" not in table and "maxseg" not in table
    assert "tc_brouter_out" in rig.egress_filters()


def test_mape_ping_tcp_udp_from_lan_through_br(rig, mape):
    before = wan_counter(mape, "decap")
    rig.ping(INET)
    assert rig.lan_py(TCP_ONE, INET, ECHO) == "brouter tunnel"
    assert rig.lan_py(UDP_ONE, INET, UDP_ECHO) == "udp through the tunnel"
    ports = set(RULE.ports(PSID))
    for kind in ("echo", "udp"):
        src, port = rig.inet_events(kind)[-1]
        assert src == CE4 and int(port) in ports, (kind, src, port)
    assert wan_counter(mape, "decap") - before >= 3 + 1 + 1
    st = rig.br_stats(mape.br)
    assert st["out_bad"] == 0, st["bad"]
    assert st["ce_seen"] == [CE6]


def test_mape_icmp_echo_identifiers_at_the_br_are_in_the_ce_port_set(rig, mape):
    """conntrack NATs echo identifiers like ports: each ping arrives at the
    BR with an identifier of PSID 3's set (RFC 7597 5.1), and the BR
    sends the replies back to this CE by that identifier."""
    for _ in range(4):         # a new ping, a new identifier each time
        rig.ping(INET, count=1)
    st = rig.br_stats(mape.br)
    ids = st["ports_seen"].get(f"{CE4} icmp", [])
    assert len(ids) >= 4, st["ports_seen"]
    outside = set(ids) - set(RULE.ports(PSID))
    assert not outside, f"echo identifiers outside PSID {PSID}'s set: {sorted(outside)}"
    for key, ports in st["ports_seen"].items():
        src, _ = key.split()
        assert src == CE4 and set(ports) <= set(RULE.ports(PSID)), (key, ports)
    assert st["out_bad"] == 0, st["bad"]


MSS_RE = re.compile(r"(\S+)\.(\d+) > (\S+)\.(\d+): Flags \[(S\.?)\].*\bmss (\d+)")


def syns(tcpdump_out):
    """{("S" | "S.", source address): MSS} from tcpdump -v lines."""
    return {(m.group(5), m.group(1)): int(m.group(6)) for m in MSS_RE.finditer(tcpdump_out)}


def test_mape_tcp_mss_clamped_to_1420_on_the_syn_and_the_syn_ack(rig, mape):
    """Both ends advertise MSS 1460 (1500-byte links); the router's clamp
    chain makes the SYN reach the Internet host, and the SYN-ACK reach the
    LAN host, with tunnel MTU - 40 = 1420, so neither side sends segments
    the 1460-byte tunnel cannot carry."""
    run(rig.lan, ["ip", "route", "flush", "cache"])    # no learnt PMTU: advmss 1460
    flt = f"tcp port {ECHO} and tcp[tcpflags] & tcp-syn != 0"
    at_inet, at_lan = rig.tcpdump(rig.inet, flt), rig.tcpdump(rig.lan, flt)
    assert rig.lan_py(TCP_ONE, INET, ECHO) == "brouter tunnel"
    time.sleep(0.3)
    inet, lan = syns(rig.capture_lines(at_inet)), syns(rig.capture_lines(at_lan))
    assert lan.get(("S", LAN_HOST)) == 1460, f"LAN host's own SYN: {lan}"
    assert inet.get(("S", CE4)) == TUNNEL_MSS, f"SYN at the Internet host: {inet}"
    assert inet.get(("S.", INET)) == 1460, f"Internet host's own SYN-ACK: {inet}"
    assert lan.get(("S.", INET)) == TUNNEL_MSS, f"SYN-ACK at the LAN host: {lan}"


def test_mape_df_packet_too_big_for_the_tunnel_gets_frag_needed_1460(rig, mape):
    """A 1500-byte IPv4 packet with DF cannot enter the 1460-byte tunnel:
    the router says so with ICMP "fragmentation needed", MTU 1460 (the
    route's MTU; no silent loss in tc egress), and 1460 bytes go through."""
    run(rig.lan, ["ip", "route", "flush", "cache"])
    try:
        p = run(rig.lan, ["ping", "-M", "do", "-s", "1472", "-c", "1", "-W", "3", INET],
                check=False, timeout=15)
        assert p.returncode != 0, p.stdout
        assert f"From {RTR_LAN}" in p.stdout and f"mtu = {TUNNEL_MTU}" in p.stdout, \
            p.stdout + p.stderr
        route = run(rig.lan, ["ip", "route", "get", INET]).stdout
        assert f"mtu {TUNNEL_MTU}" in route, f"LAN host did not learn the PMTU: {route}"
        p = run(rig.lan, ["ping", "-M", "do", "-s", "1432", "-c", "2", "-i", "0.2", "-W", "3",
                          INET], check=False, timeout=15)
        assert p.returncode == 0 and "2 received" in p.stdout, p.stdout + p.stderr
    finally:
        run(rig.lan, ["ip", "route", "flush", "cache"])
    st = rig.br_stats(mape.br)
    assert st["out_bad"] == 0, st["bad"]


def test_mape_500_concurrent_connections_use_distinct_ports_of_the_set(rig, mape):
    n = 500
    seen_before = len(rig.inet_events("echo"))
    res = json.loads(rig.lan_py(MIXED, INET, ECHO, n, 0, timeout=180))
    assert (res["echoed"], res["failed"], res["timed_out"]) == ({INET: n}, {}, 0), res
    events = rig.inet_events("echo")[seen_before:]
    assert len(events) == n
    assert {src for src, _ in events} == {CE4}
    ports = [int(p) for _, p in events]
    assert len(set(ports)) == n, "mapped ports are not distinct"
    outside = set(ports) - set(RULE.ports(PSID))
    assert not outside, f"ports outside PSID {PSID}'s set: {sorted(outside)[:10]}"
    # NAPT is not stuck in one block of the set
    ranges = {p >> 12 for p in ports}
    assert len(ranges) == 15, f"only ranges {sorted(ranges)} used"
    st = rig.br_stats(mape.br)
    assert st["out_bad"] == 0, st["bad"]


# From the LAN host: N TCP connections held open until stdin closes.
HOLD = r"""
import socket, sys
dst, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
socks = [socket.create_connection((dst, port), timeout=10) for _ in range(n)]
print("ready", flush=True)
sys.stdin.read()
"""


def ct_reply_ports(rig, proto):
    """Reply destination ports of conntrack's entries to the CE address,
    as Debian's conntrack tool lists them."""
    out = run(rig.rtr, ["conntrack", "-L", "-p", proto, "--reply-dst", CE4],
              check=False).stdout
    # the second dport= of a line is the reply tuple's
    return {int(m[1]) for m in (re.findall(r"dport=(\d+)", l)
                                for l in out.splitlines()) if len(m) == 2}


def metric_samples(text):
    out = {}
    for line in text.splitlines():
        m = re.match(r"^(\w+)(\{[^}]*\})? (\S+)$", line)
        if m:
            out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return out


def test_mape_port_use_metric_counts_the_ports_conntrack_holds(rig, mape):
    n = 200
    seen_before = len(rig.inet_events("echo"))
    path = rig.script("hold.py", HOLD)
    p = rig.popen(rig.lan, [PYTHON, path, INET, str(ECHO), str(n)],
                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        wait_for(lambda: len(rig.inet_events("echo")) >= seen_before + n,
                 timeout=10, what="the server's accepts")
        held = {int(port) for _, port in rig.inet_events("echo")[seen_before:]}
        assert len(held) == n
        before = ct_reply_ports(rig, "tcp")
        ctl = [topo.BROUTERCTL, "-p", rig.pin_dir]
        m = metric_samples(run(rig.rtr, ctl + ["metrics"]).stdout)
        tun = json.loads(run(rig.rtr, ctl + ["tunnel", "--json"]).stdout)
        text = run(rig.rtr, ctl + ["tunnel"]).stdout
        after = ct_reply_ports(rig, "tcp")
    finally:
        p.stdin.close()
        p.wait(timeout=30)
    # conntrack holds the stand-ins of the ports the server saw (1.. in order
    # of the set, the reserved port left out)
    nat_ports = [p for p in sorted(RULE.ports(PSID)) if p != RESERVED]
    stand_in = {p: i + 1 for i, p in enumerate(nat_ports)}
    held = {stand_in[p] for p in held}
    assert held <= before and held <= after
    used = m['brouter_mape_ports_used{proto="tcp"}']
    # earlier tests' connections may time out meanwhile: between the reads
    assert min(len(before), len(after)) <= used <= max(len(before), len(after))
    assert used >= n
    assert m["brouter_mape_ports"] == len(RULE.ports(PSID)) == 3840
    assert m['brouter_mape_port_usage_ratio{proto="tcp"}'] == \
        pytest.approx(used / 3840, rel=1e-5)
    assert m['brouter_tunnel_up{mode="map-e"}'] == 1
    mape_out = [t for t in tun["tun_out"] if t["mode"] == "map-e"]
    assert min(len(before), len(after)) <= mape_out[0]["ports_used"]["tcp"] \
        <= max(len(before), len(after))
    assert re.search(r"ports in use: tcp (\d+) of 3840 \(\d+\.\d%\)", text), text


def test_mape_large_tcp_transfers_arrive_intact_through_1460_mtu(rig, mape):
    with open(rig.big, "rb") as f:
        want = hashlib.sha256(f.read()).hexdigest()
    assert rig.lan_py(DOWNLOAD, INET, SOURCE, timeout=120) == f"{want} {BIG}"
    rig.lan_py(UPLOAD, INET, SINK, rig.big, timeout=120)
    sink = wait_for(lambda: rig.inet_events("sink"), timeout=20, what="sink result")[-1]
    assert sink[0] == CE4 and int(sink[1]) in set(RULE.ports(PSID))
    assert sink[2:] == [want, str(BIG)]
    st = rig.br_stats(mape.br)
    assert st["out_bad"] == 0, st["bad"]


def test_mape_reserved_port_forwards_to_the_lan_server(rig, mape):
    p = rig.popen(rig.lan, [PYTHON, rig.script("lan_server.py", LAN_SERVER), FWD],
                  stdout=subprocess.PIPE, text=True)
    assert "listening" in p.stdout.readline()
    got = run(rig.inet, [PYTHON, "-c",
                         "import socket,sys; s=socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10);"
                         "print(s.recv(100).decode().strip())", CE4, RESERVED], timeout=30)
    assert got.stdout.strip() == f"lan server sees {INET}"
    topo._kill_group(p)


def inner_udp(dst, dport, src=INET):
    from scapy.all import IP, UDP  # pylint: disable=import-outside-toplevel
    return bytes(IP(src=src, dst=dst) / UDP(sport=53, dport=dport) / b"x").hex()


def inject(rig, src6, inner_hex, count=3):
    run(rig.isp, [PYTHON, BR4IN6, "inject", "--src", src6, "--dst", CE6,
                  "--hex", inner_hex, "--count", count])


def test_mape_drops_4in6_from_a_wrong_br(rig, mape):
    before = wan_counter(mape, "tun_bad_src")
    inject(rig, WRONG_BR, inner_udp(CE4, RULE.ports(PSID)[5]))
    wait_for(lambda: wan_counter(mape, "tun_bad_src") - before == 3, timeout=5,
             what="tun_bad_src += 3")


def test_mape_drops_inner_port_outside_the_set_and_wrong_ce_address(rig, mape):
    before = {k: wan_counter(mape, k) for k in ("tun_bad_port", "tun_bad_dst", "decap")}
    other_psid = RULE.ports(PSID + 1)[0]
    inject(rig, BR, inner_udp(CE4, other_psid))        # another CE's port
    inject(rig, BR, inner_udp(CE4, 1000))              # A = 0: no CE's port
    inject(rig, BR, inner_udp("192.0.2.19", RULE.ports(PSID)[0]))
    wait_for(lambda: wan_counter(mape, "tun_bad_port") - before["tun_bad_port"] == 6,
             timeout=5, what="tun_bad_port += 6")
    wait_for(lambda: wan_counter(mape, "tun_bad_dst") - before["tun_bad_dst"] == 3,
             timeout=5, what="tun_bad_dst += 3")
    assert wan_counter(mape, "decap") == before["decap"]


def mape_log_line(prefix, ce4, psid, ce6):
    """What brouterd logs for a CE computed from @prefix."""
    rng = RULE.ranges(psid)
    return (f"MAP-E: end-user prefix {prefix} -> CE IPv4 {ce4}, PSID {psid} (4 bits, "
            f"offset 4), {len(RULE.ports(psid))} ports in {len(rng)} ranges "
            f"{rng[0][0]}-{rng[0][1]} .. {rng[-1][0]}-{rng[-1][1]}, CE IPv6 {ce6}, "
            f"BR {BR}, MTU {TUNNEL_MTU}")


def wait_ce(rig, ce4, ce6, gone4, gone6):
    def moved():
        a = rig.wan_addrs()
        return ce4 in a and ce6 in a and gone4 not in a and gone6 not in a
    wait_for(moved, timeout=15, what=f"CE {ce4} {ce6} on wan0 instead of {gone4} {gone6}")


def check_ce_in_use(rig, mape, ce4, psid, ce6, old4, old6):
    """brouterctl, nftables and traffic through the BR all use the CE."""
    tun = json.loads(mape.ctl("tunnel", "--json").stdout)
    [out] = tun["tun_out"]
    assert (out["local"], out["remote"], out["ce_ipv4"], out["psid"]) == (ce6, BR, ce4, psid)
    assert {(e["src"], e["dst"]) for e in tun["tun_in"]} == {(BR, ce6), ("any", ce6)}
    table = run(rig.rtr, ["nft", "list", "table", "ip", "brouter"]).stdout
    assert f"snat to {ce4}:" in table and old4 not in table, table
    assert f"default via 192.0.0.1 dev wan0 proto 180 onlink mtu {TUNNEL_MTU}" in rig.routes4()
    # the kernel flushes ARP entries, permanent too, with a device's last IPv4 address
    assert "192.0.0.1 lladdr 02:00:c0:00:00:01 PERMANENT" in rig.neigh4(), rig.neigh4()

    ports = set(RULE.ports(psid))
    rig.ping(INET)
    assert rig.lan_py(TCP_ONE, INET, ECHO) == "brouter tunnel"
    assert rig.lan_py(UDP_ONE, INET, UDP_ECHO) == "udp through the tunnel"
    for kind in ("echo", "udp"):
        src, port = rig.inet_events(kind)[-1]
        assert src == ce4 and int(port) in ports, (kind, src, port)
    st = rig.br_stats(mape.br)
    assert ce6 in st["ce_seen"], st["ce_seen"]
    for proto in ("icmp", "tcp", "udp"):
        assert st["ports_seen"].get(f"{ce4} {proto}"), (proto, st["ports_seen"])
        assert set(st["ports_seen"][f"{ce4} {proto}"]) <= ports, (proto, st["ports_seen"])
    assert st["out_bad"] == 0, st["bad"]


@pytest.fixture
def isp_renumbers(rig, mape):
    """The ISP side of a renumbering: it routes NEW_PREFIX to the router's
    link too. Afterwards: WAN_PREFIX alone again, and brouterd back on it
    (whatever the test left), nothing of NEW_PREFIX left on either side."""
    run(rig.isp, ["ip", "-6", "addr", "add", f"{NEW_ISP_LINK}/64", "dev", "eth0", "nodad"])
    yield
    rig.advertise([WAN_PREFIX], withdrawn=[NEW_PREFIX])
    try:
        if mape.proc.poll() is None:
            wait_ce(rig, CE4, CE6, NEW_CE4, NEW_CE6)
    finally:
        rig.advertise([WAN_PREFIX])
        rig.forget_new_prefix()


def test_mape_live_renumbering_moves_ce_and_traffic_to_the_new_prefix(rig, mape,
                                                                       isp_renumbers):
    """The ISP advertises a new /64 inside the rule and withdraws the old
    one (valid lifetime 0) while brouterd runs: brouterd recomputes CE
    IPv4, PSID and CE IPv6 (logged), moves its addresses on wan0, rewrites
    tun_out/tun_in and the NAT table, and LAN traffic reaches the BR from
    the new CE, with the BR's own arithmetic agreeing. A UDP flow that
    goes on across the change (same conntrack entry) moves too. Then the
    old prefix comes back and brouterd returns to it."""
    assert (NEW_CE4, NEW_PSID) == ("192.0.2.52", 7) and NEW_CE6 != CE6
    flow_port = 40001
    assert rig.lan_py(UDP_ONE, INET, UDP_ECHO, flow_port) == "udp through the tunnel"
    assert rig.inet_events("udp")[-1][0] == CE4
    log_from = len(mape.log())

    rig.advertise([NEW_PREFIX], withdrawn=[WAN_PREFIX])
    wait_ce(rig, NEW_CE4, NEW_CE6, CE4, CE6)
    log = mape.log()[log_from:]
    assert mape_log_line(NEW_PREFIX, NEW_CE4, NEW_PSID, NEW_CE6) in log, log
    assert re.search(rf"conntrack: [1-9]\d* entries of the old CE address {CE4} deleted", log), log
    assert f"reserved tcp port {RESERVED} (config line" in log and \
        f"not in the port set of PSID {NEW_PSID}" in log, log
    check_ce_in_use(rig, mape, NEW_CE4, NEW_PSID, NEW_CE6, CE4, CE6)
    assert f"dport {RESERVED}" not in run(rig.rtr, ["nft", "list", "table", "ip",
                                                    "brouter"]).stdout
    assert rig.lan_py(UDP_ONE, INET, UDP_ECHO, flow_port) == "udp through the tunnel", \
        "a flow NATed before the change is stuck on the old CE address"
    src, port = rig.inet_events("udp")[-1]
    assert src == NEW_CE4 and int(port) in set(RULE.ports(NEW_PSID)), (src, port)

    log_from = len(mape.log())
    rig.advertise([WAN_PREFIX], withdrawn=[NEW_PREFIX])
    wait_ce(rig, CE4, CE6, NEW_CE4, NEW_CE6)
    assert mape_log_line(WAN_PREFIX, CE4, PSID, CE6) in mape.log()[log_from:]
    check_ce_in_use(rig, mape, CE4, PSID, CE6, NEW_CE4, NEW_CE6)
    assert f"dport {RESERVED} dnat to {LAN_HOST}:{FWD}" in \
        run(rig.rtr, ["nft", "list", "table", "ip", "brouter"]).stdout


# ------------------------------------------------------------ MAP-E kept


def brouter_table(rig):
    return run(rig.rtr, ["nft", "list", "table", "ip", "brouter"], check=False).stdout


def wait_table_back(rig, within=1.0):
    t0 = time.monotonic()
    wait_for(lambda: f"snat to {CE4}:" in brouter_table(rig), timeout=within,
             interval=0.02, what=f"table ip brouter back within {within} s")
    return time.monotonic() - t0


def assert_ipv4_through_mape(rig, mape):
    """TCP and UDP from the LAN reach the Internet host from the CE address
    and a port of its set, and the BR found nothing wrong."""
    assert rig.lan_py(TCP_ONE, INET, ECHO) == "brouter tunnel"
    assert rig.lan_py(UDP_ONE, INET, UDP_ECHO) == "udp through the tunnel"
    for kind in ("echo", "udp"):
        src, port = rig.inet_events(kind)[-1]
        assert src == CE4 and int(port) in set(RULE.ports(PSID)), (kind, src, port)
    st = rig.br_stats(mape.br)
    assert st["out_bad"] == 0, st["bad"]


@pytest.mark.parametrize("cmd", [["nft", "flush", "ruleset"],
                                 ["nft", "delete", "table", "ip", "brouter"],
                                 ["nft", "flush", "chain", "ip", "brouter", "nat_out"],
                                 ["nft", "delete", "chain", "ip", "brouter", "fast_path"]],
                         ids=["flush-ruleset", "delete-table", "flush-chain", "delete-chain"])
def test_mape_nftables_table_removed_or_changed_is_back_within_1s(rig, mape, cmd):
    """What `systemctl restart nftables` does (flush ruleset), or an
    operator's nft: brouterd notices the change (NFNLGRP_NFTABLES), says
    who made it, and writes its table again within a second; MAP-E leaves
    from the CE address and port set again, conntrack on for the IPv4 fast
    path."""
    since = len(mape.log())
    run(rig.rtr, cmd)
    took = wait_table_back(rig)
    assert "chain fast_path" in brouter_table(rig)
    log = mape.log()[since:]
    assert re.search(r"nftables: table ip brouter was (deleted|changed) by nft "
                     r"\(pid \d+\): restored", log), log
    assert log.count("restored") == 1, log
    assert_ipv4_through_mape(rig, mape)
    print(f"table back after {took:.3f} s")


def test_mape_flush_read_with_a_wan_event_still_names_who_flushed(rig, mape):
    """`nft flush ruleset` and a WAN change read in one wake-up (brouterd
    held stopped while both happen): the table is reported removed by
    nft, once, not found missing by the WAN check that the other event
    runs; the neighbour is put back as well."""
    since = len(mape.log())
    os.kill(mape.proc.pid, signal.SIGSTOP)
    try:
        run(rig.rtr, ["nft", "flush", "ruleset"])
        run(rig.rtr, ["ip", "neigh", "del", "192.0.0.1", "dev", "wan0"])
    finally:
        os.kill(mape.proc.pid, signal.SIGCONT)
    wait_table_back(rig)
    wait_for(lambda: "192.0.0.1 lladdr" in rig.neigh4(), timeout=1, interval=0.02,
             what="neighbour put back")
    time.sleep(0.1)
    log = mape.log()[since:]
    assert re.search(r"nftables: table ip brouter was deleted by nft \(pid \d+\): restored",
                     log), log
    assert log.count("restored") == 1 and "was missing" not in log, log
    assert log.count("neighbour 192.0.0.1") == 1, log
    assert_ipv4_through_mape(rig, mape)


def test_mape_what_someone_removes_from_the_wan_is_put_back(rig, mape):
    """The tunnel's route, CE addresses and the next hop's neighbour entry,
    deleted by hand: each put back at once, said once, and IPv4 goes on."""
    def back():
        a = rig.wan_addrs()
        return CE4 in a and CE6 in a and "proto 180" in rig.routes4() and \
            "192.0.0.1 lladdr 02:00:c0:00:00:01 PERMANENT" in rig.neigh4()

    # (removing the WAN's last IPv4 address makes the kernel flush its IPv4
    # routes and neighbours too: those come back as well, each said once)
    for cmd, what in ((["ip", "route", "del", "default", "proto", "180"], "route 0.0.0.0/0"),
                      (["ip", "addr", "del", f"{CE4}/32", "dev", "wan0"], f"address {CE4}/32"),
                      (["ip", "-6", "addr", "del", f"{CE6}/128", "dev", "wan0"],
                       f"address {CE6}/128"),
                      (["ip", "neigh", "del", "192.0.0.1", "dev", "wan0"], "neighbour 192.0.0.1")):
        since = len(mape.log())
        run(rig.rtr, cmd)
        wait_for(back, timeout=1, interval=0.02, what=f"{what} put back")
        time.sleep(0.1)
        log = mape.log()[since:]
        assert log.count(what) == 1, (what, log)
    assert_ipv4_through_mape(rig, mape)


def test_mape_wan_mtu_change_is_followed_at_once(rig, mape):
    """mtu = 0: a new WAN MTU is the tunnel's MTU minus 40 as soon as the
    link event comes, not a second later; and back."""
    try:
        for wan_mtu in (1400, 1500):
            run(rig.rtr, ["ip", "link", "set", "wan0", "mtu", str(wan_mtu)])
            t0 = time.monotonic()
            want = f"default via 192.0.0.1 dev wan0 proto 180 onlink mtu {wan_mtu - 40}"
            wait_for(lambda: want in rig.routes4(), timeout=0.5, interval=0.01,
                     what=f"route with MTU {wan_mtu - 40}")
            assert time.monotonic() - t0 < 0.5
    finally:
        run(rig.rtr, ["ip", "link", "set", "wan0", "mtu", "1500"])
    wait_for(lambda: "proto 180" in rig.routes4(), timeout=5, what="route")
    assert_ipv4_through_mape(rig, mape)


def test_mape_wan_link_down_and_up(rig, mape):
    """The link going down flushes the tunnel's route, neighbour and IPv6
    address; they come back with the link."""
    since = len(mape.log())
    run(rig.rtr, ["ip", "link", "set", "wan0", "down"])
    wait_for(lambda: "wan0: link down" in mape.log()[since:], timeout=2, interval=0.02,
             what="link down seen")
    run(rig.rtr, ["ip", "link", "set", "wan0", "up"])
    wait_for(lambda: "proto 180" in rig.routes4() and CE6 in rig.wan_addrs() and
             "PERMANENT" in rig.neigh4(), timeout=2, interval=0.02,
             what="the tunnel's route, address and neighbour back with the link")
    # the router's own IPv6 default route comes back with the next RA
    wait_for(lambda: run(rig.rtr, ["ip", "-6", "route", "show", "default"]).stdout,
             timeout=10, what="IPv6 default route from an RA")
    assert_ipv4_through_mape(rig, mape)


def test_mape_wan_port_deleted_and_made_again(rig, mape):
    """The WAN NIC goes away and comes back: brouterd forgets what went
    with it (no errors about it), attaches everything to the new port, and
    MAP-E comes up again from the next RA: IPv4 through the tunnel."""
    since = len(mape.log())
    run(rig.rtr, ["ip", "link", "del", "wan0"])
    wait_for(lambda: "WAN port wan0" in mape.log()[since:], timeout=2, interval=0.02,
             what="WAN gone")
    topo._kill_group(rig.radvd)    # its interface went too
    run(rig.rtr, ["ip", "link", "add", "wan0", "type", "veth", "peer", "name", "eth0",
                  "netns", rig.isp])
    run(rig.isp, ["ip", "link", "set", "eth0", "up"])
    run(rig.isp, ["ip", "-6", "addr", "add", f"{ISP_LINK}/64", "dev", "eth0", "nodad"])
    run(rig.isp, ["ethtool", "-K", "eth0", "gro", "on"])
    run(rig.rtr, ["ip", "link", "set", "wan0", "up"])
    lf = open(os.path.join(rig.tmp, "radvd2.log"), "w")
    rig.radvd = rig.popen(rig.isp, ["radvd", "-C", rig.radvd_conf, "-p",
                                    os.path.join(rig.tmp, "radvd.pid"), "-n", "-m",
                                    "stderr"], stdout=lf, stderr=lf)
    wait_for(lambda: "WAN port wan0 is back" in mape.log()[since:], timeout=2,
             interval=0.02, what="WAN re-attached")
    wait_for(lambda: CE6 in rig.wan_addrs() and "proto 180" in rig.routes4(),
             timeout=15, what="MAP-E up again on the new WAN")
    wait_for(rig.wan_slaac, timeout=15, what="router SLAAC on the new WAN")
    log = mape.log()[since:]
    assert "brouterd: error:" not in log, log
    assert f"snat to {CE4}:" in brouter_table(rig)
    assert "tc_brouter_out" in rig.egress_filters()
    assert_ipv4_through_mape(rig, mape)


def test_mape_exit_removes_ce_addresses_routes_neighbour_and_nat_table(rig, mape):
    rig.stop_brouterd(mape)
    addrs = rig.wan_addrs()
    assert not {CE6, CE4, NEW_CE6, NEW_CE4} & set(addrs), addrs
    assert "192.0.0.1" not in rig.routes4() and "proto 180" not in rig.routes4()
    assert "192.0.0.1" not in rig.neigh4()
    assert "brouter" not in rig.nft_tables()
    assert rig.egress_filters() == "", "tc egress program left on wan0"
    assert rig.wan_slaac(), "the SLAAC address (not ours) must stay"


# ------------------------------------------------------------ MAP-E, OCN's shape

# 63 ranges of 16 ports (1008), as OCN Virtual Connect hands out: a 6-bit
# PSID at offset 6. The WAN prefix 2001:db8:12:3000::/64 gives CE
# 192.0.2.18, PSID 12.
OCN_RULE = br4in6.MapRule("2001:db8::/40", "192.0.2.0/24", 14, psid_offset=6)
OCN_CE4, OCN_PSID, OCN_CE6 = OCN_RULE.ce_of_prefix(WAN_PREFIX)
OCN_CONF = f"""
tunnel = {{
  mode = "map-e";
  map-e = {{ rule-ipv6 = "2001:db8::/40"; rule-ipv4 = "192.0.2.0/24"; ea-len = 14; psid-offset = 6;
            br = "{BR}"; }};
}};
"""
OTHER_INET = ("198.51.100.3", "198.51.100.4")


@pytest.fixture
def mape_ocn(rig, mape):
    """brouterd and the BR with OCN's shape of rule, instead of the first
    MAP-E pair, for one test (DS-Lite's brouterd comes next); two more
    addresses on the Internet host."""
    if mape.proc.poll() is None:
        rig.stop_brouterd(mape)
    topo._kill_group(mape.br)
    for a in OTHER_INET:
        run(rig.inet, ["ip", "addr", "add", f"{a}/24", "dev", "eth0"])
    br = rig.start_br("br-ocn", "--mode", "map-e", "--addr", BR, "--rule-ipv6",
                      "2001:db8::/40", "--rule-ipv4", "192.0.2.0/24", "--ea-len", "14",
                      "--psid-offset", "6")
    # The earlier tests' connections to the same server (in TIME_WAIT for
    # 2 min) still hold stand-ins of the first rule's range, which this
    # one's overlaps: each would be a port of the set taken towards it.
    run(rig.rtr, ["conntrack", "-F"], check=False)
    b = rig.start_brouterd(OCN_CONF, "mape-ocn")
    b.br = br
    wait_for(lambda: OCN_CE6 in rig.wan_addrs(), timeout=20, what="CE IPv6 address on wan0")
    yield b
    if b.proc.poll() is None:
        rig.stop_brouterd(b)
    topo._kill_group(br)
    for a in OTHER_INET:
        run(rig.inet, ["ip", "addr", "del", f"{a}/24", "dev", "eth0"], check=False)


def test_mape_whole_set_for_one_server_amid_other_traffic(rig, mape_ocn):
    """All 1008 ports of the set to ONE server at once, mixed in a random
    order with 300 connections to two other servers: every connection is
    established and echoed. NAT into one run of the set per connection
    (round robin) fails those whose run is full for that server while
    other runs still have room; the stand-ins let conntrack's own search
    cover the whole set for each destination."""
    assert (OCN_CE4, OCN_PSID) == ("192.0.2.18", 12)
    ports = set(OCN_RULE.ports(OCN_PSID))
    assert len(ports) == 1008 and len(OCN_RULE.ranges(OCN_PSID)) == 63
    assert "conntrack NATs into ports 1-1008" in mape_ocn.log()
    n, m = 1008, 300
    seen_before = len(rig.inet_events("echo"))
    # conntrack's search for a free port is bounded (128, then 64, 32, 16
    # random probes: softirq time): with all 1008 to one server, the last
    # few connections find the last free ports on a retransmitted SYN.
    # Retransmit once a second, as Linux does for the first four, so 40 s
    # allow enough of them.
    run(rig.lan, ["sysctl", "-qw", "net.ipv4.tcp_syn_linear_timeouts=40",
                  "net.ipv4.tcp_syn_retries=40"])
    try:
        res = json.loads(rig.lan_py(MIXED, INET, ECHO, n, m, *OTHER_INET, timeout=240))
    finally:
        run(rig.lan, ["sysctl", "-qw", "net.ipv4.tcp_syn_linear_timeouts=4",
                      "net.ipv4.tcp_syn_retries=6"])
    print(f"connections that needed a retransmitted SYN: {res['late']}")
    assert res["failed"] == {} and res["timed_out"] == 0, res
    assert res["echoed"].get(INET) == n, res
    assert sum(res["echoed"].values()) == n + m, res
    events = rig.inet_events("echo")[seen_before:]
    assert len(events) == n + m
    assert {src for src, _ in events} == {OCN_CE4}
    used = {int(p) for _, p in events}
    assert used <= ports, f"ports outside PSID {OCN_PSID}'s set: {sorted(used - ports)[:10]}"
    assert used == ports, "the one server's 1008 connections need every port of the set"
    st = rig.br_stats(mape_ocn.br)
    assert st["out_bad"] == 0, st["bad"]


def test_a_brouter_table_brouterd_did_not_write_is_refused(rig, mape):
    """An operator's own `table ip brouter` is not replaced: brouterd says
    why and stops, leaving the table as it was."""
    if mape.proc.poll() is None:
        rig.stop_brouterd(mape)
    run(rig.rtr, ["nft", "add", "table", "ip", "brouter"])
    run(rig.rtr, ["nft", "add", "chain", "ip", "brouter", "mine"])
    try:
        conf = rig.script("refused.conf", MAPE_CONF)
        b = topo.Brouterd(rig, ["-c", conf, "lan0", "wan0"], rig.pin_dir,
                          os.path.join(rig.tmp, "refused.log"))
        b.start(wait_ready=False)
        assert b.proc.wait(timeout=20) == 1, b.log()
        assert "a table ip brouter exists that brouterd did not write" in b.log()
        assert "chain mine" in brouter_table(rig), "the operator's table was touched"
    finally:
        run(rig.rtr, ["nft", "delete", "table", "ip", "brouter"], check=False)


# ------------------------------------------------------------ DS-Lite + ipip6


@pytest.fixture(scope="module")
def dslite(rig):
    b = rig.start_dslite()
    yield b
    rig.stop_tunnel(b)


def test_dslite_ping_and_tcp_through_aftr_without_nat_on_the_b4(rig, dslite):
    rig.ping(INET)
    assert rig.lan_py(TCP_ONE, INET, ECHO) == "brouter tunnel"
    src, _ = rig.inet_events("echo")[-1]
    assert src == LAN_HOST, "a B4 does no NAT: the AFTR sees the LAN address"
    st = rig.br_stats(dslite.aftr)
    assert st["out_ok"] >= 4 and st["in_ok"] >= 4 and st["out_bad"] == 0, st
    assert st["ce_seen"] == [rig.wan_slaac()], "B4 source is the WAN's own address"


def test_ipip6_peer_prefix_beside_dslite(rig, dslite):
    assert PEER_LOCAL in rig.wan_addrs()
    rig.ping(PEER_HOST)
    assert rig.lan_py(TCP_ONE, PEER_HOST, ECHO) == "brouter tunnel"
    src, _ = rig.inet_events("echo")[-1]
    assert src == LAN_HOST
    st = rig.br_stats(dslite.peer)
    assert st["out_ok"] >= 4 and st["in_ok"] >= 4 and st["out_bad"] == 0, st


def test_dslite_and_ipip6_drop_4in6_from_others(rig, dslite):
    before = wan_counter(dslite, "tun_bad_src")
    run(rig.isp, [PYTHON, BR4IN6, "inject", "--src", WRONG_BR, "--dst", PEER_LOCAL,
                  "--hex", inner_udp(LAN_HOST, 9), "--count", 2])
    run(rig.isp, [PYTHON, BR4IN6, "inject", "--src", PEER, "--dst", rig.wan_slaac(),
                  "--hex", inner_udp(LAN_HOST, 9), "--count", 2])
    wait_for(lambda: wan_counter(dslite, "tun_bad_src") - before == 4, timeout=5,
             what="tun_bad_src += 4")


def test_dslite_exit_removes_b4_peer_address_routes_and_table(rig, dslite):
    rig.stop_brouterd(dslite)
    addrs = rig.wan_addrs()
    assert "192.0.0.2" not in addrs and PEER_LOCAL not in addrs
    assert "proto 180" not in rig.routes4()
    assert "192.0.0.1" not in rig.neigh4()
    assert "brouter" not in rig.nft_tables()
    assert rig.egress_filters() == "", "tc egress program left on wan0"
    assert rig.wan_slaac(), "the SLAAC address (the B4's source, not ours) must stay"
