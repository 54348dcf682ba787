# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The rate-limited drop log brouterd reads and prints."""
import time

import os

import pytest

import fwmaps as fm
from fwrig import (H1, WAN, dropped, inb, tcp, udp)

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root (netns, BPF)")


def wait_log(fw, needle, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if needle in fw.log_text():
            return True
        time.sleep(0.02)
    return needle in fw.log_text()


def test_inbound_drop_is_logged_by_brouterd(fw):
    # a generous rate: earlier tests may have used this second's budget
    fw.set_policy(log_rate=1000000, flags=fw.policy()["flags"] &
                  ~fm.BR_PF_LOG_DROPS)
    assert fw.send(WAN, inb(udp("2001:db8:f00::76", H1, 4443, 5554))) == \
        dropped("no_flow")
    fw.set_flags(on=fm.BR_PF_LOG_DROPS)
    assert fw.send(WAN, inb(udp("2001:db8:f00::77", H1, 4444, 5555))) == \
        dropped("no_flow")
    line = "drop no_flow: udp [2001:db8:f00::77]:4444 -> [2001:db8:1::10]:5555"
    assert wait_log(fw, line, 1.0), fw.log_text()[-2000:]
    # events arrive in order: the one sent without LOG_DROPS never will
    assert "2001:db8:f00::76" not in fw.log_text()


def test_drop_log_names_the_reason(fw):
    fw.set_policy(log_rate=1000000)
    assert fw.send(WAN, inb(tcp("2001:db8:f00::78", H1, 4445, 22, "S"))) == \
        dropped("syn_in")
    assert wait_log(fw, "drop syn_in: tcp [2001:db8:f00::78]:4445 -> "
                    "[2001:db8:1::10]:22", 1.0), fw.log_text()[-2000:]


def test_drop_log_is_rate_limited(fw):
    fw.set_policy(log_rate=3)
    time.sleep(1.05)  # let the one-second window of earlier drops end
    for i in range(6):
        assert fw.send(WAN, inb(udp(f"2001:db8:f00::8{i}", H1, 4446, 22))) \
            == dropped("no_flow")
    assert wait_log(fw, "[2001:db8:f00::82]", 1.0), fw.log_text()[-2000:]
    time.sleep(0.2)
    text = fw.log_text()
    assert "[2001:db8:f00::80]" in text and "[2001:db8:f00::81]" in text
    for i in (3, 4, 5):
        assert f"[2001:db8:f00::8{i}]" not in text
