#!/bin/bash
# SPDX-License-Identifier: ISC
# Issue 5 (c): xendomd (libxl backend) is the guests' monitor.
#   lr  reboots itself 2 s after each boot (on_reboot = restart, xl's
#       default): re-created under the same name with a new domid
#   lc  crashes 2 s after each boot, on_crash = "restart",
#       restart_limit = 2/600: restarted twice, then failed and gone
. /usr/lib/xenlab/lib.sh
. /usr/lib/xenlab/scenarios/libxl-lib.sh

guest_cfg lr "xenlab.reboot=2"
guest_cfg lc "xenlab.crash=2" 'on_crash = "restart"'
xd_conf
xd_domain lr 'ready = xenstore:data/ready=1' 'restart_limit = 50/600'
xd_domain lc 'ready = xenstore:data/ready=1' 'restart_limit = 2/600'

xd_start
xd_wait_state 300 running lr || xd_fail "lr never running"
first=$(domid_of lr)
seen="$first"
i=0
until [ "$(echo $seen | wc -w)" -ge 3 ]; do       # two re-creations
    id=$(domid_of lr) && case " $seen " in *" $id "*) ;; *) seen="$seen $id" ;; esac
    i=$((i + 1)); [ $i -le 1200 ] || xd_fail "lr not re-created twice (domids: $seen)"
    sleep 0.25
done
[ "$(count_named lr)" -le 1 ] || xd_fail "two lr at once"
mark REBOOT_RECREATED domids="${seen// /,}"

xd_wait_state 600 failed lc || xd_fail "lc did not end failed"
reason=$(xd_reason lc)
echo "lc: $reason"
case "$reason" in *limit*) ;; *) xd_fail "lc failed for another reason: $reason" ;; esac
[ "$(count_named lc)" -eq 0 ] || xd_fail "a failed lc is still there"
crashes=$(guest_console lc | grep -c 'GUEST: crashing on request')
[ "$crashes" -eq 3 ] || xd_fail "lc crashed $crashes times, want 3 (1 + 2 restarts)"
mark CRASH_LIMIT_OK crashes=$crashes
xd_halt || xd_fail "shutdown-host failed"
only_dom0_left || xd_fail "domains left after shutdown-host"
xd_stop_daemon
pass
