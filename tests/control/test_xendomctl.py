#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Integration tests: the real xendomd on the sim, driven only through xendomctl.

usage: test_xendomctl.py XENDOMD XENDOMCTL CASE

Each case builds a host in a temporary directory (tests/daemon/xdtest.py),
runs `xendomd -f -c CONF -s SOCKET --backend sim:SCENARIO` and checks what
xendomctl prints and its exit code (xendomctl(8): 0 done, 1 failed, 2 usage or
configuration error, 3 daemon not reachable, 4 permission denied).
"""

import grp
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "daemon"))
from xdtest import Daemon, Failure, check, run_ctl_case  # noqa: E402

BOOT_DONE = r"^boot done in [0-9.]+ s: "


class Ctl:
    """xendomctl against one daemon.  The binary is copied into the host
    directory so that unprivileged users can run it whatever the build
    directory's permissions."""

    def __init__(self, exe, host, daemon):
        self.exe = host.path("xendomctl")
        shutil.copy(exe, self.exe)
        os.chmod(self.exe, 0o755)
        self.sock = host.path("run", "control")
        self.daemon = daemon

    def run(self, *args, user=None, timeout=30):
        argv = [self.exe, "-s", self.sock, *args]
        if user:
            argv = ["setpriv", *user, "--", *argv]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        return r

    def ok(self, *args, **kw):
        r = self.run(*args, **kw)
        check(r.returncode == 0, f"xendomctl {' '.join(args)}: exit {r.returncode}, "
              f"stderr {r.stderr!r}", self.daemon)
        return r

    def json(self, *args, **kw):
        r = self.ok("--json", *args, **kw)
        try:
            return json.loads(r.stdout)
        except ValueError:
            raise Failure(f"xendomctl --json {' '.join(args)}: not JSON: {r.stdout!r}")

    def code(self, want, *args, **kw):
        r = self.run(*args, **kw)
        check(r.returncode == want, f"xendomctl {' '.join(args)}: exit {r.returncode}, "
              f"wanted {want}; stdout {r.stdout!r} stderr {r.stderr!r}", self.daemon)
        return r

    def states(self):
        return {d["name"]: d for d in self.json("status")["domains"]}

    def wait_state(self, name, state, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.states()[name]["state"] == state:
                return
            time.sleep(0.05)
        check(False, f"{name} never became {state}", self.daemon)


def start(exe_d, exe_c, host, domains, scenario=None, **global_keys):
    """Write the configuration, start the daemon, wait for the boot."""
    os.chmod(host.dir, 0o755)            # nobody must reach the socket
    os.makedirs(host.path("run"), exist_ok=True)
    host.write_conf(domains, **global_keys)
    host.write_scenario(scenario or {})
    d = Daemon(exe_d, host, "-s", host.path("run", "control"))
    d.wait_for(BOOT_DONE)
    return d, Ctl(exe_c, host, d)


THREE = [("storage", {}), ("db", {"requires": "storage"}), ("web", {"requires": "db"}),
         ("batch", {"autostart": "no"})]
SCEN = {n: {"create_ms": 50} for n in ("storage", "db", "web", "batch")}


def columns(header):
    """Start offset of each column of an aligned table header."""
    return [m.start() for m in re.finditer(r"\S+", header)]


# ---------------------------------------------------------------- cases

def case_status(exe_d, exe_c, host):
    """status: aligned table for humans, xendomctl(8) JSON shape for scripts."""
    d, ctl = start(exe_d, exe_c, host, THREE, SCEN)
    out = ctl.ok("status").stdout.splitlines()
    check(out[0].split() == ["NAME", "STATE", "DOMID", "SINCE", "ATTEMPTS", "REASON"],
          f"status header: {out[0]!r}", d)
    cols = columns(out[0])
    check(len(out) == 5, f"one row per domain: {out}", d)
    for row in out[1:]:
        for c in cols[1:]:
            check(row[c - 1] == " " and row[c] != " ", f"row not aligned: {row!r}", d)
    check(out[2].split()[:3] == ["db", "running", "2"], f"db row: {out[2]!r}", d)
    check("{" not in "\n".join(out), "no JSON in human output", d)

    j = ctl.json("status")
    check(isinstance(j["uptime"], float), "uptime", d)
    doms = j["domains"]
    check([x["name"] for x in doms] == ["storage", "db", "web", "batch"], "config order", d)
    for x in doms:
        check(set(x) >= {"name", "state", "domid", "reason", "attempts", "since"},
              f"fields: {x}", d)
        check(isinstance(x["since"], float) and 0 <= x["since"] <= j["uptime"], "since", d)
    byname = {x["name"]: x for x in doms}
    check(byname["web"]["state"] == "running" and isinstance(byname["web"]["domid"], int),
          "web running with a domid", d)
    check(byname["batch"]["state"] == "inactive" and byname["batch"]["domid"] is None,
          "batch inactive, domid null", d)
    check(byname["batch"]["reason"] is None and byname["db"]["attempts"] == 1, "reason, attempts", d)

    one = ctl.json("status", "db")["domains"]
    check(len(one) == 1 and one[0]["name"] == "db", "status NAME", d)
    r = ctl.code(2, "status", "nosuch")
    check("nosuch" in r.stderr and "unknown domain" in r.stderr, f"unknown: {r.stderr}", d)


def case_start_stop(exe_d, exe_c, host):
    """start/stop with --wait; dependents stop first and it is said; failures name the domain."""
    scen = dict(SCEN, broken={"fail_creates": 99})
    d, ctl = start(exe_d, exe_c, host, THREE + [("broken", {"autostart": "no", "start_retries": 0})],
                   scen)
    r = ctl.ok("start", "batch", "--wait")
    check(re.search(r"^batch\s+running\s+\d+", r.stdout, re.M), f"start --wait: {r.stdout}", d)
    check(ctl.states()["batch"]["state"] == "running", "batch running", d)

    r = ctl.ok("stop", "db", "--wait")
    check("stopping first (they require a domain being stopped): web" in r.stdout,
          f"stop says what stops first: {r.stdout}", d)
    s = ctl.states()
    check(s["db"]["state"] == "inactive" and s["web"]["state"] == "inactive", "db, web down", d)
    check(s["storage"]["state"] == "running", "storage untouched", d)
    check(d.first("web", "inactive") <= d.first("db", "stopping"), "web stopped before db", d)

    j = ctl.json("start", "web")                     # no --wait: at once
    check(j["names"] == ["web"] and j["also"] == ["storage", "db"], f"start reply {j}", d)
    ctl.wait_state("web", "running")
    j = ctl.json("stop", "storage", "--wait")
    check(sorted(j["also"]) == ["db", "web"] and all(x["domid"] is None for x in j["domains"]),
          f"stop --wait JSON {j}", d)
    check({x["name"] for x in j["domains"]} == {"storage", "db", "web"}, "waited for all", d)

    r = ctl.code(1, "start", "broken", "--wait")
    check("broken is failed" in r.stderr, f"failure names the domain: {r.stderr}", d)
    j = json.loads(ctl.code(1, "--json", "start", "broken", "--wait").stdout)
    check(j["ok"] is False and j["code"] == 1 and "broken" in j["error"], f"JSON failure {j}", d)


def case_restart_save(exe_d, exe_c, host):
    """restart gets a new domain (and its dependents back); save writes the image."""
    d, ctl = start(exe_d, exe_c, host, THREE, SCEN)
    before = ctl.states()
    r = ctl.ok("restart", "db", "--wait")
    after = ctl.states()
    check(after["db"]["state"] == "running" and after["db"]["domid"] != before["db"]["domid"],
          "db restarted", d)
    check(after["web"]["state"] == "running" and after["web"]["domid"] != before["web"]["domid"],
          "web (requires db) restarted too", d)
    check(after["storage"]["domid"] == before["storage"]["domid"], "storage untouched", d)
    ctl.ok("restart", "web")                         # without --wait it still happens
    deadline = time.monotonic() + 10
    while ctl.states()["web"]["domid"] == after["web"]["domid"] or \
            ctl.states()["web"]["state"] != "running":
        check(time.monotonic() < deadline, "restart without --wait never completed", d)
        time.sleep(0.05)

    r = ctl.ok("save", "web", "--wait")
    check(re.search(r"^web\s+saved\s+-", r.stdout, re.M), f"save --wait: {r.stdout}", d)
    check(os.path.exists(host.path("save", "web")), "save image written", d)
    j = ctl.json("save", "db")
    check(j["names"] == ["db"], f"save reply {j}", d)
    ctl.wait_state("db", "saved")


def case_reload(exe_d, exe_c, host):
    """reload: good file applied (added start, removed unmanaged, changed); bad one refused."""
    d, ctl = start(exe_d, exe_c, host, THREE, SCEN)
    ctl.ok("start", "batch", "--wait")
    host.xl_cfg("extra")
    host.write_conf([("storage", {}), ("db", {"requires": "storage"}),
                     ("web", {"requires": "db", "start_delay": 2}), ("extra", {})],
                    socket_group="nogroup")
    r = ctl.ok("reload")
    for want in ("added: extra", "starting (autostart): extra", "removed: batch",
                 "changed: web"):
        check(want in r.stdout, f"reload says {want!r}: {r.stdout}", d)
    ctl.wait_state("extra", "running")
    s = ctl.states()
    check(s["batch"]["managed"] is False and s["batch"]["state"] == "running",
          "batch left running, unmanaged", d)
    r = ctl.code(2, "stop", "batch")
    check("not managed" in r.stderr, f"unmanaged domain refused: {r.stderr}", d)

    with open(host.conf, "a") as f:
        f.write("[domain broken]\nno_such_key = 1\n")
    lines = open(host.conf).read().splitlines()
    bad_line = len(lines)
    r = ctl.code(2, "reload")
    check(f"{host.conf}:{bad_line}:" in r.stderr, f"reload error names FILE:LINE: {r.stderr}", d)
    check("running configuration stays" in r.stderr, f"says the old one stays: {r.stderr}", d)
    j = json.loads(ctl.code(2, "--json", "reload").stdout)
    check(j["code"] == 2 and any(f":{bad_line}:" in e for e in j["errors"]), f"JSON {j}", d)
    check("extra" in ctl.states() and ctl.states()["extra"]["managed"], "old config stays", d)

    host.write_conf([("storage", {}), ("db", {"requires": "storage"}), ("web", {"requires": "db"})])
    d.send(signal.SIGHUP)
    d.wait_for(r"^reloaded ")
    check(ctl.states()["extra"]["managed"] is False, "SIGHUP reloaded", d)


def case_plan_timeline(exe_d, exe_c, host):
    """plan [--dot]; timeline table, JSON and an SVG Gantt chart."""
    d, ctl = start(exe_d, exe_c, host, THREE, SCEN)
    r = ctl.ok("plan")
    check("Wave 0" in r.stdout and "storage" in r.stdout and "batch" in r.stdout, r.stdout, d)
    check("digraph" in ctl.ok("plan", "--dot").stdout, "plan --dot", d)
    j = ctl.json("plan")
    check([o["name"] for o in j["order"]] == ["storage", "db", "web"], f"plan order {j}", d)

    out = ctl.ok("timeline").stdout.splitlines()
    check(out[0].split() == ["NAME", "QUEUED", "STARTED", "CREATED", "READY", "TOOK", "ATTEMPTS"],
          f"timeline header {out[0]}", d)
    tl = {x["name"]: x for x in ctl.json("timeline")["domains"]}
    for n in ("storage", "db", "web"):
        x = tl[n]
        check(set(x) >= {"name", "queued", "started", "created", "ready", "stopping",
                         "stopped", "attempts"}, f"timeline fields {x}", d)
        check(x["queued"] <= x["started"] <= x["created"] <= x["ready"], f"order {x}", d)
        check(x["stopped"] is None, "not stopped", d)
    check(tl["db"]["started"] >= tl["storage"]["ready"], "db waited for storage", d)
    check(tl["batch"]["queued"] is None, "batch never queued", d)

    svg = host.path("boot.svg")
    r = ctl.ok("timeline", "--svg", svg)
    root = ET.parse(svg).getroot()
    check(root.tag == "{http://www.w3.org/2000/svg}svg", "an SVG document", d)
    ns = "{http://www.w3.org/2000/svg}"
    titles = [t.text for t in root.iter(ns + "title")]
    for n in ("storage", "db", "web"):
        for seg in ("waiting", "creating", "booting"):
            check(any(t.startswith(f"{n}: {seg}") for t in titles), f"no {seg} bar for {n}", d)
    check(not any(t.startswith("batch:") for t in titles), "batch has no bar", d)


def read_lines(proc, n, timeout=10):
    """n lines from proc's stdout, or fail."""
    got = []

    def reader():
        for _ in range(n):
            line = proc.stdout.readline()
            if not line:
                return
            got.append(line)
    t = threading.Thread(target=reader, daemon=True)
    t.start()
    t.join(timeout)
    return got


def case_events(exe_d, exe_c, host):
    """events: one line (JSON object) per change, as it happens."""
    d, ctl = start(exe_d, exe_c, host, THREE, SCEN)
    js = subprocess.Popen([ctl.exe, "-s", ctl.sock, "--json", "events"],
                          stdout=subprocess.PIPE, text=True)
    human = subprocess.Popen([ctl.exe, "-s", ctl.sock, "events"], stdout=subprocess.PIPE,
                             text=True)
    try:
        time.sleep(0.5)                  # both subscribed
        ctl.ok("start", "batch", "--wait")
        evs = [json.loads(x) for x in read_lines(js, 4)]
        check([e["state"] for e in evs] == ["waiting", "starting", "booting", "running"],
              f"event states {evs}", d)
        for e in evs:
            check(set(e) == {"time", "name", "state", "domid", "reason"}, f"fields {e}", d)
            check(e["name"] == "batch", "name", d)
        check(evs[0]["domid"] is None and isinstance(evs[-1]["domid"], int), "domid", d)
        check(evs[0]["time"] <= evs[-1]["time"], "time order", d)
        hl = read_lines(human, 4)
        check(len(hl) == 4 and "batch" in hl[3] and "running" in hl[3] and "{" not in hl[3],
              f"human events {hl}", d)
    finally:
        js.kill()
        human.kill()
        js.wait()
        human.wait()


# File names of save images: a terminal's escape sequence, BEL, DEL and
# the C1 CSI (U+009B) in UTF-8; and one with a byte that is not UTF-8.
HOSTILE_UTF8 = "gh\x1b[2J\x07\x7f\u009bost"
HOSTILE_BYTES = b"sp\xff\x1b[31mook"


def raw_controls(data):
    """The control bytes of output: C0 but newline, DEL, C1 in UTF-8."""
    return sorted({b for b in data if b < 0x20 and b != 0x0a or b == 0x7f} |
                  ({0x9b} if b"\xc2\x9b" in data else set()))


def case_hostile_text(exe_d, exe_c, host):
    """A reason quoting untrusted bytes (save images' file names, restored
    as unmanaged domains) reaches the terminal with no raw control byte:
    status and events escape them (\\xNN) for humans; --json keeps the
    text (JSON escapes); bytes that are not UTF-8 come escaped."""
    d, ctl = start(exe_d, exe_c, host, [("ghost", {"on_host_shutdown": "save"}),
                                        ("spook", {"on_host_shutdown": "save"})])
    check(d.stop() == 0, "halt", d)
    save = host.path("save").encode()
    os.rename(save + b"/ghost", save + b"/" + HOSTILE_UTF8.encode())
    os.rename(save + b"/spook", save + b"/" + HOSTILE_BYTES)
    host.write_conf([("conf", {})])
    host.write_scenario({"conf": {"create_ms": 1500}, "ghost": {"restore_ms": 300},
                         "spook": {"restore_ms": 300}})
    d = Daemon(exe_d, host, "-s", ctl.sock)
    deadline = time.monotonic() + 10
    while not os.path.exists(ctl.sock):
        check(time.monotonic() < deadline, "no control socket", d)
        time.sleep(0.02)
    human = subprocess.Popen([ctl.exe, "-s", ctl.sock, "events"], stdout=subprocess.PIPE)
    try:
        d.wait_for(BOOT_DONE)
        deadline = time.monotonic() + 10
        while {ctl.states().get(n, {}).get("state") for n in ("ghost", "spook")} != {"running"}:
            check(time.monotonic() < deadline, f"not restored: {ctl.states()}", d)
            time.sleep(0.05)
        time.sleep(0.3)
    finally:
        human.kill()
        events = human.communicate()[0]
    table = subprocess.run([ctl.exe, "-s", ctl.sock, "status"], capture_output=True).stdout
    js = subprocess.run([ctl.exe, "-s", ctl.sock, "--json", "status"], capture_output=True).stdout
    for what, out in (("status", table), ("events", events), ("--json status", js)):
        check(not raw_controls(out), f"{what}: raw control bytes {raw_controls(out)}: {out!r}", d)
    check(b"gh\\x1b[2J\\x07\\x7f\\xc2\\x9bost" in table and b"sp\\xff\\x1b[31mook" in table,
          f"status shows the names escaped: {table!r}", d)
    check(b"restoring unmanaged domain from " in events and b"gh\\x1b[2J" in events,
          f"events show the reason escaped: {events!r}", d)
    rows = [r for r in table.decode().splitlines() if r.startswith(("ghost", "spook"))]
    cols = columns(table.decode().splitlines()[0])
    check(len(rows) == 2 and all(r[c - 1] == " " and r[c] != " " for r in rows for c in cols[1:5]),
          f"rows aligned: {rows}", d)
    reasons = {x["name"]: x["reason"] for x in json.loads(js)["domains"]}
    check(HOSTILE_UTF8 in reasons["ghost"], f"--json keeps UTF-8 text as it is: {reasons}", d)
    check("sp\\xff\\x1b[31mook" in reasons["spook"],
          f"--json: text that is not UTF-8 comes escaped: {reasons}", d)


def case_shutdown_host(exe_d, exe_c, host):
    """shutdown-host --wait: everything down, the daemon stays up and starts nothing."""
    d, ctl = start(exe_d, exe_c, host, THREE, SCEN)
    j = ctl.json("shutdown-host", "--wait")
    check(all(x["domid"] is None for x in j["domains"]), f"all down {j}", d)
    check(d.first("web", "inactive") <= d.first("db", "stopping"), "reverse order", d)
    time.sleep(0.5)
    check(d.proc.poll() is None, "the daemon stays up", d)
    check(all(x["state"] == "inactive" for x in ctl.states().values()), "nothing restarted", d)
    ctl.ok("start", "db", "--wait")      # and on-demand work still works
    r = ctl.ok("shutdown-host")
    check("host-shutdown sequence started" in r.stdout, r.stdout, d)
    ctl.wait_state("db", "inactive")


def case_migrate(exe_d, exe_c, host):
    """migrate NAME HOST [--wait]: success leaves the host; failures answer 1 and say why;
    usage errors 2; at halt on_host_shutdown = migrate, a failure falling back to shutdown."""
    doms = [("ok", {}), ("bad", {}), ("doubt", {}), ("off", {"autostart": "no"}),
            ("h1", {"on_host_shutdown": "migrate"}), ("h2", {"on_host_shutdown": "migrate"}),
            ("h3", {"on_host_shutdown": "migrate", "migrate_to": "c.example"})]
    scen = {"ok": {"migrate_ms": 300}, "bad": {"fail_migrates": 1},
            "doubt": {"fail_migrates_after_go": 1}, "h2": {"fail_migrates": 1}}
    d, ctl = start(exe_d, exe_c, host, doms, scen, migrate_to="b.example",
                   migrate_command="ssh -o BatchMode=yes")
    r = ctl.ok("migrate", "ok", "b.example", "--wait")
    check("migrating ok to b.example" in r.stdout, f"says what it does: {r.stdout}", d)
    check(re.search(r"^ok\s+inactive\s+-.*migrated to b\.example$", r.stdout, re.M),
          f"migrate --wait table: {r.stdout}", d)
    check(ctl.states()["ok"]["domid"] is None, "gone from this host", d)

    r = ctl.code(1, "migrate", "bad", "b.example", "--wait")
    check("bad is running: migration to b.example failed" in r.stderr, f"failure: {r.stderr}", d)
    check(ctl.states()["bad"]["state"] == "running", "resumed here", d)
    j = json.loads(ctl.code(1, "--json", "migrate", "doubt", "b.example", "--wait").stdout)
    check(j["ok"] is False and j["code"] == 1 and "in doubt" in j["error"], f"in doubt {j}", d)
    dd = {x["name"]: x for x in j["domains"]}["doubt"]
    check(dd["state"] == "failed" and isinstance(dd["domid"], int), f"left here {dd}", d)
    check(any("MIGRATION TO b.example IN DOUBT" in m for m in d.messages("doubt")),
          "said loudly", d)
    ctl.code(1, "start", "doubt", "--wait")          # no second copy

    j = ctl.json("migrate", "bad", "c.example")       # no --wait: at once
    check(j["names"] == ["bad"] and j["host"] == "c.example" and "domains" not in j, f"{j}", d)
    ctl.wait_state("bad", "inactive")

    r = ctl.code(1, "migrate", "off", "b.example")
    check("off: cannot migrate: not running" in r.stderr, f"not running: {r.stderr}", d)
    for args in (["migrate", "ok"], ["migrate"], ["migrate", "ok", "a", "b"],
                 ["migrate", "nosuch", "b.example"], ["migrate", "h1", "-x"],
                 ["migrate", "h1", "a;b"]):
        ctl.code(2, *args)

    j = ctl.json("shutdown-host", "--wait")
    s = {x["name"]: x for x in j["domains"]}
    check(s["h1"]["reason"] == "migrated to b.example", f"h1 {s['h1']}", d)
    check(s["h3"]["reason"] == "migrated to c.example", f"h3 per-domain host {s['h3']}", d)
    check(s["h2"]["state"] == "inactive" and s["h2"]["reason"] == "stopped (poweroff)",
          f"h2 fell back to a shutdown {s['h2']}", d)
    check(any("migration to b.example failed (simulated" in (l.reason or "")
              for l in d.states("h2")), "h2's fallback says why", d)
    check(s["doubt"]["state"] == "failed" and isinstance(s["doubt"]["domid"], int),
          "the copy in doubt is left alone at halt", d)
    check(any("live migration to b.example (migrate_command ssh -o BatchMode=yes)" in m
              for m in d.messages("h1")), "the configured command", d)


def case_exit_codes(exe_d, exe_c, host):
    """0/1/2/3/4 exactly as xendomctl(8)."""
    d, ctl = start(exe_d, exe_c, host, THREE, SCEN)
    for args in ([], ["bogus"], ["start"], ["stop"], ["status", "--wait"], ["plan", "--svg", "x"],
                 ["timeline", "--svg"], ["reload", "db"], ["--no-such-option", "status"],
                 ["start", "nosuch"], ["stop", "nosuch"], ["restart", "nosuch"],
                 ["save", "nosuch"]):
        ctl.code(2, *args)
    j = json.loads(ctl.code(2, "--json", "start", "nosuch").stdout)
    check(j["code"] == 2 and "nosuch" in j["error"], f"JSON error {j}", d)
    ctl.code(0, "--help")
    ctl.code(0, "status", "--json")      # options after the command too
    r = subprocess.run([ctl.exe, "-s", host.path("no", "such", "socket"), "status"],
                       capture_output=True, text=True)
    check(r.returncode == 3 and "not reachable" in r.stderr, f"no daemon: {r}", d)
    stale = host.path("stale")
    s = socket.socket(socket.AF_UNIX)
    s.bind(stale)
    s.close()
    r = subprocess.run([ctl.exe, "-s", stale, "status"], capture_output=True, text=True)
    check(r.returncode == 3, f"nobody listening: {r}", d)
    d.stop()
    r = ctl.run("status")
    check(r.returncode == 3, f"daemon gone: {r}", d)


def case_permissions(exe_d, exe_c, host):
    """root does anything, socket_group members read only, others are refused."""
    d, ctl = start(exe_d, exe_c, host, THREE, SCEN, socket_group="nogroup")
    st = os.stat(ctl.sock)
    check(st.st_mode & 0o7777 == 0o660, f"socket mode {oct(st.st_mode)}", d)
    check(st.st_gid == grp.getgrnam("nogroup").gr_gid and st.st_uid == 0, "owner root:nogroup", d)
    member = ["--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    check(len(ctl.json("status", user=member)["domains"]) == 4, "member reads status", d)
    ctl.ok("timeline", user=member)
    ctl.ok("plan", user=member)
    for args in (["start", "batch"], ["stop", "db"], ["restart", "db"], ["save", "db"],
                 ["reload"], ["shutdown-host"]):
        r = ctl.code(4, *args, user=member)
        check("permission denied" in r.stderr, f"{args}: {r.stderr}", d)
    check(ctl.states()["db"]["state"] == "running" and ctl.states()["batch"]["state"] == "inactive",
          "nothing happened", d)
    stranger = ["--reuid=nobody", "--regid=4242", "--clear-groups"]   # not in nogroup
    r = ctl.code(4, "status", user=stranger)     # mode 0660 keeps it out
    check("permission denied" in r.stderr, r.stderr, d)
    # With CAP_DAC_OVERRIDE the file mode is no obstacle: the peer
    # credentials are, and the daemon refuses even a read.
    over = stranger + ["--inh-caps=+dac_override", "--ambient-caps=+dac_override"]
    r = ctl.code(4, "status", user=over)
    check("uid 65534 is neither root nor in socket_group" in r.stderr, r.stderr, d)


def garbage_clients(sock_path):
    """20 clients: silent, half a request, binary junk, junk lines, an oversized line."""
    rnd = random.Random(7)
    socks = []
    for i in range(20):
        s = socket.socket(socket.AF_UNIX)
        s.connect(sock_path)
        kind = i % 5
        if kind == 1:
            s.sendall(b'{"cmd":"sta')
        elif kind == 2:
            s.sendall(bytes(rnd.randrange(256) for _ in range(3000)).replace(b"\n", b"x"))
        elif kind == 3:
            s.sendall(b"junk\n{\"cmd\":\"nope\"}\n\x00\x01\n")
        elif kind == 4:
            s.sendall(b"y" * 70000)
        socks.append((kind, s))
    return socks


def case_concurrency(exe_d, exe_c, host):
    """200 concurrent clients and 20 bad ones while a boot proceeds on time."""
    names = [f"vm{i}" for i in range(12)]
    doms = [(n, {"requires": names[i - 4]} if i >= 4 else {}) for i, n in enumerate(names)]
    scen = {n: {"create_ms": 400} for n in names}   # 3 waves: the boot takes 1.2 s
    os.chmod(host.dir, 0o755)
    os.makedirs(host.path("run"))
    host.write_conf(doms, max_parallel_starts=0)
    host.write_scenario(scen)
    d = Daemon(exe_d, host, "-s", host.path("run", "control"))
    ctl = Ctl(exe_c, host, d)
    deadline = time.monotonic() + 5
    while not os.path.exists(ctl.sock):
        check(time.monotonic() < deadline, "no socket", d)
        time.sleep(0.01)
    bad = garbage_clients(ctl.sock)
    procs = [subprocess.Popen([ctl.exe, "-s", ctl.sock, "--json", "status"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(200)]
    outs = [(p.communicate(timeout=60), p.returncode) for p in procs]
    for (out, err), rc in outs:
        check(rc == 0, f"a client failed: {rc} {err}", d)
        check(len(json.loads(out)["domains"]) == 12, "a full status", d)
    line = d.wait_for(BOOT_DONE)
    took = float(re.search(r"boot done in ([0-9.]+) s", line.msg).group(1))
    # Timers are armed from the loop's clock as of the wake-up, so a busy
    # wake-up can make a wave a little shorter than create_ms: no exact
    # lower bound.  On time means not late.
    check(took < 2.0, f"boot took {took} s under load (1.2 s unloaded)", d)
    check(len(d.entered("vm11", "running")) == 1, "the last wave ran", d)
    check(d.first("vm11", "running") - d.first("vm0", "starting") < 2.0, "vm11 on time", d)
    # The junk lines got error replies; the oversized request was closed.
    for kind, s in bad:
        s.settimeout(2)
        if kind == 3:
            replies = [json.loads(x) for x in s.recv(65536).decode().splitlines()[:3]]
            check(all(r["ok"] is False and r["code"] == 2 for r in replies), f"junk {replies}", d)
        if kind == 4:
            data = b""
            while True:
                try:
                    chunk = s.recv(65536)
                except ConnectionResetError:  # closed with our excess unread
                    break
                if not chunk:
                    break
                data += chunk
            check(b"longer than 65536" in data, f"oversized: {data!r}", d)
    check(len(ctl.states()) == 12, "still serving", d)
    for _, s in bad:
        s.close()


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def main():
    return run_ctl_case(CASES, "ctl-", sys.argv)


if __name__ == "__main__":
    sys.exit(main())
