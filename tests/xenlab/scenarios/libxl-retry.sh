#!/bin/bash
# SPDX-License-Identifier: ISC
# Issue 5 (b): a guest whose kernel only appears after its first create
# failed is retried (start_retries, retry_delay) and starts; the failed
# attempt leaves no half-built domain behind.
. /usr/lib/xenlab/lib.sh
. /usr/lib/xenlab/scenarios/libxl-lib.sh

guest_cfg late
sed -i 's|^kernel = .*|kernel = "/var/tmp/late/vmlinuz.gz"|' /etc/xen/late.cfg
xd_conf
xd_domain late 'ready = xenstore:data/ready=1' 'start_retries = 5' 'retry_delay = 5'

xd_start
attempts() { xdctl --json status late 2>/dev/null | sed -n 's/.*"attempts":\([0-9]*\).*/\1/p'; }
i=0
until [ "$(attempts)" -ge 1 ] 2>/dev/null && [ "$(xd_state late)" = waiting ]; do
    i=$((i + 1)); [ $i -le 600 ] || xd_fail "no failed first attempt"
    sleep 0.5
done
xdctl status late
[ "$(count_named late)" -eq 0 ] || xd_fail "the failed attempt left a domain"
mark FIRST_ATTEMPT_FAILED
mkdir -p /var/tmp/late
cp "$XENLAB_GUEST_DIR/vmlinuz.gz" /var/tmp/late/vmlinuz.gz
xd_wait_state 300 running late || xd_fail "late never running"
n=$(attempts)
[ "$n" -ge 2 ] || xd_fail "running after $n attempt(s)"
[ "$(count_named late)" -eq 1 ] || xd_fail "late runs $(count_named late) times"
mark RETRIED_AND_RUNNING attempts=$n
xd_halt || xd_fail "shutdown-host failed"
only_dom0_left || xd_fail "domains left after shutdown-host"
xd_stop_daemon
pass
