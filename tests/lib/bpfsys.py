# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
The few bpf(2) commands brouter's program tests need, over ctypes and the
raw syscall: no libbpf, no bpftool, stdlib only.

Every call raises OSError(errno) on failure. Structures mirror the UAPI
(include/uapi/linux/bpf.h); only the leading fields each command uses are
declared, and the kernel treats the rest as zero.
"""
import ctypes
import ctypes.util
import errno
import os
import platform
import socket
import threading

_NR_BPF = {"x86_64": 321, "aarch64": 280}
_NR_SETNS = {"x86_64": 308, "aarch64": 268}

# enum bpf_cmd
BPF_MAP_LOOKUP_ELEM = 1
BPF_MAP_UPDATE_ELEM = 2
BPF_MAP_DELETE_ELEM = 3
BPF_MAP_GET_NEXT_KEY = 4
BPF_OBJ_GET = 7
BPF_PROG_TEST_RUN = 10
BPF_PROG_GET_FD_BY_ID = 13
BPF_MAP_GET_FD_BY_ID = 14
BPF_OBJ_GET_INFO_BY_FD = 15

# map update flags
BPF_ANY = 0
BPF_NOEXIST = 1
BPF_EXIST = 2

# BPF_PROG_TEST_RUN flags
BPF_F_TEST_RUN_ON_CPU = 1
BPF_F_TEST_XDP_LIVE_FRAMES = 2

# XDP verdicts
XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_TX, XDP_REDIRECT = range(5)

# tc verdicts (retval is a u32: TC_ACT_UNSPEC, -1, reads 0xffffffff)
TC_ACT_UNSPEC = 0xffffffff
TC_ACT_OK = 0
TC_ACT_SHOT = 2
# what brouter's tc programs answer for a packet they let through (bpf/lib/tc.h)
TC_PASS = TC_ACT_UNSPEC

# enum bpf_attach_type: tcx hooks (Linux 6.6)
BPF_TCX_INGRESS, BPF_TCX_EGRESS = 46, 47
BPF_PROG_QUERY = 16

CLONE_NEWNET = 0x40000000

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6",
                    use_errno=True)
_libc.syscall.restype = ctypes.c_long


class _MapElemAttr(ctypes.Structure):
    _fields_ = [("map_fd", ctypes.c_uint32), ("pad", ctypes.c_uint32),
                ("key", ctypes.c_uint64), ("value", ctypes.c_uint64),
                ("flags", ctypes.c_uint64)]


class _ObjAttr(ctypes.Structure):
    _fields_ = [("pathname", ctypes.c_uint64), ("bpf_fd", ctypes.c_uint32),
                ("file_flags", ctypes.c_uint32), ("path_fd", ctypes.c_int32)]


class _GetIdAttr(ctypes.Structure):
    _fields_ = [("id", ctypes.c_uint32), ("next_id", ctypes.c_uint32),
                ("open_flags", ctypes.c_uint32)]


class _InfoAttr(ctypes.Structure):
    _fields_ = [("bpf_fd", ctypes.c_uint32), ("info_len", ctypes.c_uint32),
                ("info", ctypes.c_uint64)]


class _QueryAttr(ctypes.Structure):
    _fields_ = [("target", ctypes.c_uint32), ("attach_type", ctypes.c_uint32),
                ("query_flags", ctypes.c_uint32), ("attach_flags", ctypes.c_uint32),
                ("prog_ids", ctypes.c_uint64), ("count", ctypes.c_uint32),
                ("pad", ctypes.c_uint32), ("prog_attach_flags", ctypes.c_uint64),
                ("link_ids", ctypes.c_uint64), ("link_attach_flags", ctypes.c_uint64),
                ("revision", ctypes.c_uint64)]


class _TestRunAttr(ctypes.Structure):
    _fields_ = [("prog_fd", ctypes.c_uint32), ("retval", ctypes.c_uint32),
                ("data_size_in", ctypes.c_uint32),
                ("data_size_out", ctypes.c_uint32),
                ("data_in", ctypes.c_uint64), ("data_out", ctypes.c_uint64),
                ("repeat", ctypes.c_uint32), ("duration", ctypes.c_uint32),
                ("ctx_size_in", ctypes.c_uint32),
                ("ctx_size_out", ctypes.c_uint32),
                ("ctx_in", ctypes.c_uint64), ("ctx_out", ctypes.c_uint64),
                ("flags", ctypes.c_uint32), ("cpu", ctypes.c_uint32),
                ("batch_size", ctypes.c_uint32)]


class BpfMapInfo(ctypes.Structure):
    """Leading part of struct bpf_map_info."""
    _fields_ = [("type", ctypes.c_uint32), ("id", ctypes.c_uint32),
                ("key_size", ctypes.c_uint32),
                ("value_size", ctypes.c_uint32),
                ("max_entries", ctypes.c_uint32),
                ("map_flags", ctypes.c_uint32), ("name", ctypes.c_char * 16)]


class BpfProgInfo(ctypes.Structure):
    """Leading part of struct bpf_prog_info (up to name)."""
    _fields_ = [("type", ctypes.c_uint32), ("id", ctypes.c_uint32),
                ("tag", ctypes.c_uint8 * 8),
                ("jited_prog_len", ctypes.c_uint32),
                ("xlated_prog_len", ctypes.c_uint32),
                ("jited_prog_insns", ctypes.c_uint64),
                ("xlated_prog_insns", ctypes.c_uint64),
                ("load_time", ctypes.c_uint64),
                ("created_by_uid", ctypes.c_uint32),
                ("nr_map_ids", ctypes.c_uint32),
                ("map_ids", ctypes.c_uint64), ("name", ctypes.c_char * 16)]


class XdpMd(ctypes.Structure):
    """struct xdp_md, the XDP test_run context."""
    _fields_ = [("data", ctypes.c_uint32), ("data_end", ctypes.c_uint32),
                ("data_meta", ctypes.c_uint32),
                ("ingress_ifindex", ctypes.c_uint32),
                ("rx_queue_index", ctypes.c_uint32),
                ("egress_ifindex", ctypes.c_uint32)]


class SkBuff(ctypes.Structure):
    """struct __sk_buff, the tc test_run context (full UAPI layout)."""
    _fields_ = [("len", ctypes.c_uint32), ("pkt_type", ctypes.c_uint32),
                ("mark", ctypes.c_uint32),
                ("queue_mapping", ctypes.c_uint32),
                ("protocol", ctypes.c_uint32),
                ("vlan_present", ctypes.c_uint32),
                ("vlan_tci", ctypes.c_uint32),
                ("vlan_proto", ctypes.c_uint32),
                ("priority", ctypes.c_uint32),
                ("ingress_ifindex", ctypes.c_uint32),
                ("ifindex", ctypes.c_uint32), ("tc_index", ctypes.c_uint32),
                ("cb", ctypes.c_uint32 * 5), ("hash", ctypes.c_uint32),
                ("tc_classid", ctypes.c_uint32), ("data", ctypes.c_uint32),
                ("data_end", ctypes.c_uint32), ("napi_id", ctypes.c_uint32),
                ("family", ctypes.c_uint32), ("remote_ip4", ctypes.c_uint32),
                ("local_ip4", ctypes.c_uint32),
                ("remote_ip6", ctypes.c_uint32 * 4),
                ("local_ip6", ctypes.c_uint32 * 4),
                ("remote_port", ctypes.c_uint32),
                ("local_port", ctypes.c_uint32),
                ("data_meta", ctypes.c_uint32),
                ("flow_keys", ctypes.c_uint64), ("tstamp", ctypes.c_uint64),
                ("wire_len", ctypes.c_uint32), ("gso_segs", ctypes.c_uint32),
                ("sk", ctypes.c_uint64), ("gso_size", ctypes.c_uint32),
                ("tstamp_type", ctypes.c_uint8),
                ("_pad", ctypes.c_uint8 * 3),
                ("hwtstamp", ctypes.c_uint64)]


assert ctypes.sizeof(XdpMd) == 24
assert ctypes.sizeof(SkBuff) == 192


def _nr(table):
    try:
        return table[platform.machine()]
    except KeyError:
        raise OSError(f"no syscall number for {platform.machine()}")


def _addr(buf):
    return ctypes.addressof(buf) if buf is not None else 0


def bpf(cmd, attr):
    """Raw bpf(2): returns the (non-negative) result or raises OSError."""
    ret = _libc.syscall(ctypes.c_long(_nr(_NR_BPF)), ctypes.c_int(cmd),
                        ctypes.byref(attr), ctypes.c_uint(ctypes.sizeof(attr)))
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"bpf(cmd {cmd}): {os.strerror(err)}")
    return ret


def setns(fd, nstype=CLONE_NEWNET):
    """setns(2) for the calling thread (os.setns is Python 3.12+)."""
    if _libc.syscall(ctypes.c_long(_nr(_NR_SETNS)), ctypes.c_int(fd),
                     ctypes.c_int(nstype)) < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


def setns_path(ns_path):
    """Move the calling thread (only) into the network namespace at
    @ns_path (os.setns is Python 3.12+; Debian 12 has 3.11)."""
    fd = os.open(ns_path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        setns(fd)
    finally:
        os.close(fd)


def possible_cpus():
    """Number of possible CPUs: the per-CPU map value count."""
    with open("/sys/devices/system/cpu/possible") as f:
        spec = f.read().strip()
    n = 0
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        n += int(hi or lo) - int(lo) + 1
    return n


def obj_get(path, file_flags=0):
    """BPF_OBJ_GET: fd of a pinned map or program."""
    p = ctypes.create_string_buffer(os.fsencode(path))
    return bpf(BPF_OBJ_GET, _ObjAttr(pathname=_addr(p), file_flags=file_flags))


def prog_query(ifindex, attach_type, max_progs=16):
    """BPF_PROG_QUERY of a tcx hook: the ids of the programs on it, in the
    order they run ([] when the kernel has no tcx). In the caller's netns."""
    ids = (ctypes.c_uint32 * max_progs)()
    attr = _QueryAttr(target=ifindex, attach_type=attach_type,
                      prog_ids=_addr(ids), count=max_progs)
    try:
        bpf(BPF_PROG_QUERY, attr)
    except OSError as e:
        if e.errno == errno.EINVAL:
            return []
        raise
    return list(ids[:attr.count])


