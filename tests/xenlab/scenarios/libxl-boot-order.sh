#!/bin/bash
# SPDX-License-Identifier: ISC
# Issue 5 (a) and (d, clean part): xendomd on the libxl backend boots 4
# guests with requires/after and ready = xenstore:data/ready=1 in dependency
# order, the independent ones in parallel; then the host-shutdown sequence
# powers them all off cleanly in reverse dependency order.
#   a1, a2  independent (each writes data/ready 4 s after its init starts)
#   b1      requires a1
#   c1      after a2 and b1
# Figures: xendomd_boot_s (daemon start -> all running), xendomd_halt_s.
. /usr/lib/xenlab/lib.sh
. /usr/lib/xenlab/scenarios/libxl-lib.sh

guest_cfg a1 "xenlab.ready_delay=4"
guest_cfg a2 "xenlab.ready_delay=4"
guest_cfg b1
guest_cfg c1
xd_conf 'max_parallel_starts = 4' 'shutdown_timeout = 60'
xd_domain a1 'ready = xenstore:data/ready=1'
xd_domain a2 'ready = xenstore:data/ready=1'
xd_domain b1 'ready = xenstore:data/ready=1' 'requires = a1'
xd_domain c1 'ready = xenstore:data/ready=1' 'after = a2, b1'

t0=$(up)
xd_start
xd_wait_state 400 running a1 a2 b1 c1 || xd_fail "not all running"
boot_s=$(sub "$(up)" "$t0")
for g in a1 a2 b1 c1; do
    [ "$(count_named "$g")" -eq 1 ] || xd_fail "$g runs $(count_named "$g") times"
    guest_ready "$g" || xd_fail "$g running but its data/ready is not 1"
done
mark BOOTED boot_s=$boot_s

xd_timeline_check "boot order" <<'PY' || xd_fail "boot order wrong"
for n in ("a1", "a2", "b1", "c1"):
    need(all(t[n][k] is not None for k in ("started", "created", "ready")), n + " lacks times")
need(t["b1"]["started"] >= t["a1"]["ready"], "b1 started before a1 was ready")
need(t["c1"]["started"] >= max(t["a2"]["ready"], t["b1"]["ready"]), "c1 started before a2/b1 were ready")
need(t["a2"]["started"] < t["a1"]["ready"] and t["a1"]["started"] < t["a2"]["ready"],
     "a1 and a2 did not start in parallel")
PY
mark BOOT_ORDER_OK

t1=$(up)
xd_halt || xd_fail "shutdown-host failed"
halt_s=$(sub "$(up)" "$t1")
only_dom0_left || xd_fail "domains left after shutdown-host"
for g in a1 a2 b1 c1; do
    guest_console "$g" | grep -q 'GUEST: orderly poweroff' || xd_fail "$g did not power off cleanly"
done
xd_timeline_check "halt order" <<'PY' || xd_fail "halt order wrong"
for n in ("a1", "a2", "b1", "c1"):
    need(t[n]["stopping"] is not None and t[n]["stopped"] is not None, n + " lacks stop times")
need(t["b1"]["stopping"] >= t["c1"]["stopped"], "b1 stopped before c1 (c1 is after b1)")
need(t["a2"]["stopping"] >= t["c1"]["stopped"], "a2 stopped before c1 (c1 is after a2)")
need(t["a1"]["stopping"] >= t["b1"]["stopped"], "a1 stopped before b1 (b1 requires a1)")
PY
mark HALT_ORDER_OK
figure xendomd_boot_s=$boot_s xendomd_halt_s=$halt_s
xd_stop_daemon
pass
