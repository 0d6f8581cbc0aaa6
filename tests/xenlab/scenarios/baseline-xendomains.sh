#!/bin/bash
# SPDX-License-Identifier: ISC
# Baseline: Debian's own /etc/init.d/xendomains (xen-utils-common, default
# settings except XENDOMAINS_SAVE="") starts the 4 lab guests from
# /etc/xen/auto and stops them.  Figures:
#   xendomains_boot_s  `xendomains start` invoked -> all 4 guests wrote data/ready
#   xendomains_halt_s  `xendomains stop` invoked -> it returned, no guest left
# The side-by-side reference for xendomd's figures (same lab, same guests).
. /usr/lib/xenlab/lib.sh
GUESTS="g1 g2 g3 g4"

sed -i 's|^XENDOMAINS_SAVE=.*|XENDOMAINS_SAVE=""|' /etc/default/xendomains
grep -qx 'XENDOMAINS_SAVE=""' /etc/default/xendomains || fail "could not set XENDOMAINS_SAVE"
mkdir -p /etc/xen/auto
for g in $GUESTS; do
    guest_cfg "$g"
    ln -s "../$g.cfg" "/etc/xen/auto/$g.cfg"
done

t0=$(up)
/etc/init.d/xendomains start > /tmp/xendomains-start.log 2>&1
rc=$?
t_ret=$(up)
cat /tmp/xendomains-start.log
[ $rc = 0 ] || fail "xendomains start exited $rc"
# it exits 0 without doing anything when `xen list` fails: check its work
for g in $GUESTS; do
    grep -q "Starting Xen domain $g " /tmp/xendomains-start.log || fail "xendomains did not start $g"
done
mark XENDOMAINS_START_RETURNED
wait_ready 300 $GUESTS || fail "guests not ready 300 s after xendomains start"
t1=$(up)
mark ALL_READY
xl list

t2=$(up)
/etc/init.d/xendomains stop > /tmp/xendomains-stop.log 2>&1
rc=$?
t3=$(up)
cat /tmp/xendomains-stop.log
[ $rc = 0 ] || fail "xendomains stop exited $rc"
only_dom0_left || { xl list; fail "domains left after xendomains stop"; }
for g in $GUESTS; do
    guest_console "$g" | grep -q 'GUEST: orderly poweroff' || fail "$g did not power off through its init"
done
mark ALL_STOPPED
figure "xendomains_boot_s=$(sub "$t1" "$t0") xendomains_halt_s=$(sub "$t3" "$t2") xendomains_start_return_s=$(sub "$t_ret" "$t0")"
pass
