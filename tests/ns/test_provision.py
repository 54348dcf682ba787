# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
Zero-config IPv4 over IPv6 by HB46PP, end to end, on test_tunnel.py's
namespaces with a VNE added on the ISP side:

    ISP: radvd (the WAN's 2001:db8:12:3000::/64), dnsmasq on its link address
         (TXT 4over6.info, AAAA prov.example.jp and aftr.example.jp), the
         provisioning server at 2001:db8:ffff::80 (tests/lib/vne.py: HTTPS
         :8443 with the test CA's certificate, :8444 with another CA's),
         and the far ends of tests/lib/br4in6.py: MAP-E BR ::1, AFTR ::2,
         lwAFTR ::4, the fixed address's provider end ::5.
    router: brouterd --tunnel auto, no tunnel configured, only where to keep
         state and the test CA (the system resolver reads the test's
         resolv.conf, bound over /etc/resolv.conf in its own mount namespace).

One brouterd follows the server's answers as they change: MAP-E in the
legacy format (its TXT record's URL answering 307 to the real one), then
RFC 7597 from a list of 256 rules, lw4o6 ahead of MAP-E in the order with
methods brouter lacks first, DS-Lite with the AFTR by name, a fixed address
over ip4ip6, each carrying ping, TCP and UDP; then every failure
(403, 404, 500, malformed JSON, a TTL past 7 days, a TXT record of another
version, t=b with a certificate that does not verify) keeping the tunnel and
logged once; the WAN prefix changing; --clear; NXDOMAIN turning the tunnel
off and the retry hours later. A second brouterd starts with the server
gone and runs from the stored answer.

Time: the state machine's clock is brouterd's boot time plus the number in
the file BROUTERD_TEST_CLOCK names; the tests move it on instead of waiting
hours (ttl 3600, retries 10-30 min, 1-3 h after NXDOMAIN).
"""
import contextlib
import ipaddress
import json
import os

import pytest

import br4in6
import topo
import vne
from topo import run, wait_for
from test_tunnel import (AFTR, BR, ECHO, INET, INET_GW, LAN_HOST, NEW_ISP_LINK, NEW_PREFIX,
                         TCP_ONE, UDP_ECHO, UDP_ONE, WAN_PREFIX, Rig)

PROV = "2001:db8:ffff::80"
NAME = "prov.example.jp"
LWAFTR, FIX_REMOTE = "2001:db8:ffff::4", "2001:db8:ffff::5"
FIX_LOCAL = "2001:db8:12:3000::f1"
FIX4 = "203.0.113.9"                    # the first host of 203.0.113.8/29
LW4, LW_PSID = "192.0.2.77", 52         # 8 bits, offset 6
LW_B4 = "2001:db8:12:3000:0:c000:24d:34"  # RFC 7597 6 in the /64
TOKEN = "640756965820d3b9025b6941f9590af6802830ba58663fe8f043dc92b576f17a"
RULE = {"ipv6": "2001:db8::/40", "ipv4": "192.0.2.0/24", "ea_length": 12,
        "psid_offset": 4}
LEGACY = br4in6.MapRule("2001:db8::/40", "192.0.2.0/24", 12, psid_offset=4, legacy=True)
RFC = br4in6.MapRule("2001:db8::/40", "192.0.2.0/24", 12, psid_offset=4)
TXT = f"v=v6mig-1 url=https://{NAME}:8443/start t=b"
HOUR = 3600

pytestmark = pytest.mark.skipif(not os.path.exists("/usr/sbin/dnsmasq"),
                                reason="needs dnsmasq")


def rules_256():
    """256 rules (3.4: a CE MUST take that many), ours the 201st: each
    other /40 of 2001:db8::/32 to a /24 of 10.x."""
    out = [{"ipv6": f"2001:db8:{i:02x}00::/40", "ipv4": f"10.{i}.0.0/24",
            "ea_length": 12, "psid_offset": 4} for i in range(1, 256)]
    return out[:200] + [RULE] + out[200:]


def answer(order, ttl=HOUR, **blocks):
    a = {"enabler_name": "Test VNE", "service_name": "v6 test", "ttl": ttl,
         "token": TOKEN, "order": order,
         "464xlat": {"nat64prefix": "64:ff9b::/96"},
         "map_t": {"dmr": "2001:db8:5::/64", "rules": [RULE]}}
    a.update(blocks)
    return a


def mape(version, rules=None):
    return {"version": version, "br": BR, "rules": rules or [RULE]}


LW4O6 = {"lwaftr": LWAFTR, "ipv6": WAN_PREFIX, "ipv4": LW4, "psid": LW_PSID,
         "psid_length": 8, "psid_offset": 6}
IPIP = [{"ipv6_local": FIX_LOCAL, "ipv6_remote": FIX_REMOTE, "ipv4": "203.0.113.8/29"}]


class ProvRig(Rig):
    """test_tunnel's namespaces, a VNE on the ISP side."""

    def start(self):
        super().start()
        try:
            self._vne()
        except BaseException:
            self.close()
            raise
        return self

    def close(self):
        for peer in ("https", "bad_https", "dns"):
            if hasattr(self, peer):
                getattr(self, peer).stop()
        super().close()

    def _vne(self):
        for a in (PROV, LWAFTR, FIX_REMOTE):
            run(self.isp, ["ip", "-6", "addr", "add", f"{a}/128", "dev", "lo"])
        run(self.isp, ["ip", "route", "add", "blackhole", "203.0.113.0/24"])
        run(self.inet, ["ip", "route", "replace", "192.168.50.0/24", "via", INET_GW])
        self.ca, cert, key = vne.make_ca(self.tmp, [NAME], "good")
        other = vne.make_ca(self.tmp, [NAME], "other")
        self.dns = vne.Dnsmasq(self.isp, ISP_DNS, self.tmp)
        self.hosts = {NAME: PROV, "aftr.example.jp": AFTR}
        self.dns.start(TXT, self.hosts)
        self.https = vne.ProvServer(self.isp, PROV, 8443, os.path.join(self.tmp, "https"),
                                    cert, key)
        self.bad_https = vne.ProvServer(self.isp, PROV, 8444,
                                        os.path.join(self.tmp, "bad"), *other[1:])
        self.serve(answer(["map_e"], map_e=mape(0)))
        self.https.start()
        self.bad_https.start()
        self.resolv = self.script("resolv.conf",
                                  f"nameserver {ISP_DNS}\noptions timeout:1 attempts:2\n")
        self.state = os.path.join(self.tmp, "state")
        self.clock_file = self.script("clock", "0\n")
        self.clock = 0

    def serve(self, body=None, **route):
        """/start answers 307 to /config, which gives @body (or @route)."""
        self.https.set_routes({
            "/start": {"status": 307, "location": f"https://{NAME}:8443/config"},
            "/config": route or {"status": 200, "json": body}})

    def start_auto(self, name):
        """brouterd with --tunnel auto; the file says where state goes."""
        conf = self.script(name + ".conf",
                           f'tunnel = {{ provision = {{ cafile = "{self.ca}"; '
                           f'state-dir = "{self.state}"; timeout = 5; }}; }};\n')
        env = dict(os.environ, BROUTERD_TEST_CLOCK=self.clock_file)
        wrap = ["unshare", "-m", "sh", "-c",
                'mount --bind "$0" /etc/resolv.conf && exec "$@"', self.resolv]
        b = topo.Brouterd(self, ["-c", conf, "--tunnel", "auto", "-v", "lan0", "wan0"],
                          self.pin_dir, os.path.join(self.tmp, name + ".log"), wrap, env)
        b.start()
        b.brs = []
        return b

    def advance(self, seconds):
        self.clock += seconds
        with open(self.clock_file + ".tmp", "w") as f:
            f.write(f"{self.clock}\n")
        os.replace(self.clock_file + ".tmp", self.clock_file)

    def status_path(self):
        return os.path.join(self.state, "hb46pp-status.json")

    def status(self, b):
        out = b.ctl("--state-dir", self.state, "provision", "--json").stdout
        return json.loads(out)

    def attempt(self, b, seconds):
        """Move the clock on by @seconds, and wait for the attempt it makes due."""
        path = self.status_path()
        before = os.stat(path).st_mtime_ns if os.path.exists(path) else 0
        self.advance(seconds)
        wait_for(lambda: os.path.exists(path) and os.stat(path).st_mtime_ns != before,
                 timeout=20, what="an HB46PP attempt")
        return self.status(b)

    def far_end(self, b, name, *args):
        """One far end at a time: the others' captures would answer too."""
        for p in b.brs:
            topo._kill_group(p)
        b.brs = [self.start_br(name, *args)]
        return b.brs[0]

    def traffic(self, b, src4):
        """ping, TCP and UDP to the Internet host, seen there from @src4."""
        self.ping(INET)
        assert self.lan_py(TCP_ONE, INET, ECHO) == "brouter tunnel"
        assert self.lan_py(UDP_ONE, INET, UDP_ECHO) == "udp through the tunnel"
        for kind in ("echo", "udp"):
            assert self.inet_events(kind)[-1][0] == src4, kind
        st = self.br_stats(b.brs[0])
        assert st["out_bad"] == 0, st["bad"]


ISP_DNS = "2001:db8:12:3000::1"


@pytest.fixture(scope="module")
def rig():
    with contextlib.closing(ProvRig().start()) as r:
        yield r


@pytest.fixture(scope="module")
def auto(rig):
    b = rig.start_auto("auto")
    yield b
    rig.stop_tunnel(b)


def wait_addr(rig, addr, gone=()):
    wait_for(lambda: addr in rig.wan_addrs() and not set(gone) & set(rig.wan_addrs()),
             timeout=20, what=f"{addr} on wan0")


# ------------------------------------------------------------ methods


def test_zero_config_map_e_legacy_through_a_307(rig, auto):
    ce4, psid, ce6 = LEGACY.ce_of_prefix(WAN_PREFIX)
    rig.far_end(auto, "br-legacy", "--mode", "map-e", "--addr", BR, "--rule-ipv6",
                "2001:db8::/40", "--rule-ipv4", "192.0.2.0/24", "--ea-len", "12",
                "--psid-offset", "4", "--legacy")
    wait_addr(rig, ce6)
    rig.traffic(auto, ce4)
    reqs = rig.https.requests()
    assert [r["path"] for r in reqs[:2]] == ["/start", "/config"]
    assert reqs[1]["sni"] == NAME and reqs[1]["tls"]
    assert reqs[1]["params"] == {
        "vendorid": ["acde48-brouter"], "product": ["brouter"], "version": ["0_1_0"],
        "capability": ["map_e,hubspoke,dslite,ipip,lw4o6"]}
    st = rig.status(auto)
    assert (st["result"], st["method"], st["source"]) == ("ok", "map_e", "server")
    assert st["server"] == f"https://{NAME}:8443/start" and st["verify"] is True
    assert st["params"]["format"] == "legacy" and st["wan_prefix"] == WAN_PREFIX
    assert "HB46PP: tunnel by map_e: rule 2001:db8::/40 -> 192.0.2.0/24" in auto.log()


def test_ttl_expiry_fetches_again_256_rules_rfc_format(rig, auto):
    """ttl 3600: nothing before the hour, the new answer right after it."""
    rig.serve(answer(["map_e"], map_e=mape(1, rules_256())))
    n = len(rig.https.requests())
    rig.advance(HOUR - 60)
    rig.ping(INET)
    assert len(rig.https.requests()) == n, "fetched before the ttl ran out"
    st = rig.attempt(auto, 120)
    assert st["answer"]["token"] is True and st["params"]["rules"] == 256
    assert rig.https.requests()[-1]["params"]["token"] == [TOKEN]
    ce4, psid, ce6 = RFC.ce_of_prefix(WAN_PREFIX)
    rig.far_end(auto, "br-rfc", "--mode", "map-e", "--addr", BR, "--rule-ipv6",
                "2001:db8::/40", "--rule-ipv4", "192.0.2.0/24", "--ea-len", "12",
                "--psid-offset", "4")
    wait_addr(rig, ce6, gone=[LEGACY.ce_of_prefix(WAN_PREFIX)[2]])
    assert st["params"]["rule"]["ipv4"] == "192.0.2.0/24"
    rig.traffic(auto, ce4)


def test_lw4o6_ahead_in_the_order_methods_brouter_lacks_skipped(rig, auto):
    rig.serve(answer(["464xlat", "map_t", "lw4o6", "map_e"], lw4o6=LW4O6,
                     map_e=mape(1)))
    st = rig.attempt(auto, HOUR + 1)
    assert st["method"] == "lw4o6" and st["answer"]["order"] == ["lw4o6", "map_e"]
    rig.far_end(auto, "lwaftr", "--mode", "lw4o6", "--addr", LWAFTR, "--binding",
                f"{LW4},{LW_PSID},{LW_B4}", "--psid-len", "8", "--psid-offset", "6")
    wait_addr(rig, LW_B4)
    rig.traffic(auto, LW4)
    text = auto.ctl("--state-dir", rig.state, "provision").stdout
    assert "method:     lw4o6\n" in text
    assert f"  lwaftr_addr {LWAFTR}\n" in text and "  psid_length 8\n" in text, text
    ports = {p for k, v in rig.br_stats(auto.brs[0])["ports_seen"].items() for p in v}
    assert ports and all((p >> 2) & 0xff == LW_PSID and p >> 10 for p in ports), ports


def test_dslite_with_the_aftr_by_name(rig, auto):
    rig.serve(answer(["dslite"], dslite={"aftr": "aftr.example.jp"}))
    st = rig.attempt(auto, HOUR + 1)
    assert st["params"] == {"aftr": "aftr.example.jp", "aftr_addr": AFTR}
    rig.far_end(auto, "aftr", "--mode", "ds-lite", "--addr", AFTR, "--return-prefix",
                "192.168.50.0/24", "--match-src", f"{INET}/32")
    wait_addr(rig, "192.0.0.2", gone=[LW_B4])
    rig.traffic(auto, LAN_HOST)


def test_ipip_fixed_address_with_the_lan_napt_to_it(rig, auto):
    rig.serve(answer(["ipip"], ipip=IPIP))
    assert rig.attempt(auto, HOUR + 1)["method"] == "ipip"
    rig.far_end(auto, "fixed", "--mode", "ipip6", "--addr", FIX_REMOTE, "--peer",
                FIX_LOCAL, "--return-prefix", f"{FIX4}/32")
    wait_addr(rig, FIX4, gone=["192.0.0.2"])
    rig.traffic(auto, FIX4)
    metrics = auto.ctl("metrics").stdout
    assert 'brouter_tunnel_up{mode="ipip"} 1' in metrics, metrics


# ------------------------------------------------------------ failures


FAILURES = [
    # (what the server or DNS does, result, words of the logged reason,
    #  the longest wait before the next try: 3.6 f.2, h.2 30 min, c.3 10 min)
    ({"status": 403, "body": ""}, "server-error", "HTTP status 403", 1801),
    ({"status": 404, "body": ""}, "server-error", "HTTP status 404", 1801),
    ({"status": 500, "body": "oops"}, "server-error", "HTTP status 500", 1801),
    ({"status": 200, "body": '{"order":'}, "bad-answer", "malformed JSON", 1801),
    ({"status": 200, "json": answer(["ipip"], ttl=604801, ipip=IPIP)}, "bad-answer",
     "ttl", 1801),
    ("v=v6mig-2 url=https://prov.example.jp:8443/start t=b", "dns-error", "v6mig-2", 601),
    (f"v=v6mig-1 url=https://{NAME}:8444/config t=b", "server-error", "certificate", 1801),
]


@pytest.mark.parametrize("what,result,reason,wait", FAILURES,
                         ids=["403", "404", "500", "json", "ttl", "txt_version", "cert"])
def test_failure_keeps_the_tunnel_and_is_logged_once(rig, auto, what, result, reason, wait):
    if isinstance(what, str):
        rig.dns.start(what, rig.hosts)
    else:
        rig.serve(**what)
    try:
        # due once the last good answer's ttl ran out, then 3.6's wait
        for seconds in (HOUR + 1, wait):
            st = rig.attempt(auto, seconds)
            assert st["result"] == result and reason in st["error"], st
            assert (st["method"], st["source"]) == ("ipip", "server")
        lines = [l for l in auto.log().splitlines()
                 if "warning: HB46PP" in l and reason in l]
        assert len(lines) == 1, lines
        rig.ping(INET)
    finally:
        rig.dns.start(TXT, rig.hosts)
        rig.serve(answer(["ipip"], ipip=IPIP))
    assert rig.attempt(auto, 1801)["result"] == "ok"


# ------------------------------------------------------------ the WAN, --clear, NXDOMAIN


def test_a_new_wan_prefix_fetches_again_at_once(rig, auto):
    """No clock moved: the new prefix alone makes brouterd ask (3.6), from
    its address in it."""
    n = len(rig.https.requests())
    run(rig.isp, ["ip", "-6", "addr", "add", f"{NEW_ISP_LINK}/64", "dev", "eth0", "nodad"])
    rig.advertise([WAN_PREFIX, NEW_PREFIX])
    try:
        wait_for(lambda: len(rig.https.requests()) > n + 1, timeout=30, what="a request")
        peer = ipaddress.ip_address(rig.https.requests()[-1]["peer"])
        assert peer in ipaddress.ip_network(NEW_PREFIX), peer
        assert rig.status(auto)["wan_prefix"] == NEW_PREFIX
        assert f"HB46PP: WAN prefix {NEW_PREFIX}" in auto.log()
    finally:
        rig.advertise([WAN_PREFIX], withdrawn=[NEW_PREFIX])
        wait_for(lambda: rig.status(auto)["wan_prefix"] == WAN_PREFIX, timeout=30,
                 what="back to the first prefix")
        rig.forget_new_prefix()


def test_clear_forgets_the_token_and_asks_again_without_it(rig, auto):
    token = os.path.join(rig.state, "hb46pp-token")
    assert open(token).read().strip() == TOKEN
    n = len(rig.https.requests())
    out = auto.ctl("--state-dir", rig.state, "provision", "--clear").stdout
    assert "brouterd asks the server again now" in out
    wait_for(lambda: len(rig.https.requests()) > n + 1, timeout=10, what="a new request")
    assert "token" not in rig.https.requests()[n + 1]["params"]
    assert "SIGUSR1: clearing the HB46PP token and stored answer" in auto.log()
    wait_for(lambda: os.path.exists(token), timeout=5, what="the new token kept")


def test_nxdomain_turns_the_tunnel_off_and_retries_hours_later(rig, auto):
    rig.dns.start("", rig.hosts, mode="nxdomain")
    try:
        st = rig.attempt(auto, HOUR + 1)
        assert st["result"] == "no-service" and st["method"] is None
        wait_for(lambda: FIX4 not in rig.wan_addrs(), timeout=10, what="ipip down")
        assert "HB46PP: no tunnel any more" in auto.log()
        st = rig.attempt(auto, 3 * HOUR + 1)   # 3.6 c.2: 1-3 h
        assert st["result"] == "no-service"
    finally:
        rig.dns.start(TXT, rig.hosts)
    assert rig.attempt(auto, 3 * HOUR + 1)["method"] == "ipip"
    wait_addr(rig, FIX4)
    rig.traffic(auto, FIX4)


def test_reload_keeps_the_worker_unless_its_settings_change(rig, auto):
    conf = os.path.join(rig.tmp, "auto.conf")
    assert auto.ctl("reload").returncode == 0
    assert "HB46PP settings changed" not in auto.log()
    assert FIX4 in rig.wan_addrs(), "a reload with the same settings keeps the tunnel"
    n = len(rig.https.requests())
    with open(conf) as f:
        text = f.read()
    with open(conf, "w") as f:
        f.write(text.replace("timeout = 5;", "timeout = 6;"))
    assert auto.ctl("reload").returncode == 0
    assert "reload: HB46PP settings changed: starting afresh" in auto.log()
    assert FIX4 in rig.wan_addrs(), "the answer in use runs on meanwhile"
    # the new worker knows the WAN prefix: it asks at once, not in 15 s
    wait_for(lambda: len(rig.https.requests()) > n + 1, timeout=5,
             what="the new worker's request")
    assert FIX4 in rig.wan_addrs()
    assert "HB46PP: no tunnel" not in auto.log().split("settings changed")[-1]
    rig.ping(INET)


def test_server_gone_at_start_runs_from_the_stored_answer(rig, auto):
    rig.stop_brouterd(auto)
    rig.https.stop()
    try:
        b = rig.start_auto("stored")
        b.brs = auto.brs
        wait_addr(rig, FIX4)
        st = rig.status(b)
        assert (st["result"], st["source"], st["method"]) == \
            ("server-error", "stored", "ipip"), st
        assert "stored answer: the server is out of reach" in b.log()
        rig.traffic(b, FIX4)
        rig.stop_brouterd(b)
    finally:
        rig.https.start()

