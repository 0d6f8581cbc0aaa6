#!/bin/bash
# SPDX-License-Identifier: ISC
# Issue 5 (f), item 8: xendomd (libxl backend) is killed with SIGKILL in the
# middle of booting 4 guests, one at a time, while k2's create is in flight,
# and started again: it adopts what runs, throws away the half-built k2,
# creates what is missing, and every guest ends up running exactly once; a
# guest that was already running is not restarted (same domid, one init).
. /usr/lib/xenlab/lib.sh
. /usr/lib/xenlab/scenarios/libxl-lib.sh

GUESTS="k1 k2 k3 k4"
for g in $GUESTS; do guest_cfg "$g" "xenlab.ready_delay=2"; done
xd_conf 'max_parallel_starts = 1'
for g in $GUESTS; do xd_domain "$g" 'ready = xenstore:data/ready=1'; done

xd_start
# Kill the daemon while k2's create is in flight.  libxl writes
# /local/domain/DOMID when it starts building a domain and the daemon
# unpauses it only once the build is done, so the moment a third domain
# (dom0, k1, k2) shows up in XenStore is inside that window.  xenstore-list
# is cheap enough to poll at 20 ms (xl list is not: it would miss it).
i=0
until [ "$(xenstore-list /local/domain | wc -l)" -ge 3 ]; do
    i=$((i + 1)); [ $i -le 15000 ] || xd_fail "k2's create never began"
    sleep 0.02
done
kill -KILL "$XD_PID"
wait "$XD_PID" 2>/dev/null
k1_domid=$(domid_of k1) || xd_fail "no k1 when k2's create begins"
case "$(domain_state k1)" in *p*) xd_fail "k1 is still paused when k2's create begins" ;; esac
# The daemon is dead: k2, half-built, stays paused for good.
xl list
case "$(domain_state k2)" in *p*) ;; *) xd_fail "k2 is not a paused, half-built domain after the kill" ;; esac
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

# A husk without a name, as a daemon killed inside a destroy leaves one
# (libxl had removed its XenStore entries, its destroyer child was not
# forked yet): shut down, never destroyed, "(null)" in xl list.  Before
# it exits, the daemon destroys it and waits until it is gone.
guest_cfg husk "" 'on_poweroff = "preserve"'
xl create /etc/xen/husk.cfg >/dev/null 2>&1 || xd_fail "xl create husk"
husk=$(domid_of husk) || xd_fail "no husk domain"
xl shutdown -w husk >/dev/null 2>&1
i=0
# preserved (xl's monitor renames it NAME--TIME): shut down, by domid
until case "$(domain_state "$husk")" in *s*) true ;; *) false ;; esac; do
    i=$((i + 1)); [ $i -le 120 ] || xd_fail "husk did not shut down"
    sleep 0.5
done
xenstore-rm "/local/domain/$husk" || xd_fail "cannot remove husk's XenStore directory"
xl list
xl list | awk -v id="$husk" '$2 == id && $1 == "(null)"' | grep -q . || xd_fail "husk is not a nameless domain"
mark NAMELESS_HUSK domid="$husk"
xd_halt || xd_fail "shutdown-host failed"
xd_stop_daemon
xl list
only_dom0_left || xd_fail "domains left after the daemon exited"
grep -q "domain $husk: shut down, its XenStore entries gone" "$XD_LOG" || xd_fail "the daemon did not say it destroyed the husk"
mark HUSK_DESTROYED
pass
