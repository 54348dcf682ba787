# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
The "prefixes" map (valid outbound sources, RFC 6092 REC-5) as brouterd
keeps it: prefixes from router advertisements it really receives on the
WAN (sent on the wire from the WAN's peer), configured lan-prefixes, and
a prefix that is both while the configuration changes under it.
"""
import os
import socket
import struct
import time

import pytest
from scapy.all import Ether, ICMPv6ND_RA, ICMPv6NDOptPrefixInfo, IPv6

import bpfsys as bs
import fwmaps as fm
from fwrig import mono_ns
from progrig import BROUTERCTL, Rig, run, running

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root (netns, BPF)")

BOTH = "2001:db8:77::"      # configured, and advertised by the ISP
RA_ONLY = "2001:db8:78::"
LIFETIME = 3                # seconds, valid = preferred
NSEC = 1000000000


class PrefixRig(Rig):
    MAPS = Rig.MAPS + ("prefixes",)

    def __init__(self, conf):
        self.conf = conf
        super().__init__(f"brtp{os.getpid()}", ipv6_on=("wan0",),
                         extra_args=("-c", conf))

    def configure(self, lan_prefixes):
        body = ", ".join(f'"{p}/64"' for p in lan_prefixes)
        with open(self.conf, "w") as f:
            f.write(f"firewall = {{ lan-prefixes = [ {body} ]; }};\n" if body
                    else "# no lan-prefixes\n")

    def reload(self):
        p = run(BROUTERCTL, "-p", self.pin_dir, "reload", check=False)
        assert p.returncode == 0, p.stderr + self.log_text()

    def advertise(self, *prefixes, lifetime=LIFETIME):
        """One RA from the ISP's link-local address, on the wire of wanp."""
        ra = Ether(src="02:2b:00:00:00:01", dst="33:33:00:00:00:01") / \
            IPv6(src="fe80::1", dst="ff02::1", hlim=255) / ICMPv6ND_RA()
        for p in prefixes:
            ra /= ICMPv6NDOptPrefixInfo(prefix=p, prefixlen=64, L=1, A=1,
                                        validlifetime=lifetime,
                                        preferredlifetime=lifetime)
        with self.inside():
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
            s.bind(("wanp", 0))
            s.send(bytes(ra))
            s.close()

    def entry(self, prefix):
        """(flags, expires_ns) of @prefix/64, or None."""
        fd = self.fd("prefixes")
        key = fm.prefix_key(prefix, 64)
        if key not in bs.map_keys(fd, len(key)):
            return None  # an LPM lookup would return a covering entry
        v = fm.unpack("br_prefix_val",
                      bs.map_lookup(fd, key, fm.S["br_prefix_val"].size))
        return v["flags"], v["expires_ns"]


@pytest.fixture
def rig(tmp_path):
    conf = tmp_path / "brouter.conf"
    r = PrefixRig(str(conf))
    r.configure([BOTH])
    yield from running(r)


def wait_entry(rig, prefix, want, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = rig.entry(prefix)
        if want(got):
            return got
        time.sleep(0.05)
    pytest.fail(f"{prefix}/64: {rig.entry(prefix)} after {timeout} s\n{rig.log_text()}")


def test_prefix_configured_and_advertised_expires_with_the_ra_once_unconfigured(rig):
    """A prefix in lan-prefixes that the ISP also advertises never expires
    while configured; taken out of the configuration, it lives on as an
    RA-learned prefix for what remains of the RA's valid lifetime, then
    goes, like any prefix the ISP stopped advertising."""
    assert rig.entry(BOTH) == (fm.BR_PFX_CONFIG, 0)
    sent = mono_ns()
    rig.advertise(BOTH, RA_ONLY)
    both = wait_entry(rig, BOTH, lambda e: e and e[0] & fm.BR_PFX_RA)
    assert both[0] == fm.BR_PFX_CONFIG | fm.BR_PFX_RA
    ra_only = wait_entry(rig, RA_ONLY, lambda e: e is not None)
    assert ra_only[0] == fm.BR_PFX_RA
    assert sent + LIFETIME * NSEC <= ra_only[1] <= mono_ns() + LIFETIME * NSEC

    rig.configure([])
    rig.reload()
    flags, expires = rig.entry(BOTH)
    assert flags == fm.BR_PFX_RA, "unconfigured, it is an RA-learned prefix"
    assert sent + LIFETIME * NSEC <= expires <= mono_ns() + LIFETIME * NSEC, \
        f"expires_ns {expires}: the RA's lifetime was lost"
    # no RA comes again: both go when the lifetime ends
    wait_entry(rig, RA_ONLY, lambda e: e is None, timeout=LIFETIME + 3)
    wait_entry(rig, BOTH, lambda e: e is None, timeout=2)


def test_configured_prefix_outlives_the_ra_that_also_advertised_it(rig):
    """The RA lifetime of a configured prefix running out takes the RA flag
    away, not the prefix: it stays a valid source while configured."""
    rig.advertise(BOTH)
    wait_entry(rig, BOTH, lambda e: e and e[0] & fm.BR_PFX_RA)
    wait_entry(rig, BOTH, lambda e: e == (fm.BR_PFX_CONFIG, 0),
               timeout=LIFETIME + 3)
