# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
A network-namespace rig for brouter, used by the demo and the integration
tests:

    ns <P>isp                 ns <P>rtr (brouterd)               ns <P>lan1
    eth0  ------------------  wan0            lan0  -----------  eth0
    198.51.100.1/24           198.51.100.2/24 192.168.50.1/24    192.168.50.10/24
    2001:db8:1::1/64          nft masquerade out wan0            SLAAC from the RA
    radvd: RA 2001:db8:1::/64 ip_forward=1                       (through the bridge)
    HTTP on [::]:8080 (dual stack)

With lan2=True the LAN port goes to a switch namespace <P>sw (a Linux
bridge) with two hosts, <P>lan1 (192.168.50.10) and <P>lan2
(192.168.50.11), for FDB and hairpin tests.

With minimal=True only <P>rtr exists, with lan0 <-> lanp and wan0 <-> wanp
veth pairs in it: enough to start and stop brouterd.

Everything is named with one prefix per rig ("brt<pid>-<n>-"); cleanup removes
namespaces, processes, pins and temp files even after a failure (context
manager, atexit), and a new run first removes what dead runs left behind.
Traffic only ever goes to addresses inside these namespaces.
"""
import atexit
import contextlib
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(REPO, "build")
BROUTERD = os.path.join(BUILD, "brouterd")
BROUTERCTL = os.path.join(BUILD, "brouterctl")
BPFFS = "/sys/fs/bpf"
NETNS_DIR = "/run/netns"

ISP_V6 = "2001:db8:1::1"
V6_PREFIX = ipaddress.ip_network("2001:db8:1::/64")
ISP_V4 = "198.51.100.1"
RTR_WAN_V4 = "198.51.100.2"
RTR_LAN_V4 = "192.168.50.1"
LAN_V4 = {"lan1": "192.168.50.10", "lan2": "192.168.50.11"}
HTTP_PORT = 8080
HTTP_TOKEN = "brouter-demo-page"

PREFIX_RE = re.compile(r"^brt(\d+)-")
_serial = [0]


def new_prefix():
    """brt<pid>-<n>-: unique per process and per Topology in it."""
    _serial[0] += 1
    return f"brt{os.getpid()}-{_serial[0]}-"


def exit_on_sigterm():
    """Turn SIGTERM/SIGHUP into SystemExit, so context managers and atexit
    clean up (Ctrl-C already raises KeyboardInterrupt)."""
    def handler(signum, _frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGHUP, handler)


# What dhclient runs on a lease: the address on the interface, nothing else.
DHCLIENT_SCRIPT = """#!/bin/sh
case "$reason" in
BOUND6|RENEW6|REBIND6|REBOOT6)
	[ -n "$new_ip6_address" ] &&
		ip -6 addr replace "$new_ip6_address/$new_ip6_prefixlen" dev "$interface" nodad
	;;
esac
exit 0
"""

RADVD_CONF = """\
interface eth0 {
	AdvSendAdvert on;
	MinRtrAdvInterval 3;
	MaxRtrAdvInterval 4;
	AdvDefaultLifetime 60;
	prefix %s {
		AdvOnLink on;
		AdvAutonomous on;
	};
};
"""

NAT_RULES = """\
table ip topo_nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan0" masquerade
	}
}
"""


class TopoError(RuntimeError):
    pass


def log(msg):
    print(f"[topo] {msg}", file=sys.stderr, flush=True)


def _cmdline(ns, cmd):
    if isinstance(cmd, str):
        cmd = ["sh", "-c", cmd]
    cmd = [str(c) for c in cmd]
    if ns:
        return ["nsenter", f"--net={NETNS_DIR}/{ns}", *cmd]
    return cmd


def run(ns, cmd, check=True, timeout=30, input=None):
    """Run cmd (list, or str for sh -c) in netns ns (None: here)."""
    argv = _cmdline(ns, cmd)
    try:
        p = subprocess.run(argv, capture_output=True, text=True,
                           timeout=timeout, input=input,
                           stdin=None if input is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise TopoError(f"timeout after {timeout}s: {' '.join(argv)}\n"
                        f"stdout: {e.stdout}\nstderr: {e.stderr}") from None
    if check and p.returncode != 0:
        raise TopoError(f"exit {p.returncode}: {' '.join(argv)}\n"
                        f"stdout: {p.stdout.strip()}\nstderr: {p.stderr.strip()}")
    return p


def wait_for(pred, timeout=10.0, interval=0.2, what="condition"):
    """Poll pred() until it returns something truthy; return that value."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            v = pred()
            if v:
                return v
        except Exception as e:  # pylint: disable=broad-except
            last_exc = e
        if time.monotonic() >= deadline:
            extra = f" (last error: {last_exc})" if last_exc else ""
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}{extra}")
        time.sleep(interval)


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill_group(proc, sig=signal.SIGTERM, timeout=5):
    """Stop a process we started in its own session, then reap it."""
    if proc.poll() is not None:
        return proc.returncode
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        return proc.wait(timeout=5)


