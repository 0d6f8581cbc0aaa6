#!/bin/bash
# SPDX-License-Identifier: ISC
# Issue 5 (d): at halt a guest that ignores the PV shutdown request is
# destroyed after its shutdown_timeout; the others power off cleanly, in
# reverse dependency order (n1 only after si and n2, which need it).
. /usr/lib/xenlab/lib.sh
. /usr/lib/xenlab/scenarios/libxl-lib.sh

guest_cfg n1
guest_cfg n2
guest_cfg si "xenlab.ignore_shutdown=1"
xd_conf 'shutdown_timeout = 60'
xd_domain n1 'ready = xenstore:data/ready=1'
xd_domain n2 'ready = xenstore:data/ready=1' 'requires = n1'
xd_domain si 'ready = xenstore:data/ready=1' 'requires = n1' 'shutdown_timeout = 10'

xd_start
xd_wait_state 400 running n1 n2 si || xd_fail "not all running"
t1=$(up)
xd_halt || xd_fail "shutdown-host failed"
halt_s=$(sub "$(up)" "$t1")
only_dom0_left || xd_fail "domains left after shutdown-host"
guest_console si | grep -q 'GUEST: ignoring a shutdown request' || xd_fail "si never saw the request"
for g in n1 n2; do
    guest_console "$g" | grep -q 'GUEST: orderly poweroff' || xd_fail "$g did not power off cleanly"
done
guest_console si | grep -q 'GUEST: orderly poweroff' && xd_fail "si powered off?"
xd_timeline_check halt <<'PY' || xd_fail "halt order or timeout wrong"
took = t["si"]["stopped"] - t["si"]["stopping"]
need(10 <= took < 30, "si took %.1f s to go, want its 10 s timeout then destroy" % took)
need(t["n1"]["stopping"] >= max(t["si"]["stopped"], t["n2"]["stopped"]), "n1 stopped before si/n2")
PY
mark STUBBORN_DESTROYED halt_s=$halt_s
xd_stop_daemon
pass
