# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
What the conntrack tool cannot do, over ctnetlink: set or clear the TCP
window-tracking flags of an entry. (conntrack -I makes TCP entries with
IP_CT_TCP_FLAG_BE_LIBERAL already set; the tests need one without, as
the kernel makes them, to see brouterd clear the way.)
"""
import errno
import os
import socket
import struct

NETLINK_NETFILTER = 12
NLM_F_REQUEST, NLM_F_ACK = 1, 4
NLMSG_ERROR = 2
NLA_F_NESTED = 0x8000
IPCTNL_MSG_CT_NEW = (1 << 8) | 0      # NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_NEW
CTA_TUPLE_ORIG, CTA_PROTOINFO = 1, 4
CTA_TUPLE_IP, CTA_TUPLE_PROTO = 1, 2
CTA_IP_V4_SRC, CTA_IP_V4_DST = 1, 2
CTA_PROTO_NUM, CTA_PROTO_SRC_PORT, CTA_PROTO_DST_PORT = 1, 2, 3
CTA_PROTOINFO_TCP = 1
CTA_PROTOINFO_TCP_FLAGS_ORIGINAL, CTA_PROTOINFO_TCP_FLAGS_REPLY = 4, 5
IP_CT_TCP_FLAG_BE_LIBERAL = 0x08


def attr(kind, payload, nested=False):
    data = payload if isinstance(payload, bytes) else b"".join(payload)
    hdr = struct.pack("=HH", 4 + len(data), kind | (NLA_F_NESTED if nested else 0))
    return hdr + data + b"\0" * (-len(data) % 4)


def tuple_attrs(src, dst, sport, dport, proto=6):
    ip = attr(CTA_TUPLE_IP, [attr(CTA_IP_V4_SRC, socket.inet_aton(src)),
                             attr(CTA_IP_V4_DST, socket.inet_aton(dst))], True)
    l4 = attr(CTA_TUPLE_PROTO, [attr(CTA_PROTO_NUM, bytes([proto])),
                                attr(CTA_PROTO_SRC_PORT, struct.pack("!H", sport)),
                                attr(CTA_PROTO_DST_PORT, struct.pack("!H", dport))], True)
    return attr(CTA_TUPLE_ORIG, [ip, l4], True)


def set_tcp_liberal(orig, liberal):
    """Set or clear BE_LIBERAL both ways on the TCP entry of tuple @orig
    (src, dst, sport, dport), in the caller's network namespace."""
    flags = struct.pack("BB", IP_CT_TCP_FLAG_BE_LIBERAL if liberal else 0,
                        IP_CT_TCP_FLAG_BE_LIBERAL)
    info = attr(CTA_PROTOINFO, [attr(CTA_PROTOINFO_TCP, [
        attr(CTA_PROTOINFO_TCP_FLAGS_ORIGINAL, flags),
        attr(CTA_PROTOINFO_TCP_FLAGS_REPLY, flags)], True)], True)
    body = struct.pack("=BBH", socket.AF_INET, 0, 0) + tuple_attrs(*orig) + info
    msg = struct.pack("=IHHII", 16 + len(body), IPCTNL_MSG_CT_NEW,
                      NLM_F_REQUEST | NLM_F_ACK, 1, 0) + body
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER) as s:
        s.send(msg)
        reply = s.recv(4096)
    kind, = struct.unpack_from("=H", reply, 4)
    code, = struct.unpack_from("=i", reply, 16)
    if kind != NLMSG_ERROR or code:
        raise OSError(-code, f"ctnetlink: {os.strerror(-code) if code else kind}")
