#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""bash completion for xendomctl: source completion/xendomctl in bash, set
COMP_WORDS/COMP_CWORD as readline would, call the completion function and
compare COMPREPLY, with domain names from a real xendomd on the sim.  The
commands offered, and which of them take names, --wait, --dot and --svg,
must be exactly those of the control protocol's command table
(src/proto/proto.c).

usage: test_completion.py XENDOMD XENDOMCTL COMPLETION PROTO_C SHELLCHECK"""
import os
import re
import shlex
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "daemon"))
from xdtest import Daemon, Failure, Host, check  # noqa: E402

xendomd, xendomctl, script, proto_c, shellcheck = sys.argv[1:6]


def complete(*words):
    """COMPREPLY for the line `words`, the last being the word at the cursor."""
    arr = " ".join(shlex.quote(w) for w in words)
    prog = (f". {shlex.quote(script)}\n"
            f"COMP_WORDS=({arr}); COMP_CWORD={len(words) - 1}\n"
            "_xendomctl\n"
            "printf '%s\\n' \"${COMPREPLY[@]}\"\n")
    r = subprocess.run(["bash", "--norc", "--noprofile", "-c", prog], capture_output=True,
                       text=True, timeout=30)
    check(r.returncode == 0 and not r.stderr, f"{words}: exit {r.returncode} {r.stderr!r}")
    return [x for x in r.stdout.split("\n") if x]


def expect(words, want, ordered=False):
    got = complete(*words)
    ok = got == want if ordered else sorted(got) == sorted(want)
    check(ok, f"complete {' '.join(words)!r}: {got}, wanted {want}")


def command_table():
    """{name: {"names", "wait", "dot", "svg", "host"}} from proto.c's table rows
    `{ XD_CMD_X, "name", writes, names, need_name, wait, dot, svg, host }`."""
    rows = re.findall(r'^\s*\{ XD_CMD_[A-Z_]+, "([a-z-]+)", ((?:(?:true|false),? ?){7}) \},',
                      open(proto_c).read(), re.M)
    table = {}
    for name, flags in rows:
        f = [x.strip() == "true" for x in flags.split(",")]
        table[name] = {"names": f[1], "wait": f[3], "dot": f[4], "svg": f[5], "host": f[6]}
    return table


def check_table(ctl, sock, table):
    """Every command: names offered iff it takes them, its options."""
    common = {"-s", "--socket", "-j", "--json", "-h", "--help", "-V", "--version"}
    for name, t in table.items():
        opts = set(complete(ctl, "-s", sock, name, "-"))
        want = common | ({"-w", "--wait"} if t["wait"] else set()) \
            | ({"--dot"} if t["dot"] else set()) | ({"--svg"} if t["svg"] else set())
        check(opts == want, f"options of {name}: {sorted(opts)}, wanted {sorted(want)}")
        names = complete(ctl, "-s", sock, name, "")
        check(bool(names) == t["names"], f"names after {name}: {names}")


def main():
    r = subprocess.run([shellcheck, "-s", "bash", script], capture_output=True, text=True)
    check(r.returncode == 0, f"shellcheck:\n{r.stdout}{r.stderr}")
    host = Host("completion")
    try:
        os.makedirs(host.path("run"))
        sock = host.path("run", "control")
        host.write_conf([("storage", {}), ("db", {"requires": "storage"}),
                         ("web", {}), ("batch", {"autostart": "no"}),
                         ("backup", {"autostart": "no"})])
        host.write_scenario({})
        d = Daemon(xendomd, host, "-s", sock)
        d.wait_for(r"^boot done in ")
        ctl = host.path("xendomctl")           # completed as its own path
        os.symlink(os.path.abspath(xendomctl), ctl)

        table = command_table()
        check(len(table) >= 10, f"commands found in {proto_c}: {sorted(table)}")
        cmds = sorted(table)
        expect([ctl, ""], cmds)
        check_table(ctl, sock, table)
        expect([ctl, "st"], [c for c in cmds if c.startswith("st")])
        expect([ctl, "-s", sock, "sh"], ["shutdown-host"])
        # Domain names, from the daemon named by -s / --socket=.
        expect([ctl, "-s", sock, "status", ""], ["storage", "db", "web", "batch", "backup"])
        expect([ctl, "-s", sock, "start", ""], ["batch", "backup"])       # not running
        expect([ctl, "-s", sock, "start", "ba"], ["batch", "backup"])
        expect([ctl, "-s", sock, "stop", ""], ["storage", "db", "web"])   # have a domid
        expect([ctl, f"--socket={sock}", "save", "w"], ["web"])
        # migrate NAME HOST: one running domain, then the host (not completed)
        expect([ctl, "-s", sock, "migrate", ""], ["storage", "db", "web"])
        expect([ctl, "-s", sock, "migrate", "web", ""], [])
        expect([ctl, "-s", sock, "restart", "db", ""], ["storage", "web", "batch", "backup"])
        expect([ctl, "--json", "-s", sock, "stop", "web", "--wait", ""], ["storage", "db"])
        # Commands that take no names get none.
        expect([ctl, "-s", sock, "reload", ""], [])
        expect([ctl, "-s", sock, "events", ""], [])
        # Options: the command's own, wherever the cursor is.
        common = ["-s", "--socket", "-j", "--json", "-h", "--help", "-V", "--version"]
        expect([ctl, "-"], common)
        expect([ctl, "start", "db", "-"], common + ["-w", "--wait"])
        expect([ctl, "plan", "--d"], ["--dot"])
        expect([ctl, "timeline", "--s"], ["--socket", "--svg"])
        expect([ctl, "shutdown-host", "--w"], ["--wait"])
        expect([ctl, "status", "--w"], [])
        # File names after -s and --svg.
        expect([ctl, "-s", host.path("ru")], [host.path("run")])
        expect([ctl, "timeline", "--svg", host.path("sim.i")], [host.path("sim.ini")])
        # No daemon: no names, no error, no wait.
        t0 = time.monotonic()
        expect([ctl, "-s", host.path("nothing"), "start", ""], [])
        check(time.monotonic() - t0 < 10, "completion without a daemon took too long")
        d.stop()
    finally:
        host.cleanup()
    print("ok completion")


if __name__ == "__main__":
    try:
        main()
    except Failure as e:
        sys.exit(f"FAIL completion: {e}")
