#!/bin/bash
# SPDX-License-Identifier: ISC
# Issue 13: builds in parallel (xendomd-build helpers) and a daemon that
# never goes deaf.  4 guests without dependencies, max_parallel_starts = 4;
# a client polls `xendomctl --json status` every 50 ms through the whole
# boot and halt; p4 crashes 6 s after it is ready, and the time from its
# @releaseDomain event to xendomd's "guest crashed" line is measured.
# Then the same 4 guests under plain `xl create`, to weigh the per-domain
# xl monitor processes it leaves behind against xendomd's own RSS.
# Figure: status_p99_ms status_max_ms builds_max_concurrent
#         crash_handled_ms xendomd_rss_kib xl_monitors_rss_kib, and beside
#         them echo_p99_ms/echo_max_ms (a round trip to an idle process of
#         the poller's own: what dom0's scheduler costs any process woken
#         at that moment).
. /usr/lib/xenlab/lib.sh
. /usr/lib/xenlab/scenarios/libxl-lib.sh

for g in p1 p2 p3; do guest_cfg "$g"; done
guest_cfg p4 "xenlab.crash=6"
xd_conf 'max_parallel_starts = 4' 'shutdown_timeout = 60'
for g in p1 p2 p3 p4; do xd_domain "$g" 'ready = xenstore:data/ready=1'; done
: > "$XD_LOG"

# The monitor: xendomd-labmon (tests/xenlab/labmon.c) polls status and
# its own echo process every 50 ms; beside it python watches
# @releaseDomain and reads the log, each stamping with CLOCK_MONOTONIC,
# until /root/mon.stop appears.
cat > /root/mon.py <<'PY'
import os, subprocess, sys, threading, time
stop = lambda: os.path.exists("/root/mon.stop")
rel, lines = [], []
def watch():
    p = subprocess.Popen(["xenstore-watch", "@releaseDomain"], stdout=subprocess.PIPE)
    while not stop():
        if not p.stdout.readline():
            break
        rel.append(time.monotonic())
    p.kill()
def tail():
    f = open(sys.argv[1])
    buf = ""
    while not stop():
        s = f.readline()
        if not s:
            time.sleep(0.01)
            continue
        buf += s
        if buf.endswith("\n"):
            lines.append((time.monotonic(), buf))
            buf = ""
th = [threading.Thread(target=f, daemon=True) for f in (watch, tail)]
for x in th: x.start()
mon = subprocess.Popen(["xendomd-labmon", "/run/xendomd/control", "50", "/root/mon.stop"],
                       stdout=subprocess.PIPE, text=True)
open("/root/mon.up", "w").close()
while not stop(): time.sleep(0.1)
out = mon.communicate(timeout=300)[0].strip()
time.sleep(0.2)
run = best = 0
for _, l in lines:
    if "build helper started" in l: run += 1; best = max(best, run)
    elif "build helper ended" in l: run -= 1
crash = [t for t, l in lines if "p4" in l and "guest crashed" in l]
before = [r for r in rel if crash and r <= crash[0]]
handled = (crash[0] - before[-1]) * 1000 if crash and before else -1
print("%s builds_max_concurrent=%d crash_handled_ms=%.0f" % (out, best, handled))
PY
rm -f /root/mon.stop /root/mon.up
python3 /root/mon.py "$XD_LOG" > /root/mon.out 2>&1 &
MON_PID=$!
n=0
until [ -e /root/mon.up ]; do
    kill -0 "$MON_PID" 2>/dev/null && [ $n -lt 1200 ] || { cat /root/mon.out; fail "monitor did not start"; }
    n=$((n + 1)); sleep 0.1
done
xd_start

xd_wait_state 400 running p1 p2 p3 || xd_fail "not all running"
mark BOOTED
# p4 crashes; on_crash defaults to destroy
n=0
until grep -q 'p4.*guest crashed' "$XD_LOG"; do
    n=$((n + 1)); [ $n -lt 240 ] || xd_fail "p4 never crashed"
    sleep 0.5
done
mark CRASH_HANDLED
rss_xd=$(awk '/^VmRSS/ { print $2 }' "/proc/$XD_PID/status")
xd_halt || xd_fail "shutdown-host failed"
touch /root/mon.stop
wait "$MON_PID"
cat /root/mon.out
xd_stop_daemon
only_dom0_left || xd_fail "domains left after shutdown-host"
grep 'build helper' "$XD_LOG"
# What kept the daemon's loop busy: its longest turn, and each synchronous
# libxl/libxenstore call's worst case (doc/libxl-calls.md)
grep -E 'event loop: |libxl backend: call ' "$XD_LOG"
loop_max=$(sed -n 's/.*event loop: .* the longest \([0-9.]*\) ms.*/\1/p' "$XD_LOG" | tail -n 1)
[ -n "$loop_max" ] || xd_fail "the daemon did not report its loop"
worst=$(sed -n 's/.*libxl backend: call \([a-z_]*\): n=[0-9]* max_ms=\([0-9.]*\).*/\1 \2/p' "$XD_LOG" | head -n 1)

# Helpers never ran in the daemon: builds of different guests overlapped.
figs=$(sed -n 's/^MON polls=[0-9]* //p' /root/mon.out)
[ -n "$figs" ] || xd_fail "monitor gave no figures"
eval "$(echo "$figs" | tr ' ' '\n' | sed 's/^/m_/')"
[ "$m_builds_max_concurrent" -ge 2 ] || xd_fail "builds did not overlap ($figs)"
[ "$m_crash_handled_ms" -ge 0 ] || xd_fail "crash not measured ($figs)"
mark PARALLEL_BUILDS builds_max_concurrent=$m_builds_max_concurrent

# The same 4 guests under xl: each `xl create` leaves a monitor behind.
guest_cfg p4
for g in p1 p2 p3 p4; do xl create "/etc/xen/$g.cfg" >/dev/null 2>&1 || xd_fail "xl create $g"; done
sleep 5
rss_xl=0
for d in /proc/[0-9]*; do
    [ "$(cat "$d/comm" 2>/dev/null)" = xl ] || continue
    r=$(awk '/^VmRSS/ { print $2 }' "$d/status" 2>/dev/null)
    rss_xl=$((rss_xl + ${r:-0}))
done
[ "$rss_xl" -gt 0 ] || xd_fail "no xl monitor processes found"
for g in p1 p2 p3 p4; do xl destroy "$g" >/dev/null 2>&1; done

figure status_p99_ms=$m_status_p99_ms status_max_ms=$m_status_max_ms \
    builds_max_concurrent=$m_builds_max_concurrent crash_handled_ms=$m_crash_handled_ms \
    xendomd_rss_kib=$rss_xd xl_monitors_rss_kib=$rss_xl \
    echo_p99_ms=$m_echo_p99_ms echo_max_ms=$m_echo_max_ms \
    loop_busy_max_ms=$loop_max worst_call=${worst% *} worst_call_ms=${worst#* }
# The 100 ms target is reported, not asserted: in this lab it is met or
# missed by a few ms from run to run (96 and 119 in two quiet runs), the
# halt's destroys keeping the loop 100-220 ms each (doc/libxl-calls.md).
if [ "$m_status_p99_ms" -le 100 ]; then
    mark STATUS_P99_TARGET met status_p99_ms=$m_status_p99_ms
else
    mark STATUS_P99_TARGET missed status_p99_ms=$m_status_p99_ms
fi
pass