def tcx_progs(netns, dev, hook="ingress"):
    """[(id, name)] of the programs on @dev's tcx @hook ("ingress" or
    "egress") in network namespace @netns (a name under /run/netns), in
    the order they run. The query runs in a thread of its own that enters
    the namespace: the caller's stays where it is."""
    at = BPF_TCX_INGRESS if hook == "ingress" else BPF_TCX_EGRESS
    out, err = [], []

    def query():
        try:
            setns_path(os.path.join("/run/netns", netns))
            for i in prog_query(socket.if_nametoindex(dev), at):
                pfd = prog_get_fd_by_id(i)
                try:
                    out.append((i, prog_info(pfd).name.decode()))
                finally:
                    os.close(pfd)
        except OSError as e:
            err.append(e)
    t = threading.Thread(target=query)
    t.start()
    t.join()
    if err:
        raise err[0]
    return out


def prog_get_fd_by_id(prog_id):
    return bpf(BPF_PROG_GET_FD_BY_ID, _GetIdAttr(id=prog_id))


def map_get_fd_by_id(map_id):
    return bpf(BPF_MAP_GET_FD_BY_ID, _GetIdAttr(id=map_id))


def _info_by_fd(fd, info):
    bpf(BPF_OBJ_GET_INFO_BY_FD,
        _InfoAttr(bpf_fd=fd, info_len=ctypes.sizeof(info),
                  info=ctypes.addressof(info)))
    return info


