# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
The HB46PP client's C code (discover.c, fetch.c, answer.c, state.c)
against real peers in a scratch namespace pair:

    ns <P>vne                               ns <P>cpe
    vne0 2001:db8:f00::1/64  ------------  cpe0 2001:db8:f00::2/64
    dnsmasq :53 (TXT 4over6.info)          tests/unit/prov_fetch_main.c,
    HTTP :8080, HTTPS :8443 (test CA)      resolv.conf -> dnsmasq (bind
                                           mount in its own mount ns)

Proves: discovery through the system resolver, HTTPS verified with the
test CA (t=b) and refused with another CA, t=a not verified, SNI sent,
the query string and the 3.3 credential rule as the server saw them, 307
followed (and 302 not), NXDOMAIN/NODATA told apart, HTTP errors, a hung
server and an oversized answer bounded, and one
pass of the real state machine writing its status file. Runs as root;
everything is removed afterwards, even on failure.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile

import pytest

import vne

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
VNE_ADDR, CPE_ADDR = "2001:db8:f00::1", "2001:db8:f00::2"
NAME = "prov.example.jp"
HTTPS = f"https://{NAME}:8443"
HTTP = f"http://{NAME}:8080"
TOKEN = "640756965820d3b9025b6941f9590af6802830ba58663fe8f043dc92b576f17a"
ANSWER = {
    "enabler_name": "Test VNE", "ttl": 3600, "token": TOKEN,
    "order": ["464xlat", "map_e", "dslite"],
    "map_e": {"version": 1, "br": "2001:db8:f00::64", "rules": [
        {"ipv6": "2001:db8:f00::/48", "ipv4": "192.0.2.0/24",
         "ea_length": 16, "psid_offset": 6}]},
    "dslite": {"aftr": "aftr.example.jp"},
}
DRIVER = os.path.join(REPO, "build", "ns", "prov_fetch")  # tests/ns/prov_fetch.c

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (namespaces)"),
    pytest.mark.skipif(not shutil.which("dnsmasq"), reason="needs dnsmasq"),
]


def sh(*cmd):
    subprocess.run(cmd, check=True, capture_output=True)


def remove_stale():
    """Namespaces (and the peers in them) of runs that died uncleanly."""
    for name in os.listdir(vne.NETNS_DIR) if os.path.isdir(vne.NETNS_DIR) \
            else []:
        m = re.fullmatch(r"hbp(\d+)(vne|cpe)", name)
        if not m or os.path.exists(f"/proc/{m.group(1)}"):
            continue
        pids = subprocess.run(["ip", "netns", "pids", name],
                              capture_output=True, text=True).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


