#!/bin/bash
# SPDX-License-Identifier: ISC
# The harness's crash evidence works (README.md, "When a program crashes"):
# a real fault of a program that is not ours (bash overflowing its stack)
# must reach the console as KERNEL_FAULT and leave a core; a program of
# ours (xendomd, sent SIGSEGV) must leave a core that xenlab-run copies off
# the disk and backtraces.  Run with --expect-crash xendomd: its crash is
# expected, so the run passes only if all of that happened.
. /usr/lib/xenlab/lib.sh
. /usr/lib/xenlab/scenarios/libxl-lib.sh

# (a small stack: a small core, saved quickly)
( ulimit -s 256; bash -c 'f() { f; }; f' ) 2>/dev/null && fail "bash survived infinite recursion?"
xd_conf
xd_start
n=0
until xdctl status >/dev/null 2>&1; do
    n=$((n + 1)); [ $n -le 300 ] || xd_fail "xendomd never answered"
    sleep 0.2
done
kill -SEGV "$XD_PID"
wait "$XD_PID" 2>/dev/null
n=0
until ls /persist/cores/core.xendomd.* >/dev/null 2>&1; do
    n=$((n + 1)); [ $n -le 300 ] || fail "no core of xendomd in /persist/cores"
    sleep 0.2
done
ls -l /persist/cores
pass