def map_info(fd):
    return _info_by_fd(fd, BpfMapInfo())


def prog_info(fd):
    return _info_by_fd(fd, BpfProgInfo())


def prog_map_ids(fd):
    """Ids of the maps a program uses, pinned or not."""
    n = prog_info(fd).nr_map_ids
    ids = (ctypes.c_uint32 * n)()
    info = BpfProgInfo(nr_map_ids=n, map_ids=ctypes.addressof(ids))
    _info_by_fd(fd, info)
    return list(ids[:min(n, info.nr_map_ids)])


def _elem(fd, cmd, key, value=None, flags=0):
    k = ctypes.create_string_buffer(bytes(key), len(key)) if key is not None \
        else None
    return bpf(cmd, _MapElemAttr(map_fd=fd, key=_addr(k), value=_addr(value),
                                 flags=flags))


def map_lookup(fd, key, value_size):
    """Value bytes; value_size is the whole buffer (see percpu_size)."""
    v = ctypes.create_string_buffer(value_size)
    _elem(fd, BPF_MAP_LOOKUP_ELEM, key, v)
    return v.raw


def map_update(fd, key, value, flags=BPF_ANY):
    v = ctypes.create_string_buffer(bytes(value), len(value))
    _elem(fd, BPF_MAP_UPDATE_ELEM, key, v, flags)


