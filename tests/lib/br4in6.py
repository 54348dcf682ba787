#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
A test MAP-E BR, DS-Lite AFTR or ip4ip6 peer for brouter's integration
tests, run in the ISP namespace. Its MAP-E arithmetic (RFC 7597 5.1, 5.2,
6) is written here from the RFC, independently of loader/mape_rule.c, so
the tests compare two implementations.

    br4in6.py serve --mode map-e --addr BR6 --inet-if IF --stats FILE
                    --rule-ipv6 P --rule-ipv4 P --ea-len N --psid-offset A
                    [--psid-len K] [--legacy]
    br4in6.py serve --mode ds-lite --addr AFTR6 --inet-if IF --stats FILE
                    --return-prefix 192.168.50.0/24
    br4in6.py serve --mode ipip6 --addr PEER6 --peer ROUTER6 --inet-if IF
                    --stats FILE --return-prefix P [--match-src P]
    br4in6.py serve --mode lw4o6 --addr LWAFTR6 --binding IPV4,PSID,B4 ...
    br4in6.py serve --mode ipip6 --encap gre [--gre-key K] ...
    br4in6.py inject --src SRC6 --dst DST6 --hex INNER_IPV4_PACKET
                     [--count N] [--frag-size N [--reverse]] [--gre [--gre-key K]]

The lwAFTR (RFC 7596) and the GRE peer (RFC 2784, 2890) are in
softwire.py, on top of this BR.

From the CE (a raw IPv6 socket for next header 4 bound to the BR address
hands over the inner IPv4 packet and the outer source): the outer source
is checked (MAP-E: the CE IPv6 address computed from the inner source
address and port; ipip6: the peer), then the inner packet is sent on to
the Internet host (raw IPv4 socket, IP_HDRINCL). Towards the CE: IPv4 for
the CE's addresses is captured on the Internet-facing interface (AF_PACKET;
the ISP namespace has a blackhole route for them so its kernel does not
answer), and sent back wrapped in IPv6 on the raw socket.

The DS-Lite AFTR does no NAT here: the Internet host routes the LAN's
prefix back to the ISP namespace, and the AFTR remembers which B4 each
inner source came from (the softwire).

Counters go to the --stats JSON file (rewritten as they change, and on
SIGTERM): out_ok/out_bad (from the CE), in_ok/in_drop (towards it), the
reasons of bad packets, the CE addresses seen, and (MAP-E) the ports and
ICMP echo identifiers each CE IPv4 address used, per protocol.

