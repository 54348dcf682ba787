# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
brouterd as a service, run from its systemd units the way systemd would run
them (tests/lib/unitrun.py: exactly the unit's capabilities, its read-only
file system, its ExecStart and ExecReload), on network namespaces:

- capabilities: without any one the unit grants, brouterd refuses to start,
  naming it, before it touches anything (kept state included); with them
  all, it bridges: SLAAC and ping6 through the bridge from the prefix that
  the RA socket learned, a reload through ExecReload, a clean stop;
- the syscalls and socket families it uses, under strace with a MAP-E
  tunnel set up, reloaded and taken down, are all within the unit's
  SystemCallFilter and RestrictAddressFamilies;
- the readiness protocol, with a real AF_UNIX datagram socket as
  $NOTIFY_SOCKET: READY=1 once both ports are attached, RELOADING=1 (with
  MONOTONIC_USEC) then READY=1 around a reload, STOPPING=1 on SIGTERM,
  each from brouterd's own pid;
- under the journal ($JOURNAL_STREAM naming its stderr), every line carries
  its <N> priority.

Run as root: /usr/bin/python3 -m pytest -v tests/ns/test_service.py
"""
import contextlib
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time

import pytest

import topo
import unitrun
import vne
from topo import ISP_V6, run, wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (netns, BPF)")

UNIT = "brouterd.service"
TEMPLATE = "brouterd@.service"
PORTS = "lan0:wan0"

MAPE_CONF = """
tunnel = {
  mode = "map-e";
  map-e = { rule-ipv6 = "2001:db8::/40"; rule-ipv4 = "192.0.2.0/24"; ea-len = 12;
            psid-offset = 4; br = "2001:db8:ffff::1"; prefix = "2001:db8:12:3400::/56"; };
};
"""


@pytest.fixture(scope="module")
def rig():
    with topo.Topology(minimal=True) as t:
        yield t


class Service:
    """One sandboxed brouterd (unitrun.sandboxed), its log, its stop. @env
    is laid over a copy of ours without NOTIFY_SOCKET and JOURNAL_STREAM;
    JOURNAL_STREAM="stderr" names the log file, as systemd names the journal
    stream. @wrap (strace) runs around the sandbox."""

    def __init__(self, t, unit, argv, config="# test\n", env=None, drop=(), add=(),
                 wrap=(), etc=None):
        self.t, self.unit = t, unit
        self.work = tempfile.mkdtemp(prefix=t.prefix, dir=t.tmp)
        self.log_path = os.path.join(self.work, "stderr")
        cmd = unitrun.sandboxed(unit, argv, self.work, config, netns=t.rtr, drop=drop,
                                add=add, etc=etc)
        self._logf = open(self.log_path, "w")
        environ = {k: v for k, v in os.environ.items()
                   if k not in ("NOTIFY_SOCKET", "JOURNAL_STREAM")}
        environ.update(env or {})
        if environ.get("JOURNAL_STREAM") == "stderr":
            st = os.fstat(self._logf.fileno())
            environ["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
        self.proc = subprocess.Popen([*wrap, *cmd], stdin=subprocess.DEVNULL,
                                     stdout=self._logf, stderr=self._logf,
                                     env=environ, start_new_session=True)
        t._procs.append(self.proc)
        self.binary = argv[0]
        # every step up to brouterd execs; a wrapper (strace) forks it
        self.pid = self.proc.pid if not wrap else wait_for(
            self._wrapped, timeout=10, what="brouterd under the wrapper")

    def _wrapped(self):
        """The wrapper's child that is brouterd (strace forks others too)."""
        kids = run(None, ["pgrep", "-P", str(self.proc.pid)], check=False).stdout.split()
        for pid in kids:
            try:
                if os.readlink(f"/proc/{pid}/exe") == self.binary:
                    return int(pid)
            except OSError:
                pass
        return None

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def wait_ready(self, timeout=30):
        wait_for(lambda: re.search(r"\bready\b", self.log()) or self.proc.poll() is not None,
                 timeout=timeout, what="brouterd ready")
        assert self.proc.poll() is None, f"exit {self.proc.returncode}:\n{self.log()}"

    def run_in(self, argv, timeout=30):
        """argv in the service's namespaces, with its capabilities (ExecReload)."""
        return run(None, unitrun.join(self.pid, self.unit, argv), check=False,
                   timeout=timeout)

    def stop(self, timeout=15):
        """SIGTERM to brouterd; its exit status."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            topo._kill_group(self.proc, signal.SIGKILL)
            raise
        finally:
            self._logf.close()


def attached(t):
    return all("xdp" in topo.link_info(t.rtr, d) for d in ("lan0", "wan0"))


def assert_untouched(t):
    for dev in ("lan0", "wan0"):
        info = topo.link_info(t.rtr, dev)
        assert "xdp" not in info, f"{dev}: XDP attached by a refused start"
        assert "PROMISC" not in info["flags"], f"{dev}: promisc left on"


# ------------------------------------------------------------------ capabilities


@pytest.mark.parametrize("cap", unitrun.caps(unitrun.read_unit(UNIT)))
def test_refuses_without_each_capability_of_the_unit_naming_it(rig, cap):
    """Each capability the unit grants is needed (the unit asks for no more
    than brouterd needs), and a missing one is named before anything is
    loaded: no "Permission denied" from the verifier, no retry that
    removes pins."""
    unit = unitrun.read_unit(UNIT)
    s = Service(rig, unit, unitrun.command(unit) + [PORTS], drop=(cap,))
    try:
        rc = s.proc.wait(timeout=20)
    finally:
        s.stop()
    err = s.log()
    assert rc == 1, f"started without CAP_{cap.upper()} (exit {rc}):\n{err}"
    assert f"missing capability CAP_{cap.upper()}" in err, err
    assert err.count("missing capability") == 1, err
    for wrong in ("Permission denied", "older brouter", "retrying"):
        assert wrong not in err, f"{wrong!r} in:\n{err}"
    assert_untouched(rig)


def test_sys_admin_stands_in_for_bpf_and_perfmon(rig):
    unit = unitrun.read_unit(UNIT)
    s = Service(rig, unit, unitrun.command(unit) + [PORTS], drop=("bpf", "perfmon"),
                add=("sys_admin",))
    try:
        s.wait_ready()
        assert "missing" not in s.log()
    finally:
        assert s.stop() == 0, s.log()


def test_state_kept_survives_a_start_refused_for_capabilities(rig):
    """--keep-state left flows pinned; a restart that lacks CAP_PERFMON must
    leave them for the next good start, not unpin them on a retry."""
    pd = f"{topo.BPFFS}/{rig.prefix}kept"
    conf = rig.config_file(name="kept.conf")
    try:
        b = rig.start_brouterd("--keep-state", pin_dir=pd, config=conf)
        assert b.stop() == 0, b.log()
        assert os.path.exists(f"{pd}/flows"), "--keep-state left no flows pinned"
        unit = unitrun.read_unit(UNIT)
        argv = run(rig.rtr, unitrun.setpriv(unit, drop=("perfmon",)) +
                   [topo.BROUTERD, "-c", conf, "-p", pd, PORTS], check=False)
        assert argv.returncode == 1, argv.stderr
        assert "CAP_PERFMON" in argv.stderr, argv.stderr
        assert os.path.exists(f"{pd}/flows"), \
            f"kept flows unpinned by a refused start:\n{argv.stderr}"
    finally:
        topo._remove_pin_dir(pd)


# ------------------------------------------------------------------ the unit at work


@pytest.fixture(scope="module")
def net():
    with topo.Topology() as t:
        yield t


def test_template_unit_bridges_under_its_sandbox_and_reloads_through_execreload(net):
    """brouterd@lan0:wan0, as systemd would run it: SLAAC through the bridge,
    and a LAN host's global address passes the anti-spoofing check, which
    needs the prefix the RA socket (CAP_NET_RAW) learned; ExecReload
    reloads; SIGTERM leaves the ports as they were. Its stderr is the
    journal: every line has a priority."""
    unit = unitrun.read_unit(TEMPLATE)
    s = Service(net, unit, unitrun.command(unit, instance=PORTS),
                env={"JOURNAL_STREAM": "stderr"})
    try:
        s.wait_ready()
        opts = s.run_in(["findmnt", "-no", "OPTIONS", "/"]).stdout
        assert opts.startswith("ro,"), f"the sandbox's / is not read-only: {opts}"
        net.wait_slaac()
        net.wait_ping6(net.lan1, ISP_V6)
        r = s.run_in(unitrun.command(unit, "ExecReload"))
        assert r.returncode == 0, f"ExecReload: {r.stdout}{r.stderr}\n{s.log()}"
        assert "reloaded" in r.stdout, r.stdout
        net.wait_ping6(net.lan1, ISP_V6)
    finally:
        rc = s.stop()
    log = s.log()
    assert rc == 0, log
    assert "<4>" not in log and "<3>" not in log, f"warnings or errors:\n{log}"
    assert re.search(r"^<6>ready: LAN lan0", log, re.M), log
    lines = log.splitlines()
    assert all(re.match(r"<[0-7]>", l) for l in lines), f"line without priority:\n{log}"
    for dev in ("lan0", "wan0"):
        assert "xdp" not in topo.link_info(net.rtr, dev), f"{dev} still attached"


def test_syscalls_and_socket_families_stay_within_the_unit_filter(rig):
    """strace brouterd (ports from the config file, as brouterd.service runs
    it) through a MAP-E set up (nftables, routes, addresses, conntrack), a
    reload and a stop: every syscall and socket family must be one the
    unit's seccomp filter and RestrictAddressFamilies allow."""
    unit = unitrun.read_unit(UNIT)
    trace = os.path.join(rig.tmp, "brouterd.strace")
    config = 'lan = "lan0"; wan = "wan0";\n' + MAPE_CONF
    s = Service(rig, unit, unitrun.command(unit), config=config,
                wrap=("strace", "-f", "-qq", "-o", trace))
    try:
        s.wait_ready()
        assert "tunnel: map-e set up" in s.log(), s.log()
        r = s.run_in(unitrun.command(unit, "ExecReload"))
        assert r.returncode == 0, r.stderr
    finally:
        rc = s.stop()
    assert rc == 0, s.log()
    assert "removed" in s.log(), s.log()
    calls, families = unitrun.strace_calls(trace, unitrun.command(unit)[0])
    assert {"bpf", "socket", "sendmsg"} <= calls, calls
    denied = calls - unitrun.allowed_syscalls(unit)
    assert not denied, f"syscalls SystemCallFilter would deny: {sorted(denied)}"
    assert families <= unitrun.allowed_families(unit), \
        f"families RestrictAddressFamilies would deny: {families - unitrun.allowed_families(unit)}"
    assert {"AF_NETLINK", "AF_INET6"} <= families, families


