# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
The firewall's program-test rig and frame helpers, shared by tests/prog:
scapy frames run with BPF_PROG_TEST_RUN through the XDP program *as a real
brouterd loaded it* (its rodata ifindexes, its pinned maps), on the rig of
progrig.py (lan0/wan0 and their veth peers, IPv6 off in the namespace, so
the kernel sends nothing of its own on the ports).

Non-live runs: XDP_REDIRECT (4) means bridged, XDP_DROP (1) dropped,
XDP_PASS (2) to the local stack. Every run checks the exact per-CPU counter
deltas by name (names parsed from BR_STAT_LIST), so a verdict counted under
the wrong reason fails.

Policies other than the default are made by rewriting pol[gen] in the
pinned "settings" map; pinholes by writing "pin_dst"/"pin_rules" of the
active generation; the clock is driven by rewriting "flows" entries'
seen_ns (CLOCK_MONOTONIC, the base of bpf_ktime_get_coarse_ns), or,
where the state must stay as it is, by moving the programs' own clock
(advance()). Before
each test the settings are restored and flows, lan_addrs, frags, pinholes
and prefixes reset (prefixes: just LAN_NET), so tests are independent.

The XDP program keeps a per-CPU cache of flows confirmed within the last
second (flow_cache, not pinned: found through the program's map ids).
Really, time passing by more than that second invalidates every entry,
and a reload changes settings.gen, which the cache compares. Edits made
here are instant, so every helper that moves time, edits or deletes
flows or rewrites the settings also zeroes the cache: tests see what the
program would see once that time had passed. The flow cache tests below
(tests/prog/test_flowcache.py) show what the cache itself does.
"""
import contextlib
import errno
import mmap
import os
import struct
import tempfile
import time

from scapy.all import IPv6, TCP, UDP, Ether, Raw

import bpfsys as bs
import fwmaps as fm
from progrig import CACHE_ACCOUNTING, LAN, STAT_NAMES, WAN, Rig, drops_add_up

# Addresses: the LAN's /64 (a learned prefix), LAN hosts, WAN remotes.
LAN_NET = "2001:db8:1::"
H1 = "2001:db8:1::10"
H2 = "2001:db8:1::20"
H3 = "2001:db8:1::30"
R1 = "2001:db8:f00::1"
R2 = "2001:db8:f00::2"
R3 = "2001:db8:f00::3"
ISP_LL = "fe80::1"

# MACs: LAN hosts live on the LAN port, the ISP router on the WAN port.
LAN_MAC = "02:1a:00:00:00:10"
LAN_MAC2 = "02:1a:00:00:00:20"
WAN_MAC = "02:2b:00:00:00:01"

TCP_P, UDP_P, ICMP6_P, ESP_P, AH_P = 6, 17, 58, 50, 51
NSEC = 1000000000

# bpf/maps.h (struct fc_entry): firewall.flow-cache entries per possible CPU (in sets
# of BR_FC_WAYS) of
# {struct br_flow_key, until_ns, gen (low 16 bits) for packets from the LAN
# and from the WAN, the LAN and WAN stations' MACs}
FC_ENTRY = struct.Struct("=40sQHH12x")
FC_GEN_MASK = 0xffff
# struct br_clock (bpf/maps.h): jiffies, ns, skew_ns
CLOCK = struct.Struct("=QQQ")


def default_flow_cache():
    """Entries per CPU brouterd picks without firewall.flow-cache: the
    default, halved while all CPUs' shares exceed the budget."""
    n = fm.BR_FC_DEF_PER_CPU
    while n > fm.BR_FC_MIN_PER_CPU and \
            n * fm.BR_FC_ENTRY_SIZE * bs.possible_cpus() > fm.BR_FC_DEF_BUDGET:
        n //= 2
    return n


def mono_ns():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def mono_ago(seconds):
    """
    CLOCK_MONOTONIC @seconds ago, as the u64 the BPF side stores. Shortly
    after boot that is before 0: it wraps, and the programs' unsigned
    "now - seen" still yields @seconds.
    """
    return (mono_ns() - int(seconds * NSEC)) % 2**64



TCP_KEY = (H1, R1, TCP_P, 40000, 443)
UDP_KEY = (H1, R1, UDP_P, 5000, 53)


# ---------------------------------------------------------------- the rig


class FwRig(Rig):
    """The rig, with the firewall's maps read and written."""

    MAPS = Rig.MAPS + ("settings", "flows", "lan_addrs", "frags", "pin_dst",
                       "pin_rules", "prefixes", "fdb")

    def __init__(self, flow_cache=None, tag="", conf=""):
        """@flow_cache: firewall.flow-cache for brouterd, else its default;
        @tag: a name apart, for a rig that runs beside the module's;
        @conf: more of brouter.conf."""
        self.conf = None
        args = ()
        if flow_cache is not None:
            conf += f"firewall = {{ flow-cache = {flow_cache}; }};\n"
        if conf:
            self.conf = tempfile.NamedTemporaryFile(
                mode="w", prefix="brtf-", suffix=".conf")
            self.conf.write(conf)
            self.conf.flush()
            args = ("-c", self.conf.name)
        super().__init__(f"brtf{os.getpid()}{tag}", extra_args=args)
        self.fc_per_cpu = default_flow_cache() if flow_cache is None \
            else flow_cache

    def start(self):
        fm.check_layout()
        super().start()
        self.settings0 = self.settings_raw()
        self._open_flow_cache()
        self.clock_fd, info = self.prog_map("clock")
        assert info.value_size == CLOCK.size
        self.skew_ns = 0

    def _open_flow_cache(self):
        fd, info = self.prog_map("flow_cache")
        self.fc_fd = fd
        self.fc_sets = self.fc_per_cpu // fm.BR_FC_WAYS
        sets = max(1, self.fc_sets * bs.possible_cpus())
        want = (fm.BR_FC_WAYS * FC_ENTRY.size, sets)
        assert (info.value_size, info.max_entries) == want, \
            f"flow_cache: {info.max_entries} x {info.value_size} bytes, " \
            f"want {want[1]} x {want[0]}"
        self.fc_mem = mmap.mmap(fd, sets * info.value_size, mmap.MAP_SHARED,
                                mmap.PROT_READ | mmap.PROT_WRITE)

    def now_ns(self):
        """The programs' clock: CLOCK_MONOTONIC plus what advance() added."""
        return mono_ns() + self.skew_ns

    def ago(self, seconds):
        """now_ns() @seconds ago, as the u64 the BPF side stores (see mono_ago)."""
        return (self.now_ns() - int(seconds * NSEC)) % 2**64

    def advance(self, seconds):
        """
        Move the programs' clock @seconds forward on every CPU, leaving
        every table and the flow cache as they are: time passing, as the
        programs see it (each CPU reads the clock afresh on its next
        packet). It never goes back, so it stays skewed for the rest of
        the rig's life: compare with now_ns(), not mono_ns().
        """
        self.skew_ns += int(seconds * NSEC)
        bs.map_update(self.clock_fd, struct.pack("=I", 0),
                      CLOCK.pack(0, 0, self.skew_ns) * bs.possible_cpus())

    def flush_flow_cache(self):
        """Zero every CPU's flow cache, as a second passing does."""
        self.fc_mem[:] = bytes(len(self.fc_mem))

    def flow_cache(self):
        """[(cpu, struct br_flow_key bytes, until_ns, gen, gen_lan)] of
        used entries (gen: its low bits, FC_GEN_MASK; the WAN side's, and
        the LAN side's, one behind while outbound packets must refresh)."""
        mem, esz, none = self.fc_mem[:], FC_ENTRY.size, bytes(40)
        out = []
        for off in range(0, len(mem), esz):
            if mem[off:off + 40] != none:
                k, until, gen_lan, gen = FC_ENTRY.unpack_from(mem, off)
                out.append((off // esz // max(1, self.fc_per_cpu), k, until, gen,
                            gen_lan))
        return out

    def check_maps(self):
        """The pinned maps have the layout tests/fwmaps.py encodes."""
        super().check_maps()
        want = {"settings": (4, "br_settings"),
                "flows": ("br_flow_key", "br_flow"),
                "lan_addrs": ("br_addr_key", "br_addr_val"),
                "frags": ("br_frag_key", "br_frag_val"),
                "pin_dst": ("br_pin_dst_key", "br_pin_dst_val"),
                "pin_rules": ("br_pin_key", "br_pin_val"),
                "prefixes": ("br_prefix_key", "br_prefix_val"),
                "stats": (4, "br_stat")}
        for m, (k, v) in want.items():
            info = self.maps[m][1]
            ks = k if isinstance(k, int) else fm.S[k].size
            assert (info.key_size, info.value_size) == (ks, fm.S[v].size), \
                f"map {m}: key/value {info.key_size}/{info.value_size}"

    # -- running frames

    def send(self, port, frame, accounting=False):
        """Run @frame; returns (verdict, {counter: packets} on @port),
        the flow cache's accounting included only if @accounting."""
        frame = bytes(frame)
        before = self.stats()
        verdict = self.xdp(port, frame)[0].retval
        after = self.stats()
        counts = {}
        for name in STAT_NAMES:
            d = [a - b for a, b in zip(after[name], before[name])]
            other = 1 - port
            assert d[2 * other] == 0 and d[2 * other + 1] == 0, \
                f"counter {name} moved on the other port"
            if name in CACHE_ACCOUNTING and not accounting:
                continue
            if d[2 * port]:
                assert d[2 * port + 1] == d[2 * port] * len(frame), name
                counts[name] = d[2 * port]
        drops_add_up(counts)
        return verdict, counts

    # -- maps

    def settings_raw(self):
        return bs.map_lookup(self.fd("settings"), struct.pack("=I", 0),
                             fm.S["br_settings"].size)

    def settings(self):
        return fm.settings_decode(self.settings_raw())

    def write_settings(self, s, flush=True):
        """
        Policies are edited in place here, where brouterd would change
        gen: flush the flow cache unless a test emulates a reload (@flush
        False) to show that gen alone protects.
        """
        raw = s if isinstance(s, bytes) else fm.settings_encode(s)
        bs.map_update(self.fd("settings"), struct.pack("=I", 0), raw)
        if flush:
            self.flush_flow_cache()

    def gen(self):
        return self.settings()["gen"] & 1

    def set_policy(self, **kw):
        """Change fields of the active policy, pol[gen]; MACs etc. kept."""
        s = self.settings()
        s["pol"][s["gen"] & 1].update(kw)
        self.write_settings(s)

    def policy(self):
        s = self.settings()
        return s["pol"][s["gen"] & 1]

    def set_flags(self, on=0, off=0):
        p = self.policy()
        self.set_policy(flags=(p["flags"] | on) & ~off)

    def clear(self, m, flush=True):
        fd = self.fd(m)
        ks = bs.map_info(fd).key_size
        for k in list(bs.map_keys(fd, ks)):
            try:
                bs.map_delete(fd, k)
            except OSError as e:
                if e.errno != errno.ENOENT:
                    raise
        if m == "flows" and flush:
            self.flush_flow_cache()

    def reset(self):
        self.write_settings(self.settings0)
        for m in ("flows", "lan_addrs", "frags", "pin_dst", "pin_rules",
                  "prefixes"):
            self.clear(m)
        self.add_prefix(LAN_NET, 64)

    def add_prefix(self, addr, plen):
        bs.map_update(self.fd("prefixes"), fm.prefix_key(addr, plen),
                      fm.prefix_val())

    def flows(self):
        """{(lan, wan, proto, lport, wport, kind): struct br_flow dict}"""
        fd = self.fd("flows")
        out = {}
        for k in bs.map_keys(fd, fm.S["br_flow_key"].size):
            try:
                v = bs.map_lookup(fd, k, fm.S["br_flow"].size)
            except OSError:
                continue
            kd = fm.flow_key_decode(k)
            out[(kd["lan_addr"], kd["wan_addr"], kd["proto"], kd["lan_port"],
                 kd["wan_port"], kd["kind"])] = fm.unpack("br_flow", v)
        return out

    def lookup(self, name, key):
        """Value bytes of @key in pinned map @name, or None when absent."""
        try:
            return bs.map_lookup(self.fd(name), key, self.maps[name][1].value_size)
        except OSError as e:
            if e.errno == errno.ENOENT:
                return None
            raise

    def flow(self, lan, wan, proto, lport=0, wport=0, kind=fm.BR_FK_FLOW):
        v = self.lookup("flows", fm.flow_key(lan, wan, proto, lport, wport, kind))
        return v and fm.unpack("br_flow", v)

    def age_flows(self, seconds, lan=None):
        """Make flows (of LAN address @lan) idle for @seconds."""
        fd = self.fd("flows")
        n = 0
        for k in list(bs.map_keys(fd, fm.S["br_flow_key"].size)):
            if lan and fm.flow_key_decode(k)["lan_addr"] != lan:
                continue
            v = fm.unpack("br_flow", bs.map_lookup(fd, k, fm.S["br_flow"].size))
            v["seen_ns"] = self.ago(seconds)
            bs.map_update(fd, k, fm.pack("br_flow", **v), bs.BPF_EXIST)
            n += 1
        assert n, "no flow to age"
        self.flush_flow_cache()  # the seconds passed for the cache too

    def set_flow(self, key, v, flush=True):
        """Rewrite flow @key (flow() arguments) to the br_flow dict @v."""
        bs.map_update(self.fd("flows"), fm.flow_key(*key),
                      fm.pack("br_flow", **v), bs.BPF_EXIST)
        if flush:
            self.flush_flow_cache()

    def delete_flow(self, key, flush=True):
        bs.map_delete(self.fd("flows"), fm.flow_key(*key))
        if flush:
            self.flush_flow_cache()

    def clear_fdb(self):
        """Empty the FDB and each CPU's cache in front of it (fdb_cpu)."""
        self.clear("fdb")
        fd, info = self.prog_map("fdb_cpu")
        bs.map_update(fd, struct.pack("=I", 0),
                      bytes(info.value_size * bs.possible_cpus()))
        os.close(fd)
        self.fds.remove(fd)

    def fdb_port(self, mac):
        """Port the FDB has @mac on (struct br_fdb_key: MAC + 2 pad), or None."""
        v = self.lookup("fdb", bytes.fromhex(mac.replace(":", "")) + bytes(2))
        return v and struct.unpack_from("=I", v)[0]

    def lan_addrs(self):
        fd = self.fd("lan_addrs")
        return {fm.s6(k) for k in bs.map_keys(fd, 16)}

    def frags(self):
        fd = self.fd("frags")
        out = set()
        for k in bs.map_keys(fd, fm.S["br_frag_key"].size):
            d = fm.unpack("br_frag_key", k)
            out.add((fm.s6(d["src"]), fm.s6(d["dst"]),
                     struct.unpack("!I", d["id"])[0]))
        return out

    def add_pinhole(self, dst, plen, set_id, rules, gen=None):
        """
        @rules: [(proto, ports, rule_id, srcs)], ports a list of ports or
        ICMPv6 types, or None for every port. Like brouterd's compiler: one
        pin_rules entry per port of a range.
        """
        gen = self.gen() if gen is None else gen
        for proto, ports, rule_id, srcs in rules:
            for port in ports if ports is not None else [None]:
                bs.map_update(self.fd("pin_rules"),
                              fm.pin_key(set_id, gen, proto, port),
                              fm.pin_val(rule_id, srcs))
        bs.map_update(self.fd("pin_dst"), fm.pin_dst_key(gen, dst, plen),
                      fm.pin_dst_val(set_id))


# ----------------------------------------------------------------- frames


def out(l3, src=LAN_MAC):
    """LAN host -> ISP router: arrives on the LAN port."""
    return bytes(Ether(src=src, dst=WAN_MAC) / l3)


def inb(l3, dst=LAN_MAC):
    """ISP side -> LAN host: arrives on the WAN port."""
    return bytes(Ether(src=WAN_MAC, dst=dst) / l3)


def tcp(src, dst, sport, dport, flags, hlim=64):
    return IPv6(src=src, dst=dst, hlim=hlim) / TCP(sport=sport, dport=dport,
                                                   flags=flags)


def udp(src, dst, sport, dport, payload=b"brouter"):
    return IPv6(src=src, dst=dst) / UDP(sport=sport, dport=dport) / \
        Raw(payload)


def icmp_raw(src, dst, typ, code=0, body=b"\0" * 4, hlim=64):
    return IPv6(src=src, dst=dst, nh=ICMP6_P, hlim=hlim) / \
        Raw(bytes([typ, code, 0, 0]) + body)


def bridged(new=False):
    c = {"rx": 1, "bridged": 1}
    if new:
        c["flow_new"] = 1
    return (bs.XDP_REDIRECT, c)


def dropped(reason):
    return (bs.XDP_DROP, {"rx": 1, "drop": 1, reason: 1})


def passed(stat):
    return (bs.XDP_PASS, {"rx": 1, stat: 1})


def open_udp(fw, lan=H1, wan=R1, lport=5000, wport=53):
    assert fw.send(LAN, out(udp(lan, wan, lport, wport))) == bridged(new=True)


def open_tcp(fw, lan=H1, wan=R1, lport=40000, wport=443):
    """Outbound SYN, inbound SYN-ACK: an established connection."""
    assert fw.send(LAN, out(tcp(lan, wan, lport, wport, "S"))) == \
        bridged(new=True)
    assert fw.send(WAN, inb(tcp(wan, lan, wport, lport, "SA"))) == bridged()
    assert fw.flow(lan, wan, TCP_P, lport, wport)["state"] == \
        fm.BR_FS_ESTABLISHED


def state(fw, *key):
    f = fw.flow(*key)
    return None if f is None else fm.FS_NAME[f["state"]]


@contextlib.contextmanager
def on_one_cpu():
    """This thread on one CPU: the flow cache is per CPU."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def esp(src, dst):
    return IPv6(src=src, dst=dst, nh=ESP_P) / Raw(b"\0\0\1\0\0\0\0\1" + b"x" * 16)


def ah(src, dst):
    return IPv6(src=src, dst=dst, nh=AH_P) / \
        Raw(bytes([UDP_P, 4, 0, 0]) + b"\0\0\1\0" + b"\0" * 16)