Fragments (tests/lib/fragments.py): IPv4 fragments from either side are
reassembled first, as a MAP-E BR must to find the port (RFC 7597 8.3.2,
8.3.3); "reasm_out" lists [length, sha256 of what follows the UDP header]
of each datagram the CE sent in fragments, "reasm_in" counts those from the
Internet. Towards the CE, a packet without DF too big for the WAN MTU with
the outer header goes in IPv6 fragments (RFC 2473 7.2), counted in
"frag_in"; with DF the sender gets "fragmentation needed". To the Internet
the BR fragments IPv4 without DF for the Internet link's MTU itself.
"""
import argparse
import hashlib
import ipaddress
import json
import os
import select
import signal
import socket
import struct
import sys
import time

from fragments import (Reassembly, icmp_frag_needed, ipv4_fragments, ipv6_fragments,
                       tcp_segments)

ETH_P_IP = 0x0800
PACKET_OUTGOING = 4
IPPROTO_IPIP = 4
INET_MTU = 1500      # Internet side (veth default)
WAN_MTU = 1500       # ISP <-> CE link: IPv6 packets at most this
OUTER = 40           # IPv6 header


# ---------------------------------------------------------------- RFC 7597

class MapRule:
    """A Basic Mapping Rule (RFC 7597 5.2), the BR's side of it."""

    def __init__(self, rule6, rule4, ea_len, psid_offset=6, psid_len=None, legacy=False):
        self.rule6 = ipaddress.IPv6Network(rule6)
        self.rule4 = ipaddress.IPv4Network(rule4)
        self.n = self.rule6.prefixlen
        self.r = self.rule4.prefixlen
        self.o = ea_len
        self.a = psid_offset
        self.p = 32 - self.r                       # IPv4 suffix bits in the EA bits
        self.k = ea_len - self.p if psid_len is None else psid_len
        if self.k != ea_len - self.p or self.k < 0:
            raise ValueError("only rules whose EA bits hold the IPv4 suffix and the PSID")
        self.m = 16 - self.a - self.k             # 5.1: port = A | PSID | j
        self.legacy = legacy
        if self.n + self.o > 64:
            raise ValueError("end-user prefix longer than /64")

    def psid_of(self, port):
        return (port >> self.m) & ((1 << self.k) - 1)

    def port_usable(self, port):
        """5.1: A = 0 (ports below 2^(16-a)) is in no port set."""
        return self.a == 0 or (port >> (16 - self.a)) != 0

    def ports(self, psid):
        """The port set of @psid, ascending."""
        out = []
        for A in range(1 if self.a else 0, 1 << self.a):
            base = (A << (16 - self.a)) | (psid << self.m)
            out.extend(range(base, base + (1 << self.m)))
        return out

    def ranges(self, psid):
        return [(A << (16 - self.a) | psid << self.m,
                 (A << (16 - self.a) | psid << self.m) + (1 << self.m) - 1)
                for A in range(1 if self.a else 0, 1 << self.a)]

    def ce_ipv6(self, ipv4, psid):
        """Section 6: end-user prefix (rule prefix + EA bits), subnet ID 0,
        interface identifier 0:IPv4:PSID (RFC) or 0 8|IPv4|PSID|0 8 (legacy)."""
        v4 = int(ipaddress.IPv4Address(ipv4))
        suffix = v4 & ((1 << self.p) - 1)
        ea = (suffix << self.k) | psid
        prefix = int(self.rule6.network_address) | (ea << (128 - self.n - self.o))
        if self.legacy:
            iid = (v4 << 24) | (psid << 8)
        else:
            iid = (v4 << 16) | psid
        return str(ipaddress.IPv6Address(prefix | iid))

    def ce_of_prefix(self, eu_prefix):
        """What a CE with end-user prefix @eu_prefix gets (for tests)."""
        eu = ipaddress.IPv6Network(eu_prefix, strict=False)
        ea = (int(eu.network_address) >> (128 - self.n - self.o)) & ((1 << self.o) - 1)
        psid = ea & ((1 << self.k) - 1)
        v4 = int(self.rule4.network_address) | (ea >> self.k)
        ipv4 = str(ipaddress.IPv4Address(v4))
        return ipv4, psid, self.ce_ipv6(ipv4, psid)


# ---------------------------------------------------------------- packets

class V4:
    """The fields of an IPv4 packet this BR looks at."""

    def __init__(self, data):
        if len(data) < 20 or data[0] >> 4 != 4:
            raise ValueError("not IPv4")
        self.data = data
        self.ihl = (data[0] & 15) * 4
        self.proto = data[9]
        self.src = socket.inet_ntoa(data[12:16])
        self.dst = socket.inet_ntoa(data[16:20])
        frag = struct.unpack("!H", data[6:8])[0]
        self.df = bool(frag & 0x4000)
        self.frag_off = frag & 0x1fff
        self.l4 = data[self.ihl:]

    def port(self, ce_is_src):
        """The CE's port: its TCP/UDP port, its echo identifier, or for an
        ICMP error the port of the packet it quotes (sent by the CE when
        the error goes to the CE, to the CE when the CE sends it)."""
        if self.frag_off:
            return None
        l4 = self.l4
        if self.proto in (6, 17) and len(l4) >= 4:
            sport, dport = struct.unpack("!HH", l4[:4])
            return sport if ce_is_src else dport
        if self.proto == 1 and len(l4) >= 8:
            typ = l4[0]
            if typ in (0, 8):
                return struct.unpack("!H", l4[4:6])[0]
            if typ in (3, 11, 12) and len(l4) >= 8 + 20 + 4:
                q = l4[8:]
                qihl = (q[0] & 15) * 4
                qs, qd = struct.unpack("!HH", q[qihl:qihl + 4])
                return qd if ce_is_src else qs
        return None


