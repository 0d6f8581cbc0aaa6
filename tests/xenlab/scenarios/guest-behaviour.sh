#!/bin/bash
# SPDX-License-Identifier: ISC
# The lab guests do what scenarios rely on (guest/init, flags in dom0/lib.sh):
#   gd  xenlab.ready_delay=6      data/ready=1 written >= 6 s after init started
#   gc  xenlab.crash=1            panics; on_crash=preserve keeps it crashed
#   gr  xenlab.reboot=2           reboots itself; on_reboot=restart gives a new domid
#   gi  xenlab.ignore_shutdown=1  a PV shutdown request leaves it running
# (Clean poweroff on a shutdown request is checked by every xendomains run.)
. /usr/lib/xenlab/lib.sh

guest_cfg gd "xenlab.ready_delay=6"
guest_cfg gc "xenlab.crash=1" 'on_crash = "preserve"'
guest_cfg gr "xenlab.reboot=2" 'on_reboot = "restart"'
guest_cfg gi "xenlab.ignore_shutdown=1"
for g in gd gc gr gi; do
    xl create -q "/etc/xen/$g.cfg" || fail "xl create $g"
done
mark CREATED
gr_first=$(domid_of gr)
wait_ready 300 gd gi || fail "gd/gi never ready"
mark READY

# console line "GUEST: MSG (uptime S)" -> S
uptime_of() { guest_console "$1" | sed -n "s|^GUEST: $2 (uptime \([0-9.]*\)).*|\1|p" | head -1; }
t_init=$(uptime_of gd "init up, .*")
t_ready=$(uptime_of gd "wrote data/ready=1")
[ -n "$t_init" ] && [ -n "$t_ready" ] || { guest_console gd; fail "gd console lacks init/ready lines"; }
delay=$(sub "$t_ready" "$t_init")
awk -v d="$delay" 'BEGIN { exit !(d >= 6) }' || fail "gd wrote data/ready after $delay s, want >= 6"
mark READY_DELAY_OK delay_s=$delay

wait_state() {  # wait_state NAME PATTERN TIMEOUT_S
    local i=0
    until [[ "$(domain_state "$1")" == $2 ]]; do
        i=$((i + 1)); [ $i -le $(($3 * 5)) ] || return 1
        sleep 0.2
    done
}
wait_state gc '*c*' 120 || { xl list; guest_console gc; fail "gc not in crashed state"; }
guest_console gc | grep -q 'GUEST: crashing on request' || fail "gc crashed without asking"
mark CRASH_OK state=$(domain_state gc)

i=0
until id=$(domid_of gr) && [ "$id" != "$gr_first" ] && guest_ready gr; do
    i=$((i + 1)); [ $i -le 600 ] || { xl list; fail "gr did not come back after its reboot"; }
    sleep 0.2
done
mark REBOOT_OK first_domid=$gr_first new_domid=$id

xl shutdown gi || fail "xl shutdown gi"
sleep 4
guest_console gi | grep -q 'GUEST: ignoring a shutdown request' || fail "gi did not see the request"
[ -n "$(domain_state gi)" ] || fail "gi went away despite ignore_shutdown"
mark IGNORE_SHUTDOWN_OK

for g in gd gc gi; do xl destroy "$g" || fail "xl destroy $g"; done
# gr reboots every few seconds and its xl monitor re-creates it, so by name
# it may be between two domains: destroy whichever gr there is until none
# has come back for 2 s (a destroy, not a reboot, ends the monitor)
i=0
until [ -z "$(domid_of gr)" ] && sleep 2 && [ -z "$(domid_of gr)" ]; do
    i=$((i + 1)); [ $i -le 30 ] || { xl list; fail "gr keeps coming back"; }
    id=$(domid_of gr) && xl destroy "$id"
    sleep 0.5
done
only_dom0_left || fail "domains left after destroy"
pass
