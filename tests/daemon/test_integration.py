#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Integration tests: the real xendomd binary on the sim backend.

usage: test_integration.py XENDOMD CASE

Each case builds a host in a temporary directory, runs
`xendomd -f -c CONF --backend sim:SCENARIO`, lets it boot, sends SIGTERM
(the host halts) and checks from the log and the exit code what happened.
"""

import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xdtest import Daemon, Failure, Host, check, in_main  # noqa: E402

BOOT_DONE = r"^boot done in [0-9.]+ s: "
HALT_DONE = r"^host shutdown done in [0-9.]+ s: "


def boot(exe, host, *extra):
    d = Daemon(exe, host, *extra)
    d.wait_for(BOOT_DONE)
    return d


def halt(d, signo=signal.SIGTERM):
    rc = d.stop(signo)
    check(rc == 0, f"exit code {rc} after the host shutdown", d)
    check(any(m.startswith("host shutdown done in") for m in d.messages()),
          "no host shutdown summary", d)


def context_switches(d):
    """How often the daemon went to sleep: an idle one does not wake up."""
    with open(f"/proc/{d.proc.pid}/status") as f:
        for line in f:
            if line.startswith("voluntary_ctxt_switches:"):
                return int(line.split()[1])
    raise Failure("no voluntary_ctxt_switches in /proc")


def summary(d, which):
    line = d.wait_for(which)
    return line.msg.split(": ", 1)[1]


# ---------------------------------------------------------------- cases

def case_order(exe, host):
    """requires/after order at boot, the reverse at halt, independent domains in parallel."""
    host.write_conf([("storage", {}),
                     ("db", {"requires": "storage"}),
                     ("web", {"after": "db"}),
                     ("misc", {})])
    host.write_scenario({n: {"create_ms": 100} for n in ("storage", "db", "web", "misc")})
    d = boot(exe, host)
    check(summary(d, BOOT_DONE) == "4 running", "boot summary", d)
    check(d.first("db", "starting") >= d.first("storage", "running"), "db before storage was running", d)
    check(d.first("web", "starting") >= d.first("db", "running"), "web before db was running", d)
    check(d.first("misc", "starting") < d.first("storage", "running"), "misc waited for nothing", d)
    running = [l for l in d.states("web") if l.new == "running"][0]
    check(running.domid is not None, "state lines of a live domain carry its domid", d)
    switches = context_switches(d)
    time.sleep(1)
    check(context_switches(d) - switches <= 1, "the settled daemon keeps waking up", d)
    halt(d)
    check(d.first("web", "stopping") < d.first("db", "stopping"), "db stopped before web", d)
    check(d.first("db", "stopping") >= d.first("web", "inactive"), "db stopped while web ran", d)
    check(d.first("storage", "stopping") >= d.first("db", "inactive"), "storage stopped while db ran", d)
    check(d.first("misc", "stopping") < d.first("db", "stopping"), "misc did not stop at once", d)
    check(summary(d, HALT_DONE) == "4 inactive", "halt summary", d)


def case_parallel(exe, host):
    """max_parallel_starts bounds the creates in flight, and is reached."""
    names = [f"vm{i}" for i in range(6)]
    host.write_conf([(n, {}) for n in names], max_parallel_starts=2)
    host.write_scenario({n: {"create_ms": 200} for n in names})
    d = boot(exe, host)
    events = sorted([(l.t, +1 if l.new == "starting" else -1)
                     for l in d.states() if l.new == "starting" or l.old == "starting"],
                    key=lambda e: (e[0], e[1]))
    inflight = peak = 0
    for _, delta in events:
        inflight += delta
        peak = max(peak, inflight)
    check(peak == 2, f"{peak} creates at once with max_parallel_starts = 2", d)
    took = max(d.first(n, "running") for n in names) - min(d.first(n, "starting") for n in names)
    check(took >= 0.55, f"6 creates of 200 ms, 2 at a time, took {took:.3f} s", d)
    halt(d)


def case_retry(exe, host):
    """A failed create is retried (start_retries) and then succeeds."""
    host.write_conf([("web", {"start_retries": 2, "retry_delay": 0})])
    host.write_scenario({"web": {"create_ms": 50, "fail_creates": 2}})
    d = boot(exe, host)
    check(summary(d, BOOT_DONE) == "1 running", "web is running after two failures", d)
    failures = [m for m in d.messages("web") if "simulated create failure" in m]
    check(len(failures) >= 2, "the two failed attempts are logged", d)
    check(any("attempt 3 of 3" in m for m in d.messages("web")), "third attempt", d)
    halt(d)


def case_retries_exhausted(exe, host):
    """After the last retry: failed; `requires` dependents fail unstarted, `after` ones start."""
    host.write_conf([("db", {"start_retries": 1, "retry_delay": 0}),
                     ("app", {"requires": "db"}),
                     ("web", {"after": "db"}),
                     ("spare", {"autostart": "no"})])
    host.write_scenario({"db": {"create_ms": 50, "fail_creates": 5}})
    d = boot(exe, host)
    check(d.final_state("db") == "failed", "db failed", d)
    check(d.final_state("app") == "failed", "app failed", d)
    app_failed = [l for l in d.states("app") if l.new == "failed"][0]
    check("db" in (app_failed.reason or ""), f"app's reason names db: {app_failed.reason}", d)
    check(not d.entered("app", "starting"), "app was started", d)
    check(d.final_state("web") == "running", "web (after only) runs", d)
    check(summary(d, BOOT_DONE) == "1 running, 2 failed, 1 inactive", "boot summary", d)
    halt(d)


def case_ready_timeout(exe, host):
    """A domain whose readiness key never comes fails after ready_timeout; one whose key comes runs."""
    # slow's PV drivers never come up either, so its halt needs the fallback
    host.write_conf([("slow", {"ready": "xenstore:data/ready", "ready_timeout": 1,
                               "start_retries": 0, "shutdown_timeout": 1}),
                     ("quick", {"ready": "xenstore:data/ready", "ready_timeout": 5})])
    host.write_scenario({"slow": {"create_ms": 50, "ready_ms": 60000},
                         "quick": {"create_ms": 50, "ready_ms": 200}})
    d = boot(exe, host)
    check(d.final_state("slow") == "failed", "slow failed", d)
    waited = d.first("slow", "failed") - d.first("slow", "booting")
    check(0.9 <= waited < 3, f"failed {waited:.3f} s after booting, ready_timeout = 1", d)
    check(d.final_state("quick") == "running", "quick runs", d)
    ready_after = d.first("quick", "running") - d.first("quick", "booting")
    check(ready_after >= 0.15, f"quick counted ready before its key ({ready_after:.3f} s)", d)
    halt(d)


def case_crash_restart_limit(exe, host):
    """on_crash = restart restarts the guest until restart_limit, then it is failed."""
    host.xl_cfg("flaky", on_crash="restart")
    host.write_conf([("flaky", {"restart_limit": "2/60"})])
    host.write_scenario({"flaky": {"create_ms": 50, "crash_after_ms": 150}})
    d = Daemon(exe, host)
    d.wait_for(r"^state \w+ -> failed")
    check(len(d.entered("flaky", "restarting")) == 2, "two restarts", d)
    check(len(d.entered("flaky", "running")) == 3, "ran three times", d)
    failed = [l for l in d.states("flaky") if l.new == "failed"][0]
    check("restart" in (failed.reason or ""), f"reason names the restart limit: {failed.reason}", d)
    halt(d)


def case_power_button(exe, host):
    """An HVM guest without PV drivers is stopped with the ACPI power button."""
    host.xl_cfg("win", type="hvm")
    host.write_conf([("win", {"shutdown_timeout": 10})])
    host.write_scenario({"win": {"create_ms": 50, "pv_drivers": "no", "shutdown_ms": 100}})
    d = boot(exe, host)
    t0 = time.monotonic()
    halt(d)
    check(time.monotonic() - t0 < 5, "the stop waited for the shutdown timeout", d)
    check(d.final_state("win") == "inactive", "win stopped", d)
    check(any("power button" in m for m in d.messages("win")), "power button used", d)
    check(not any("destroy" in m for m in d.messages("win")), "win was destroyed", d)


def case_shutdown_timeout(exe, host):
    """A guest ignoring the request is destroyed after shutdown_timeout; a second SIGTERM is ignored."""
    host.write_conf([("stuck", {"shutdown_timeout": 1})], shutdown_fallback="destroy")
    host.write_scenario({"stuck": {"create_ms": 50, "shutdown_ms": -1}})
    d = boot(exe, host)
    d.send(signal.SIGTERM)
    d.wait_for(r"^state running -> stopping")
    d.send(signal.SIGINT)
    d.wait_for(r"^SIGINT during the host shutdown: ignored")
    rc = d.wait_exit()
    check(rc == 0, f"exit code {rc}", d)
    took = d.first("stuck", "inactive") - d.first("stuck", "stopping")
    check(0.9 <= took < 3, f"destroyed {took:.3f} s after the request, shutdown_timeout = 1", d)
    check(any("destroy" in m for m in d.messages("stuck")), "the fallback is named", d)


def case_adoption(exe, host):
    """A managed domain already running is adopted: no second create."""
    host.write_conf([("old", {}), ("new", {"after": "old"})])
    host.write_scenario({"old": {"running": "yes"}, "new": {"create_ms": 50}})
    d = boot(exe, host)
    check(not d.entered("old", "starting"), "old was created again", d)
    check(d.final_state("old") == "running", "old runs", d)
    check(any(m.startswith("adopted") for m in d.messages("old")), "adoption logged", d)
    check(d.final_state("new") == "running", "new runs", d)
    halt(d)
    check(d.final_state("old") == "inactive", "the adopted domain is stopped at halt", d)


def fallback(exe, host):
    """xendomd --halt-fallback; returns (exit code, its stderr+stdout lines)."""
    r = subprocess.run([exe, "-f", "-c", host.conf, "--backend", "sim:" + host.scenario,
                        "--halt-fallback"], stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=30)
    return r.returncode, (r.stderr + r.stdout).splitlines()


def case_halt_fallback(exe, host):
    """--halt-fallback: after a kill -9 during the halt it runs the host-shutdown
    sequence (reverse order); after a completed halt, or a marker of this boot,
    it does nothing; a marker from an earlier boot does not count."""
    host.write_conf([("base", {}), ("app", {"requires": "base"})])
    host.write_scenario({"base": {"running": "yes"}, "app": {"running": "yes", "shutdown_ms": 1500}})
    marker = host.path("state", "host-shutdown-done")
    with open(marker, "w") as f:
        f.write("an-earlier-boot\n")
    d = boot(exe, host)
    check(not os.path.exists(marker), "the daemon removes the marker when it starts", d)
    d.send(signal.SIGTERM)
    d.wait_for(r"^state running -> stopping")
    d.proc.kill()                                  # kill -9 in the middle of the halt
    d.wait_exit()
    check(not os.path.exists(marker), "a killed daemon left a completion marker", d)
    rc, out = fallback(exe, host)
    text = "\n".join(out)
    check(rc == 0, f"fallback exit code {rc}:\n{text}")
    check("did not complete the host-shutdown sequence: running it now" in text,
          f"the fallback says why it runs:\n{text}")
    stops = [l for l in out if "-> stopping" in l]
    check(len(stops) == 2 and "app" in stops[0] and "base" in stops[1],
          f"app then base stopped:\n{text}")
    check(any("host shutdown done" in l for l in out), f"sequence completed:\n{text}")
    check(os.path.exists(marker), "the fallback records the completed sequence")
    rc, out = fallback(exe, host)
    text = "\n".join(out)
    check(rc == 0 and "completed the host-shutdown sequence: nothing to do" in text
          and not any("stopping" in l for l in out), f"second fallback does nothing:\n{text}")
    # a clean halt by the daemon: the fallback finds its marker
    d2 = boot(exe, host)
    halt(d2)
    check(os.path.exists(marker), "a completed halt writes the marker", d2)
    rc, out = fallback(exe, host)
    check(rc == 0 and not any("stopping" in l for l in out), "nothing after a clean halt:\n" + "\n".join(out))
    # a marker of an earlier boot does not count
    with open(marker, "w") as f:
        f.write("an-earlier-boot\n")
    rc, out = fallback(exe, host)
    check(rc == 0 and sum("-> stopping" in l for l in out) == 2,
          "a stale marker does not stop the fallback:\n" + "\n".join(out))
    # an error in one domain's section (the daemon booted the rest): the
    # fallback still stops every running guest, as the daemon's halt would
    with open(host.conf) as f:
        good = f.read()
    with open(host.conf, "a") as f:
        f.write("shutdown_timout = 3\n")          # in [domain app], the last section
    with open(marker, "w") as f:
        f.write("an-earlier-boot\n")
    rc, out = fallback(exe, host)
    text = "\n".join(out)
    check(rc == 0 and "running it now" in text, f"a domain's configuration error: rc {rc}:\n{text}")
    check(any("shutdown_timout" in l for l in out), f"the error is logged:\n{text}")
    stops = [l for l in out if "-> stopping" in l]
    check(len(stops) == 2 and "app" in stops[0] and "base" in stops[1],
          f"app (running, its section broken) then base stopped:\n{text}")
    # no main file, with -c FILE: refused, exit 2, nothing done
    with open(host.conf, "w") as f:
        f.write(good)
    os.rename(host.conf, host.conf + ".gone")
    rc, out = fallback(exe, host)
    os.rename(host.conf + ".gone", host.conf)
    check(rc == 2 and not any("stopping" in l for l in out), f"missing -c file: rc {rc}")


def case_save_restore(exe, host):
    """on_host_shutdown = save at halt, then the next run restores instead of creating."""
    host.write_conf([("web", {"on_host_shutdown": "save"}), ("db", {})])
    host.write_scenario({"web": {"create_ms": 50, "save_ms": 100}, "db": {"create_ms": 50}})
    d = boot(exe, host)
    halt(d)
    check(d.final_state("web") == "saved", "web saved", d)
    check(d.final_state("db") == "inactive", "db shut down", d)
    images = os.listdir(host.path("save"))
    check(len(images) == 1, f"one save image: {images}", d)

    d2 = boot(exe, host)
    check(d2.entered("web", "restoring"), "web restored", d2)
    check(not d2.entered("web", "starting"), "web created instead of restored", d2)
    check(d2.final_state("web") == "running", "web runs", d2)
    check(d2.entered("db", "starting"), "db cold-booted", d2)
    deadline = time.monotonic() + 5
    while os.listdir(host.path("save")) and time.monotonic() < deadline:
        time.sleep(0.05)
    check(not os.listdir(host.path("save")), "the image is deleted once web runs", d2)
    halt(d2)


def case_hooks(exe, host):
    """exec_start_pre failing fails the attempt; output and environment reach the log."""
    counter = host.path("hooks", "count")
    pre = host.hook("db-pre", f"""n=$(cat {counter} 2>/dev/null || echo 0)