def _netns_list():
    try:
        return sorted(os.listdir(NETNS_DIR))
    except FileNotFoundError:
        return []


def _delete_netns(name):
    """Kill what still runs in the namespace, then delete it."""
    p = run(None, ["ip", "netns", "pids", name], check=False, timeout=10)
    for pid in p.stdout.split():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), signal.SIGKILL)
    run(None, ["ip", "netns", "delete", name], check=False, timeout=10)


def run_cleanup(steps, prefix, say=None):
    """Run every cleanup step, then warn about namespaces named @prefix
    still there. A signal arriving meanwhile must not cut the cleanup
    short (it is delivered once we are done); a step that fails must not
    skip the others."""
    say = say or log
    sigs = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
    try:
        for step in steps:
            try:
                step()
            except Exception as e:  # pylint: disable=broad-except
                say(f"cleanup: {e}")
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
    left = [n for n in _netns_list() if n.startswith(prefix)]
    if left:
        say(f"WARNING: namespaces left behind: {left}")


def _remove_pin_dir(path):
    if os.path.isdir(path):
        shutil.rmtree(path, ignore_errors=True)


def cleanup_prefix(prefix):
    """Remove every namespace, pin dir and temp dir named with prefix."""
    for name in _netns_list():
        if name.startswith(prefix):
            _delete_netns(name)
    for root in (BPFFS, tempfile.gettempdir()):
        with contextlib.suppress(FileNotFoundError):
            for name in os.listdir(root):
                path = os.path.join(root, name)
                if name.startswith(prefix) and os.path.isdir(path) \
                        and not os.path.islink(path):
                    shutil.rmtree(path, ignore_errors=True)


def cleanup_stale():
    """Remove what runs of dead processes left (prefix brt<pid>-)."""
    seen = set()
    names = _netns_list()
    for root in (BPFFS, tempfile.gettempdir()):
        with contextlib.suppress(FileNotFoundError):
            names += os.listdir(root)
    for name in names:
        m = PREFIX_RE.match(name)
        if m and int(m.group(1)) != os.getpid() and not _pid_alive(int(m.group(1))):
            seen.add(m.group(0))
    for prefix in sorted(seen):
        log(f"removing leftovers of a dead run: {prefix}*")
        cleanup_prefix(prefix)


def link_info(ns, dev):
    """`ip -d -j link show dev` as a dict."""
    out = run(ns, ["ip", "-d", "-j", "link", "show", "dev", dev]).stdout
    return json.loads(out)[0]


def promisc(ns, dev):
    return "PROMISC" in link_info(ns, dev).get("flags", [])


def mac_of(ns, dev):
    return link_info(ns, dev)["address"]


def addrs6(ns, dev, scope="global"):
    """IPv6 addresses (no prefix length) of dev in scope, not tentative."""
    out = run(ns, ["ip", "-j", "-6", "addr", "show", "dev", dev, "scope", scope]).stdout
    res = []
    for link in json.loads(out or "[]"):
        for a in link.get("addr_info", []):
            if a.get("family") == "inet6" and not a.get("tentative"):
                res.append(a["local"])
    return res


def link_local(ns, dev):
    lls = addrs6(ns, dev, "link")
    if not lls:
        raise TopoError(f"{ns}/{dev} has no link-local address")
    return lls[0]


