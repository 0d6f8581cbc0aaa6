# SPDX-License-Identifier: ISC
"""Helpers for running the real xendomd on the sim backend and reading its log.

A test builds a throw-away host in a temporary directory (xl cfgs, a
xendomd.conf whose every directory points inside it, a sim scenario), runs
`xendomd -f -c CONF --backend sim:SCENARIO`, waits for log lines, signals
it and checks what the log says happened.

Log lines look like "[   2.153] db(5): state booting -> running: reason";
parse() turns them into Line objects.
"""

import os
import re
import shutil
import signal
import sys
import subprocess
import tempfile
import threading
import time

LINE_RE = re.compile(
    r"^\[\s*(?P<t>\d+\.\d{3})\] "
    r"(?:(?P<dom>[^\s:()]+)(?:\((?P<domid>\d+)\))?: )?"
    r"(?:(?P<level>error|warning|debug): )?"
    r"(?P<msg>.*)$")
STATE_RE = re.compile(r"^state (?P<old>\w+) -> (?P<new>\w+)(?:: (?P<reason>.*))?$")


class Line:
    def __init__(self, m):
        self.t = float(m["t"])
        self.dom = m["dom"]
        self.domid = int(m["domid"]) if m["domid"] else None
        self.level = m["level"]
        self.msg = m["msg"]
        s = STATE_RE.match(self.msg)
        self.old = s["old"] if s else None
        self.new = s["new"] if s else None
        self.reason = s["reason"] if s else None

    def __repr__(self):
        return f"[{self.t:.3f}] {self.dom}({self.domid}): {self.msg}"


class Failure(Exception):
    pass


def check(cond, what, daemon=None):
    if not cond:
        if daemon:
            print("---- daemon log ----")
            print("\n".join(daemon.raw))
        raise Failure(what)