echo $((n + 1)) > {counter}
echo "pre domain=$XENDOMD_DOMAIN reason=$XENDOMD_REASON domid=${{XENDOMD_DOMID:-none}} run=$((n + 1))"
[ "$n" -ge 1 ]""")
    post = host.hook("db-post", 'echo "post domain=$XENDOMD_DOMAIN reason=$XENDOMD_REASON domid=$XENDOMD_DOMID"')
    bad = host.hook("bad-pre", "echo refusing >&2; exit 3")
    slow = host.hook("slow-pre", "sleep 30")
    host.write_conf([("db", {"exec_start_pre": pre, "exec_stop_post": post,
                             "start_retries": 1, "retry_delay": 0}),
                     ("bad", {"exec_start_pre": bad, "start_retries": 0}),
                     ("slow", {"exec_start_pre": slow, "hook_timeout": 1, "start_retries": 0})])
    host.write_scenario({"db": {"create_ms": 50}})
    d = boot(exe, host)
    db = d.messages("db")
    check("hook db-pre: pre domain=db reason=boot domid=none run=1" in db, "first pre run logged", d)
    check("hook db-pre: pre domain=db reason=boot domid=none run=2" in db, "second pre run logged", d)
    check(any("exec_start_pre: exited with status 1" in m for m in db), "first attempt failed by the hook", d)
    check(d.final_state("db") == "running", "db runs after the retry", d)

    check("hook bad-pre: refusing" in d.messages("bad"), "stderr of a hook is logged", d)
    failed = [l for l in d.states("bad") if l.new == "failed"][0]
    check("exec_start_pre: exited with status 3" in (failed.reason or ""), f"bad's reason: {failed.reason}", d)
    check(not d.entered("bad", "booting"), "bad was created despite its hook", d)

    failed = [l for l in d.states("slow") if l.new == "failed"][0]
    check("timed out after 1 s" in (failed.reason or ""), f"slow's reason: {failed.reason}", d)
    check(summary(d, BOOT_DONE) == "1 running, 2 failed", "boot summary", d)

    domid = [l for l in d.states("db") if l.new == "running"][-1].domid
    halt(d)
    check(f"hook db-post: post domain=db reason=host-shutdown domid={domid}" in d.messages("db"),
          "post hook ran with the old domid", d)


def hup_storm(proc, stop, wait_main=False):
    """SIGHUP as fast as we can until proc exits or stop is set.  With wait_main:
    from the moment main() runs (the dynamic loader's time before it is no program's
    to guard)."""
    deadline = time.monotonic() + 5
    while wait_main and not in_main(proc.pid) and time.monotonic() < deadline:
        pass
    while not stop.is_set() and proc.poll() is None:
        try:
            os.kill(proc.pid, signal.SIGHUP)
        except ProcessLookupError:
            return


def case_sighup_storm(exe, host):
    """SIGHUP storms from the first instant of start-up and through the exit never kill
    the daemon with SIGHUP's default action: every run boots, halts and exits 0."""
    import threading
    host.write_conf([("web", {}), ("db", {})])
    host.write_scenario({"web": {"create_ms": 20}, "db": {"create_ms": 20}})
    for run in range(5):
        stop = threading.Event()
        d = Daemon(exe, host)
        storm = threading.Thread(target=hup_storm, args=(d.proc, stop, True), daemon=True)
        storm.start()
        d.wait_for(BOOT_DONE, timeout=20)
        stop.set()
        storm.join()
        d.send(signal.SIGTERM)
        stop = threading.Event()
        storm = threading.Thread(target=hup_storm, args=(d.proc, stop), daemon=True)
        storm.start()
        rc = d.wait_exit(20)
        stop.set()
        storm.join()
        check(rc != -signal.SIGHUP, f"run {run}: killed by SIGHUP", d)
        check(rc == 0, f"run {run}: exit status {rc}", d)
        host.daemons.remove(d)


