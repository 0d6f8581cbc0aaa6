#!/bin/bash
# SPDX-License-Identifier: ISC
# A starved daemon: libxl's timeouts come due while what they waited for
# already sits on libxl's XenStore fd (doc/xen-facts.md §1.2).  xendomd asks
# four guests to shut down (libxl waits up to 60 s for each acknowledgement,
# a XenStore watch plus a timeout), is stopped (SIGSTOP) while the guests
# acknowledge and power off, and continued after the 60 s are over (twice).  Its
# loop then finds the timeouts due and the watch events queued; it delivers
# the ready fd first, from inside which libxl cancels the very timeout being
# delivered.  The guests are paused until the daemon is stopped, so every
# acknowledgement comes while it is.  The daemon must survive (the harness
# fails the run on any fault of ours in the dom0 kernel log, or a core), see
# every guest inactive, and halt the host afterwards.  Figures
# roundN_unacked: the timeouts libxl saw expire unanswered (the fd was not
# ready yet when they were delivered; 4 means the round missed the case).
. /usr/lib/xenlab/lib.sh
. /usr/lib/xenlab/scenarios/libxl-lib.sh

GUESTS="s1 s2 s3 s4"
for g in $GUESTS; do guest_cfg "$g"; done
xd_conf 'max_parallel_starts = 4' 'shutdown_timeout = 300'
for g in $GUESTS; do xd_domain "$g" 'ready = xenstore:data/ready=1'; done

xd_start
# shellcheck disable=SC2086
xd_wait_state 600 running $GUESTS || xd_fail "not all running"

# Whether libxl's XenStore reader thread has queued the events by the time
# the loop delivers the first due timeout is a race after SIGCONT: two
# rounds of four give it eight chances.
rounds=2
for round in $(seq 1 "$rounds"); do
    [ "$round" -eq 1 ] || { for g in $GUESTS; do xdctl start "$g" >/dev/null; done
                            # shellcheck disable=SC2086
                            xd_wait_state 600 running $GUESTS || xd_fail "round $round: not all running"; }
    for g in $GUESTS; do xl pause "$g" || xd_fail "xl pause $g"; done
    before=$(grep -c 'shutdown requested' "$XD_LOG")
    unacked_before=$(grep -c "warning: shutdown request:.*didn't acknowledge" "$XD_LOG")
    # shellcheck disable=SC2086
    xdctl stop $GUESTS >/dev/null || xd_fail "xendomctl stop"
    n=0
    until [ "$(grep -c 'shutdown requested' "$XD_LOG")" -ge $((before + 4)) ]; do
        n=$((n + 1)); [ $n -le 600 ] || xd_fail "round $round: the shutdown requests never went out"
        sleep 0.1
    done
    kill -STOP "$XD_PID"
    for g in $GUESTS; do xl unpause "$g" || fail "xl unpause $g"; done
    n=0
    until only_dom0_left || [ "$(xl list | awk 'NR > 1 && $1 != "Domain-0" && $5 !~ /s/' | wc -l)" -eq 0 ]; do
        n=$((n + 1)); [ $n -le 600 ] || { kill -CONT "$XD_PID"; xd_fail "round $round: guests did not shut down"; }
        sleep 0.1
    done
    mark STALLED round=$round
    sleep 65                        # libxl's acknowledgement timeout is 60 s
    kill -CONT "$XD_PID"
    mark CONTINUED round=$round
    sleep 5                         # a crash comes at once (the harness reports it)
    kill -0 "$XD_PID" 2>/dev/null || xd_fail "round $round: xendomd died after the stall"
    # shellcheck disable=SC2086
    xd_wait_state 300 inactive $GUESTS || xd_fail "round $round: not all inactive after the stall"
    # libxl's "guest didn't acknowledge": a timeout delivered before the fd
    # (4 of 4: the round never had an fd's answer cancel a due timeout)
    figure "round${round}_unacked=$(( $(grep -c "warning: shutdown request:.*didn't acknowledge" "$XD_LOG") - unacked_before ))"
done

only_dom0_left || xd_fail "domains left after the stall"
xd_halt || xd_fail "shutdown-host failed after the stall"
mark STALL_SURVIVED rounds=$rounds
xd_stop_daemon
pass