class Host:
    """A temporary directory with everything a configuration points to."""

    def __init__(self, name):
        self.dir = tempfile.mkdtemp(prefix=f"xd-{name}-")
        for sub in ("xen", "auto", "conf.d", "save", "state", "hooks"):
            os.mkdir(os.path.join(self.dir, sub))
        self.conf = os.path.join(self.dir, "xendomd.conf")
        self.scenario = os.path.join(self.dir, "sim.ini")
        self.daemons = []

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def xl_cfg(self, name, **keys):
        keys.setdefault("memory", 128)
        lines = [f'name = "{name}"']
        for k, v in keys.items():
            lines.append(f'{k} = "{v}"' if isinstance(v, str) else f"{k} = {v}")
        with open(self.path("xen", name + ".cfg"), "w") as f:
            f.write("\n".join(lines) + "\n")

    def write_conf(self, domains, **global_keys):
        """domains: list of (name, {key: value}); each gets an xl cfg unless
        one was written already."""
        g = {
            "xen_config_dir": self.path("xen"),
            "auto_dir": self.path("auto"),
            "include_dir": self.path("conf.d"),
            "save_dir": self.path("save"),
            "state_dir": self.path("state"),
            "socket": self.path("control"),
        }
        g.update(global_keys)
        out = ["[global]"] + [f"{k} = {v}" for k, v in g.items()]
        for name, keys in domains:
            if not os.path.exists(self.path("xen", name + ".cfg")):
                self.xl_cfg(name)
            out.append(f"[domain {name}]")
            out += [f"{k} = {v}" for k, v in keys.items()]
        with open(self.conf, "w") as f:
            f.write("\n".join(out) + "\n")

    def write_scenario(self, domains, **sim_keys):
        out = ["[sim]"] + [f"{k} = {v}" for k, v in sim_keys.items()]
        for name, keys in domains.items():
            out.append(f"[domain {name}]")
            out += [f"{k} = {v}" for k, v in keys.items()]
        with open(self.scenario, "w") as f:
            f.write("\n".join(out) + "\n")

    def hook(self, name, body):
        p = self.path("hooks", name)
        with open(p, "w") as f:
            f.write("#!/bin/sh\n" + body + "\n")
        os.chmod(p, 0o755)
        return p

    def cleanup(self):
        for d in self.daemons:
            d.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class Daemon:
    """xendomd running in the foreground; its stderr is collected as it comes."""

    def __init__(self, exe, host, *extra, argv=None, env=None):
        """argv replaces the whole command line (e.g. without -c)."""
        self.argv = argv or [exe, "-f", "-c", host.conf, "--backend", "sim:" + host.scenario, *extra]
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, env=env)
        self.raw = []
        self.lines = []
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        host.daemons.append(self)

    def _read(self):
        for raw in self.proc.stdout:
            raw = raw.rstrip("\n")
            m = LINE_RE.match(raw)
            with self.cond:
                self.raw.append(raw)
                if m:
                    self.lines.append(Line(m))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_for(self, pattern, timeout=10):
        """The first line whose message matches pattern (a regex)."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines:
                    if rx.search(line.msg):
                        return line
                check(self.reader.is_alive(),
                      f"xendomd exited before logging {pattern!r}", self)
                left = deadline - time.monotonic()
                check(left > 0, f"no log line matching {pattern!r} within {timeout} s", self)
                self.cond.wait(min(left, 0.2))

    def send(self, signo):
        self.proc.send_signal(signo)

    def stop(self, signo=signal.SIGTERM, timeout=15):
        """Signal (the host halts) and wait for the exit; returns the code."""
        self.send(signo)
        return self.wait_exit(timeout)

    def wait_exit(self, timeout=15):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            check(False, f"xendomd did not exit within {timeout} s", self)
        self.reader.join(5)
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    # --- reading the log ---

    def states(self, dom=None):
        return [l for l in self.lines if l.new and (dom is None or l.dom == dom)]

    def entered(self, dom, state):
        """Times dom entered state."""
        return [l.t for l in self.states(dom) if l.new == state]

    def first(self, dom, state):
        t = self.entered(dom, state)
        check(t, f"{dom} never became {state}", self)
        return t[0]

    def final_state(self, dom):
        s = self.states(dom)
        return s[-1].new if s else None

    def messages(self, dom=None):
        return [l.msg for l in self.lines if dom is None or l.dom == dom]


def in_main(pid):
    """Whether pid runs xendomd's main(): SIGHUP blocked (the first thing
    main does) or caught (the loop owns it), or SIGPIPE ignored (done
    before the loop exists).  Before that the process is the dynamic
    loader's, where no code of the daemon can guard a signal."""
    masks = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("SigBlk:", "SigIgn:", "SigCgt:")):
                    masks[line[:6]] = int(line.split()[1], 16)
    except OSError:
        return False
    hup, pipe = 1 << (signal.SIGHUP - 1), 1 << (signal.SIGPIPE - 1)
    return bool((masks.get("SigBlk", 0) | masks.get("SigCgt", 0)) & hup or
                masks.get("SigIgn", 0) & pipe)


def run_ctl_case(cases, prefix, argv, ok_line=lambda name: f"ok {name}"):
    """main() of a test file whose cases take (XENDOMD, XENDOMCTL, host):
    argv is XENDOMD XENDOMCTL CASE; 0 passed, 1 failed, 2 usage."""
    if len(argv) != 4 or argv[3] not in cases:
        print(f"usage: {argv[0]} XENDOMD XENDOMCTL CASE ({', '.join(cases)})", file=sys.stderr)
        return 2
    exe_d, exe_c, name = os.path.abspath(argv[1]), os.path.abspath(argv[2]), argv[3]
    host = Host(prefix + name)
    try:
        cases[name](exe_d, exe_c, host)
    except Failure as e:
        print(f"FAIL {name}: {e}", file=sys.stderr)
        return 1
    finally:
        host.cleanup()
    print(ok_line(name))
    return 0
