# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
The bpf(2) and setns(2) calls the benchmark rig needs, over ctypes and the
raw syscalls: stdlib only (no libbpf bindings, no scapy).

Programs are loaded and pinned by bpftool (see rig_netns.load_pinned); this
module opens pins, reads and writes maps, runs BPF_PROG_TEST_RUN (live
frames for traffic, repeat for ns/packet) and finds an attached program by
id. Every call raises OSError(errno) on failure. Structures mirror the UAPI
(include/uapi/linux/bpf.h); only the leading fields each command uses are
declared, the kernel reads the rest as zero.
"""
import ctypes
import ctypes.util
import os
import platform
import struct

_NR_BPF = {"x86_64": 321, "aarch64": 280}
_NR_SETNS = {"x86_64": 308, "aarch64": 268}

BPF_MAP_LOOKUP_ELEM = 1
BPF_MAP_UPDATE_ELEM = 2
BPF_MAP_DELETE_ELEM = 3
BPF_OBJ_GET = 7
BPF_PROG_TEST_RUN = 10
BPF_PROG_GET_FD_BY_ID = 13
BPF_OBJ_GET_INFO_BY_FD = 15

BPF_F_TEST_XDP_LIVE_FRAMES = 2
XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_TX, XDP_REDIRECT = range(5)
XDP_VERDICT = {XDP_ABORTED: "aborted", XDP_DROP: "drop", XDP_PASS: "pass",
               XDP_TX: "tx", XDP_REDIRECT: "redirect"}
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
                ("file_flags", ctypes.c_uint32)]


class _GetIdAttr(ctypes.Structure):
    _fields_ = [("id", ctypes.c_uint32), ("next_id", ctypes.c_uint32),
                ("open_flags", ctypes.c_uint32)]


class _InfoAttr(ctypes.Structure):
    _fields_ = [("bpf_fd", ctypes.c_uint32), ("info_len", ctypes.c_uint32),
                ("info", ctypes.c_uint64)]


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


class XdpMd(ctypes.Structure):
    """struct xdp_md, the XDP test_run context."""
    _fields_ = [("data", ctypes.c_uint32), ("data_end", ctypes.c_uint32),
                ("data_meta", ctypes.c_uint32),
                ("ingress_ifindex", ctypes.c_uint32),
                ("rx_queue_index", ctypes.c_uint32),
                ("egress_ifindex", ctypes.c_uint32)]


class ProgInfo(ctypes.Structure):
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


class MapInfo(ctypes.Structure):
    """Leading part of struct bpf_map_info."""
    _fields_ = [("type", ctypes.c_uint32), ("id", ctypes.c_uint32),
                ("key_size", ctypes.c_uint32), ("value_size", ctypes.c_uint32),
                ("max_entries", ctypes.c_uint32), ("map_flags", ctypes.c_uint32),
                ("name", ctypes.c_char * 16)]


def _nr(table):
    try:
        return table[platform.machine()]
    except KeyError:
        raise OSError(f"no syscall number for {platform.machine()}") from None


def bpf(cmd, attr):
    """Raw bpf(2). The GIL is released during the call (ctypes), so
    generator threads run their test_runs in parallel."""
    ret = _libc.syscall(ctypes.c_long(_nr(_NR_BPF)), ctypes.c_int(cmd),
                        ctypes.byref(attr), ctypes.c_uint(ctypes.sizeof(attr)))
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"bpf(cmd {cmd}): {os.strerror(err)}")
    return ret


def setns_thread(ns_path):
    """Move the calling thread (only) into the network namespace at
    ns_path (os.setns is Python 3.12+; Debian 12 has 3.11)."""
    fd = os.open(ns_path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if _libc.syscall(ctypes.c_long(_nr(_NR_SETNS)), ctypes.c_int(fd),
                         ctypes.c_int(CLONE_NEWNET)) < 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns {ns_path}: {os.strerror(err)}")
    finally:
        os.close(fd)


def possible_cpus():
    """Number of possible CPUs: how many values a per-CPU map holds."""
    with open("/sys/devices/system/cpu/possible") as f:
        spec = f.read().strip()
    n = 0
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        n += int(hi or lo) - int(lo) + 1
    return n


def obj_get(path):
    """BPF_OBJ_GET: fd of a pinned map or program."""
    p = ctypes.create_string_buffer(os.fsencode(path))
    return bpf(BPF_OBJ_GET, _ObjAttr(pathname=ctypes.addressof(p)))


def prog_get_fd_by_id(prog_id):
    return bpf(BPF_PROG_GET_FD_BY_ID, _GetIdAttr(id=prog_id))


def prog_info(fd):
    info = ProgInfo()
    bpf(BPF_OBJ_GET_INFO_BY_FD,
        _InfoAttr(bpf_fd=fd, info_len=ctypes.sizeof(info),
                  info=ctypes.addressof(info)))
    return info


def map_info(fd):
    info = MapInfo()
    bpf(BPF_OBJ_GET_INFO_BY_FD,
        _InfoAttr(bpf_fd=fd, info_len=ctypes.sizeof(info),
                  info=ctypes.addressof(info)))
    return info


def map_update(fd, key, value):
    """Update with raw bytes key/value."""
    k = ctypes.create_string_buffer(key, len(key))
    v = ctypes.create_string_buffer(value, len(value))
    bpf(BPF_MAP_UPDATE_ELEM,
        _MapElemAttr(map_fd=fd, key=ctypes.addressof(k),
                     value=ctypes.addressof(v)))


def map_delete(fd, key):
    k = ctypes.create_string_buffer(key, len(key))
    bpf(BPF_MAP_DELETE_ELEM, _MapElemAttr(map_fd=fd, key=ctypes.addressof(k)))


def percpu_u64_sum(fd, key, ncpus):
    """Sum over CPUs of a per-CPU array of __u64 at index key."""
    k = ctypes.create_string_buffer(struct.pack("<I", key), 4)
    v = ctypes.create_string_buffer(8 * ncpus)
    bpf(BPF_MAP_LOOKUP_ELEM,
        _MapElemAttr(map_fd=fd, key=ctypes.addressof(k),
                     value=ctypes.addressof(v)))
    return sum(struct.unpack(f"<{ncpus}Q", v.raw))


def test_run_live(prog_fd, frame, repeat, batch_size=64):
    """Send repeat copies of frame through prog for real
    (BPF_F_TEST_XDP_LIVE_FRAMES): the program's redirect happens. Runs in
    the calling thread's network namespace (ifindexes resolve there)."""
    data = ctypes.create_string_buffer(frame, len(frame))
    attr = _TestRunAttr(prog_fd=prog_fd, data_in=ctypes.addressof(data),
                        data_size_in=len(frame), repeat=repeat,
                        flags=BPF_F_TEST_XDP_LIVE_FRAMES,
                        batch_size=batch_size)
    bpf(BPF_PROG_TEST_RUN, attr)


def test_run_repeat(prog_fd, frame, repeat, ingress_ifindex):
    """Run prog repeat times on frame (nothing is sent). Returns
    (verdict, mean ns per run). ingress_ifindex must exist in the calling
    thread's network namespace."""
    data = ctypes.create_string_buffer(frame, len(frame))
    out = ctypes.create_string_buffer(len(frame) + 256)
    ctx = XdpMd(data=0, data_end=len(frame), ingress_ifindex=ingress_ifindex)
    attr = _TestRunAttr(prog_fd=prog_fd, data_in=ctypes.addressof(data),
                        data_size_in=len(frame),
                        data_out=ctypes.addressof(out),
                        data_size_out=len(out), repeat=repeat,
                        ctx_in=ctypes.addressof(ctx),
                        ctx_size_in=ctypes.sizeof(ctx))
    bpf(BPF_PROG_TEST_RUN, attr)
    return attr.retval, attr.duration
