#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""The stress suite: the real xendomd and xendomctl on the sim, attacked
as a local user, a careless admin or a signal-happy init would.

usage: test_stress.py XENDOMD XENDOMCTL CASE

Each case prints what it measured.  XD_STRESS_SCALE (default 1) scales
the counts (tests/run uses less under ASan).  Needs root (clients run as
other users through setpriv); skipped (77) otherwise.
"""

import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stresslib import (BOOT_DONE, DOWN, HALT_DONE, MEMBER, OTHER_MEMBER, SCALE,  # noqa: E402
                       STATES, Failure, FileDaemon, Storm, as_user, check,
                       check_log_invariants, many_domains, prepare, raw_connect, read_line,
                       scaled, vm_hwm_kib)
from test_xendomctl import Ctl  # noqa: E402
from xdtest import run_ctl_case  # noqa: E402

SKIP = 77


def halt(d, timeout=120):
    d.proc.send_signal(signal.SIGTERM)
    rc = d.wait_exit(timeout)
    check(rc == 0, f"exit code {rc} after the halt", d)
    return d.wait_for(HALT_DONE, 1)


def timed(ctl, *args, timeout=30):
    t0 = time.monotonic()
    try:
        r = ctl.run(*args, timeout=timeout)
        rc, err = r.returncode, r.stderr
    except subprocess.TimeoutExpired:
        rc, err = "timeout", ""
    return rc, time.monotonic() - t0, err


# ------------------------------------------------------------ (a) clients

def root_prober(ctl, stop, out):
    """Root asks for the status over and over while the attack runs."""
    while not stop.is_set():
        out.append(timed(ctl, "--json", "status", "c00000", timeout=30))
        time.sleep(0.05)


def case_clients(exe_d, exe_c, host):
    """1000 clients at once during a boot; 1100 held connections; root always gets in."""
    helper = prepare(host)
    n_doms, n_cl, n_hold = scaled(400, 20), scaled(1000, 50), 1100
    conf, scen = many_domains(host, "c", n_doms, scen_keys={"create_ms": 40})
    host.write_conf(conf, max_parallel_starts=4, socket_group="nogroup")
    host.write_scenario(scen)
    d = FileDaemon(exe_d, host)
    ctl = Ctl(exe_c, host, d)
    d.wait_socket()
    stop, probes = threading.Event(), []
    prober = threading.Thread(target=root_prober, args=(ctl, stop, probes), daemon=True)
    prober.start()
    t0 = time.monotonic()
    p = as_user(MEMBER, [sys.executable, helper, d.sock, "burst", str(n_cl), "60"],
                stdout=subprocess.PIPE, text=True)
    out, _ = p.communicate(timeout=120)
    burst_s = time.monotonic() - t0
    b = json.loads(out)
    booted = d.messages(BOOT_DONE)
    print(f"clients: {n_cl} status requests at once as uid 65534 ({n_doms}-domain boot "
          f"{'over' if booted else 'still running'} at the end) in {burst_s:.1f} s: "
          f"{b['answered']} answered, {b['refused']} refused, {b['reset']} reset, "
          f"{b['timeout']} unanswered, {b['garbage']} garbled, "
          f"{b['connect_failed']} connect failures; reasons {b['reasons']}")
    check(b["answered"] + b["refused"] == n_cl,
          f"every client answered or refused with a reason: {b}", d)
    check(b["answered"] > 0, "some clients answered", d)

    h = as_user(MEMBER, [sys.executable, helper, d.sock, "hold", str(n_hold)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    held = json.loads(h.stdout.readline())
    try:
        roots = [threading.Thread(target=lambda: probes.append(
            timed(ctl, "--json", "status", timeout=30))) for _ in range(20)]
        t1 = time.monotonic()
        for t in roots:
            t.start()
        for t in roots:
            t.join()
        root_burst = time.monotonic() - t1
        r = subprocess.run(["setpriv", *OTHER_MEMBER, "--", ctl.exe, "-s", ctl.sock, "--json",
                            "status", "c00000"], capture_output=True, text=True, timeout=30)
        other = r.returncode
    finally:
        stop.set()
        prober.join(60)
        h.stdin.close()
        h.wait(30)
    print(f"clients: {n_hold} idle or half-sent connections as uid 65534: "
          f"{held['held']} held, {held['refused']} refused; then 20 root clients at once "
          f"answered in {root_burst:.2f} s; uid 1 (also in socket_group): exit {other}")
    bad = [x for x in probes if x[0] != 0]
    worst = max(x[1] for x in probes)
    print(f"clients: root asked {len(probes)} times during all this: "
          f"{len(bad)} failures, slowest answer {worst:.2f} s")
    check(not bad, f"root was refused or timed out: {bad[:3]}", d)
    check(worst < 10, f"root waited {worst:.1f} s for an answer", d)
    check(other == 0, f"another socket_group user locked out by uid 65534: {r.stderr}", d)
    d.wait_for(BOOT_DONE, 120)
    halt(d)
    check_log_invariants(d)


# ------------------------------------------------------------ (b) subscribers

def subscribe(path):
    s = raw_connect(path)
    s.sendall(b'{"cmd":"events"}\n')
    return s


def boot_with_subscribers(exe_d, host, n_doms, n_sub, gate_ms):
    """One boot behind a gate domain (its create takes gate_ms, every
    other domain comes `after` it) so the subscribers are in place first.
    Returns (boot seconds from the gate running to boot done, VmHWM KiB,
    drops logged, names a reading subscriber saw running)."""
    d = FileDaemon(exe_d, host)
    d.wait_socket()
    subs = [subscribe(d.sock) for _ in range(n_sub)]   # never read
    reader = subscribe(d.sock)
    chunks = []

    def read_events():               # as fast as it can; parsed at the end
        reader.settimeout(None)
        while True:
            data = reader.recv(1 << 20)
            if not data:
                return               # the daemon closed it at the halt
            chunks.append(data)
    t = threading.Thread(target=read_events, daemon=True)
    t.start()
    d.read_log()
    early = [l for l in d.states() if l.dom == "gate" and l.new == "booting"]
    check(not early, f"the gate opened before {n_sub} subscribers were in: slow machine", d)
    gate = d.wait_for(r"^state starting -> booting", 60)
    done = d.wait_for(BOOT_DONE, 600)
    hwm = vm_hwm_kib(d.pid)
    time.sleep(0.5)                  # the reader drains what is left
    for s in subs:
        s.close()
    halt(d)
    t.join(30)
    reader.close()
    seen = set()
    for line in b"".join(chunks).split(b"\n")[:-1]:   # the last may be cut by the exit
        ev = json.loads(line)
        if ev.get("state") == "running":
            seen.add(ev["name"])
    drops = sum(1 for raw in d.all_raw
                if re.search(r"control: events client .*(does not read|dropped)", raw))
    return done.t - gate.t, hwm, drops, seen


# The memory all clients' unsent output may hold (XD_CTL_BACKLOG_TOTAL in
# src/daemon/control.h), and what may come on top: during one event's
# fan-out every subscriber may take one 4 KiB chunk more before the budget
# is enforced (4 MiB for 1000), and the allocator's own slack.
OUTPUT_BUDGET_MIB = 64
SLACK_MIB = 16


def case_subscribers(exe_d, exe_c, host):
    """1000 events subscribers that never read during a 5000-domain boot:
    peak RSS stays under the same boot's without subscribers plus the
    output budget plus slack."""
    n_doms, n_sub = scaled(5000, 200), scaled(1000, 50)
    gate_ms = 4000
    conf, scen = many_domains(host, "s", n_doms, conf_keys={"after": "gate"},
                              scen_keys={"create_ms": 1, "shutdown_ms": 1})
    host.xl_cfg("gate", memory=1)
    host.write_conf([("gate", {})] + conf, max_parallel_starts=64, max_parallel_stops=0)
    host.write_scenario(dict(scen, gate={"create_ms": gate_ms, "shutdown_ms": 1}))
    base_s, base_hwm, _, base_seen = boot_with_subscribers(exe_d, host, n_doms, 0, gate_ms)
    print(f"subscribers: {n_doms}-domain boot alone: {base_s:.2f} s, "
          f"VmHWM {base_hwm / 1024:.1f} MiB")
    boot_s, hwm, drops, seen = boot_with_subscribers(exe_d, host, n_doms, n_sub, gate_ms)
    bound_mib = base_hwm / 1024 + OUTPUT_BUDGET_MIB + SLACK_MIB
    print(f"subscribers: the same boot with {n_sub} subscribers that never read: "
          f"{boot_s:.2f} s ({boot_s / max(base_s, 0.01):.1f}x), VmHWM {hwm / 1024:.1f} MiB "
          f"(bound {base_hwm / 1024:.1f} + {OUTPUT_BUDGET_MIB} + {SLACK_MIB} = "
          f"{bound_mib:.0f} MiB), {drops} subscribers dropped; a reading subscriber "
          f"saw {len(seen)} of {n_doms + 1} domains running")
    check(hwm / 1024 < bound_mib, f"peak RSS {hwm / 1024:.0f} MiB over {bound_mib:.0f} MiB", None)
    check(boot_s < 3 * base_s + 5, f"boot took {boot_s:.1f} s, {base_s:.1f} s alone", None)
    check(len(seen) == n_doms + 1, f"the reading subscriber was dropped or lost events "
          f"({len(seen)} of {n_doms + 1})", None)


# ------------------------------------------------------------ (c) SIGHUP storms

def launch_under_storm(exe_d, host, i):
    """One launch: SIGHUP every 0.5 ms from the moment main() has blocked
    it, through the boot, the halt and the exit.  Returns (signals sent,
    reloads logged)."""
    d = FileDaemon(exe_d, host)
    storm = Storm(d.pid, interval=0.0005, from_main=True)
    d.wait_for(BOOT_DONE, 60)
    d.proc.send_signal(signal.SIGTERM)
    rc = d.wait_exit(120)
    sent = storm.stop()
    check(sent > 0, f"launch {i}: main() never blocked SIGHUP (no signal sent)", d)
    check(rc == 0, f"launch {i}: exit code {rc} under a SIGHUP storm "
          f"({'killed by SIGHUP' if rc == -signal.SIGHUP else 'failed'})", d)
    done = d.wait_for(HALT_DONE, 1)
    check(done.msg.endswith("50 inactive"), f"launch {i}: halt: {done.msg}", d)
    return sent, len(d.messages(r"^reloaded "))


def case_sighup(exe_d, exe_c, host):
    """SIGHUP storms from the moment main() has blocked the signal (what
    comes before is the dynamic loader's, no program's to guard), during
    a boot and during the halt: the daemon survives and reloads, the boot
    completes, the halt completes and leaves nothing running."""
    small, _ = many_domains(host, "h", 50)
    host.write_conf(small, max_parallel_starts=8)
    host.write_scenario({})
    sent = reloads = 0
    for i in range(5):
        s, r = launch_under_storm(exe_d, host, i)
        sent, reloads = sent + s, reloads + r
    print(f"sighup: 5 launches of 50 domains under a storm from main() to exit "
          f"({sent} SIGHUPs, {reloads} reloads): none died, every halt complete")
    check(reloads > 0, "no reload under the storms", None)

    n = scaled(2000, 100)
    conf, scen = many_domains(host, "b", n, scen_keys={"create_ms": 5})
    for name, _ in conf:
        scen[name]["shutdown_ms"] = random.Random(name).randint(100, 1000)
    host.write_conf(conf, max_parallel_starts=16, max_parallel_stops=0)
    host.write_scenario(scen)
    d = FileDaemon(exe_d, host)
    storm = Storm(d.pid, from_main=True)
    t0 = time.monotonic()
    d.wait_for(BOOT_DONE, 300)
    boot_sent = storm.stop()
    boot_s = time.monotonic() - t0
    reloads = len(d.messages(r"^reloaded "))
    boot = d.messages(BOOT_DONE)[0]
    check(boot.msg.endswith(f"{n} running"), f"boot under the storm: {boot.msg}", d)
    check(reloads > 0, f"no reload during a boot under {boot_sent} SIGHUPs", d)
    t0 = time.monotonic()
    d.proc.send_signal(signal.SIGTERM)
    storm = Storm(d.pid)
    rc = d.wait_exit(300)
    halt_sent = storm.stop()
    halt_s = time.monotonic() - t0
    check(rc == 0, f"exit code {rc} after a halt under a SIGHUP storm", d)
    done = d.wait_for(HALT_DONE, 1)
    print(f"sighup: {n}-domain boot under {boot_sent} SIGHUPs ({reloads} reloads): "
          f"{boot.msg} ({boot_s:.1f} s); halt under {halt_sent} SIGHUPs: {done.msg} "
          f"({halt_s:.1f} s)")
    check(halt_sent > 0, "no SIGHUP reached the halt", d)
    check(done.msg.endswith(f"{n} inactive"), f"halt: {done.msg}", d)
    created = check_log_invariants(d)
    check(created == n, f"{created} domains created for {n}", d)
    left = {k: v for k, v in d.final_states().items() if v not in DOWN}
    check(not left, f"not down after the halt: {dict(list(left.items())[:5])}", d)


# ------------------------------------------------------------ (d) command storms

def storm_domains(host, n):
    """Groups of four: a base, one requiring it, one after that, one alone;
    every fourth group is not autostarted."""
    rnd = random.Random(11)
    conf, scen = [], {}
    for g in range(n // 4):
        names = [f"g{g:02d}{c}" for c in "abcd"]
        keys = [{}, {"requires": names[0]}, {"after": names[1]}, {}]
        for name, k in zip(names, keys):
            host.xl_cfg(name, memory=16)
            if g % 4 == 3:
                k["autostart"] = "no"
            if rnd.random() < 0.3:
                k["on_host_shutdown"] = "save"
            conf.append((name, k))
            scen[name] = {"create_ms": rnd.randint(10, 80), "shutdown_ms": rnd.randint(10, 80),
                          "save_ms": rnd.randint(20, 60), "restore_ms": rnd.randint(20, 60)}
            if rnd.random() < 0.1:
                scen[name]["fail_creates"] = 1
    return conf, scen


OPS = ["start"] * 6 + ["stop"] * 5 + ["restart"] * 3 + ["save"] * 3 + ["reload", "status"]


def storm_worker(ctl, d, names, seed, until, results):
    rnd = random.Random(seed)
    while time.monotonic() < until:
        op = rnd.choice(OPS)
        if op == "reload":
            args = ["reload"] if rnd.random() < 0.7 else None
            if args is None:
                d.proc.send_signal(signal.SIGHUP)
                results.append(("sighup", 0, 0.0, ""))
                continue
        elif op == "status":
            args = ["--json", "status"]
        else:
            args = [op, *rnd.sample(names, rnd.randint(1, 3))]
            if rnd.random() < 0.7:
                args.append("--wait")
        rc, dt, err = timed(ctl, *args, timeout=120)
        results.append((" ".join(args), rc, dt, err))


def status_checker(ctl, d, stop, problems, polls):
    while not stop.is_set():
        try:
            r = ctl.run("--json", "status", timeout=60)
        except subprocess.TimeoutExpired:
            problems.append("status timed out")
            continue
        polls.append(r.returncode)
        if r.returncode != 0:
            problems.append(f"status exit {r.returncode}: {r.stderr}")
            continue
        for x in json.loads(r.stdout)["domains"]:
            st, domid = x["state"], x["domid"]
            if st not in STATES:
                problems.append(f"{x['name']} in state {st!r}")
            if st in ("booting", "running", "stopping", "saving") and not isinstance(domid, int):
                problems.append(f"{x['name']} {st} without a domid")
            if st in DOWN and domid is not None:
                problems.append(f"{x['name']} {st} with domid {domid}")
        time.sleep(0.1)


def case_storm(exe_d, exe_c, host):
    """Random start/stop/restart/save/reload storms; the invariants hold; the halts complete."""
    n = max(8, scaled(40) // 4 * 4)
    seconds = max(5.0, 20 * SCALE)
    conf, scen = storm_domains(host, n)
    host.write_conf(conf, max_parallel_starts=8)
    host.write_scenario(scen)
    d = FileDaemon(exe_d, host)
    ctl = Ctl(exe_c, host, d)
    d.wait_for(BOOT_DONE, 60)
    names = [c[0] for c in conf]
    results, problems, polls = [], [], []
    stop = threading.Event()
    checker = threading.Thread(target=status_checker, args=(ctl, d, stop, problems, polls),
                               daemon=True)
    checker.start()
    until = time.monotonic() + seconds
    workers = [threading.Thread(target=storm_worker, args=(ctl, d, names, i, until, results),
                                daemon=True) for i in range(8)]
    for w in workers:
        w.start()
    time.sleep(seconds / 2)
    host_rc, host_s, host_err = timed(ctl, "--json", "shutdown-host", "--wait", timeout=120)
    for w in workers:
        w.join(300)
    stop.set()
    checker.join(120)
    codes = {}
    for args, rc, _, _ in results:
        codes[rc] = codes.get(rc, 0) + 1
    waits = [r for r in results if r[0].endswith("--wait")]
    slowest = max((r[2] for r in waits), default=0)
    print(f"storm: {n} domains, 8 workers for {seconds:.0f} s: {len(results)} commands "
          f"({len(waits)} with --wait, slowest {slowest:.1f} s), exit codes {codes}; "
          f"shutdown-host --wait in the middle: exit {host_rc} after {host_s:.1f} s; "
          f"{len(polls)} status checks, {len(problems)} problems")
    failed = [r for r in results if r[1] == 1]
    if failed:
        print(f"storm: a failure says: {failed[0][0]}: {failed[0][3].strip()}")
    check(not any(w.is_alive() for w in workers), "a command never returned", d)
    check(host_rc == 0, f"shutdown-host --wait: {host_rc} {host_err}", d)
    check(not problems, f"invalid status: {problems[:5]}", d)
    bad = [r for r in results if r[1] not in (0, 1) or
           (r[1] == 1 and not re.search(r"\bg\d\d[a-d]\b", r[3]))]
    check(not bad, f"commands answered wrongly: {bad[:5]}", d)
    check(d.proc.poll() is None, "the daemon died", d)

    final = ctl.json("shutdown-host", "--wait")["domains"]
    check(all(x["domid"] is None for x in final), f"left running: {final}", d)
    done = halt(d)
    created = check_log_invariants(d)
    left = {k: v for k, v in d.final_states().items() if v not in DOWN}
    print(f"storm: {created} domains created in all, none twice; final halt: {done.msg}")
    check(not left, f"not down after the final halt: {left}", d)
    check(re.fullmatch(r"\d+ (inactive|saved|failed)(, \d+ (inactive|saved|failed))*",
                       done.msg.split(": ", 1)[1]), f"halt summary: {done.msg}", d)


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def main():
    if os.geteuid() != 0:
        print("skipped: the stress suite runs clients as other users (needs root)")
        return SKIP
    t0 = time.monotonic()
    return run_ctl_case(CASES, "stress-", sys.argv,
                        lambda name: f"ok {name} in {time.monotonic() - t0:.1f} s (scale {SCALE})")


if __name__ == "__main__":
    sys.exit(main())
