# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
Test peers for HB46PP provisioning: what a VNE runs, inside a network
namespace the test created.

- Dnsmasq: a resolver answering the TXT record of 4over6.info, AAAA
  names, and NXDOMAIN or NODATA for 4over6.info on demand.
- ProvServer: an HTTP or HTTPS provisioning server (http.server + ssl)
  answering per path with configured JSON, status codes or a 307, and
  recording every request it got (path, query, Host, SNI).
- make_ca(): a test CA and a server certificate for given names, made at
  test time with python3-cryptography.

The server runs as `python3 vne.py serve DIR` under nsenter, so it binds in
the namespace; it reads DIR/routes.json on every request (tests change the
answers while it runs) and appends each request to DIR/requests.jsonl.
"""
import datetime
import http.server
import ipaddress
import json
import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.parse

NETNS_DIR = "/run/netns"
PYTHON = "/usr/bin/python3"
TXT_NAME = "4over6.info"


def nsenter(ns):
    return ["nsenter", f"--net={NETNS_DIR}/{ns}"]


def wait_port(ns, addr, port, proto="tcp", timeout=10.0):
    """Until something listens on [addr]:port in namespace ns."""
    flag = "-tln" if proto == "tcp" else "-uln"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = subprocess.run(nsenter(ns) + ["ss", "-H", flag],
                             capture_output=True, text=True).stdout
        if f"[{addr}]:{port} " in out:
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on [{addr}]:{port}/{proto} in {ns}")


def stop(proc, timeout=5.0):
    """Terminate one process we started, and reap it."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Dnsmasq:
    """dnsmasq in namespace ns, authoritative for everything it is told
    about and NXDOMAIN for the rest (no upstream: nothing leaves)."""

    def __init__(self, ns, addr, workdir):
        self.ns, self.addr, self.workdir = ns, addr, workdir
        self.proc = None

    def start(self, txt=None, hosts=None, mode="txt"):
        """mode: "txt" answers txt for 4over6.info; "nxdomain": the name
        does not exist; "nodata": it exists (AAAA) but has no TXT."""
        self.stop()
        args = ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
                "--no-resolv", "--no-hosts", "--no-poll", "--user=root",
                "--pid-file=", "--bind-interfaces", "--port=53",
                f"--listen-address={self.addr}", "--local=/#/",
                "--log-queries",
                f"--log-facility={os.path.join(self.workdir, 'dnsmasq.log')}"]
        for name, addr in (hosts or {}).items():
            args.append(f"--host-record={name},{addr}")
        if mode == "txt":
            args.append(f"--txt-record={TXT_NAME},{txt}")
        elif mode == "nodata":
            args.append(f"--host-record={TXT_NAME},{self.addr}")
        self.proc = subprocess.Popen(nsenter(self.ns) + args,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_port(self.ns, self.addr, 53, "udp")

    def stop(self):
        stop(self.proc)
        self.proc = None


class ProvServer:
    """One provisioning server, HTTP or (with cert/key) HTTPS."""

    def __init__(self, ns, addr, port, workdir, cert=None, key=None):
        self.ns, self.addr, self.port = ns, addr, port
        self.dir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.cert, self.key = cert, key
        self.proc = None
        self.routes = {}
        self.set_routes({})

    def set_routes(self, routes):
        """{path: {"status": 200, "json": obj} | {"status": 307,
        "location": url} | {"status": N, "body": text, "repeat": n}},
        each with an optional "delay" in seconds; other paths are 404."""
        self.routes = routes
        tmp = os.path.join(self.dir, "routes.json.tmp")
        with open(tmp, "w") as f:
            json.dump(routes, f)
        os.rename(tmp, os.path.join(self.dir, "routes.json"))

    def start(self):
        args = [PYTHON, os.path.abspath(__file__), "serve", self.dir,
                self.addr, str(self.port)]
        if self.cert:
            args += [self.cert, self.key]
        log = open(os.path.join(self.dir, "server.log"), "a")
        self.proc = subprocess.Popen(nsenter(self.ns) + args, stdout=log,
                                     stderr=log)
        log.close()
        wait_port(self.ns, self.addr, self.port)

    def stop(self):
        stop(self.proc)
        self.proc = None

    def requests(self):
        path = os.path.join(self.dir, "requests.jsonl")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]

    def clear_requests(self):
        path = os.path.join(self.dir, "requests.jsonl")
        if os.path.exists(path):
            os.unlink(path)