# ---------------------------------------------------------------- the BR

class Br:
    def __init__(self, args):
        self.args = args
        self.mode = args.mode
        self.rule = None
        if self.mode == "map-e":
            self.rule = MapRule(args.rule_ipv6, args.rule_ipv4, args.ea_len,
                                args.psid_offset, args.psid_len, args.legacy)
        self.returns = [ipaddress.IPv4Network(p) for p in args.return_prefix or []]
        self.match_src = [ipaddress.IPv4Network(p) for p in args.match_src or []]
        self.softwires = {}     # DS-Lite: inner source -> B4 address
        self.outer = OUTER      # bytes in front of IPv4 towards the CE
        self.stats = {"mode": self.mode, "out_ok": 0, "out_bad": 0, "in_ok": 0,
                      "in_drop": 0, "segmented": 0, "bad": [], "drops": [],
                      "ce_seen": [], "ports_seen": {}, "reasm_out": [],
                      "reasm_in": 0, "frag_in": 0}
        self.from_ce_frags, self.from_inet_frags = Reassembly(), Reassembly()
        self.ports_seen = {}    # MAP-E: "CE4 proto" -> CE ports/echo ids seen
        self.dirty = True
        self.last_write = 0.0

        self.raw6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, IPPROTO_IPIP)
        self.raw6.bind((args.addr, 0))
        self.raw6.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.raw6.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
        # IPPROTO_RAW: the whole IPv6 packet, for the fragments sent to a CE
        self.raw6_frags = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
        self.raw4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        self.raw4.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
        self.cap = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
        self.cap.bind((args.inet_if, ETH_P_IP))
        self.cap.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        for sock in (self.raw6, self.cap):
            sock.setblocking(False)
        self.inet_addr = self._if_addr4(args.inet_if)

    @staticmethod
    def _if_addr4(ifname):
        import fcntl
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            r = fcntl.ioctl(s.fileno(), 0x8915,  # SIOCGIFADDR
                            struct.pack("256s", ifname.encode()[:15]))
            return socket.inet_ntoa(r[20:24])
        finally:
            s.close()

    def note(self, key, why, limit=50):
        self.stats[key + ("_bad" if key == "out" else "_drop")] += 1
        lst = self.stats["bad" if key == "out" else "drops"]
        if len(lst) < limit:
            lst.append(why)
        print(f"br4in6: {key}: {why}", file=sys.stderr, flush=True)
        self.dirty = True

    # -------------------------------------------------- CE -> Internet

    def check_out(self, src6, pkt):
        """None if the CE may send @pkt from @src6, else why not."""
        if self.mode == "ipip6":
            return None if src6 == self.args.peer else f"outer source {src6} is not the peer"
        if self.mode == "ds-lite":
            self.softwires[pkt.src] = src6
            if src6 not in self.stats["ce_seen"]:
                self.stats["ce_seen"].append(src6)
            return None
        if ipaddress.IPv4Address(pkt.src) not in self.rule.rule4:
            return f"inner source {pkt.src} outside {self.rule.rule4}"
        port = pkt.port(ce_is_src=True)
        if port is None:
            if pkt.frag_off:
                return None   # the first fragment was checked
            return f"{pkt.src} proto {pkt.proto}: no port to check"
        if not self.rule.port_usable(port):
            return f"{pkt.src} port {port} below 2^(16-a): in no port set"
        want = self.rule.ce_ipv6(pkt.src, self.rule.psid_of(port))
        if src6 != want:
            return f"{pkt.src}:{port} (PSID {self.rule.psid_of(port)}) must come from {want}, not {src6}"
        if want not in self.stats["ce_seen"]:
            self.stats["ce_seen"].append(want)
        self.port_seen(pkt, port)
        return None

    def port_seen(self, pkt, port):
        """Note the CE port (TCP/UDP port, echo identifier) of @pkt; the
        ICMP errors a CE sends are noted apart, under "icmp-error"."""
        proto = {1: "icmp", 6: "tcp", 17: "udp"}.get(pkt.proto, str(pkt.proto))
        if pkt.proto == 1 and pkt.l4[0] not in (0, 8):
            proto = "icmp-error"
        seen = self.ports_seen.setdefault(f"{pkt.src} {proto}", set())
        if port not in seen:
            seen.add(port)
            self.stats["ports_seen"][f"{pkt.src} {proto}"] = sorted(seen)

    def send_inet(self, pkt):
        data = [pkt.data]
        if len(pkt.data) > INET_MTU:
            if pkt.proto == 6:
                data = tcp_segments(pkt.data, INET_MTU)
                self.stats["segmented"] += 1
            elif pkt.df:
                raise OSError(f"{len(pkt.data)}-byte proto {pkt.proto} packet with DF")
            else:
                data = ipv4_fragments(pkt.data, INET_MTU)
        for d in data:
            self.raw4.sendto(d, (pkt.dst, 0))

    def reassembled_out(self, pkt):
        """Note a datagram the CE sent in fragments: its length and the
        hash of what follows its UDP header (of its L4 data otherwise)."""
        body = pkt.l4[8:] if pkt.proto == 17 else pkt.l4
        if len(self.stats["reasm_out"]) < 50:
            self.stats["reasm_out"].append([len(pkt.data), hashlib.sha256(body).hexdigest()])

    def recv_ce(self):
        """(inner IPv4 packet, outer source) from the CE, or None."""
        data, addr = self.raw6.recvfrom(1 << 17)
        return data, str(ipaddress.IPv6Address(addr[0]))

    def from_ce(self):
        got = self.recv_ce()
        if got is None:
            return
        data, src6 = got
        try:
            pkt = V4(data)
        except ValueError:
            self.note("out", f"from {src6}: inner packet is not IPv4")
            return
        whole = self.from_ce_frags.add(data)
        if whole is None:
            return
        if whole is not data:
            pkt = V4(whole)
            self.reassembled_out(pkt)
        why = self.check_out(src6, pkt)
        if why:
            self.note("out", why)
            return
        try:
            self.send_inet(pkt)
        except OSError as e:
            self.note("out", f"send to {pkt.dst}: {e}")
            return
        self.stats["out_ok"] += 1
        self.dirty = True

    # -------------------------------------------------- Internet -> CE

    def ce_for(self, pkt):
        """The IPv6 address to send @pkt to, or (None, why)."""
        dst = ipaddress.IPv4Address(pkt.dst)
        if self.mode == "map-e":
            if dst not in self.rule.rule4:
                return None, None
            port = pkt.port(ce_is_src=False)
            if port is None:
                return None, f"to {pkt.dst} proto {pkt.proto}: no port"
            if not self.rule.port_usable(port):
                return None, f"to {pkt.dst}:{port}: in no port set"
            return self.rule.ce_ipv6(pkt.dst, self.rule.psid_of(port)), None
        if not any(dst in n for n in self.returns):
            return None, None
        if self.match_src and not any(ipaddress.IPv4Address(pkt.src) in n
                                      for n in self.match_src):
            return None, None
        if self.mode == "ipip6":
            return self.args.peer, None
        b4 = self.softwires.get(pkt.dst)
        return (b4, None) if b4 else (None, f"to {pkt.dst}: no softwire")

    def send_ce(self, data, ce6, nexthdr=IPPROTO_IPIP):
        """@data to @ce6 in IPv6, in fragments if it does not fit."""
        if len(data) + self.outer <= WAN_MTU:
            self.raw6.sendto(data, (ce6, 0))
            return
        for f in ipv6_fragments(self.args.addr, ce6, nexthdr, data, WAN_MTU,
                                int.from_bytes(os.urandom(4), "big")):
            self.raw6_frags.sendto(f, (ce6, 0))
        self.stats["frag_in"] += 1

    def from_inet(self):
        data, addr = self.cap.recvfrom(1 << 17)
        if addr[2] == PACKET_OUTGOING:
            return
        try:
            pkt = V4(data)
        except ValueError:
            return
        whole = self.from_inet_frags.add(data)
        if whole is None:
            return
        if whole is not data:
            data, pkt = whole, V4(whole)
            self.stats["reasm_in"] += 1
        ce6, why = self.ce_for(pkt)
        if why:
            self.note("in", why)
        if not ce6:
            return
        if len(data) + self.outer > WAN_MTU and pkt.df:
            self.raw4.sendto(icmp_frag_needed(pkt, WAN_MTU - self.outer, self.inet_addr),
                             (pkt.src, 0))
            self.note("in", f"{len(data)} bytes to {pkt.dst} with DF: frag needed sent")
            return
        try:
            self.send_ce(data, ce6)
        except OSError as e:
            self.note("in", f"send to {ce6}: {e}")
            return
        self.stats["in_ok"] += 1
        self.dirty = True

    # -------------------------------------------------- loop

    def write_stats(self, force=False):
        now = time.monotonic()
        if not self.dirty or (not force and now - self.last_write < 0.2):
            return
        tmp = self.args.stats + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.stats, f)
        os.replace(tmp, self.args.stats)
        self.dirty = False
        self.last_write = now

    def run(self):
        stop = []
        signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
        signal.signal(signal.SIGINT, lambda *_: stop.append(1))
        self.write_stats(force=True)
        print("br4in6: ready", file=sys.stderr, flush=True)
        while not stop:
            try:
                r, _, _ = select.select([self.raw6, self.cap], [], [], 0.2)
            except InterruptedError:
                continue
            # drain each ready socket, a burst at a time
            for _ in range(64):
                busy = False
                if self.raw6 in r:
                    try:
                        self.from_ce()
                        busy = True
                    except BlockingIOError:
                        pass
                if self.cap in r:
                    try:
                        self.from_inet()
                        busy = True
                    except BlockingIOError:
                        pass
                if not busy:
                    break
            self.write_stats()
        self.dirty = True
        self.write_stats(force=True)


