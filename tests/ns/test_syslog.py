# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
brouterd's syslog output (--syslog, log.syslog): datagrams as syslog(3)
sends them to /dev/log, received by the test on a socket it binds and
mounts as /dev/log in a private mount namespace (the host's /dev is not
touched). Errors at error level, facility daemon, nothing on stderr.

Run as root: /usr/bin/python3 -m pytest -v tests/ns/test_syslog.py
"""
import os
import re
import signal
import socket
import subprocess

import pytest

import topo
import unitrun
from topo import BROUTERD

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (netns, BPF)")

# <PRI>Mmm dd hh:mm:ss brouterd[PID]: message
RECORD = re.compile(r"^<(\d+)>\w{3} [ \d]\d \d\d:\d\d:\d\d brouterd\[(\d+)\]: (.*)$", re.S)
DAEMON = 3 << 3
ERR, WARNING, INFO = 3, 4, 6


@pytest.fixture
def rig():
    with topo.Topology(minimal=True) as t:
        yield t


class Syslog:
    """A /dev/log of the test's own: a directory holding the socket and a
    bind of /dev/null, mounted over /dev for the command only."""

    def __init__(self, t):
        self.dev = os.path.join(t.tmp, "dev")
        os.mkdir(self.dev)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(os.path.join(self.dev, "log"))

    def argv(self, t, argv):
        setup = (f"touch {self.dev}/null && mount --bind /dev/null {self.dev}/null && "
                 f"mount --rbind {self.dev} /dev")
        return topo._cmdline(t.rtr, unitrun.in_mount_ns(setup, argv))

    def records(self, until, timeout=30):
        """(priority, pid, message) received until one matches @until."""
        out = []
        self.sock.settimeout(timeout)
        while True:
            data = self.sock.recv(65536).decode()
            m = RECORD.match(data)
            assert m, f"not a syslog record: {data!r}"
            out.append((int(m.group(1)), int(m.group(2)), m.group(3)))
            if re.search(until, m.group(3)):
                return out


def test_log_syslog_key_sends_every_level_to_syslog_not_stderr(rig):
    log = Syslog(rig)
    conf = rig.config_file('log = { syslog = true; };\n', name="syslog.conf")
    err = open(os.path.join(rig.tmp, "stderr"), "w+")
    p = subprocess.Popen(log.argv(rig, [BROUTERD, "-c", conf, "-p", rig.pin_dir, "lan0:wan0"]),
                         stdout=err, stderr=err, start_new_session=True)
    rig._procs.append(p)
    try:
        recs = log.records(r"^ready: ")
        assert all(pid == p.pid for _, pid, _ in recs), recs
        assert recs[-1][0] == DAEMON | INFO, recs[-1]
        # a reload that changes the XDP mode: a warning, and it is kept
        with open(conf, "w") as f:
            f.write('log = { syslog = true; };\nxdp-mode = "generic";\n')
        p.send_signal(signal.SIGHUP)
        recs = log.records(r"^reloaded")
        warn = [r for r in recs if "xdp-mode" in r[2]]
        assert warn and warn[0][0] == DAEMON | WARNING, recs
        # a broken file: errors, at error level
        with open(conf, "w") as f:
            f.write('log = { syslog = true; };\nfirewall = { mode = "paranoid"; };\n')
        p.send_signal(signal.SIGHUP)
        recs = log.records(r"^reload refused")
        assert recs[-1][0] == DAEMON | ERR, recs
        assert any(pri == DAEMON | ERR and "paranoid" in msg for pri, _, msg in recs), recs
        p.send_signal(signal.SIGTERM)
        log.records(r"detaching")
        assert p.wait(timeout=15) == 0
    finally:
        topo._kill_group(p)
    err.seek(0)
    assert err.read() == "", "brouterd wrote to stderr while logging to syslog"


def test_syslog_option_logs_a_start_error_at_error_level(rig):
    log = Syslog(rig)
    p = subprocess.run(log.argv(rig, [BROUTERD, "--syslog", "-c", rig.config_file(),
                                      "-p", rig.pin_dir, "lan0:nosuch0"]),
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1
    assert p.stderr == "", p.stderr
    recs = log.records(r"nosuch0")
    assert recs[-1][0] == DAEMON | ERR, recs
    assert "no such interface" in recs[-1][2], recs
