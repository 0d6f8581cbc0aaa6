# SPDX-License-Identifier: ISC
"""Helpers of the stress suite: the daemon logging to a file (a pipe that
the test reads too slowly would throttle the daemon being measured), its
peak RSS, raw clients, unprivileged helpers and the log's invariants."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "daemon"))
sys.path.insert(0, os.path.join(HERE, "..", "control"))
from xdtest import LINE_RE, Failure, Line, in_main  # noqa: E402,F401

# The states of xendomctl status and the log (xendomd(8), States).
STATES = {"inactive", "waiting", "starting", "restoring", "booting", "running",
          "stopping", "saving", "saved", "failed", "restarting"}
DOWN = {"inactive", "saved", "failed"}
BOOT_DONE = r"^boot done in [0-9.]+ s: "
HALT_DONE = r"^host shutdown done in [0-9.]+ s: "
# Run the clients as a socket_group member (read-only access).
MEMBER = ["--reuid=nobody", "--regid=nogroup", "--clear-groups"]
OTHER_MEMBER = ["--reuid=daemon", "--regid=nogroup", "--clear-groups"]

SCALE = float(os.environ.get("XD_STRESS_SCALE", "1"))


def scaled(n, least=1):
    return max(least, int(n * SCALE))


class FileDaemon:
    """xendomd -f with its log in a file; the lines are parsed on demand."""

    def __init__(self, exe, host, *extra):
        self.log_path = host.path("daemon.log")
        self.sock = host.path("run", "control")
        os.makedirs(host.path("run"), exist_ok=True)
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(
                [exe, "-f", "-c", host.conf, "-s", self.sock,
                 "--backend", "sim:" + host.scenario, *extra],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        self.pid = self.proc.pid
        self.lines = []
        self.all_raw = []
        self._partial = ""
        self._pos = 0
        host.daemons.append(self)

    @property
    def raw(self):                   # what check() prints on a failure
        self.read_log()
        return [f"(last 60 of {len(self.all_raw)} lines; all in {self.log_path})"] + \
            self.all_raw[-60:]

    def read_log(self):
        with open(self.log_path, errors="replace") as f:
            f.seek(self._pos)
            chunk = f.read()
            self._pos = f.tell()
        text = self._partial + chunk
        parts = text.split("\n")
        self._partial = parts.pop()
        for raw in parts:
            self.all_raw.append(raw)
            m = LINE_RE.match(raw)
            if m:
                self.lines.append(Line(m))

    def wait_for(self, pattern, timeout=60):
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            self.read_log()
            for line in self.lines[seen:]:
                if rx.search(line.msg):
                    return line
            seen = len(self.lines)
            check(self.proc.poll() is None,
                  f"xendomd exited ({self.proc.returncode}) before logging {pattern!r}", self)
            check(time.monotonic() < deadline, f"no {pattern!r} within {timeout} s", self)
            time.sleep(0.05)

    def wait_socket(self, timeout=30):
        deadline = time.monotonic() + timeout
        while not os.path.exists(self.sock):
            check(self.proc.poll() is None, "xendomd exited before listening", self)
            check(time.monotonic() < deadline, "no control socket", self)
            time.sleep(0.01)

    def wait_exit(self, timeout=120):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            check(False, f"xendomd did not exit within {timeout} s", self)
        self.read_log()
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def messages(self, rx):
        r = re.compile(rx)
        return [l for l in self.lines if r.search(l.msg)]

    def states(self):
        return [l for l in self.lines if l.new]

    def final_states(self):
        out = {}
        for l in self.states():
            out[l.dom] = l.new
        return out


def check(cond, what, daemon=None):
    if not cond:
        if daemon is not None:
            print("---- daemon log ----")
            print("\n".join(daemon.raw))
        raise Failure(what)


def vm_hwm_kib(pid):
    """Peak resident set size (VmHWM) of a live process, KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise Failure("no VmHWM in /proc")


def many_domains(host, prefix, n, conf_keys=None, scen_keys=None, memory=1):
    """n domains with 1 MiB xl cfgs; returns (conf list, scenario dict)."""
    conf, scen = [], {}
    for i in range(n):
        name = f"{prefix}{i:05d}"
        host.xl_cfg(name, memory=memory)
        conf.append((name, dict(conf_keys or {})))
        if scen_keys:
            scen[name] = dict(scen_keys)
    return conf, scen


def prepare(host):
    """Let unprivileged clients reach the socket (mode 0660) and run the
    helper: the host directory is world-searchable, clients.py copied in."""
    os.chmod(host.dir, 0o755)
    os.makedirs(host.path("run"), exist_ok=True)
    helper = host.path("clients.py")
    shutil.copy(os.path.join(HERE, "clients.py"), helper)
    os.chmod(helper, 0o644)
    return helper


def as_user(user, argv, **kw):
    return subprocess.Popen(["setpriv", *user, "--", *argv], **kw)


def raw_connect(path, timeout=10):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(path)
    return s


def read_line(s, limit=64 << 20):
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        buf += chunk
        if len(buf) > limit:
            break
    return buf


class Storm:
    """A thread sending signo to pid every interval seconds until stopped
    or the process is gone.  Through a pidfd: once the process is reaped
    the signal fails, it never reaches another process given the same
    pid.  With from_main, it begins only once main() runs (in_main)."""

    def __init__(self, pid, signo=signal.SIGHUP, interval=0.001, from_main=False):
        self.pid, self.signo, self.interval = pid, signo, interval
        self.sent = 0
        self.waited = 0.0            # seconds until main() ran
        self.pidfd = os.pidfd_open(pid)
        self.stopped = threading.Event()
        self.t = threading.Thread(target=self._run, args=(from_main,), daemon=True)
        self.t.start()

    def _run(self, from_main):
        t0 = time.monotonic()
        while from_main and not in_main(self.pid) and not self.stopped.is_set():
            if time.monotonic() - t0 > 10:
                return               # never got there: the test sees sent == 0
        self.waited = time.monotonic() - t0
        while not self.stopped.is_set():
            try:
                signal.pidfd_send_signal(self.pidfd, self.signo)
            except ProcessLookupError:
                return
            self.sent += 1
            time.sleep(self.interval)

    def stop(self):
        self.stopped.set()
        self.t.join(5)
        os.close(self.pidfd)
        return self.sent


def check_log_invariants(d):
    """Every state in the log is a valid one, no name has two domains at
    once (a domid line while another domid of that name still exists),
    no domid serves two names, and the sim never saw a create of a name
    that exists.  Returns the number of domains created."""
    d.read_log()
    live, owner, created = {}, {}, 0
    for l in d.states():
        check(l.old in STATES and l.new in STATES, f"invalid state in {l}", d)
        if l.domid is None:
            live.pop(l.dom, None)    # no domain any more (or not yet)
            continue
        check(owner.setdefault(l.domid, l.dom) == l.dom,
              f"domid {l.domid} used by {owner[l.domid]} and {l.dom}", d)
        cur = live.get(l.dom)
        if cur is None:
            live[l.dom] = l.domid
            created += 1
        check(live[l.dom] == l.domid,
              f"{l.dom}: domain {l.domid} while domain {cur} exists: {l}", d)
    dup = d.messages(r"already exists")
    check(not dup, f"a create of a domain that exists: {dup[:3]}", d)
    return created