def slaac_addr(ns, dev="eth0"):
    """The host's address in 2001:db8:1::/64 (None if not there yet)."""
    for a in addrs6(ns, dev):
        if ipaddress.ip_address(a) in V6_PREFIX:
            return a
    return None


HTTP_SERVER = r"""
import http.server, socket, sys, os
os.chdir(sys.argv[1])
class H(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.client_address[0], fmt % args))
        sys.stderr.flush()
class S(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
    allow_reuse_address = True
    def server_bind(self):
        # one socket for [::] and 0.0.0.0 (v4-mapped peers)
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()
srv = S(("::", int(sys.argv[2])), H)
print("listening", flush=True)
srv.serve_forever()
"""


class Brouterd:
    """One brouterd process in the router namespace."""

    def __init__(self, topo, args, pin_dir, log_path, wrap=(), env=None):
        """@wrap: a command brouterd runs under (unshare ...), @env: its
        environment (default: ours)."""
        self.topo = topo
        self.args = args
        self.pin_dir = pin_dir
        self.log_path = log_path
        self.wrap, self.env = list(wrap), env
        self.proc = None
        self._logf = None

    def start(self, wait_ready=True, timeout=30):
        argv = _cmdline(self.topo.rtr, [*self.wrap, BROUTERD, "--pin-dir", self.pin_dir,
                                        *self.args])
        self._logf = open(self.log_path, "w")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._logf,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     env=self.env)
        self.topo._procs.append(self.proc)
        if wait_ready:
            self.wait_ready(timeout)
        return self

    def log(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_ready(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(r"\bready\b", self.log()):
                return
            if self.proc.poll() is not None:
                raise TopoError(f"brouterd exited with {self.proc.returncode} before "
                                f"ready; log:\n{self.log()}")
            time.sleep(0.05)
        raise TopoError(f"brouterd not ready after {timeout}s; log:\n{self.log()}")

    def stop(self, timeout=15):
        """SIGTERM, wait; SIGKILL if it hangs. Returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log(f"brouterd did not stop in {timeout}s after SIGTERM; killing")
                _kill_group(self.proc, signal.SIGKILL)
                raise TopoError(f"brouterd hung after SIGTERM; log:\n{self.log()}")
        if self._logf:
            self._logf.close()
        return self.proc.returncode

    def ctl(self, *args, check=True):
        return run(None, [BROUTERCTL, "-p", self.pin_dir, *args], check=check)

    def stats(self):
        return json.loads(self.ctl("stats", "--json").stdout)

    def fdb(self):
        return json.loads(self.ctl("fdb", "--json").stdout)


class Topology:
    """The rig; use as a context manager (or start()/close())."""

    def __init__(self, prefix=None, lan2=False, minimal=False):
        self.prefix = prefix or new_prefix()
        self.lan2 = lan2 and not minimal
        self.minimal = minimal
        self.isp = self.prefix + "isp"
        self.rtr = self.prefix + "rtr"
        self.sw = self.prefix + "sw"
        self.hosts = [] if minimal else ([self.prefix + "lan1", self.prefix + "lan2"]
                                         if self.lan2 else [self.prefix + "lan1"])
        self.lan1 = self.hosts[0] if self.hosts else None
        self.lan2_ns = self.hosts[1] if self.lan2 else None
        self.pin_dir = f"{BPFFS}/{self.prefix}pins"
        self.tmp = None
        self.brouterd = None
        self._procs = []
        self._closed = False
        self._started = False
        self.http_log = None

    # ------------------------------------------------------------ lifecycle

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def start(self):
        if os.geteuid() != 0:
            raise TopoError("needs root (network namespaces, BPF)")
        atexit.register(self.close)
        cleanup_stale()
        cleanup_prefix(self.prefix)
        self._started = True
        self.tmp = tempfile.mkdtemp(prefix=self.prefix)
        try:
            if self.minimal:
                self._build_minimal()
            else:
                self._build()
        except BaseException:
            self.close()
            raise
        return self

    def close(self):
        """Stop everything and remove the namespaces; safe to call twice."""
        if self._closed or not self._started:
            return
        steps = []
        if self.brouterd:
            steps.append(lambda: self.brouterd.stop(timeout=10))
        steps += [lambda p=p: _kill_group(p) for p in reversed(self._procs)]
        steps.append(lambda: cleanup_prefix(self.prefix))
        steps.append(lambda: _remove_pin_dir(self.pin_dir))
        if self.tmp:
            steps.append(lambda: shutil.rmtree(self.tmp, ignore_errors=True))
        run_cleanup(steps, self.prefix)
        self._closed = True

    # ------------------------------------------------------------ helpers

    def run(self, ns, cmd, check=True, timeout=30, input=None):
        return run(ns, cmd, check=check, timeout=timeout, input=input)

    def popen(self, ns, cmd, **kw):
        """Start a background process in ns; stopped by close()."""
        kw.setdefault("stdin", subprocess.DEVNULL)
        p = subprocess.Popen(_cmdline(ns, cmd), start_new_session=True, **kw)
        self._procs.append(p)
        return p

    def _add_ns(self, name):
        run(None, ["ip", "netns", "add", name])
        run(name, ["ip", "link", "set", "lo", "up"])
        # No DAD delay: addresses are usable at once (they are unique here).
        run(name, ["sysctl", "-qw",
                   "net.ipv6.conf.all.accept_dad=0",
                   "net.ipv6.conf.default.accept_dad=0"])

    def _veth(self, ns_a, dev_a, ns_b, dev_b):
        run(ns_a, ["ip", "link", "add", dev_a, "type", "veth", "peer", "name", dev_b,
                   "netns", ns_b])

    def _veth_endpoint(self, ns, dev, gro=True):
        """
        Two veth facts for a host whose frames cross brouter's XDP:
        - a frame XDP redirects into a veth is only delivered if the
          veth's peer has GRO on (or an XDP program): GRO on the peer;
        - a locally sent TCP/UDP frame leaves a veth with a partial
          checksum (CHECKSUM_PARTIAL, "the NIC will finish it"); XDP sees
          raw bytes and redirects it unfinished, so the receiver drops it.
          A real NIC fills the checksum in on the wire; here the sender
          must: tx checksum offload off.
        """
        if gro:
            run(ns, ["ethtool", "-K", dev, "gro", "on"])
        run(ns, ["ethtool", "-K", dev, "tx", "off"])

    def _build_minimal(self):
        self._add_ns(self.rtr)
        for port, peer in (("lan0", "lanp"), ("wan0", "wanp")):
            self._veth(self.rtr, port, self.rtr, peer)
            for d in (port, peer):
                run(self.rtr, ["ip", "link", "set", d, "up"])
            self._veth_endpoint(self.rtr, peer)

    def _build(self):
        names = [self.isp, self.rtr] + self.hosts + ([self.sw] if self.lan2 else [])
        for n in names:
            self._add_ns(n)

        # ISP <-> router WAN
        self._veth(self.rtr, "wan0", self.isp, "eth0")
        # router LAN <-> host (or switch)
        if self.lan2:
            run(self.sw, ["ip", "link", "add", "br0", "type", "bridge"])
            self._veth(self.rtr, "lan0", self.sw, "uplink")
            for i, h in enumerate(self.hosts, 1):
                self._veth(h, "eth0", self.sw, f"p{i}")
            for d in ("uplink", "p1", "p2"):
                run(self.sw, ["ip", "link", "set", "dev", d, "master", "br0"])
            run(self.sw, ["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"])
            for d in ("br0", "uplink", "p1", "p2"):
                run(self.sw, ["ip", "link", "set", "dev", d, "up"])
            # the peer of lan0 must have NAPI for XDP redirects to arrive
            run(self.sw, ["ethtool", "-K", "uplink", "gro", "on"])
        else:
            self._veth(self.rtr, "lan0", self.lan1, "eth0")

        # ISP: an IPv6 router (radvd wants forwarding on) and an IPv4 peer.
        run(self.isp, ["sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"])
        run(self.isp, ["ip", "link", "set", "eth0", "up"])
        run(self.isp, ["ip", "-6", "addr", "add", f"{ISP_V6}/64", "dev", "eth0", "nodad"])
        run(self.isp, ["ip", "addr", "add", f"{ISP_V4}/24", "dev", "eth0"])
        self._veth_endpoint(self.isp, "eth0")

        # Router: IPv4 routed and NATed by the kernel, IPv6 not routed.
        run(self.rtr, ["sysctl", "-qw", "net.ipv4.ip_forward=1",
                       "net.ipv6.conf.all.forwarding=0"])
        for d in ("wan0", "lan0"):
            run(self.rtr, ["ip", "link", "set", d, "up"])
        run(self.rtr, ["ip", "addr", "add", f"{RTR_WAN_V4}/24", "dev", "wan0"])
        run(self.rtr, ["ip", "addr", "add", f"{RTR_LAN_V4}/24", "dev", "lan0"])
        run(self.rtr, ["ip", "route", "add", "default", "via", ISP_V4])
        run(self.rtr, ["nft", "-f", "-"], input=NAT_RULES)

        # LAN hosts: plain SLAAC hosts.
        for h in self.hosts:
            run(h, ["sysctl", "-qw", "net.ipv6.conf.all.forwarding=0",
                    "net.ipv6.conf.default.accept_ra=1",
                    "net.ipv6.conf.eth0.forwarding=0",
                    "net.ipv6.conf.eth0.accept_ra=1",
                    "net.ipv6.conf.eth0.accept_dad=0"])
            run(h, ["ip", "link", "set", "eth0", "up"])
            run(h, ["ip", "addr", "add", f"{LAN_V4[h[len(self.prefix):]]}/24", "dev", "eth0"])
            run(h, ["ip", "route", "add", "default", "via", RTR_LAN_V4])
            self._veth_endpoint(h, "eth0", gro=not self.lan2)

        self._start_radvd()
        self._start_http()

    def _start_radvd(self):
        conf = os.path.join(self.tmp, "radvd.conf")
        with open(conf, "w") as f:
            f.write(RADVD_CONF % V6_PREFIX)
        self.radvd_log = os.path.join(self.tmp, "radvd.log")
        pidfile = os.path.join(self.tmp, "radvd.pid")
        with open(self.radvd_log, "w") as lf:
            p = self.popen(self.isp, ["radvd", "-C", conf, "-p", pidfile, "-n",
                                      "-m", "stderr"], stdout=lf, stderr=lf)
        time.sleep(0.2)
        if p.poll() is not None:
            raise TopoError(f"radvd exited {p.returncode}:\n{open(self.radvd_log).read()}")

    def _start_http(self):
        www = os.path.join(self.tmp, "www")
        os.mkdir(www)
        with open(os.path.join(www, "index.html"), "w") as f:
            f.write(f"<html><body>{HTTP_TOKEN}</body></html>\n")
        self.http_log = os.path.join(self.tmp, "http.log")
        script = os.path.join(self.tmp, "http_server.py")
        with open(script, "w") as f:
            f.write(HTTP_SERVER)
        with open(self.http_log, "w") as lf:
            p = self.popen(self.isp, ["/usr/bin/python3", script, www, HTTP_PORT],
                           stdout=lf, stderr=lf)
        wait_for(lambda: "listening" in open(self.http_log).read() or p.poll() is not None,
                 timeout=10, what="HTTP server")
        if p.poll() is not None:
            raise TopoError(f"HTTP server exited:\n{open(self.http_log).read()}")

    def http_clients(self):
        """Client addresses the ISP's HTTP server has logged."""
        with open(self.http_log) as f:
            return [l.split()[0] for l in f if "GET" in l]

    # ------------------------------------------------------------ DHCPv6

    DHCP6_RANGE = ("2001:db8:1::d000", "2001:db8:1::dfff")

    def start_dhcp6_server(self):
        """dnsmasq on the ISP side: stateful DHCPv6 only (no DNS, no RA:
        radvd does those), leases in the temp dir."""
        log_path = os.path.join(self.tmp, "dnsmasq.log")
        lo, hi = self.DHCP6_RANGE
        with open(log_path, "w") as lf:
            p = self.popen(self.isp, [
                "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
                "--port=0", "--no-resolv", "--no-hosts", "--user=root",
                "--interface=eth0", "--bind-interfaces", "--log-dhcp",
                "--log-facility=-", f"--dhcp-range={lo},{hi},64,1h",
                f"--dhcp-leasefile={os.path.join(self.tmp, 'dnsmasq.leases')}",
                f"--pid-file={os.path.join(self.tmp, 'dnsmasq.pid')}"],
                stdout=lf, stderr=lf)
        time.sleep(0.3)
        if p.poll() is not None:
            raise TopoError(f"dnsmasq exited {p.returncode}:\n{open(log_path).read()}")
        self.dnsmasq_log = log_path
        return p

    def start_dhcp6_client(self, host=None):
        """
        dhclient -6 (stateful, IA_NA) on a LAN host, in the foreground so
        close() stops it. Its script only puts the leased address on the
        interface: Debian's dhclient-script would rewrite /etc/resolv.conf,
        which the namespaces share with the host.
        """
        host = host or self.lan1
        d = os.path.join(self.tmp, f"dhclient-{host}")
        os.mkdir(d)
        script = os.path.join(d, "script")
        with open(script, "w") as f:
            f.write(DHCLIENT_SCRIPT)
        os.chmod(script, 0o755)
        conf = os.path.join(d, "dhclient.conf")
        open(conf, "w").close()
        log_path = os.path.join(d, "log")
        with open(log_path, "w") as lf:
            p = self.popen(host, [
                "dhclient", "-6", "-d", "-v", "-cf", conf, "-sf", script,
                "-lf", os.path.join(d, "leases"), "-pf", os.path.join(d, "pid"),
                "eth0"], stdout=lf, stderr=lf)
        return p, log_path

    # ------------------------------------------------------------ brouterd

    def config_file(self, text="", name="brouter.conf"):
        """
        A config file for brouterd in the temp dir. Tests pass one (empty
        by default) so a /etc/brouter/brouter.conf on the machine does not
        change what they test.
        """
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text or "# defaults only (written by tests/lib/topo.py)\n")
        return path

    def start_brouterd(self, *extra, pin_dir=None, ports=None, wait_ready=True,
                       timeout=30, log_name=None, config=None):
        """Start brouterd in the router ns; the first one is self.brouterd."""
        pin_dir = pin_dir or self.pin_dir
        ports = list(ports) if ports is not None else ["lan0", "wan0"]
        config = config or self.config_file()
        log_path = os.path.join(self.tmp, log_name or
                                f"brouterd-{len(self._procs)}.log")
        b = Brouterd(self, ["-c", config, *extra, *ports], pin_dir, log_path)
        b.start(wait_ready=wait_ready, timeout=timeout)
        if self.brouterd is None or self.brouterd.proc.poll() is not None:
            self.brouterd = b
        return b

    def run_brouterd(self, *args, timeout=30, user=None):
        """Run brouterd to completion (for error cases); CompletedProcess."""
        pre = []
        if user is not None:
            pre = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"]
        return run(self.rtr, [*pre, BROUTERD, "-c", self.config_file(), *args],
                   check=False, timeout=timeout)

    def stop_brouterd(self, timeout=15):
        if not self.brouterd:
            return None
        return self.brouterd.stop(timeout=timeout)

    def brouterctl(self, *args, pin_dir=None, check=True):
        return run(None, [BROUTERCTL, "-p", pin_dir or self.pin_dir, *args], check=check)

    def brouterctl_stats_json(self, pin_dir=None):
        return json.loads(self.brouterctl("stats", "--json", pin_dir=pin_dir).stdout)

    # ------------------------------------------------------------ waits

    def wait_slaac(self, host=None, timeout=20):
        host = host or self.lan1
        return wait_for(lambda: slaac_addr(host), timeout=timeout,
                        what=f"a 2001:db8:1::/64 SLAAC address on {host}")

    def wait_ping6(self, src_ns, dst, timeout=20, dev=None):
        """Ping until one reply arrives (the bridge may still be learning)."""
        target = f"{dst}%{dev}" if dev else dst

        def ok():
            return run(src_ns, ["ping", "-6", "-c", "1", "-W", "1", target],
                       check=False, timeout=5).returncode == 0
        return wait_for(ok, timeout=timeout, interval=0.3, what=f"ping6 {src_ns} -> {target}")