def test_hb46pp_under_the_sandbox_keeps_its_state_in_the_state_directory(rig):
    """tunnel.mode "auto" under brouterd.service's sandbox and strace: the
    TXT record through the system resolver (the sandbox's /etc/resolv.conf
    names a dnsmasq in the router's namespace), the answer over HTTP, and
    token, answer and status kept in /var/lib/brouter, which only the
    unit's StateDirectory makes writable under ProtectSystem=strict; the
    worker thread's syscalls and sockets within the unit's filters.
    Without StateDirectory the same run cannot keep anything, and says so."""
    token = "ab" * 32
    dns = vne.Dnsmasq(rig.rtr, "::1", rig.tmp)
    srv = vne.ProvServer(rig.rtr, "::1", 8080, os.path.join(rig.tmp, "prov"))
    srv.set_routes({"/config": {"status": 200,
                                "json": {"order": [], "ttl": 3600, "token": token}}})
    unit = unitrun.read_unit(UNIT)
    trace = os.path.join(rig.tmp, "hb46pp.strace")
    config = 'lan = "lan0"; wan = "wan0";\ntunnel = { mode = "auto"; };\n'
    etc = {"resolv.conf": "nameserver ::1\n"}
    try:
        dns.start("v=v6mig-1 url=http://prov.example.jp:8080/config t=a",
                  {"prov.example.jp": "::1"})
        srv.start()
        s = Service(rig, unit, unitrun.command(unit), config=config, etc=etc,
                    wrap=("strace", "-f", "-qq", "-o", trace))
        state = os.path.join(s.work, "state")
        try:
            s.wait_ready()
            wait_for(lambda: os.path.exists(os.path.join(state, "hb46pp-status.json")),
                     timeout=60, what="the status file in /var/lib/brouter")
        finally:
            assert s.stop() == 0, s.log()
        with open(os.path.join(state, "hb46pp-token")) as f:
            assert f.read().strip() == token
        assert os.path.exists(os.path.join(state, "hb46pp-answer.json"))
        assert "HB46PP: no tunnel: the order names no method" in s.log(), s.log()
        assert "HB46PP: cannot" not in s.log(), s.log()
        calls, families = unitrun.strace_calls(trace, unitrun.command(unit)[0])
        denied = calls - unitrun.allowed_syscalls(unit)
        assert not denied, f"syscalls SystemCallFilter would deny: {sorted(denied)}"
        assert families <= unitrun.allowed_families(unit), families
        # the unit without StateDirectory: a read-only /var/lib
        bare = {k: v for k, v in unit.items() if k != "StateDirectory"}
        s = Service(rig, bare, unitrun.command(unit), config=config, etc=etc)
        try:
            s.wait_ready()
            wait_for(lambda: "cannot write /var/lib/brouter" in s.log(), timeout=30,
                     what="the complaint about /var/lib/brouter")
        finally:
            assert s.stop() == 0, s.log()
        assert "Read-only file system" in s.log(), s.log()
    finally:
        srv.stop()
        dns.stop()


