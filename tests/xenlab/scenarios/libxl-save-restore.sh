#!/bin/bash
# Issue 5 (e), item 6, across two lab boots on the persistent disk:
# boot 1  xendomd (libxl) runs s1 (on_host_shutdown = save) and s2
#         (shutdown); s3 is started and saved by `xl` itself (xl's file,
#         as xendomains leaves them).  shutdown-host saves s1 in xl's
#         format and powers s2 off.
# boot 2  xendomd restores s1 from its own image and s3 from xl's instead
#         of cold-booting them, deletes each image only once its guest
#         runs, and cold-boots s2.  A restored guest keeps running from
#         where it was: its (new) console log has no second "init up".
. /usr/lib/xenlab/lib.sh
. /usr/lib/xenlab/scenarios/libxl-lib.sh
SAVE=/var/lib/xen/save

# configure [s3]: the xl cfgs live in tmpfs, so both boots write them;
# s3 is xendomd's only in boot 2
configure() {
    for g in s1 s2 s3; do guest_cfg "$g"; done
    xd_conf 'on_host_shutdown = shutdown' 'restore_on_boot = yes'
    xd_domain s1 'ready = xenstore:data/ready=1' 'on_host_shutdown = save'
    xd_domain s2 'ready = xenstore:data/ready=1'
    [ -z "$1" ] || xd_domain s3 'ready = xenstore:data/ready=1'
}

boot1() {
    configure
    # s3 is saved by xl, as xendomains would leave it
    xl create -q /etc/xen/s3.cfg || fail "xl create s3"
    wait_ready 200 s3 || fail "s3 never ready"
    xl save s3 "$SAVE/s3" >/dev/null || fail "xl save s3"
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
    [ -s "$SAVE/s1" ] && [ -s "$SAVE/s3" ] || fail "images missing in boot 2"
    configure s3
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