def run_tool(exe, *args):
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=20)


def case_check(exe, host):
    """--check: 0 on a valid configuration, 2 with FILE:LINE messages on errors."""
    host.write_conf([("db", {}), ("web", {"requires": "db"})])
    r = run_tool(exe, "--check", "-c", host.conf)
    check(r.returncode == 0, f"--check on a valid file: {r.returncode} {r.stdout} {r.stderr}")
    with open(host.conf) as f:
        text = f.read().splitlines()
    text.insert(1, "frobnicate = yes")                      # line 2
    text.append("[domain ghost]")                            # no xl cfg
    text.append("after = nobody")
    with open(host.conf, "w") as f:
        f.write("\n".join(text) + "\n")
    r = run_tool(exe, "--check", "-c", host.conf)
    out = r.stdout + r.stderr
    check(r.returncode == 2, f"--check on a bad file exits {r.returncode}: {out}")
    check(f"{host.conf}:2: " in out and "frobnicate" in out, f"unknown key at line 2: {out}")
    ghost = len(text) - 1
    check(f"{host.conf}:{ghost}: " in out and "ghost" in out, f"missing xl cfg at line {ghost}: {out}")
    check(f"{host.conf}:{ghost + 1}: " in out and "nobody" in out, f"unknown dependency: {out}")
    r = run_tool(exe, "-f", "-c", host.path("nonexistent.conf"), "--backend", "sim:" + host.scenario)
    check(r.returncode == 2 and "no such configuration file" in r.stdout + r.stderr,
          f"the daemon refuses a missing -c FILE with 2, not {r.returncode}")
    r = run_tool(exe, "--check", "-c", host.path("nonexistent.conf"))
    check(r.returncode == 2, f"--check on a missing file exits {r.returncode}")