def inject(args):
    """Send an IPv4-in-IPv6 packet from @src (an address of this host),
    --count times; with --frag-size, in IPv6 fragments carrying that many
    bytes each (a multiple of 8), last first with --reverse."""
    inner = bytes.fromhex(args.hex)
    if not args.frag_size:
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, IPPROTO_IPIP)
        s.bind((args.src, 0))
        for _ in range(args.count):
            s.sendto(inner, (args.dst, 0))
        return
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
    for n in range(args.count):
        frags = ipv6_fragments(args.src, args.dst, IPPROTO_IPIP, inner,
                               40 + 8 + args.frag_size, 0x4000 + n)
        for f in reversed(frags) if args.reverse else frags:
            s.sendto(f, (args.dst, 0))


def main():
    import softwire  # builds on this module: imported once it is whole
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--mode", choices=("map-e", "ds-lite", "ipip6", "lw4o6"), required=True)
    s.add_argument("--addr", required=True, help="BR/AFTR/peer IPv6 address")
    s.add_argument("--inet-if", required=True)
    s.add_argument("--stats", required=True)
    s.add_argument("--rule-ipv6")
    s.add_argument("--rule-ipv4")
    s.add_argument("--ea-len", type=int)
    s.add_argument("--psid-offset", type=int, default=6)
    s.add_argument("--psid-len", type=int)
    s.add_argument("--legacy", action="store_true")
    s.add_argument("--peer", help="ipip6: the router's IPv6 end")
    s.add_argument("--return-prefix", action="append")
    s.add_argument("--match-src", action="append")
    softwire.add_args(s)
    i = sub.add_parser("inject")
    i.add_argument("--src", required=True)
    i.add_argument("--dst", required=True)
    i.add_argument("--hex", required=True)
    i.add_argument("--count", type=int, default=1)
    i.add_argument("--frag-size", type=int, default=0)
    i.add_argument("--reverse", action="store_true")
    i.add_argument("--gre", action="store_true", help="send in GRE (softwire.py)")
    i.add_argument("--gre-key", type=lambda v: int(v, 0), help="with this key")
    args = ap.parse_args()
    if args.cmd == "inject":
        if args.gre:
            softwire.inject_gre(args)
        else:
            inject(args)
        return
    if args.peer:
        args.peer = str(ipaddress.IPv6Address(args.peer))
    softwire.server_class(args)(args).run()


if __name__ == "__main__":
    main()
