# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
brouterd's systemd units (build/systemd/, from dist/brouterd.service.in),
run the way systemd would run them, on a machine where systemd is not PID 1:

- read_unit(): a unit's settings;
- command(): ExecStart/ExecReload with %i filled in and the installed
  binary swapped for the one in build/;
- sandboxed(): that command under the unit's sandbox as far as it can be
  reproduced without systemd: exactly its capability sets
  (CapabilityBoundingSet, AmbientCapabilities) and NoNewPrivileges through
  setpriv, in a mount namespace where ProtectSystem=strict, ProtectHome and
  PrivateTmp hold (read-only / except /dev, /proc and /sys; /home, /root,
  /run/user, /tmp, /var/tmp empty), RuntimeDirectory and StateDirectory
  (writable /run/NAME, /var/lib/NAME: a tmpfs, and the test's directory
  WORKDIR/state bound there). For the test's own isolation it also gets a
  bpffs of its own on /sys/fs/bpf (the unit's default pin dir is then this
  test's alone) and its /etc/brouter/brouter.conf (and any other /etc file
  it is given) on an overlay of /etc (the host's /etc and /var/lib are
  not touched);
- allowed_syscalls(), allowed_families(): SystemCallFilter and
  RestrictAddressFamilies as systemd-analyze expands them, to check what
  brouterd does (strace) against what systemd would let it do.
"""
import os
import re
import shlex
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(REPO, "build")
UNIT_DIR = os.path.join(BUILD, "systemd")


def read_unit(name):
    """{key: [values]} of build/systemd/@name, every section together."""
    settings = {}
    with open(os.path.join(UNIT_DIR, name)) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;[":
                continue
            key, _, value = line.partition("=")
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def command(unit, key="ExecStart", instance=None):
    """The unit's @key command line, %i filled, binary taken from build/."""
    argv = shlex.split(unit[key][-1])
    if instance is not None:
        argv = [a.replace("%i", instance) for a in argv]
    assert not any("%" in a for a in argv), f"unexpanded specifier in {argv}"
    return [os.path.join(BUILD, os.path.basename(argv[0])), *argv[1:]]


def caps(unit, key="CapabilityBoundingSet"):
    """['net_admin', ...] of a capability setting, in setpriv's spelling."""
    names = " ".join(unit.get(key, [])).split()
    return [n.lower().removeprefix("cap_") for n in names]


def setpriv(unit, drop=(), add=()):
    """setpriv giving exactly the unit's capabilities (minus @drop, plus @add)."""
    bounding = [c for c in caps(unit) if c not in drop] + list(add)
    ambient = [c for c in caps(unit, "AmbientCapabilities") if c not in drop] + list(add)
    spell = lambda cs: ",".join(["-all"] + [f"+{c}" for c in cs])
    argv = ["setpriv", f"--inh-caps={spell(ambient)}", f"--ambient-caps={spell(ambient)}",
            f"--bounding-set={spell(bounding)}"]
    if unit.get("NoNewPrivileges", ["no"])[-1] == "yes":
        argv.append("--no-new-privs")
    return argv + ["--"]


def overlay(workdir, path, files):
    """Shell step (for a private mount namespace) laying @files ({relative
    path: text, or None for a directory}) over @path, kept in @workdir."""
    tag = path.strip("/").replace("/", "-")
    upper, work = os.path.join(workdir, tag + "-upper"), os.path.join(workdir, tag + "-work")
    os.makedirs(work, exist_ok=True)
    for name, text in files.items():
        target = os.path.join(upper, name)
        os.makedirs(target if text is None else os.path.dirname(target), exist_ok=True)
        if text is not None:
            with open(target, "w") as f:
                f.write(text)
    return f"mount -t overlay overlay -o lowerdir={path},upperdir={upper},workdir={work} {path}"


def etc_config(workdir, config, etc=None):
    """Shell step putting @config at /etc/brouter/brouter.conf (and @etc's
    other files) on an overlay of /etc kept in @workdir."""
    return overlay(workdir, "/etc", {"brouter/brouter.conf": config, **(etc or {})})