def case_plan(exe, host):
    """--plan prints the waves; --dot a Graphviz graph; usage errors exit 2."""
    host.write_conf([("storage", {}), ("db", {"requires": "storage"}),
                     ("web", {"after": "db"}), ("tool", {"autostart": "no"})])
    r = run_tool(exe, "--plan", "-c", host.conf)
    check(r.returncode == 0, f"--plan exits {r.returncode}: {r.stderr}")
    out = r.stdout
    waves = [out.find(f"Wave {i}:") for i in range(3)]
    check(all(w >= 0 for w in waves) and waves == sorted(waves), f"three waves in order: {out}")
    for name, wave in (("storage", 0), ("db", 1), ("web", 2)):
        start = waves[wave]
        end = waves[wave + 1] if wave + 1 < 3 else len(out)
        check(name in out[start:end], f"{name} in wave {wave}: {out}")
    check("tool" in out, f"the on-demand domain is listed: {out}")
    r = run_tool(exe, "--plan", "--dot", "-c", host.conf)
    check(r.returncode == 0 and r.stdout.startswith("digraph"), f"--dot: {r.stdout}")
    check('"storage" -> "db"' in r.stdout, f"the requires edge: {r.stdout}")
    r = run_tool(exe, "--dot", "-c", host.conf)
    check(r.returncode == 2, "--dot without --plan is a usage error")
    r = run_tool(exe, "--no-such-option")
    check(r.returncode == 2, "an unknown option is a usage error")
    r = run_tool(exe, "--version")
    check(r.returncode == 0 and r.stdout.startswith("xendomd "), f"--version: {r.stdout}")
    r = run_tool(exe, "-f", "-c", host.conf, "--backend", "bogus")
    check(r.returncode == 1 and "unknown backend" in r.stdout + r.stderr, "a bad backend is refused")