def map_delete(fd, key):
    _elem(fd, BPF_MAP_DELETE_ELEM, key)


def map_get_next_key(fd, key, key_size):
    """Next key after key (None: the first key); None at the end."""
    nk = ctypes.create_string_buffer(key_size)
    try:
        _elem(fd, BPF_MAP_GET_NEXT_KEY, key, nk)
    except OSError as e:
        if e.errno == 2:  # ENOENT: no more keys
            return None
        raise
    return nk.raw


def map_keys(fd, key_size):
    key = None
    while True:
        key = map_get_next_key(fd, key, key_size)
        if key is None:
            return
        yield key


def percpu_size(value_size, ncpus=None):
    """Lookup buffer of a per-CPU map: each CPU's value padded to 8."""
    return ((value_size + 7) & ~7) * (ncpus or possible_cpus())


def percpu_lookup(fd, key, value_size, ncpus=None):
    """List of per-CPU values (each value_size bytes)."""
    ncpus = ncpus or possible_cpus()
    stride = (value_size + 7) & ~7
    raw = map_lookup(fd, key, stride * ncpus)
    return [raw[i * stride:i * stride + value_size] for i in range(ncpus)]


class TestRun:
    """Result of BPF_PROG_TEST_RUN."""
    __test__ = False  # not a pytest class

    def __init__(self, retval, data, ctx, duration):
        self.retval = retval
        self.data = data
        self.ctx = ctx
        self.duration = duration

    def __repr__(self):
        return (f"TestRun(retval={self.retval}, data={len(self.data)}B, "
                f"duration={self.duration}ns)")


def prog_test_run(prog_fd, data=b"", ctx=None, ctx_out_type=None,
                  data_out_size=None, repeat=1, flags=0, batch_size=0,
                  cpu=0):
    """
    BPF_PROG_TEST_RUN. ctx is a ctypes structure (XdpMd, SkBuff) or bytes;
    ctx_out_type (a ctypes type) asks for the context back. data_out_size
    0 asks for no output (required in XDP live-frames mode); the default
    leaves room for the packet to grow.
    """
    din = ctypes.create_string_buffer(bytes(data), max(len(data), 1))
    if data_out_size is None:
        data_out_size = len(data) + 512
    dout = ctypes.create_string_buffer(data_out_size) if data_out_size \
        else None
    cin = None
    if ctx is not None:
        raw = bytes(ctx)
        cin = ctypes.create_string_buffer(raw, len(raw))
    cout = ctx_out_type() if ctx_out_type is not None else None
    attr = _TestRunAttr(prog_fd=prog_fd, data_size_in=len(data),
                        data_size_out=data_out_size,
                        data_in=_addr(din) if data else 0,
                        data_out=_addr(dout), repeat=repeat,
                        ctx_size_in=len(cin) if cin is not None else 0,
                        ctx_in=_addr(cin),
                        ctx_size_out=ctypes.sizeof(cout) if cout is not None
                        else 0,
                        ctx_out=_addr(cout), flags=flags, cpu=cpu,
                        batch_size=batch_size)
    bpf(BPF_PROG_TEST_RUN, attr)
    out = dout.raw[:attr.data_size_out] if dout is not None else b""
    return TestRun(attr.retval, out, cout, attr.duration)
