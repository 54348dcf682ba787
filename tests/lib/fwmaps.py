# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
brouter's firewall maps seen from Python: the structs of include/brouter/abi.h
as struct.Struct layouts, encode/decode helpers, and a check that both
agree with what the C compiler makes of the header.

check_layout() compiles a tiny C program against include/brouter/abi.h that
prints sizeof/offsetof of every field declared here and the enum and flag
values used, and raises if any differs: a layout change in the header then
fails the tests loudly instead of making them read garbage.

Byte order: fields the header marks "network order" are kept as raw bytes
("2s"/"4s") and converted here; everything else is host order ("=").
"""
import ipaddress
import os
import re
import struct
import subprocess
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEADER = os.path.join(REPO, "include", "brouter", "counters.h")

# ------------------------------------------------------------- layouts

# C struct name -> [(field, struct format)], explicit padding included.
LAYOUT = {
    "br_stat": [("lan", "16s"), ("wan", "16s")],
    "br_policy": [("mode", "B"), ("filtering", "B"), ("lan_ipv6", "B"),
                  ("flags", "B"), ("timeout", "6I"), ("log_rate", "I"),
                  ("n_pinholes", "I"), ("echo_rate", "I")],
    "br_settings": [("mac", "12s"), ("ethertypes", "16s"), ("mark", "2I"),
                    ("flags", "I"), ("pol", "80s"), ("gen", "I"),
                    ("tun_dscp", "B"), ("pad", "3s"), ("fp4", "20s")],
    "br_fp4_settings": [("flags", "I"), ("gen", "I"), ("ct_timeout_ms", "3I")],
    "br_fp4_key": [("saddr", "4s"), ("daddr", "4s"), ("sport", "2s"),
                   ("dport", "2s"), ("proto", "B"), ("pad", "3s")],
    "br_fp4_fwd": [("gen", "I"), ("port", "I")],
    "br_fp4_ask": [("t", "16s"), ("dir", "B"), ("pad", "7s")],
    "br_pin_dst_key": [("prefixlen", "I"), ("gen", "B"), ("addr", "16s"),
                       ("pad", "3s")],
    "br_pin_dst_val": [("set_id", "I")],
    "br_pin_key": [("set_id", "I"), ("gen", "B"), ("proto", "B"),
                   ("any_port", "B"), ("pad", "B"), ("port", "H"),
                   ("pad2", "H")],
    "br_pin_val": [("rule_id", "I"), ("n_src", "B"), ("src_plen", "4s"),
                   ("pad", "3s"), ("src", "64s")],
    "br_prefix_key": [("prefixlen", "I"), ("addr", "16s")],
    "br_prefix_val": [("flags", "I"), ("pad", "I"), ("expires_ns", "Q")],
    "br_flow_key": [("lan_addr", "16s"), ("wan_addr", "16s"),
                    ("lan_port", "2s"), ("wan_port", "2s"), ("proto", "B"),
                    ("kind", "B"), ("pad", "H")],
    "br_flow": [("seen_ns", "Q"), ("created_ns", "Q"), ("state", "B"),
                ("opened_by", "B"), ("fin_seen", "B"), ("pad", "B"),
                ("rule_id", "I")],
    "br_addr_key": [("addr", "16s")],
    "br_addr_val": [("seen_ns", "Q")],
    "br_frag_key": [("src", "16s"), ("dst", "16s"), ("id", "4s")],
    "br_frag_val": [("seen_ns", "Q")],
    "br_drop_event": [("ts_ns", "Q"), ("src", "16s"), ("dst", "16s"),
                      ("sport", "2s"), ("dport", "2s"), ("proto", "B"),
                      ("port", "B"), ("reason", "H")],
}

S = {name: struct.Struct("=" + "".join(f for _, f in fields))
     for name, fields in LAYOUT.items()}

# Constants of include/brouter/abi.h the tests use (checked by check_layout()).
BR_PORT_LAN, BR_PORT_WAN = 0, 1
BR_FW_STATEFUL, BR_FW_STATELESS_TCP, BR_FW_OPEN = 0, 1, 2
BR_FILT_EI, BR_FILT_AD, BR_FILT_APD = 0, 1, 2
BR_TO_TCP_EST, BR_TO_TCP_TRANS, BR_TO_TCP_CLOSED = 0, 1, 2
BR_TO_UDP, BR_TO_ICMP, BR_TO_OTHER, BR_TO_MAX = 3, 4, 5, 6
BR_PF_ECHO_IN, BR_PF_IPSEC, BR_PF_ULA, BR_PF_LOG_DROPS = 1, 2, 4, 8
BR_PIN_PROTO_ANY, BR_PIN_MAX_SRC = 0, 4
BR_PFX_RA, BR_PFX_CONFIG = 1, 2
BR_FK_FLOW, BR_FK_BIND_EI, BR_FK_BIND_AD = 0, 1, 2
BR_FS_ACTIVE, BR_FS_SYN_SENT, BR_FS_SYN_RECV, BR_FS_ESTABLISHED = 0, 1, 2, 3
BR_FS_FIN_WAIT, BR_FS_CLOSING, BR_FS_CLOSED = 4, 5, 6
BR_FC_WAYS, BR_FC_ENTRY_SIZE = 2, 64
BR_FC_DEF_PER_CPU, BR_FC_MIN_PER_CPU, BR_FC_MAX_PER_CPU = 1 << 16, 1 << 10, 1 << 20
BR_FC_DEF_BUDGET = 256 << 20
BR_FP4_ON, BR_DSCP_COPY = 1, 0xff
BR_FP4_TO_TCP, BR_FP4_TO_UDP, BR_FP4_TO_UDP_STREAM, BR_FP4_TO_MAX = 0, 1, 2, 3

CONSTS = {k: v for k, v in globals().items() if k.startswith("BR_")}

FS_NAME = {v: k[len("BR_FS_"):] for k, v in CONSTS.items()
           if k.startswith("BR_FS_")}


def _field_size(fmt):
    return struct.calcsize("=" + fmt)


def _c_program():
    lines = ["#include <stdio.h>", "#include <stddef.h>",
             '#include "brouter/abi.h"', "int main(void) {"]
    for name, fields in LAYOUT.items():
        lines.append(f'printf("size {name} %zu\\n", sizeof(struct {name}));')
        for field, _ in fields:
            lines.append(f'printf("off {name}.{field} %zu %zu\\n", '
                         f"offsetof(struct {name}, {field}), "
                         f"sizeof(((struct {name} *)0)->{field}));")
    for c in CONSTS:
        lines.append(f'printf("const {c} %lld\\n", (long long)({c}));')
    lines += ["return 0;", "}"]
    return "\n".join(lines) + "\n"


def c_layout():
    """What the C compiler says: {"size X": n, "off X.f": (off, size), ...}."""
    cc = os.environ.get("CC", "cc")
    with tempfile.TemporaryDirectory(prefix="brfw-layout-") as d:
        src, exe = os.path.join(d, "l.c"), os.path.join(d, "l")
        with open(src, "w") as f:
            f.write(_c_program())
        subprocess.run([cc, "-Wall", "-Werror", "-I",
                        os.path.join(REPO, "include"), src, "-o", exe],
                       check=True, capture_output=True, text=True)
        out = subprocess.run([exe], check=True, capture_output=True,
                             text=True).stdout
    res = {}
    for line in out.splitlines():
        kind, key, *vals = line.split()
        res[f"{kind} {key}"] = tuple(int(v) for v in vals)
    return res


def check_layout():
    """Raise AssertionError naming every field whose layout differs."""
    c = c_layout()
    bad = []
    for name, fields in LAYOUT.items():
        if c[f"size {name}"] != (S[name].size,):
            bad.append(f"sizeof(struct {name}) = {c[f'size {name}'][0]}, "
                       f"tests/fwmaps.py says {S[name].size}")
        off = 0
        for field, fmt in fields:
            want = (off, _field_size(fmt))
            got = c[f"off {name}.{field}"]
            if got != want:
                bad.append(f"{name}.{field}: C offset/size {got}, "
                           f"tests/fwmaps.py {want}")
            off += _field_size(fmt)
    for k, v in CONSTS.items():
        if c[f"const {k}"] != (v,):
            bad.append(f"{k} = {c[f'const {k}'][0]}, tests/fwmaps.py {v}")
    assert not bad, ("include/brouter/abi.h layout changed; update "
                     "tests/fwmaps.py:\n  " + "\n  ".join(bad))


def stat_names():
    """Counter names in enum br_stat_id order, from the X-macro list."""
    with open(HEADER) as f:
        text = f.read()
    body = text[text.index("#define BR_STAT_LIST(X)"):]
    body = body[:body.index("#define BR_STAT_ENUM")]
    return re.findall(r'X\(\s*\w+\s*,\s*"(\w+)"', body)


def drop_reason_names():
    """Names of the drop reasons, BR_DROP_FIRST..BR_DROP_LAST: every
    DROP_* id of the list, which must lie together for "drop" to be
    their sum (brouterctl and the tests read the range)."""
    with open(HEADER) as f:
        text = f.read()
    body = text[text.index("#define BR_STAT_LIST(X)"):]
    body = body[:body.index("#define BR_STAT_ENUM")]
    ids = re.findall(r'X\(\s*(\w+)\s*,\s*"(\w+)"', body)
    at = [i for i, (ident, _) in enumerate(ids) if ident.startswith("DROP_")]
    assert at == list(range(at[0], at[-1] + 1)), "drop reasons not contiguous"
    first = re.search(r"#define BR_DROP_FIRST\s+BR_STAT_(\w+)", text).group(1)
    last = re.search(r"#define BR_DROP_LAST\s+BR_STAT_(\w+)", text).group(1)
    assert (ids[at[0]][0], ids[at[-1]][0]) == (first, last), (first, last)
    return [ids[i][1] for i in at]


# ------------------------------------------------------------- helpers


def a6(addr):
    """16 bytes of an IPv6 address (str or bytes)."""
    if isinstance(addr, (bytes, bytearray)):
        assert len(addr) == 16
        return bytes(addr)
    return ipaddress.IPv6Address(addr).packed


def s6(raw):
    return str(ipaddress.IPv6Address(bytes(raw)))


def n16(v):
    return struct.pack("!H", v)


def h16(raw):
    return struct.unpack("!H", raw)[0]


def pack(name, **kw):
    """Encode struct @name; fields not given are zero."""
    vals = []
    for field, fmt in LAYOUT[name]:
        v = kw.pop(field, None)
        n = re.match(r"(\d*)(\w)", fmt)
        count, code = int(n.group(1) or 1), n.group(2)
        if code == "s":
            v = bytes(v or b"").ljust(count, b"\0")
            assert len(v) == count, f"{name}.{field}: {len(v)} > {count}"
            vals.append(v)
        elif count > 1:
            v = list(v or [0] * count)
            assert len(v) == count
            vals.extend(v)
        else:
            vals.append(v or 0)
    assert not kw, f"unknown fields of {name}: {sorted(kw)}"
    return S[name].pack(*vals)


def unpack(name, raw):
    """Decode struct @name into a dict (array fields as lists)."""
    vals = list(S[name].unpack(bytes(raw)[:S[name].size]))
    out = {}
    for field, fmt in LAYOUT[name]:
        n = re.match(r"(\d*)(\w)", fmt)
        count, code = int(n.group(1) or 1), n.group(2)
        if code != "s" and count > 1:
            out[field], vals = vals[:count], vals[count:]
        else:
            out[field] = vals.pop(0)
    return out


# -- settings / policy

def settings_decode(raw):
    s = unpack("br_settings", raw)
    pol = s.pop("pol")
    ps = S["br_policy"].size
    s["pol"] = [unpack("br_policy", pol[i * ps:(i + 1) * ps]) for i in (0, 1)]
    return s


def settings_encode(s):
    s = dict(s)
    s["pol"] = b"".join(pack("br_policy", **p) for p in s["pol"])
    return pack("br_settings", **s)


# -- flows

def flow_key(lan, wan, proto, lport=0, wport=0, kind=BR_FK_FLOW):
    """Key of "flows": ports in host order here, stored network order."""
    return pack("br_flow_key", lan_addr=a6(lan), wan_addr=a6(wan),
                lan_port=n16(lport), wan_port=n16(wport), proto=proto,
                kind=kind)


def flow_key_decode(raw):
    k = unpack("br_flow_key", raw)
    k["lan_addr"], k["wan_addr"] = s6(k["lan_addr"]), s6(k["wan_addr"])
    k["lan_port"], k["wan_port"] = h16(k["lan_port"]), h16(k["wan_port"])
    return k


def flow_val(seen_ns, created_ns=None, state=BR_FS_ACTIVE, opened_by=0,
             fin_seen=0, rule_id=0):
    return pack("br_flow", seen_ns=seen_ns,
                created_ns=seen_ns if created_ns is None else created_ns,
                state=state, opened_by=opened_by, fin_seen=fin_seen,
                rule_id=rule_id)


# -- pinholes and prefixes

def pin_dst_key(gen, addr, plen):
    a = bytearray(a6(addr))
    for i in range(16):  # masked like brouterd's compiler (prefix_mask)
        keep = max(0, min(8, plen - 8 * i))
        a[i] &= (0xff << (8 - keep)) & 0xff
    return pack("br_pin_dst_key", prefixlen=8 + plen, gen=gen, addr=bytes(a))


def pin_dst_val(set_id):
    return pack("br_pin_dst_val", set_id=set_id)


def pin_key(set_id, gen, proto, port=None):
    """port None: the any-port entry of @proto."""
    return pack("br_pin_key", set_id=set_id, gen=gen, proto=proto,
                any_port=1 if port is None else 0, port=port or 0)


def pin_val(rule_id, srcs=()):
    """srcs: [(addr, plen)], at most BR_PIN_MAX_SRC; empty = any source."""
    assert len(srcs) <= BR_PIN_MAX_SRC
    return pack("br_pin_val", rule_id=rule_id, n_src=len(srcs),
                src_plen=bytes(p for _, p in srcs),
                src=b"".join(a6(a) for a, _ in srcs))


def prefix_key(addr, plen):
    return pack("br_prefix_key", prefixlen=plen, addr=a6(addr))


def prefix_val(flags=BR_PFX_CONFIG, expires_ns=0):
    return pack("br_prefix_val", flags=flags, expires_ns=expires_ns)


# -- stats

def stat_decode(raw):
    """struct br_stat -> [lan.packets, lan.bytes, wan.packets, wan.bytes]."""
    return list(struct.unpack("=4Q", raw[:32]))
