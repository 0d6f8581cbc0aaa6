#!/bin/bash
# SPDX-License-Identifier: ISC
# Issue 5 (g): xendomd (libxl backend) and Debian's xendomains side by side,
# in one lab boot, on the same 4 guests (g1..g4 of baseline-xendomains.sh,
# no dependencies, ready = data/ready=1).  Figures:
#   xendomd_boot_s     daemon started -> all 4 running (= ready)
#   xendomd_halt_s     shutdown-host -> returned, no guest left
#   xendomains_boot_s / xendomains_halt_s   from baseline-xendomains.sh
. /usr/lib/xenlab/lib.sh
. /usr/lib/xenlab/scenarios/libxl-lib.sh
GUESTS="g1 g2 g3 g4"

for g in $GUESTS; do guest_cfg "$g"; done
xd_conf
for g in $GUESTS; do xd_domain "$g" 'ready = xenstore:data/ready=1'; done
t0=$(up)
xd_start
xd_wait_state 400 running $GUESTS || xd_fail "not all running"
boot_s=$(sub "$(up)" "$t0")
for g in $GUESTS; do guest_ready "$g" || xd_fail "$g running but not ready"; done
t1=$(up)
xd_halt || xd_fail "shutdown-host failed"
halt_s=$(sub "$(up)" "$t1")
only_dom0_left || xd_fail "domains left after shutdown-host"
xd_stop_daemon
figure "xendomd_boot_s=$boot_s xendomd_halt_s=$halt_s"
mark XENDOMD_DONE

# The baseline, unchanged, on the same guests (its verdict renamed so only
# this scenario's counts; the sed pattern must not spell the marker itself).
mv /var/log/xen/console /var/log/xen/console.xendomd && mkdir /var/log/xen/console
bash /usr/lib/xenlab/scenarios/baseline-xendomains.sh 2>&1 | sed 's/@@XT R\(ESULT\) /@@XT BASELINE_R\1 /' |
    tee /root/baseline.log
grep -q '@@XT BASELINE_RESULT PASS' /root/baseline.log || fail "the xendomains baseline failed"
pass