def _mount_setup(unit, workdir, config, etc=None):
    """Shell commands building the unit's mount namespace (see above)."""
    steps = ["mount -t bpf bpf /sys/fs/bpf", etc_config(workdir, config, etc)]
    # RuntimeDirectory: /run/NAME, writable whatever ProtectSystem says
    # (here a tmpfs of this namespace's own, on the directory brouterd
    # would create anyway)
    rundirs = [f"/run/{d}" for d in " ".join(unit.get("RuntimeDirectory", [])).split()]
    steps += [f"mkdir -p {d}" for d in rundirs]
    # StateDirectory: /var/lib/NAME, writable and kept (WORKDIR/state here;
    # the directory appears on an overlay, the host's /var/lib untouched)
    states = " ".join(unit.get("StateDirectory", [])).split()
    if states:
        steps.append(overlay(workdir, "/var/lib", {d: None for d in states}))
        os.makedirs(os.path.join(workdir, "state"), exist_ok=True)
    if unit.get("ProtectSystem", ["no"])[-1] == "strict":
        steps.append('findmnt -rno TARGET | sort -u | while read -r m; do '
                     'case "$m" in /dev|/dev/*|/proc|/proc/*|/sys|/sys/*) ;; '
                     '*) mount -o remount,ro,bind "$m" 2>/dev/null || true ;; esac; done')
    steps += [f"mount -t tmpfs -o mode=0755 tmpfs {d}" for d in rundirs]
    # (a bind mount takes the read-only flag of where it comes from: undone)
    steps += [f"mount --bind {os.path.join(workdir, 'state')} /var/lib/{d} && "
              f"mount -o remount,bind,rw /var/lib/{d}" for d in states]
    if unit.get("ProtectHome", ["no"])[-1] == "yes":
        steps.append("for d in /home /root /run/user; do [ ! -d $d ] || "
                     "mount -t tmpfs -o ro,mode=0755 tmpfs $d; done")
    if unit.get("PrivateTmp", ["no"])[-1] == "yes":
        steps.append("mount -t tmpfs tmpfs /tmp && mount -t tmpfs tmpfs /var/tmp")
    return "; ".join(_keep_build_visible(steps))


# What PrivateTmp and ProtectHome put an empty tmpfs over.
HIDDEN = ("/tmp", "/var/tmp", "/home", "/root", "/run/user")


def _keep_build_visible(steps):
    """The build directory stands in for /usr/sbin, which no sandbox option
    hides; a checkout under /tmp or a home would vanish with the rest of it.
    It is set aside first (on a tmpfs of this namespace's own over /mnt) and
    bound back, read-only, at its own path once the hiding is done."""
    under = [h for h in HIDDEN if BUILD.startswith(h + "/")]
    if not under:
        return steps
    top, hold = under[0], "/mnt/unitrun-build"
    before = ["mount -t tmpfs tmpfs /mnt", f"mkdir -p {hold}",
              f"mount --bind {BUILD} {hold}"]
    after = [f"if [ ! -x {BUILD}/brouterd ]; then "
             f"ro=$(findmnt -no OPTIONS {top} | grep -q '^ro' && echo y || true); "
             f"mount -o remount,rw {top}; mkdir -p {BUILD}; "
             f"mount --bind {hold} {BUILD}; mount -o remount,ro,bind {BUILD}; "
             f"[ -z \"$ro\" ] || mount -o remount,ro {top}; fi"]
    return before + steps + after


def in_mount_ns(setup, argv):
    """argv in a private mount namespace after the shell steps @setup."""
    return ["unshare", "--mount", "--propagation", "private", "sh", "-ec",
            setup + '; exec "$@"', "sh", *argv]


def sandboxed(unit, argv, workdir, config="", netns=None, drop=(), add=(), etc=None):
    """argv (from command()) run as the unit would run it; see the module doc.
    @etc: {path under /etc: text} besides the config (resolv.conf)."""
    inner = in_mount_ns(_mount_setup(unit, workdir, config, etc),
                        [*setpriv(unit, drop, add), *argv])
    return ["nsenter", f"--net=/run/netns/{netns}", *inner] if netns else inner


def join(pid, unit, argv):
    """argv run in the namespaces of the sandboxed process @pid (as ExecReload is)."""
    return ["nsenter", f"--target={pid}", "--mount", "--net", *setpriv(unit), *argv]


def _filter_groups():
    out = subprocess.run(["systemd-analyze", "syscall-filter"], capture_output=True,
                         text=True, check=True).stdout
    groups, cur = {}, None
    for line in out.splitlines():
        if line.startswith("@"):
            cur = groups.setdefault(line.strip(), [])
        elif cur is not None and line.strip() and not line.strip().startswith("#"):
            cur.append(line.strip())
    return groups


def allowed_syscalls(unit):
    """Every syscall the unit's SystemCallFilter (an allow list) lets through."""
    groups, allowed = _filter_groups(), set()

    def add(name, seen):
        if not name.startswith("@"):
            allowed.add(name)
        elif name not in seen:
            seen.add(name)
            for n in groups[name]:
                add(n, seen)
    for entry in " ".join(unit["SystemCallFilter"]).split():
        assert not entry.startswith("~"), "a deny list: this check expects an allow list"
        add(entry, set())
    return allowed


def allowed_families(unit):
    return set(" ".join(unit["RestrictAddressFamilies"]).split())


STRACE_CALL = re.compile(r"^\d+\s+([a-z_0-9]+)\(")
STRACE_SOCKET = re.compile(r"^\d+\s+socket\((AF_[A-Z0-9]+)")


def strace_calls(path, binary):
    """(syscalls, socket families) in an `strace -f` log after @binary's execve."""
    calls, families, started = set(), set(), False
    with open(path) as f:
        for line in f:
            if not started:
                started = f'execve("{binary}"' in line and line.rstrip().endswith("= 0")
                continue
            m = STRACE_CALL.match(line)
            if m:
                calls.add(m.group(1))
            m = STRACE_SOCKET.match(line)
            if m:
                families.add(m.group(1))
    assert started, f"no execve of {binary} in {path}"
    return calls, families