class Rig:
    def __init__(self):
        remove_stale()
        self.prefix = f"hbp{os.getpid()}"
        self.vne, self.cpe = self.prefix + "vne", self.prefix + "cpe"
        self.tmp = tempfile.mkdtemp(prefix="hb46pp-peers.")
        self.procs = []

    def build(self):
        if not os.access(DRIVER, os.X_OK):
            pytest.fail(f"{DRIVER} missing: run `make check` (it builds it)")
        self.driver = DRIVER

    def net(self):
        sh("ip", "netns", "add", self.vne)
        sh("ip", "netns", "add", self.cpe)
        sh("ip", "-n", self.vne, "link", "add", "vne0", "type", "veth",
           "peer", "name", "cpe0", "netns", self.cpe)
        for ns, dev, addr in ((self.vne, "vne0", VNE_ADDR),
                              (self.cpe, "cpe0", CPE_ADDR)):
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "-n", ns, "addr", "add", f"{addr}/64", "dev", dev,
               "nodad")
            sh("ip", "-n", ns, "link", "set", dev, "up")
        self.resolv = os.path.join(self.tmp, "resolv.conf")
        with open(self.resolv, "w") as f:
            f.write(f"nameserver {VNE_ADDR}\noptions timeout:1 attempts:2\n")

    def peers(self):
        self.ca, cert, key = vne.make_ca(self.tmp, [NAME], "good")
        self.wrong_ca = vne.make_ca(self.tmp, [NAME], "other")[0]
        self.dns = vne.Dnsmasq(self.vne, VNE_ADDR, self.tmp)
        self.hosts = {NAME: VNE_ADDR, "aftr.example.jp": "2001:db8:f00::46"}
        self.https = vne.ProvServer(self.vne, VNE_ADDR, 8443,
                                    os.path.join(self.tmp, "https"),
                                    cert, key)
        self.http = vne.ProvServer(self.vne, VNE_ADDR, 8080,
                                   os.path.join(self.tmp, "http"))
        self.https.start()
        self.http.start()

    def txt(self, url, t, mode="txt"):
        self.dns.start(f"v=v6mig-1 url={url} t={t}", self.hosts, mode)

    def run(self, *args):
        """The driver in the cpe namespace, with its own resolv.conf."""
        cmd = vne.nsenter(self.cpe) + [
            "unshare", "-m", "sh", "-c",
            'mount --bind "$0" /etc/resolv.conf && exec "$@"',
            self.resolv, self.driver, "--timeout", "5", *args]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        try:
            return json.loads(p.stdout), p
        except ValueError:
            pytest.fail(f"driver said nothing useful: {p.stdout!r} "
                        f"{p.stderr!r}")

    def close(self):
        for peer in ("https", "http", "dns"):
            if hasattr(self, peer):
                getattr(self, peer).stop()
        for ns in (self.cpe, self.vne):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        shutil.rmtree(self.tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def rig():
    r = Rig()
    try:
        r.build()
        r.net()
        r.peers()
        yield r
    finally:
        r.close()


@pytest.fixture(autouse=True)
def fresh(rig):
    rig.https.set_routes({"/config": {"status": 200, "json": ANSWER}})
    rig.http.set_routes({"/config": {"status": 200, "json": ANSWER}})
    rig.https.clear_requests()
    rig.http.clear_requests()
    yield


def test_discover_and_fetch_https_verified(rig):
    """t=b with the test CA: fetched, parsed, SNI and the 3.3 query seen;
    user/pass sent, since the server name matches over verified HTTPS."""
    rig.txt(f"{HTTPS}/config", "b")
    out, p = rig.run("--cafile", rig.ca, "--user", "u1", "--pass", "p1",
                     "--server", NAME, "--token", TOKEN)
    assert out["stage"] == "done", p.stderr
    assert out["url"] == f"{HTTPS}/config" and out["verify"] is True
    assert out["order"] == ["map_e", "dslite"]  # 464xlat skipped
    assert out["ttl"] == 3600
    reqs = rig.https.requests()
    assert len(reqs) == 1
    r = reqs[0]
    assert r["sni"] == NAME and r["tls"] and r["peer"] == CPE_ADDR
    assert r["params"] == {
        "vendorid": ["acde48-brouter_test"], "product": ["brouter"],
        "version": ["0_1"], "capability": ["map_e,hubspoke,dslite,ipip,lw4o6"],
        "token": [TOKEN], "user": ["u1"], "pass": ["p1"]}


def test_wrong_ca_refused(rig):
    """t=b and a certificate from another CA: no request is made."""
    rig.txt(f"{HTTPS}/config", "b")
    out, _ = rig.run("--cafile", rig.wrong_ca)
    assert out["stage"] == "fetch"
    assert out["rc"] == -129  # -EKEYREJECTED
    assert rig.https.requests() == []


def test_t_a_not_verified_no_credentials(rig):
    """t=a: the certificate is not checked, so credentials bound to a
    server name are not sent (3.3)."""
    rig.txt(f"{HTTPS}/config", "a")
    out, p = rig.run("--cafile", rig.wrong_ca, "--user", "u1", "--pass",
                     "p1", "--server", NAME)
    assert out["stage"] == "done", p.stderr
    params = rig.https.requests()[0]["params"]
    assert "user" not in params and "pass" not in params


def test_307_followed(rig):
    """An HTTP server redirects with 307 to the HTTPS one: followed, the
    query sent once; without a server name, credentials go everywhere."""
    rig.http.set_routes({"/redirect": {
        "status": 307,
        "location": f"{HTTPS}/config?sid=7&vendorid=stale"}})
    rig.txt(f"{HTTP}/redirect", "a")
    out, p = rig.run("--user", "u1", "--pass", "p1")
    assert out["stage"] == "done", p.stderr
    assert [r["path"] for r in rig.http.requests()] == ["/redirect"]
    params = rig.https.requests()[0]["params"]
    assert params["sid"] == ["7"] and params["vendorid"] == [
        "acde48-brouter_test"]
    assert params["user"] == ["u1"]


def test_302_and_errors_refused(rig):
    rig.txt(f"{HTTP}/config", "a")
    for route, want in (({"status": 302, "location": f"{HTTPS}/config"},
                         "HTTP status 302"),
                        ({"status": 500, "body": "oops"}, "HTTP status 500"),
                        ({"status": 404, "body": ""}, "HTTP status 404")):
        rig.http.set_routes({"/config": route})
        out, _ = rig.run()
        assert out["stage"] == "fetch" and want in out["error"]
    rig.http.set_routes({"/config": {"status": 200, "body": "{\"order\":"}})
    out, _ = rig.run()
    assert out["stage"] == "answer" and "malformed JSON" in out["error"]
    rig.http.set_routes({"/config": {"status": 200,
                                     "json": {"order": [], "ttl": 604801}}})
    out, _ = rig.run()
    assert out["stage"] == "answer" and "ttl" in out["error"]


def test_hang_and_oversize_bounded(rig):
    """A server that never answers costs the timeout, not a hang; an
    answer over 1 MiB is refused, not read."""
    rig.txt(f"{HTTP}/config", "a")
    rig.http.set_routes({"/config": {"status": 200, "body": "{}",
                                     "delay": 30}})
    out, _ = rig.run("--timeout", "2")
    assert out["stage"] == "fetch" and out["rc"] == -110  # -ETIMEDOUT
    rig.http.set_routes({"/config": {"status": 200, "body": " " * 1024,
                                     "repeat": 2048}})
    out, _ = rig.run()
    assert out["stage"] == "fetch" and out["rc"] == -27  # -EFBIG


def test_discovery_failures(rig):
    """NXDOMAIN and NODATA are -ENOENT (3.6 c.2); a wrong version is not."""
    rig.txt("", "", mode="nxdomain")
    out, _ = rig.run()
    assert out["stage"] == "discover" and out["rc"] == -2
    assert "NXDOMAIN" in out["error"]
    rig.txt("", "", mode="nodata")
    out, _ = rig.run()
    assert out["stage"] == "discover" and out["rc"] == -2
    rig.dns.start(f"v=v6mig-2 url={HTTPS}/config t=b", rig.hosts)
    out, _ = rig.run()
    assert out["stage"] == "discover" and out["rc"] == -93  # EPROTONOSUPPORT


def test_state_pass_writes_status(rig):
    """One pass of the real state machine: MAP-E for the WAN prefix, the
    AFTR name resolved, token and answer stored, status file written."""
    state = os.path.join(rig.tmp, "state")
    rig.txt(f"{HTTPS}/config", "b")
    out, p = rig.run("--cafile", rig.ca, "--state", state, "--wan",
                     "2001:db8:f00:1200::/56")
    assert out["result"] == "ok", p.stderr
    assert out["method"] == "map_e" and out["source"] == "server"
    assert out["params"]["rule"]["ipv4"] == "192.0.2.0/24"
    with open(os.path.join(state, "hb46pp-token")) as f:
        assert f.read().strip() == TOKEN
    with open(os.path.join(state, "hb46pp-answer.json")) as f:
        stored = json.load(f)
    assert stored["resolved"] == {"aftr.example.jp": "2001:db8:f00::46"}
    # the server gone: the stored answer serves
    rig.https.set_routes({})
    out, p = rig.run("--cafile", rig.ca, "--state", state, "--wan",
                     "2001:db8:f00:1200::/56")
    assert out["result"] == "server-error" and "404" in out["error"]
    assert out["method"] == "map_e" and out["source"] == "stored"
    assert rig.https.requests()[-1]["params"]["token"] == [TOKEN]
