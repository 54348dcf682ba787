# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
Two more far ends for br4in6.py, written from their RFCs:

- LwAftr: an lwAFTR (RFC 7596 6) with one binding {IPv4 address, PSID}
  -> the lwB4's IPv6 address. From the lwB4 it takes only what comes from
  that address, with the bound IPv4 source and a port of the PSID's set
  (RFC 7597 5.1 arithmetic, written here again); towards it, IPv4 to the
  address and a port of the set, all else dropped and counted.
- GrePeer: the static peer of br4in6's ipip6 mode over GRE (RFC 2784)
  instead of ip4ip6, with a key (RFC 2890) if given: a raw IPv6 socket
  for next header 47, packets of another key counted as bad.

inject_gre() sends IPv4 in GRE from any address of this host, with any key.
"""
import ipaddress
import socket
import struct

import br4in6

IPPROTO_GRE = 47
IPV6_DSTOPTS = 59  # Linux's sticky Destination Options of a socket
GRE_KEY, GRE_CSUM, GRE_SEQ = 0x2000, 0x8000, 0x1000


def add_args(p):
    p.add_argument("--binding", help="lw4o6: IPV4,PSID,B4 (PSID in C notation)")
    p.add_argument("--encap", choices=("ipip", "gre"), default="ipip")
    p.add_argument("--gre-key", type=lambda v: int(v, 0))
    p.add_argument("--encap-limit", action="store_true",
                   help="GRE: a Tunnel Encapsulation Limit option in front, "
                        "as Linux's ip6gre sends by default (RFC 2473 4.1.1)")


def server_class(args):
    if args.mode == "lw4o6":
        return LwAftr
    return GrePeer if args.encap == "gre" else br4in6.Br


class LwAftr(br4in6.Br):
    """RFC 7596 6: the binding table of one lwB4."""

    def __init__(self, args):
        super().__init__(args)
        ipv4, psid, b4 = args.binding.split(",")
        self.bound4, self.psid = ipv4, int(psid, 0)
        self.b4 = str(ipaddress.IPv6Address(b4))
        self.k, self.a = args.psid_len or 0, args.psid_offset

    def in_set(self, port):
        """RFC 7597 5.1: port = A << (16 - a) | PSID << m | j, A > 0."""
        if not self.k:
            return True
        m = 16 - self.a - self.k
        if self.a and not port >> (16 - self.a):
            return False
        return (port >> m) & ((1 << self.k) - 1) == self.psid

    def check_out(self, src6, pkt):
        if src6 != self.b4:
            return f"outer source {src6} is not the binding's lwB4 {self.b4}"
        if pkt.src != self.bound4:
            return f"inner source {pkt.src} is not the bound {self.bound4}"
        port = pkt.port(ce_is_src=True)
        if port is None:
            return None if pkt.frag_off else f"proto {pkt.proto}: no port to check"
        if not self.in_set(port):
            return f"port {port} is not in PSID {self.psid}'s set"
        if src6 not in self.stats["ce_seen"]:
            self.stats["ce_seen"].append(src6)
        self.port_seen(pkt, port)
        return None

    def ce_for(self, pkt):
        if pkt.dst != self.bound4:
            return None, None
        port = pkt.port(ce_is_src=False)
        if port is None or not self.in_set(port):
            return None, f"to {pkt.dst} port {port}: outside PSID {self.psid}'s set"
        return self.b4, None


def gre_header(key):
    if key is None:
        return struct.pack("!HH", 0, 0x0800)
    return struct.pack("!HHI", GRE_KEY, 0x0800, key)


def gre_parse(data):
    """(key or None, the IPv4 packet) of a GRE packet; ValueError if bad."""
    if len(data) < 4:
        raise ValueError("GRE header cut short")
    flags, proto = struct.unpack("!HH", data[:4])
    if flags & 0x4807 or proto != 0x0800:
        raise ValueError(f"GRE flags {flags:#x} proto {proto:#x}")
    off, key = 4, None
    if flags & GRE_CSUM:
        off += 4
    if flags & GRE_KEY:
        key = struct.unpack("!I", data[off:off + 4])[0]
        off += 4
    if flags & GRE_SEQ:
        off += 4
    return key, data[off:]


class GrePeer(br4in6.Br):
    """br4in6's ipip6 peer, over GRE."""

    def __init__(self, args):
        super().__init__(args)
        self.raw6.close()
        self.raw6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, IPPROTO_GRE)
        self.raw6.bind((args.addr, 0))
        self.raw6.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.raw6.setblocking(False)
        self.key = args.gre_key
        self.outer += len(gre_header(self.key))
        if args.encap_limit:
            # a Destination Options header: type 4, length 1, limit 4, PadN
            self.raw6.setsockopt(socket.IPPROTO_IPV6, IPV6_DSTOPTS,
                                 bytes([0, 0, 4, 1, 4, 1, 0, 0]))
            self.outer += 8
        self.stats["bad_key"] = 0

    def recv_ce(self):
        data, addr = self.raw6.recvfrom(1 << 17)
        src6 = str(ipaddress.IPv6Address(addr[0]))
        try:
            key, inner = gre_parse(data)
        except ValueError as e:
            self.note("out", f"from {src6}: {e}")
            return None
        if key != self.key:
            self.stats["bad_key"] += 1
            self.note("out", f"from {src6}: GRE key {key}, want {self.key}")
            return None
        return inner, src6

    def send_ce(self, data, ce6, nexthdr=IPPROTO_GRE):
        super().send_ce(gre_header(self.key) + data, ce6, IPPROTO_GRE)


def inject_gre(args):
    """br4in6.py inject --gre [--gre-key K] (IPv6 fragments not done)."""
    inner = bytes.fromhex(args.hex)
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, IPPROTO_GRE)
    s.bind((args.src, 0))
    for _ in range(args.count):
        s.sendto(gre_header(args.gre_key) + inner, (args.dst, 0))
