# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
What a packager and an operator get: `make install DESTDIR=… PREFIX=…`
and `make uninstall` (the tree, the config kept once changed), the systemd
units as systemd-analyze verifies and rates them, the man pages rendered
by man(1) and groff without a warning, and the man pages and README
agreeing with the programs (every option of --help, every key of the
example config).

Run: /usr/bin/python3 -m pytest -v tests/deploy/test_install.py
"""
import os
import re
import shutil
import subprocess

import pytest

import unitrun

REPO = unitrun.REPO
BUILD = unitrun.BUILD
MANS = ("brouterd.8", "brouterctl.8", "brouter.conf.5")
INSTALLED = {
    "usr/sbin/brouterd", "usr/sbin/brouterctl",
    "usr/share/man/man8/brouterd.8", "usr/share/man/man8/brouterctl.8",
    "usr/share/man/man5/brouter.conf.5",
    "usr/lib/systemd/system/brouterd.service", "usr/lib/systemd/system/brouterd@.service",
    "usr/share/doc/brouter/brouter.conf.example",
    "etc/brouter/brouter.conf",
}


def make(*args):
    return subprocess.run(["make", "-s", "-C", REPO, *args], capture_output=True,
                          text=True, timeout=600)


def files(root):
    return {os.path.relpath(os.path.join(d, f), root)
            for d, _, fs in os.walk(root) for f in fs}


@pytest.fixture(scope="module")
def built():
    """The build with its default paths again after the tests (install
    with another PREFIX regenerates the units and man pages)."""
    yield
    assert make("all").returncode == 0


@pytest.fixture
def dest(tmp_path, built):
    d = tmp_path / "root"
    d.mkdir()
    yield str(d)
    shutil.rmtree(d, ignore_errors=True)


def install(dest, prefix="/usr", target="install"):
    p = make(target, f"DESTDIR={dest}", f"PREFIX={prefix}")
    assert p.returncode == 0, p.stderr
    return p


def test_install_tree(dest):
    install(dest)
    assert files(dest) == INSTALLED
    for f in INSTALLED:
        mode = os.stat(os.path.join(dest, f)).st_mode & 0o777
        assert mode == (0o755 if "/sbin/" in f else 0o644), f"{f}: {oct(mode)}"
    for unit in ("brouterd.service", "brouterd@.service"):
        text = open(os.path.join(dest, "usr/lib/systemd/system", unit)).read()
        assert not re.search(r"@[A-Z]+@", text), f"placeholder left in {unit}"
        assert re.search(r"^ExecStart=/usr/sbin/brouterd( %i)?$", text, re.M), text
        assert re.search(r"^ExecReload=/usr/sbin/brouterctl reload$", text, re.M), text
    v = subprocess.run([os.path.join(dest, "usr/sbin/brouterd"), "--version"],
                       capture_output=True, text=True)
    assert v.returncode == 0 and v.stdout.startswith("brouterd "), v
    man = subprocess.run(["man", "-l", os.path.join(dest, "usr/share/man/man5/brouter.conf.5")],
                         capture_output=True, text=True, env=dict(os.environ, MANWIDTH="200"))
    assert "/usr/share/doc/brouter/brouter.conf.example" in man.stdout


def test_installed_config_changes_nothing_until_edited(dest):
    """The example with every setting commented out: it checks, and gives
    the built-in defaults (no ports, no pinholes, no tunnel)."""
    install(dest)
    conf = os.path.join(dest, "etc/brouter/brouter.conf")
    text = open(conf).read()
    assert all(l.lstrip().startswith("#") for l in text.splitlines() if l.strip()), \
        "an active setting in the installed config"
    assert "#\tmode = \"stateful\";" in text  # the reference is all there
    p = subprocess.run([os.path.join(BUILD, "brouterd"), "--check-config", "-c", conf],
                       capture_output=True, text=True)
    assert (p.returncode, p.stdout) == (0, f"{conf}: OK (0 pinholes)\n"), p


def test_install_keeps_an_existing_config_and_uninstall_a_changed_one(dest):
    install(dest)
    conf = os.path.join(dest, "etc/brouter/brouter.conf")
    with open(conf, "a") as f:
        f.write('lan = "eth0";\nwan = "eth1";\n')
    changed = open(conf).read()
    p = install(dest)
    assert "keeping" in p.stdout, p.stdout
    assert open(conf).read() == changed
    p = install(dest, target="uninstall")
    assert "changed" in p.stdout, p.stdout
    assert files(dest) == {"etc/brouter/brouter.conf"}
    assert open(conf).read() == changed


def test_uninstall_removes_an_unchanged_install(dest):
    install(dest)
    install(dest, target="uninstall")
    assert files(dest) == set()
    assert not os.path.exists(os.path.join(dest, "etc/brouter"))
    assert not os.path.exists(os.path.join(dest, "usr/share/doc/brouter"))


def test_default_prefix_is_usr_local(dest):
    install(dest, prefix="/usr/local")
    unit = open(os.path.join(dest, "usr/local/lib/systemd/system/brouterd.service")).read()
    assert "ExecStart=/usr/local/sbin/brouterd\n" in unit
    assert os.path.exists(os.path.join(dest, "etc/brouter/brouter.conf"))


@pytest.mark.parametrize("unit", ["brouterd.service", "brouterd@.service"])
def test_units_pass_systemd_analyze_verify(dest, tmp_path, unit):
    """verify (the template with instance "i") with the installed binaries
    and man pages where it looks for them: no warning at all."""
    install(dest)
    text = open(os.path.join(dest, "usr/lib/systemd/system", unit)).read()
    path = tmp_path / unit
    path.write_text(text.replace("=/usr/sbin/", f"={dest}/usr/sbin/"))
    env = dict(os.environ, MANPATH=os.path.join(dest, "usr/share/man"))
    p = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True,
                       text=True, env=env, cwd=tmp_path, timeout=60)
    assert (p.returncode, p.stdout, p.stderr) == (0, "", ""), p
    # exposure 3.0 ("OK") at most; systemd-analyze counts in tenths
    p = subprocess.run(["systemd-analyze", "security", "--offline=true", "--threshold=30",
                        str(path)], capture_output=True, text=True, cwd=tmp_path,
                       timeout=60)
    assert p.returncode == 0, p.stdout[-600:]


@pytest.mark.parametrize("page", MANS)
def test_man_page_renders_without_warnings(built, page):
    path = os.path.join(BUILD, "man", page)
    p = subprocess.run(["man", "--warnings", "-l", path], capture_output=True, text=True,
                       env=dict(os.environ, MANWIDTH="80"))
    assert p.returncode == 0 and p.stderr == "", p.stderr
    assert "NAME" in p.stdout and "SEE ALSO" in p.stdout
    p = subprocess.run(["groff", "-ww", "-z", "-man", path], capture_output=True, text=True)
    assert p.returncode == 0 and p.stderr == "", p.stderr


def long_options(prog):
    out = subprocess.run([os.path.join(BUILD, prog), "--help"], capture_output=True,
                         text=True).stdout
    return out, sorted(set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", out)))


@pytest.mark.parametrize("prog", ["brouterd", "brouterctl"])
def test_every_option_is_in_the_man_page_and_readme(prog):
    out, opts = long_options(prog)
    assert len(opts) >= 5, out
    man = open(os.path.join(REPO, "man", f"{prog}.8.scd")).read()
    readme = open(os.path.join(REPO, "README.md")).read()
    has = lambda text, o: re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", text)
    assert not [o for o in opts if not has(man, o)], f"{prog}.8 lacks options"
    assert not [o for o in opts if not has(readme, o)], f"README lacks {prog} options"


def test_every_brouterctl_command_is_in_the_man_page_and_readme():
    out, _ = long_options("brouterctl")
    cmds = re.findall(r"^  ([a-z][a-z-]+) ", out.split("commands:")[1].split("\n\n")[0], re.M)
    assert "stats" in cmds and "map-e" in cmds and "help" in cmds, cmds
    man = open(os.path.join(REPO, "man", "brouterctl.8.scd")).read()
    readme = open(os.path.join(REPO, "README.md")).read()
    for c in cmds:
        assert re.search(rf"^\*{c}\*", man, re.M), f"brouterctl.8 lacks {c}"
        assert f"brouterctl {c}" in readme or f"] {c}" in readme, f"README lacks {c}"


ASSIGN = re.compile(r"^\s*#?\s*(\{\s*)?[a-z][a-z0-9-]*\s*=")
CLOSE = re.compile(r"^\s*#?\s*[)}\]][;,]?\s*$")


def example_keys(path):
    """Dotted paths of every key in the example config, those shown
    commented out included (a comment line that is a setting counts)."""
    keys, stack = [], []
    for line in open(path):
        s = line.strip()
        if s.startswith("#"):
            if not (ASSIGN.match(line) or CLOSE.match(line)):
                continue
            s = s[1:]
        s = re.sub(r'"[^"]*"', '""', s).split("#", 1)[0]
        for m in re.finditer(r"([a-z][a-z0-9-]*)\s*=\s*([{(]?)|([{(\[])|([})\]])", s):
            name, opener, opened, closed = m.groups()
            if name:
                keys.append(".".join([n for n in stack if n and n != "["] + [name]))
                if opener:
                    stack.append(name)
            elif opened:
                stack.append("[" if opened == "[" else None)
            elif closed:
                stack.pop()
    assert not stack, f"unbalanced {path}"
    return list(dict.fromkeys(keys))


def test_every_example_config_key_is_in_brouter_conf_5():
    keys = example_keys(os.path.join(REPO, "loader/config/brouter.conf.example"))
    assert {"lan", "log.syslog", "firewall.pinholes.dst", "tunnel.ipip6.remote",
            "tunnel.map-e.reserved-ports.to-port"} <= set(keys), keys
    man = open(os.path.join(REPO, "man", "brouter.conf.5.scd")).read()
    documented = set(re.findall(r"^\*([a-z][a-z0-9.-]*)\*", man, re.M))
    documented |= {k for line in re.findall(r"^\*[a-z].*\*$", man, re.M)
                   for k in re.findall(r"\*([a-z][a-z0-9.-]*)\*", line)}
    assert not [k for k in keys if k not in documented], "brouter.conf.5 lacks keys"


def test_units_name_the_man_pages_we_build():
    for unit in ("brouterd.service", "brouterd@.service"):
        docs = " ".join(unitrun.read_unit(unit)["Documentation"]).split()
        pages = {re.sub(r"^man:(.*)\((\d)\)$", r"\1.\2", d) for d in docs}
        assert pages == set(MANS), docs
