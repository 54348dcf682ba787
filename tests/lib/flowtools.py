# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
Traffic for the IPv4 fast path's namespace tests: small Python programs
run inside the namespaces (servers on the Internet side, clients on the
LAN host), each printing one JSON line, and a way to start them.

- udp_server PORT [echo|push]: echo every datagram, or on "push N MS"
  send N numbered datagrams, one every MS milliseconds, to the sender;
- tcp_server PORT FILE: per connection, the first byte says "s" (sink:
  read to the end, report the SHA-256) or "d" (send FILE);
- push_client HOST PORT N MS LPORT: ask for a push, report when each
  datagram arrived (seconds since the ask);
- echo_client HOST PORT SECONDS LPORT: one exchange every 50 ms on one
  socket, report each one's fate (ok, refused, timeout); with a last
  argument "ttl1", then send once with TTL 1 and report the ICMP error;
- tcp_client HOST PORT up|down FILE: upload FILE, or download and hash.
"""
import json
import os
import subprocess

PYTHON = "/usr/bin/python3"

UDP_SERVER = r"""
import socket, sys, threading, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
print("listening", flush=True)

def push(peer, n, ms):
    for i in range(n):
        s.sendto(b"%d" % i, peer)
        time.sleep(ms / 1000)

while True:
    d, peer = s.recvfrom(65536)
    if sys.argv[2] == "push" and d.startswith(b"push "):
        _, n, ms = d.split()
        threading.Thread(target=push, args=(peer, int(n), int(ms)), daemon=True).start()
    elif sys.argv[2] == "echo":
        s.sendto(d, peer)
"""

# Both TCP ends: what arrives until the peer closes, as "SHA-256 length".
DIGEST = r"""
import hashlib
def digest(c):
    h, n = hashlib.sha256(), 0
    for d in iter(lambda: c.recv(1 << 16), b""):
        h.update(d)
        n += len(d)
    return "%s %d" % (h.hexdigest(), n)
"""

TCP_SERVER = DIGEST + r"""
import socketserver, sys

class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        if self.request.recv(1) == b"d":
            with open(sys.argv[2], "rb") as f:
                self.request.sendall(f.read())
        else:
            self.request.sendall(digest(self.request).encode())

socketserver.ThreadingTCPServer.allow_reuse_address = True
srv = socketserver.ThreadingTCPServer(("0.0.0.0", int(sys.argv[1])), Handler)
print("listening", flush=True)
srv.serve_forever()
"""

PUSH_CLIENT = r"""
import json, socket, sys, time
host, port, n, ms, lport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", lport))
s.settimeout(1.0)
t0 = time.monotonic()
s.sendto(b"push %d %d" % (n, ms), (host, port))
got, end = {}, t0 + n * ms / 1000 + 3
while time.monotonic() < end and len(got) < n:
    try:
        d, _ = s.recvfrom(100)
    except socket.timeout:
        continue
    got[int(d)] = round(time.monotonic() - t0, 3)
print(json.dumps(got), flush=True)
"""

ECHO_CLIENT = r"""
import json, socket, sys, time
IP_RECVERR = 11
host, port, secs, lport = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", lport))
s.connect((host, port))
s.settimeout(0.3)
fates, t0 = [], time.monotonic()
while time.monotonic() - t0 < secs:
    t = round(time.monotonic() - t0, 3)
    try:
        s.send(b"x" * 100)
        s.recv(200)
        fates.append((t, "ok"))
    except ConnectionRefusedError:
        fates.append((t, "refused"))
    except socket.timeout:
        fates.append((t, "timeout"))
    time.sleep(0.05)
out = {"fates": fates}
if len(sys.argv) > 5 and sys.argv[5] == "ttl1":
    s.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 1)
    s.send(b"ttl one")
    time.sleep(0.5)
    try:
        _, anc, _, _ = s.recvmsg(200, 512, socket.MSG_ERRQUEUE)
        for level, kind, data in anc:
            # struct sock_extended_err, then the offender's sockaddr_in
            origin = socket.inet_ntoa(data[16 + 4:16 + 8])
            out["icmp"] = {"type": data[5], "code": data[6], "from": origin}
    except BlockingIOError:
        out["icmp"] = None
print(json.dumps(out), flush=True)
"""

TCP_CLIENT = DIGEST + r"""
import socket, sys
host, port, way, path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = socket.create_connection((host, port), timeout=60)
if way == "up":
    s.sendall(b"s")
    with open(path, "rb") as f:
        s.sendall(f.read())
    s.shutdown(socket.SHUT_WR)
    print(s.recv(200).decode(), flush=True)
else:
    s.sendall(b"d")
    print(digest(s), flush=True)
"""

SCRIPTS = {"udp_server": UDP_SERVER, "tcp_server": TCP_SERVER, "push_client": PUSH_CLIENT,
           "echo_client": ECHO_CLIENT, "tcp_client": TCP_CLIENT}


def script(tmp, name):
    """The path of script @name, written into @tmp once."""
    path = os.path.join(tmp, name + ".py")
    if not os.path.exists(path):
        with open(path, "w") as f:
            f.write(SCRIPTS[name])
    return path


def serve(rig, ns, name, *args):
    """Start server @name in @ns (stopped with the rig) once it listens."""
    p = rig.popen(ns, [PYTHON, script(rig.tmp, name), *map(str, args)],
                  stdout=subprocess.PIPE, text=True)
    assert "listening" in p.stdout.readline()
    return p


def client(rig, ns, name, *args, timeout=120):
    """Run client @name in @ns to its end; its JSON (or text) answer."""
    p = subprocess.run(["nsenter", f"--net=/run/netns/{ns}", PYTHON,
                        script(rig.tmp, name), *map(str, args)],
                       capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, p.stdout + p.stderr
    out = p.stdout.strip()
    return json.loads(out) if out[:1] in "{[" else out


def start_client(rig, ns, name, *args):
    """The same, in the background: finish() it."""
    return subprocess.Popen(["nsenter", f"--net=/run/netns/{ns}", PYTHON,
                             script(rig.tmp, name), *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(p, timeout=120):
    out, err = p.communicate(timeout=timeout)
    assert p.returncode == 0, out + err
    return json.loads(out)


def big_file(tmp, mib):
    """A file of @mib MiB of random bytes and its SHA-256."""
    import hashlib  # pylint: disable=import-outside-toplevel
    path = os.path.join(tmp, f"big{mib}.bin")
    data = os.urandom(mib << 20)
    with open(path, "wb") as f:
        f.write(data)
    return path, hashlib.sha256(data).hexdigest()
