#!/bin/bash
# SPDX-License-Identifier: ISC
# Issue 5 item 7: memory admission on real Xen (libxl_domain_need_memory,
# libxl_get_free_memory; the lab's dom0_mem=512M,max:512M makes xl.conf's
# autoballoon "auto" mean off, so nothing is ballooned).
#   big    takes all the host's free memory but ~200 MiB
#   m2     256 MiB, after big: does not fit while big runs, so it waits
#          (state waiting, reason "memory: need X MiB, free Y MiB") instead
#          of failing as `xl create` would; once big is stopped, it starts
#   huge   more than the host has: waits, then fails at start_timeout with
#          the need/free figures (xl would fail at once; memory may free)
. /usr/lib/xenlab/lib.sh
. /usr/lib/xenlab/scenarios/libxl-lib.sh

free_mb=$(xl info | awk '$1 == "free_memory" { print $3 }')
[ -n "$free_mb" ] && [ "$free_mb" -gt 700 ] || fail "lab host has ${free_mb:-no} MiB free"
for g in big m2 huge; do guest_cfg "$g"; done
set_memory() { sed -i "s/^memory = .*/memory = $2/" "/etc/xen/$1.cfg"; }
set_memory big $((free_mb - 200))
set_memory m2 256
set_memory huge $((free_mb * 4))
# start_timeout is also how long a domain may wait for memory (m2 waits
# through status calls and big's shutdown: 32 s with the host under load)
xd_conf 'start_timeout = 90'
xd_domain big 'ready = xenstore:data/ready=1'
xd_domain m2 'ready = xenstore:data/ready=1' 'after = big'
xd_domain huge 'ready = xenstore:data/ready=1'

xd_start
xd_wait_state 300 running big || xd_fail "big never running"
sleep 3                                  # m2 had time to be dispatched
[ "$(xd_state m2)" = waiting ] || xd_fail "m2 is '$(xd_state m2)' while big holds the memory"
r=$(xd_reason m2)
case "$r" in *memory*need*free*) ;; *) xd_fail "m2 waits for another reason: $r" ;; esac
[ "$(count_named m2)" -eq 0 ] || xd_fail "m2 was created though it does not fit"
mark M2_WAITS_FOR_MEMORY reason="${r// /_}"

xdctl stop --wait big || xd_fail "xendomctl stop big"
xd_wait_state 120 running m2 || xd_fail "m2 did not start once big was stopped"
[ "$(count_named m2)" -eq 1 ] || xd_fail "m2 runs $(count_named m2) times"
mark ADMITTED_AFTER_FREE

xd_wait_state 120 failed huge || xd_fail "huge did not fail"
r=$(xd_reason huge)
case "$r" in *need*free*) ;; *) xd_fail "huge failed for another reason: $r" ;; esac
[ "$(count_named huge)" -eq 0 ] || xd_fail "huge was created"
mark HUGE_FAILED reason="${r// /_}"
xd_halt || xd_fail "shutdown-host failed"
only_dom0_left || xd_fail "domains left after shutdown-host"
xd_stop_daemon
pass