# ------------------------------------------------------------------ readiness protocol


class Manager:
    """The service manager's end of $NOTIFY_SOCKET: a datagram socket that
    sees each sender's pid, as systemd does (SO_PASSCRED)."""

    def __init__(self):
        # /run, not the test's /tmp dir: PrivateTmp hides that from the unit
        self.dir = tempfile.mkdtemp(prefix=topo.new_prefix(), dir="/run")
        self.path = os.path.join(self.dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.bind(self.path)

    def recv(self, timeout=30):
        """(message fields dict, sender pid, monotonic time of arrival)."""
        self.sock.settimeout(timeout)
        data, anc, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(12))
        pid = None
        for level, kind, payload in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", payload[:12])[0]
        fields = dict(l.split("=", 1) for l in data.decode().splitlines())
        return fields, pid, time.monotonic()

    def close(self):
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def test_notify_ready_reloading_stopping_over_a_real_socket(rig):
    unit = unitrun.read_unit(UNIT)
    assert unit["Type"] == ["notify"]
    mgr = Manager()
    s = None
    try:
        s = Service(rig, unit, unitrun.command(unit),
                    config='lan = "lan0"; wan = "wan0";\n',
                    env={"NOTIFY_SOCKET": mgr.path})
        msg, pid, _ = mgr.recv()
        assert msg.get("READY") == "1", msg
        assert pid == s.pid, f"sent by pid {pid}, brouterd is {s.pid}"
        assert attached(rig), "READY=1 before both ports were attached"
        assert "lan0" in msg.get("STATUS", "") and "wan0" in msg["STATUS"], msg

        before = time.clock_gettime(time.CLOCK_MONOTONIC)
        r = s.run_in(unitrun.command(unit, "ExecReload"))
        assert r.returncode == 0, r.stderr
        msg, pid, _ = mgr.recv()
        assert msg.get("RELOADING") == "1", msg
        usec = int(msg["MONOTONIC_USEC"])
        assert before * 1e6 <= usec <= time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6, usec
        msg, pid, _ = mgr.recv()
        assert msg.get("READY") == "1", msg
        assert pid == s.pid

        os.kill(s.pid, signal.SIGTERM)
        msg, pid, _ = mgr.recv()
        assert msg == {"STOPPING": "1"}, msg
        assert s.stop() == 0, s.log()
    finally:
        if s:
            s.stop()
        mgr.close()
    assert not attached(rig)
