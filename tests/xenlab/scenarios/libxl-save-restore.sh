#!/bin/bash
# SPDX-License-Identifier: ISC
# Issue 5 (e), item 6, across two lab boots on the persistent disk:
# boot 1  xendomd (libxl) runs s1 (on_host_shutdown = save) and s2
#         (shutdown); s3 and s4 are started and saved by `xl` itself
#         (xl's files, as xendomains leaves them).  shutdown-host saves s1
#         in xl's format and powers s2 off.
# boot 2  xendomd restores s1 from its own image and s3 from xl's instead
#         of cold-booting them, deletes each image only once its guest
#         runs, and cold-boots s2.  A restored guest keeps running from
#         where it was: its (new) console log has no second "init up", and
#         it still answers a PV shutdown request (s1 is `shutdown` now).
#         s4's image is cut short: s4 ends failed (on_restore_failure = fail)
#         with its image kept, and is not cold-booted.
. /usr/lib/xenlab/lib.sh
. /usr/lib/xenlab/scenarios/libxl-lib.sh
SAVE=/var/lib/xen/save

# configure BOOT: the xl cfgs live in tmpfs, so both boots write them;
# s3 and s4 are xendomd's only in boot 2, where s1 is shut down, not saved
configure() {
    for g in s1 s2 s3 s4; do guest_cfg "$g"; done
    _s1_halt=shutdown; [ "$1" = 1 ] && _s1_halt=save
    xd_conf 'on_host_shutdown = shutdown' 'restore_on_boot = yes'
    xd_domain s1 'ready = xenstore:data/ready=1' "on_host_shutdown = $_s1_halt"
    xd_domain s2 'ready = xenstore:data/ready=1'
    [ "$1" = 1 ] && return
    xd_domain s3 'ready = xenstore:data/ready=1'
    xd_domain s4 'ready = xenstore:data/ready=1'
}

boot1() {
    configure 1
    # s3 and s4 are saved by xl, as xendomains would leave them
    for g in s3 s4; do xl create -q "/etc/xen/$g.cfg" || fail "xl create $g"; done
    wait_ready 200 s3 s4 || fail "s3/s4 never ready"
    for g in s3 s4; do xl save "$g" "$SAVE/$g" >/dev/null || fail "xl save $g"; done
    xd_start
    xd_wait_state 400 running s1 s2 || xd_fail "s1/s2 not running"
    t0=$(up)
    xd_halt || xd_fail "shutdown-host failed"
    halt_s=$(sub "$(up)" "$t0")
    only_dom0_left || xd_fail "domains left after shutdown-host"
    [ "$(head -c 16 "$SAVE/s1")" = "Xen saved domain" ] || xd_fail "no xl-format image $SAVE/s1"
    ls "$SAVE"/s1.* 2>/dev/null && xd_fail "temporary save files left"
    [ -e "$SAVE/s2" ] && xd_fail "s2 was saved, not shut down"
    guest_console s2 | grep -q 'GUEST: orderly poweroff' || xd_fail "s2 did not power off cleanly"
    xd_stop_daemon
    figure "xendomd_save_halt_s=$halt_s s1_image_bytes=$(wc -c < "$SAVE/s1")"
    next_boot
}

boot2() {
    [ -s "$SAVE/s1" ] && [ -s "$SAVE/s3" ] && [ -s "$SAVE/s4" ] || fail "images missing in boot 2"
    # s4's image breaks off in the middle of its memory stream
    truncate -s 65536 "$SAVE/s4"
    configure 2
    t0=$(up)
    xd_start
    xd_wait_state 400 running s1 s2 s3 || xd_fail "not all running after the boot"
    boot_s=$(sub "$(up)" "$t0")
    for g in s1 s3; do
        [ -e "$SAVE/$g" ] && xd_fail "$g's image still there though $g runs"
        guest_console "$g" | grep -q 'GUEST: init up' && xd_fail "$g was cold-booted, not restored"
    done
    guest_console s2 | grep -q 'GUEST: init up' || xd_fail "s2 was not cold-booted"
    for g in s1 s2 s3; do [ "$(count_named "$g")" -eq 1 ] || xd_fail "$g runs $(count_named "$g") times"; done
    grep -i 'restor' "$XD_LOG" | head -5
    mark RESTORED_AT_BOOT
    xd_wait_state 120 failed s4 || xd_fail "s4's corrupt image did not fail it"
    xdctl status s4
    [ "$(wc -c < "$SAVE/s4")" -eq 65536 ] || xd_fail "s4's image was not kept as it was"
    [ "$(count_named s4)" -eq 0 ] || xd_fail "a half-restored s4 was left behind"
    guest_console s4 | grep -q 'GUEST: init up' &&
        xd_fail "s4 was cold-booted (on_restore_failure = fail)"
    mark BAD_IMAGE_KEPT
    xd_halt || xd_fail "shutdown-host failed"
    only_dom0_left || xd_fail "domains left after shutdown-host"
    guest_console s1 | grep -q 'GUEST: orderly poweroff' || xd_fail "restored s1 did not power off cleanly"
    xd_stop_daemon
    figure "xendomd_restore_boot_s=$boot_s"
    pass
}

case "$XENLAB_BOOT" in
    1) boot1 ;;
    2) boot2 ;;
    *) fail "unexpected boot $XENLAB_BOOT" ;;
esac
