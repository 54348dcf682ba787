# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
IPv4 and IPv6 fragmentation, and IPv4 reassembly, for the test BR
(br4in6.py), written from RFC 791 and RFC 8200 4.5 independently of
brouter's BPF code; and what else the BR sends instead of a packet too
big: TCP cut into segments, ICMP "fragmentation needed" (RFC 1191).
"""
import socket
import struct
import time

IPPROTO_FRAGMENT = 44
IP_MF, IP_DF, IP_OFFSET = 0x2000, 0x4000, 0x1fff


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ipv6_fragments(src6, dst6, nexthdr, payload, mtu, ident, hlim=64):
    """IPv6 packets (header included) of at most @mtu bytes carrying
    @payload, the fragmentable part, in fragments (RFC 8200 4.5)."""
    step = (mtu - 40 - 8) & ~7
    src, dst = (socket.inet_pton(socket.AF_INET6, a) for a in (src6, dst6))
    out = []
    for off in range(0, len(payload), step):
        piece = payload[off:off + step]
        more = int(off + step < len(payload))
        out.append(struct.pack("!IHBB16s16s", 6 << 28, 8 + len(piece),
                               IPPROTO_FRAGMENT, hlim, src, dst) +
                   struct.pack("!BBHI", nexthdr, 0, off | more, ident) + piece)
    return out


def ipv4_fragments(pkt, mtu):
    """@pkt, an IPv4 packet without DF, in fragments of at most @mtu bytes
    (RFC 791 3.2; options are not expected, so none are left out)."""
    ihl = (pkt[0] & 15) * 4
    hdr, data = bytearray(pkt[:ihl]), pkt[ihl:]
    step = (mtu - ihl) & ~7
    out = []
    for off in range(0, len(data), step):
        piece = data[off:off + step]
        h = bytearray(hdr)
        more = IP_MF if off + step < len(data) else 0
        h[2:4] = struct.pack("!H", ihl + len(piece))
        h[6:8] = struct.pack("!H", more | off >> 3)
        h[10:12] = b"\0\0"
        h[10:12] = struct.pack("!H", csum(bytes(h)))
        out.append(bytes(h) + piece)
    return out


class Reassembly:
    """IPv4 datagrams put back together from their fragments, by {source,
    destination, protocol, id}; sets incomplete after @timeout seconds,
    or overlapping, are dropped."""

    def __init__(self, timeout=30):
        self.timeout = timeout
        self.sets = {}      # key -> (first seen, {offset: bytes}, total or None, header)

    def add(self, pkt):
        """The whole datagram once @pkt completes one, @pkt itself when it
        is no fragment, None while pieces are missing."""
        frag = struct.unpack("!H", pkt[6:8])[0]
        if not frag & (IP_MF | IP_OFFSET):
            return pkt
        self._expire()
        ihl = (pkt[0] & 15) * 4
        tot = min(struct.unpack("!H", pkt[2:4])[0], len(pkt))
        key = (pkt[12:20], pkt[9], pkt[4:6])
        first, pieces, total, hdr = self.sets.get(key, (time.monotonic(), {}, None, None))
        off = (frag & IP_OFFSET) * 8
        pieces[off] = pkt[ihl:tot]
        if not frag & IP_MF:
            total = off + tot - ihl
        if not off:
            hdr = bytearray(pkt[:ihl])
        self.sets[key] = (first, pieces, total, hdr)
        return self._whole(key)

    def _whole(self, key):
        _, pieces, total, hdr = self.sets[key]
        if total is None or hdr is None:
            return None
        data, at = b"", 0
        for off in sorted(pieces):
            if off != at:
                if off < at:       # overlap: the whole datagram goes
                    del self.sets[key]
                return None
            data += pieces[off]
            at += len(pieces[off])
        if at != total:
            return None
        del self.sets[key]
        hdr[2:4] = struct.pack("!H", len(hdr) + total)
        hdr[6:8] = struct.pack("!H", struct.unpack("!H", hdr[6:8])[0] & IP_DF)
        hdr[10:12] = b"\0\0"
        hdr[10:12] = struct.pack("!H", csum(bytes(hdr)))
        return bytes(hdr) + data

    def _expire(self):
        now = time.monotonic()
        for key in [k for k, v in self.sets.items() if now - v[0] > self.timeout]:
            del self.sets[key]


def tcp_segments(data, mtu):
    """Cut a TCP super-packet (GRO on a veth hands those over) into
    packets of at most @mtu bytes, as a NIC's TSO would."""
    ihl = (data[0] & 15) * 4
    tot = struct.unpack("!H", data[2:4])[0]
    if tot != len(data):
        tot = len(data)
    ip = bytearray(data[:ihl])
    tcp = data[ihl:tot]
    doff = (tcp[12] >> 4) * 4
    th, payload = bytearray(tcp[:doff]), tcp[doff:]
    mss = mtu - ihl - doff
    seq = struct.unpack("!I", th[4:8])[0]
    ipid = struct.unpack("!H", ip[4:6])[0]
    flags = th[13]
    out = []
    for i, off in enumerate(range(0, len(payload), mss)):
        chunk = payload[off:off + mss]
        last = off + mss >= len(payload)
        h = bytearray(th)
        h[4:8] = struct.pack("!I", (seq + off) & 0xffffffff)
        f = flags
        if not last:
            f &= ~0x09            # FIN, PSH only on the last
        if off:
            f &= ~0x80            # CWR only on the first
        h[13] = f
        h[16:18] = b"\0\0"
        p = bytearray(ip)
        p[2:4] = struct.pack("!H", ihl + doff + len(chunk))
        p[4:6] = struct.pack("!H", (ipid + i) & 0xffff)
        p[10:12] = b"\0\0"
        p[10:12] = struct.pack("!H", csum(bytes(p)))
        pseudo = bytes(p[12:20]) + struct.pack("!BBH", 0, 6, doff + len(chunk))
        h[16:18] = struct.pack("!H", csum(pseudo + bytes(h) + chunk))
        out.append(bytes(p) + bytes(h) + chunk)
    return out


def icmp_frag_needed(pkt, mtu, src):
    """RFC 1191 "fragmentation needed" for @pkt, from @src."""
    quote = pkt.data[:pkt.ihl + 8]
    body = struct.pack("!BBHHH", 3, 4, 0, 0, mtu) + quote
    body = body[:2] + struct.pack("!H", csum(body)) + body[4:]
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), 0, 0, 64, 1, 0,
                      socket.inet_aton(src), socket.inet_aton(pkt.src))
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + body
