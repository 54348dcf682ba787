# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
IPv4 too big for the tunnel, without DF, end to end through MAP-E and
DS-Lite, on the topology of test_tunnel.py (its Rig, servers and BRs).

Inbound, the Internet host's kernel sends large UDP and ICMP in IPv4
fragments; the BR (tests/lib/br4in6.py) reassembles them, as it must to
find the port, and sends the packet to the CE in IPv6 fragments (RFC 2473
7.2), which brouter reassembles in tc ingress. Outbound, the router's
kernel fragments IPv4 for the 1460-byte tunnel route before tc egress
wraps each piece; the BR reassembles what arrives and notes its hash.
Every payload is compared by SHA-256 where it lands.
"""
import hashlib
import random
import subprocess
import time

import pytest
from scapy.all import IP, UDP, Raw

from test_tunnel import (AFTR, BR, BR4IN6, CE4, CE6, INET, LAN_HOST, PSID, RULE,
                         UDP_BIG, UDP_ECHO, WRONG_BR, run, wait_for)
from test_tunnel import mape, rig  # noqa: F401 (module fixtures: this module's own)
import topo

PYTHON = "/usr/bin/python3"

# From the LAN host: one UDP exchange, without DF. "query": a small
# question to the DNS-like server, whose answer is N bytes from SEED;
# "echo": N such bytes sent to the echo server and back. Prints what came
# back: its length and SHA-256, and the SHA-256 it should have.
UDP_EXCHANGE = r"""
import hashlib, random, socket, sys
dst, port, n, seed, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
want = random.Random(seed).randbytes(n)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, 10, 0)  # IP_MTU_DISCOVER, IP_PMTUDISC_DONT
s.settimeout(3)
got = b""
for _ in range(3):
    s.sendto(b"%d %d" % (n, seed) if mode == "query" else want, (dst, port))
    try:
        got = s.recv(65536)
        break
    except socket.timeout:
        pass
print(len(got), hashlib.sha256(got).hexdigest(), hashlib.sha256(want).hexdigest())
"""

# On the LAN host: wait for one UDP datagram on a port, print its length
# and SHA-256.
UDP_LISTEN = r"""
import hashlib, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.settimeout(10)
print("listening", flush=True)
d = s.recv(65536)
print(len(d), hashlib.sha256(d).hexdigest(), flush=True)
"""

# WAN counters of 4in6 and its fragments (each drop reason; "drop" is
# their sum with every other inbound drop)
FRAG_COUNTERS = ("tun_frag", "tun_frag_held", "tun_reasm", "tun_frag_overlap",
                 "tun_frag_bad", "tun_frag_big", "tun_frag_timeout", "tun_frag_evicted",
                 "tun_bad_port", "tun_bad_src", "tun_bad_dst", "tun_bad_inner")


@pytest.fixture(scope="module")
def dslite(rig, mape):
    rig.stop_tunnel(mape)   # one brouterd on the router at a time
    b = rig.start_dslite()
    yield b
    rig.stop_tunnel(b)


def counters(b):
    wan = b.stats()["wan"]
    return {k: wan[k]["packets"] for k in FRAG_COUNTERS}


def delta(b, before):
    return {k: v - before[k] for k, v in counters(b).items() if v != before[k]}


def exchange(rig, dst, port, n, seed, mode):
    out = rig.lan_py(UDP_EXCHANGE, dst, port, n, seed, mode).split()
    return int(out[0]), out[1], out[2]


def assert_reassembled(d, datagrams, min_frags):
    """@datagrams whole ones from at least @min_frags fragments, no drop."""
    assert d.get("tun_reasm") == datagrams, d
    assert d.get("tun_frag", 0) >= min_frags and \
        d.get("tun_frag_held") == d["tun_frag"] - datagrams, d
    assert not {k for k in d if k not in ("tun_frag", "tun_frag_held", "tun_reasm")}, d


# ------------------------------------------------------------ MAP-E


def test_mape_4000_byte_udp_answer_arrives_whole_at_the_lan_host(rig, mape):
    """A DNS-like answer of 4000 bytes: IPv4 fragments to the BR, IPv6
    fragments to the CE, one datagram at the LAN host."""
    before, br_before = counters(mape), rig.br_stats(mape.br)["frag_in"]
    n, got, want = exchange(rig, INET, UDP_BIG, 4000, 7, "query")
    assert (n, got) == (4000, want)
    assert_reassembled(delta(mape, before), 1, 3)
    assert rig.br_stats(mape.br)["frag_in"] == br_before + 1
    src, port, size = rig.inet_events("big")[-1]
    assert src == CE4 and int(port) in set(RULE.ports(PSID)) and size == "4000"


def test_mape_4000_byte_udp_without_df_arrives_whole_at_the_br_and_back(rig, mape):
    """Outbound the router's kernel fragments for the 1460 route, each
    piece wrapped on its own; the BR gets the whole datagram (hash), the
    echo server sends it back in fragments, the LAN host gets it whole."""
    before = counters(mape)
    n, got, want = exchange(rig, INET, UDP_ECHO, 4000, 8, "echo")
    assert (n, got) == (4000, want)
    st = rig.br_stats(mape.br)
    assert [4028, want] in st["reasm_out"], st["reasm_out"]
    assert st["out_bad"] == 0, st["bad"]
    assert_reassembled(delta(mape, before), 1, 3)


def test_mape_ping_3000_without_df_both_ways(rig, mape):
    before = counters(mape)
    p = run(rig.lan, ["ping", "-M", "dont", "-s", "3000", "-c", "3", "-i", "0.3", "-W", "3",
                      INET], check=False, timeout=30)
    assert p.returncode == 0 and "3 received" in p.stdout, p.stdout + p.stderr
    assert "3008 bytes from" in p.stdout
    assert [3028] in [e[:1] for e in rig.br_stats(mape.br)["reasm_out"]]
    assert_reassembled(delta(mape, before), 3, 9)


def udp_datagram(dst, dport, size, seed):
    """An inner IPv4/UDP packet from the Internet host, DF clear."""
    return bytes(IP(src=INET, dst=dst, flags=0) / UDP(sport=53, dport=dport) /
                 Raw(random.Random(seed).randbytes(size)))


def inject_fragments(rig, src6, dst6, inner):
    """@inner wrapped by the ISP side in 1232-byte IPv6 fragments, last first."""
    run(rig.isp, [PYTHON, BR4IN6, "inject", "--src", src6, "--dst", dst6, "--hex",
                  inner.hex(), "--frag-size", "1232", "--reverse"])


def test_mape_fragments_to_a_port_outside_the_set_or_from_a_wrong_br_are_dropped(rig, mape):
    """Every fragment counted: the first one refuses its datagram, and the
    two held before it go with it; a wrong BR's are refused by XDP."""
    inner = udp_datagram(CE4, RULE.ports(PSID + 1)[0], 3000, 9)
    before = counters(mape)
    inject_fragments(rig, BR, CE6, inner)
    inject_fragments(rig, WRONG_BR, CE6, udp_datagram(CE4, RULE.ports(PSID)[0], 3000, 9))
    wait_for(lambda: len(delta(mape, before)) == 4, timeout=5, what="4 counters moved")
    time.sleep(0.3)
    assert delta(mape, before) == {"tun_frag": 3, "tun_frag_held": 2, "tun_bad_port": 3,
                                   "tun_bad_src": 3}


