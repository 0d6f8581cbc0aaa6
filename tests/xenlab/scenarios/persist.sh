#!/bin/bash
# SPDX-License-Identifier: ISC
# The persistent disk carries state across two lab boots: a guest saved to
# /var/lib/xen/save at the end of boot 1 is restored in boot 2 and still
# answers a PV shutdown.  persist.disk/ seeds the disk (checked in boot 1).
. /usr/lib/xenlab/lib.sh
SAVE=/var/lib/xen/save/p1

boot1() {
    [ "$(cat /etc/xendomd/seeded 2>/dev/null)" = "from persist.disk" ] || fail "disk seed missing"
    guest_cfg p1
    xl create -q /etc/xen/p1.cfg || fail "xl create p1"
    wait_ready 120 p1 || fail "p1 never ready"
    t0=$(up)
    xl save p1 "$SAVE" || fail "xl save p1"
    t1=$(up)
    only_dom0_left || fail "p1 still there after xl save"
    echo "boot 1 at $(up)" > /var/lib/xendomd/boot1
    figure "save_s=$(sub "$t1" "$t0") save_bytes=$(wc -c < "$SAVE")"
    next_boot
}

boot2() {
    grep -q '^boot 1 at ' /var/lib/xendomd/boot1 || fail "state from boot 1 missing"
    [ -s "$SAVE" ] || fail "save image $SAVE missing in boot 2"
    t0=$(up)
    xl restore "$SAVE" || fail "xl restore"
    t1=$(up)
    [[ "$(domain_state p1)" == *[rb]* ]] || { xl list; fail "p1 not running after restore"; }
    xl shutdown -w p1 || fail "xl shutdown -w p1"
    guest_console p1 | grep -q 'GUEST: orderly poweroff' || fail "restored p1 did not power off through its init"
    figure "restore_s=$(sub "$t1" "$t0")"
    pass
}

case "$XENLAB_BOOT" in
    1) boot1 ;;
    2) boot2 ;;
    *) fail "unexpected boot $XENLAB_BOOT" ;;
esac