def _cert(subject, issuer, pubkey, signkey, ca, names=()):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    b = (x509.CertificateBuilder()
         .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                                     subject)]))
         .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                                    issuer)]))
         .public_key(pubkey)
         .serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(minutes=5))
         .not_valid_after(now + datetime.timedelta(days=1))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None),
                        critical=True))
    if names:
        alt = []
        for n in names:
            try:
                alt.append(x509.IPAddress(ipaddress.ip_address(n)))
            except ValueError:
                alt.append(x509.DNSName(n))
        b = b.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    return b.sign(signkey, hashes.SHA256())


def make_ca(outdir, names, tag="test"):
    """A CA and a server certificate for names. Returns (ca.pem,
    server.pem, server.key) paths under outdir."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    os.makedirs(outdir, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    srv_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert(f"{tag} CA", f"{tag} CA", ca_key.public_key(), ca_key, True)
    srv = _cert(names[0], f"{tag} CA", srv_key.public_key(), ca_key, False,
                names)
    pem = serialization.Encoding.PEM
    paths = [os.path.join(outdir, f"{tag}-{n}") for n in
             ("ca.pem", "server.pem", "server.key")]
    with open(paths[0], "wb") as f:
        f.write(ca.public_bytes(pem))
    with open(paths[1], "wb") as f:
        f.write(srv.public_bytes(pem))
    with open(paths[2], "wb") as f:
        f.write(srv_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
    return paths


# ---- the server process ----------------------------------------------------

class _Handler(http.server.BaseHTTPRequestHandler):
    server_version = "vne-test"

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    def _record(self, url):
        entry = {"path": url.path, "query": url.query,
                 "params": urllib.parse.parse_qs(url.query,
                                                 keep_blank_values=True),
                 "host": self.headers.get("Host"),
                 "tls": self.server.tls,
                 "sni": getattr(self.connection, "vne_sni", None),
                 "peer": self.client_address[0]}
        with open(os.path.join(self.server.dir, "requests.jsonl"), "a") as f:
            f.write(json.dumps(entry) + "\n")

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        self._record(url)
        with open(os.path.join(self.server.dir, "routes.json")) as f:
            route = json.load(f).get(url.path, {"status": 404, "body": ""})
        status = route.get("status", 200)
        if "json" in route:
            body = json.dumps(route["json"]).encode()
        else:
            body = route.get("body", "").encode() * route.get("repeat", 1)
        time.sleep(route.get("delay", 0))  # a server that hangs
        self.send_response(status)
        if "location" in route:
            self.send_header("Location", route["location"])
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True

    def __init__(self, workdir, addr, port, ctx):
        self.dir, self.ctx, self.tls = workdir, ctx, ctx is not None
        super().__init__((addr, port), _Handler)

    def get_request(self):
        sock, peer = self.socket.accept()
        if self.ctx:
            # handshake in the connection's thread, so a client that
            # refuses our certificate stalls nobody else
            sock = self.ctx.wrap_socket(sock, server_side=True,
                                        do_handshake_on_connect=False)
        return sock, peer

    def finish_request(self, request, client_address):
        if self.tls:
            request.settimeout(10)
            try:
                request.do_handshake()
            except (ssl.SSLError, OSError) as e:
                sys.stderr.write(f"TLS handshake failed: {e}\n")
                return
        super().finish_request(request, client_address)


def _tls_context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)

    def sni(sock, name, _ctx):
        sock.vne_sni = name  # read by the handler: proves SNI was sent
    ctx.sni_callback = sni
    return ctx


def serve(argv):
    workdir, addr, port = argv[0], argv[1], int(argv[2])
    ctx = _tls_context(argv[3], argv[4]) if len(argv) > 4 else None
    srv = _Server(workdir, addr, port, ctx)
    srv.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        serve(sys.argv[2:])
    else:
        sys.exit(f"usage: {sys.argv[0]} serve DIR ADDR PORT [CERT KEY]")
