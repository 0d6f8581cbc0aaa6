#!/bin/bash
# SPDX-License-Identifier: ISC
# The real-Xen part of the demo (etc/examples/demo): xendomd on the libxl
# backend boots four PV guests on Xen 4.17 (emulated) in dependency order,
# with readiness from a guest agent, shows them, and halts them in reverse
# order.  Lines for the viewer are prefixed "DEMO| " on the console.
. /usr/lib/xenlab/lib.sh
. /usr/lib/xenlab/scenarios/libxl-lib.sh

show() { sed 's/^/DEMO| /'; }

guest_cfg storage "xenlab.ready_delay=3"
guest_cfg db
guest_cfg cache
guest_cfg web
xd_conf 'max_parallel_starts = 2' 'shutdown_timeout = 60'
xd_domain storage 'ready = xenstore:data/ready=1'
xd_domain db 'ready = xenstore:data/ready=1' 'requires = storage'
xd_domain cache 'ready = xenstore:data/ready=1'
xd_domain web 'ready = xenstore:data/ready=1' 'requires = db' 'after = cache'

echo "xendomd on real Xen: boot" | show
xd_start
xd_wait_state 400 running storage db cache web || xd_fail "not all running"
xdctl status | show
xdctl timeline | show
echo "xendomd on real Xen: host halt" | show
xd_halt || xd_fail "shutdown-host failed"
only_dom0_left || xd_fail "domains left after shutdown-host"
xdctl status | show
echo "xendomd's log:" | show
grep -v " debug: " "$XD_LOG" | show
xd_stop_daemon
pass
