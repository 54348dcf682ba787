# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
`make demo`: brouter on a small ISP / router / LAN rig in network
namespaces (see tests/lib/topo.py), step by step:

  1. the rig, and brouterd attached to the router's lan0 and wan0;
  2. the LAN host takes a global 2001:db8:1::/64 address from the ISP's
     router advertisement, which crossed the bridge;
  3. it fetches a page from the ISP over IPv6 (bridged, no NAT);
  4. and over IPv4 (routed and NATed by the router's kernel);
  5. brouterctl stats: what the XDP and tc programs did;
  6. brouterd stops on SIGTERM and leaves the ports as they were.

Needs root and a built tree (`make`). Exits non-zero if any step fails.
Everything runs inside namespaces it creates and removes.
"""
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
import topo  # noqa: E402

BOLD = "\033[1m" if sys.stdout.isatty() else ""
RESET = "\033[0m" if sys.stdout.isatty() else ""


class StepFailed(Exception):
    pass


def heading(n, text):
    print(f"\n{BOLD}=== Step {n}: {text} ==={RESET}", flush=True)


def show(cmd_text, output):
    print(f"$ {cmd_text}")
    out = output.rstrip()
    if out:
        print("\n".join("  " + line for line in out.splitlines()))
    sys.stdout.flush()


def ok(text):
    print(f"{BOLD}OK{RESET}: {text}", flush=True)


def fetch(t, ns, url):
    """GET url from ns with curl (python urllib if curl is missing)."""
    if shutil.which("curl"):
        cmd = ["curl", "-sS", "--max-time", "10", url]
        shown = " ".join(cmd)
    else:
        cmd = ["/usr/bin/python3", "-c",
               "import sys, urllib.request; "
               "sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10)"
               ".read().decode())", url]
        shown = f"python3 urllib GET {url}"
    p = t.run(ns, cmd, check=False, timeout=20)
    show(f"(in {short(t, ns)}) {shown}", p.stdout + p.stderr)
    if p.returncode != 0 or topo.HTTP_TOKEN not in p.stdout:
        raise StepFailed(f"fetching {url} from {short(t, ns)} failed (exit {p.returncode})")


def short(t, ns):
    return ns[len(t.prefix):]


def demo():
    for path in (topo.BROUTERD, topo.BROUTERCTL):
        if not os.access(path, os.X_OK):
            raise StepFailed(f"{path} not built: run `make` first")

    with topo.Topology() as t:
        heading(1, "topology and brouterd")
        print(f"""\
  {t.isp}: ISP. eth0 2001:db8:1::1/64 (radvd advertises 2001:db8:1::/64),
      198.51.100.1/24, HTTP server on port {topo.HTTP_PORT}
  {t.rtr}: the brouter. wan0 198.51.100.2/24 (to the ISP), lan0 192.168.50.1/24;
      IPv4 routed and NATed by the kernel (nft masquerade out wan0)
  {t.lan1}: LAN host. eth0 192.168.50.10/24, IPv6 by SLAAC only""")
        b = t.start_brouterd()
        print(f"$ nsenter --net=/run/netns/{t.rtr} {topo.BROUTERD} --pin-dir {t.pin_dir} "
              + " ".join(b.args))
        show("(brouterd log)", b.log())
        ok("brouterd attached to lan0 and wan0")

        heading(2, "the LAN host gets a global IPv6 address from the ISP's RA")
        try:
            addr = t.wait_slaac(timeout=30)
        except TimeoutError as e:
            show("(in lan1) ip -6 addr show dev eth0",
                 t.run(t.lan1, ["ip", "-6", "addr", "show", "dev", "eth0"]).stdout)
            raise StepFailed(str(e)) from None
        show("(in lan1) ip -6 addr show dev eth0",
             t.run(t.lan1, ["ip", "-6", "addr", "show", "dev", "eth0"]).stdout)
        show("(in lan1) ip -6 route show default",
             t.run(t.lan1, ["ip", "-6", "route", "show", "default"]).stdout)
        ok(f"lan1 has {addr} from the ISP's prefix 2001:db8:1::/64")

        heading(3, "IPv6: the LAN host fetches a page from the ISP (bridged, no NAT)")
        try:
            # the first packets may race brouterd learning the prefix
            t.wait_ping6(t.lan1, topo.ISP_V6, timeout=20)
        except TimeoutError as e:
            raise StepFailed(str(e)) from None
        p = t.run(t.lan1, ["ping", "-6", "-c", "3", "-i", "0.2", topo.ISP_V6], check=False)
        show(f"(in lan1) ping -6 -c 3 {topo.ISP_V6}", p.stdout + p.stderr)
        if p.returncode:
            raise StepFailed("ping6 lan1 -> ISP failed")
        fetch(t, t.lan1, f"http://[{topo.ISP_V6}]:{topo.HTTP_PORT}/")
        seen = t.http_clients()[-1:]
        print(f"  the ISP's server saw the client as {seen[0] if seen else '?'}")
        if not seen or seen[0] != addr:
            raise StepFailed(f"ISP saw {seen}, expected lan1's own address {addr}")
        ok("IPv6 bridged end to end; the ISP sees the LAN host's own address")

        heading(4, "IPv4: the LAN host fetches a page from the ISP (routed, NATed)")
        fetch(t, t.lan1, f"http://{topo.ISP_V4}:{topo.HTTP_PORT}/")
        seen = t.http_clients()[-1:]
        print(f"  the ISP's server saw the client as {seen[0] if seen else '?'}")
        if not seen or not seen[0].endswith(topo.RTR_WAN_V4):
            raise StepFailed(f"ISP saw {seen}, expected the router's {topo.RTR_WAN_V4}")
        ok("IPv4 went through the router's kernel and was NATed to 198.51.100.2")

        heading(5, "brouterctl stats")
        p = t.brouterctl("stats", check=False)
        show(f"{topo.BROUTERCTL} -p {t.pin_dir} stats", p.stdout + p.stderr)
        if p.returncode:
            raise StepFailed("brouterctl stats failed")
        st = t.brouterctl_stats_json()
        for port in ("lan", "wan"):
            if st[port]["bridged"]["packets"] == 0:
                raise StepFailed(f"no bridged packets counted on {port}")
        ok("unicast IPv6 was bridged in XDP in both directions")

        heading(6, "stop brouterd (SIGTERM) and tear down")
        rc = t.stop_brouterd()
        show("(brouterd log)", b.log())
        if rc != 0:
            raise StepFailed(f"brouterd exited with {rc}")
        if os.path.exists(t.pin_dir):
            raise StepFailed(f"{t.pin_dir} still exists after brouterd exited")
        for dev in ("lan0", "wan0"):
            if "xdp" in topo.link_info(t.rtr, dev):
                raise StepFailed(f"XDP still attached to {dev}")
        ok("brouterd exited 0, detached from lan0/wan0 and removed its pins")
        prefix = t.prefix

    left = [n for n in os.listdir(topo.NETNS_DIR) if n.startswith(prefix)] \
        if os.path.isdir(topo.NETNS_DIR) else []
    if left:
        raise StepFailed(f"namespaces left behind: {left}")
    print(f"\n{BOLD}Demo complete{RESET}: namespaces removed.")


def main():
    if os.geteuid() != 0:
        print("demo.py: must run as root (network namespaces, BPF): sudo make demo",
              file=sys.stderr)
        return 1
    topo.exit_on_sigterm()
    start = time.monotonic()
    try:
        demo()
    except (StepFailed, topo.TopoError, TimeoutError) as e:
        print(f"\n{BOLD}DEMO FAILED{RESET}: {e}", file=sys.stderr)
        return 1
    print(f"({time.monotonic() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
