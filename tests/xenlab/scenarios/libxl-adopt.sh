#!/bin/bash
# Issue 5 (f), item 8: xendomd (libxl backend) is killed with SIGKILL in the
# middle of booting 4 guests (a create in flight) and started again: it adopts what runs, creates
# what is missing, and every guest ends up running exactly once; a guest
# that was already running is not restarted (same domid, one init).
. /usr/lib/xenlab/lib.sh
. /usr/lib/xenlab/scenarios/libxl-lib.sh

GUESTS="k1 k2 k3 k4"
for g in $GUESTS; do guest_cfg "$g" "xenlab.ready_delay=2"; done
xd_conf 'max_parallel_starts = 1'
for g in $GUESTS; do xd_domain "$g" 'ready = xenstore:data/ready=1'; done

xd_start
xd_wait_state 300 running k1 || xd_fail "k1 never running"
k1_domid=$(domid_of k1)
# Kill the daemon while a create is in flight: a domain is built but not
# yet unpaused (xl shows it paused; the daemon's own socket cannot tell, it
# does not answer while libxl builds a domain inside its loop).
i=0
until xl list | awk 'NR > 2 && $1 ~ /^k[234]$/ && $5 ~ /p/ { found = 1 } END { exit !found }'; do
    i=$((i + 1)); [ $i -le 1200 ] || xd_fail "never saw a create in flight"
    sleep 0.1
done
kill -KILL "$XD_PID"
wait "$XD_PID" 2>/dev/null
mark KILLED domains="$(xl list | awk 'NR > 1 { printf "%s:%s,", $1, $5 }')"

xd_start
xd_wait_state 400 running $GUESTS || xd_fail "not all running after the restart"
for g in $GUESTS; do
    n=$(count_named "$g")
    [ "$n" -eq 1 ] || xd_fail "$g runs $n times"
    case "$(domain_state "$g")" in *p*) xd_fail "$g is left paused" ;; esac
done
[ "$(domid_of k1)" = "$k1_domid" ] || xd_fail "k1 was re-created (domid $k1_domid -> $(domid_of k1))"
[ "$(guest_console k1 | grep -c 'GUEST: init up')" -eq 1 ] || xd_fail "k1 booted more than once"
[ "$(xl list | awk 'NR > 1' | wc -l)" -eq 5 ] || xd_fail "unexpected domains"
mark ADOPTED_ALL
xd_halt || xd_fail "shutdown-host failed"
only_dom0_left || xd_fail "domains left after shutdown-host"
xd_stop_daemon
pass