def case_boot_times(exe, host):
    """start_order = critical-path: boot-times is written when the boot
    settles and read at the next start, where the slowest domain goes first."""
    host.write_conf([("quick", {}), ("slow", {})], max_parallel_starts=1,
                    start_order="critical-path")
    host.write_scenario({"quick": {"create_ms": 50}, "slow": {"create_ms": 400}})
    path = host.path("state", "boot-times")
    with open(path, "w") as f:      # another version's lines, and junk
        f.write("# old\nghost 999\nquick\nslow many\nquick 0\n")
    d = boot(exe, host)
    # no measurement yet: equal weights, config order
    check(d.first("quick", "starting") < d.first("slow", "starting"), "quick first at boot 1", d)
    halt(d)
    with open(path) as f:
        times = dict(l.split() for l in f if not l.startswith("#"))
    check(set(times) == {"quick", "slow"}, f"boot-times has {sorted(times)}", d)
    check(40 <= int(times["quick"]) < 350, f"quick measured {times['quick']} ms", d)
    check(390 <= int(times["slow"]) < 2000, f"slow measured {times['slow']} ms", d)
    check(not os.path.exists(path + ".tmp"), "boot-times.tmp left behind", d)
    d = boot(exe, host)
    check(d.first("slow", "starting") < d.first("quick", "starting"), "slow first at boot 2", d)
    halt(d)
    with open(path) as f:           # rewritten by boot 2
        times = dict(l.split() for l in f if not l.startswith("#"))
    out = subprocess.run([exe, "--plan", "-c", host.conf], capture_output=True, text=True)
    check(out.returncode == 0, f"--plan exit {out.returncode}: {out.stderr}")
    want = int(times["quick"]) + int(times["slow"])     # one slot: the sum
    check(f"Expected makespan: {want} ms with start_order = critical-path" in out.stdout,
          f"--plan has no makespan of {want} ms:\n{out.stdout}")
    for n in ("quick", "slow"):
        check(f"\n  {n}  {times[n]}  path {times[n]}\n" in out.stdout,
              f"--plan has no measured weight for {n}:\n{out.stdout}")


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in CASES:
        print(f"usage: {sys.argv[0]} XENDOMD CASE ({', '.join(CASES)})", file=sys.stderr)
        return 2
    exe, name = os.path.abspath(sys.argv[1]), sys.argv[2]
    host = Host(name)
    try:
        CASES[name](exe, host)
    except Failure as e:
        print(f"FAIL {name}: {e}", file=sys.stderr)
        return 1
    finally:
        host.cleanup()
    print(f"ok {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