# ------------------------------------------------------------ DS-Lite


def test_dslite_4000_byte_udp_both_ways_and_answers(rig, dslite):
    before = counters(dslite)
    n, got, want = exchange(rig, INET, UDP_ECHO, 4000, 11, "echo")
    assert (n, got) == (4000, want)
    st = rig.br_stats(dslite.aftr)
    assert [4028, want] in st["reasm_out"], st["reasm_out"]
    n, got, want = exchange(rig, INET, UDP_BIG, 4000, 12, "query")
    assert (n, got) == (4000, want)
    assert_reassembled(delta(dslite, before), 2, 6)
    assert rig.inet_events("big")[-1][0] == LAN_HOST, "a B4 does no NAT"


def test_dslite_ping_3000_without_df_from_the_internet_host_to_the_lan_host(rig, dslite):
    """The AFTR knows the softwire from the test before (or learns it from
    the LAN host's ping here first)."""
    rig.ping(INET, count=1)
    before = counters(dslite)
    p = run(rig.inet, ["ping", "-M", "dont", "-s", "3000", "-c", "3", "-i", "0.3", "-W",
                       "3", LAN_HOST], check=False, timeout=30)
    assert p.returncode == 0 and "3 received" in p.stdout, p.stdout + p.stderr
    assert "3008 bytes from" in p.stdout
    assert_reassembled(delta(dslite, before), 3, 9)
    assert [3028] in [e[:1] for e in rig.br_stats(dslite.aftr)["reasm_out"]]


def test_dslite_fragments_last_first_reach_the_lan_host_whole(rig, dslite):
    port = 9999
    listener = rig.popen(rig.lan, [PYTHON, rig.script("listen.py", UDP_LISTEN), str(port)],
                         stdout=subprocess.PIPE, text=True)
    try:
        assert listener.stdout.readline().strip() == "listening"
        inner = udp_datagram(LAN_HOST, port, 5000, 13)
        before = counters(dslite)
        inject_fragments(rig, AFTR, rig.wan_slaac(), inner)
        line = listener.stdout.readline().split()
    finally:
        topo._kill_group(listener)
    assert line == ["5000", hashlib.sha256(inner[28:]).hexdigest()]
    assert_reassembled(delta(dslite, before), 1, 5)
