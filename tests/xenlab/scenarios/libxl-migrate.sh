#!/bin/bash
# SPDX-License-Identifier: ISC
# Issue 14 item 2: migration as `xl migrate` does it, to this same host
# (the way Xen's own tests migrate to localhost): migrate_command is a local
# script that ignores the host and runs `xl migrate-receive` here.
# This hypervisor (Debian's Xen 4.17, built without shadow paging, in qemu
# without HAP) cannot track a PV guest's dirty pages, so a live migration
# fails there -- `xl migrate` too -- and the guests here migrate with
# migrate_live = no (suspended, then copied: the same stream and protocol):
#   m4  migrate_live = yes (xl's way): fails before the permission to go,
#       for xendomd and for `xl migrate` alike; the guest runs on here.
#       (In one run on a fresh machine the live migration worked: then m4 is
#       checked under its new domid and shut down by hand after the halt.)
#   m1  `xendomctl migrate m1 localhost --wait`: it runs on under a new
#       domid (the receiver's copy), the old domain is gone from `xl list`,
#       the guest was not rebooted (its console has one "init up" and its
#       heartbeat's uptime keeps growing across the move), and what is under
#       its data/ afterwards is reported; prints migrate_s=.
#   m3  a receiver that breaks off in the middle of the memory stream: the
#       migration fails before the permission to go, the suspended guest is
#       resumed and runs on under its old domid and name.
#   m2  on_host_shutdown = migrate: at halt it migrates (to this host), so
#       after `shutdown-host` it still runs, under a new domid; m3
#       (on_host_shutdown = shutdown) powers off.
. /usr/lib/xenlab/lib.sh
. /usr/lib/xenlab/scenarios/libxl-lib.sh

LOCAL=/etc/xendomd/migrate-here
BROKEN=/etc/xendomd/migrate-broken
cat > "$LOCAL" <<'EOF'
#!/bin/sh
# migrate_command: "HOST" is this host; run the receiver here
shift
exec "$@"
EOF
# says hello like xl migrate-receive, then hangs up after ~40 MB of the
# guest's memory (a 128 MiB guest streams far more)
cat > "$BROKEN" <<'EOF'
#!/bin/sh
printf 'xl migration receiver ready, send binary domain data.\n'
head -c 40000000 >/dev/null
echo "migrate-broken: hanging up" >&2
EOF
chmod 755 "$LOCAL" "$BROKEN"

for g in m1 m2 m3 m4; do guest_cfg "$g" "xenlab.heartbeat=2"; done
xd_conf "migrate_command = $LOCAL" 'migrate_to = localhost' 'migrate_timeout = 400' \
    'migrate_live = no'
xd_domain m1 'ready = xenstore:data/ready=1'
xd_domain m2 'ready = xenstore:data/ready=1' 'on_host_shutdown = migrate'
xd_domain m3 'ready = xenstore:data/ready=1' "migrate_command = $BROKEN"
xd_domain m4 'ready = xenstore:data/ready=1' 'migrate_live = yes' 'on_host_shutdown = migrate'


# heartbeat NAME: the uptime the guest last wrote (its current domain)
heartbeat() { xenstore-read "/local/domain/$(domid_of "$1")/data/heartbeat" 2>/dev/null | head -c 16; }
# beats_on NAME AFTER: within 30 s the guest writes a heartbeat above AFTER
beats_on() {
    for _i in $(seq 60); do
        _h=$(heartbeat "$1")
        [ -n "$_h" ] && awk -v h="$_h" -v a="$2" 'BEGIN { exit !(h > a) }' && return 0
        sleep 0.5
    done
    echo "beats_on: $1 heartbeat '$_h', not above $2"
    return 1
}
# consoles NAME: every console log of NAME (xenconsoled names a log after
# the domain's name when it first sees it: the receiver's copy starts as
# NAME--incoming)
consoles() { cat "/var/log/xen/console/guest-$1.log" "/var/log/xen/console/guest-$1--incoming.log" 2>/dev/null | tr -d '\r'; }
inits() { consoles "$1" | grep -c 'GUEST: init up'; }
# xdmigrate ARGS...: xendomctl migrate, bounded by more than migrate_timeout
# (xdctl's 120 s is less than a migration takes here under load)
xdmigrate() { timeout 600 xendomctl migrate "$@"; }
alives() { consoles "$1" | grep -c 'GUEST: alive'; }

xd_start
xd_wait_state 400 running m1 m2 m3 m4 || xd_fail "not all running"

# ---- m4: live, as xl does; this hypervisor cannot: resumed here
old4=$(domid_of m4)
beats_on m4 0 || xd_fail "m4 has no heartbeat"
hb4=$(heartbeat m4)
# Whether this hypervisor can track a PV guest's dirty pages varies (it
# failed in most lab runs, worked in one on a fresh machine): both outcomes
# are checked, the one that happened is reported (live_error=none: it worked).
if out=$(xdmigrate m4 localhost --wait 2>&1); then
    echo "$out"
    live_error=none
    new4=$(domid_of m4)
    [ -n "$new4" ] && [ "$new4" != "$old4" ] || xd_fail "m4 live-migrated but no new domid ('$new4')"
    beats_on m4 "$hb4" || xd_fail "m4 stopped after its live migration"
    [ "$(count_named m4--migratedaway)" -eq 0 ] || xd_fail "m4 left renamed away"
else
    echo "$out"
    echo "$out" | grep -q 'migration to localhost failed' || xd_fail "m4's failure not said"
    [ "$(domid_of m4)" = "$old4" ] && [ "$(xd_state m4)" = running ] || xd_fail "m4 not running on"
    beats_on m4 "$hb4" || xd_fail "m4 stopped after the failed live migration"
    xl_out=$(timeout 300 xl migrate -s "$LOCAL" m4 localhost 2>&1) && xd_fail "xl migrate m4 worked where xendomd's failed?"
    echo "$xl_out" | tail -n 5
    echo "$xl_out" | grep -q 'logdirty' && live_error=logdirty || live_error=other
    [ "$(domid_of m4)" = "$old4" ] || xd_fail "xl migrate moved m4?"
fi
mark LIVE_FAILS_LIKE_XL live_error="$live_error"

old=$(domid_of m1)
xenstore-write "/local/domain/$old/data/lab-marker" before-migration
beats_on m1 0 || xd_fail "m1 has no heartbeat"
hb_before=$(heartbeat m1)

# ---- m1: on demand, to this host
t0=$(up)
out=$(xdmigrate m1 localhost --wait) || { echo "$out"; xd_fail "xendomctl migrate m1 failed"; }
migrate_s=$(sub "$(up)" "$t0")
echo "$out"
new=$(domid_of m1)
xl list
[ -n "$new" ] && [ "$new" != "$old" ] || xd_fail "m1 does not run under a new domid ($old -> '$new')"
[ "$(count_named m1)" -eq 1 ] || xd_fail "m1 runs $(count_named m1) times"
[ "$(count_named m1--migratedaway)" -eq 0 ] || xd_fail "the source m1--migratedaway is left"
[ "$(count_named m1--incoming)" -eq 0 ] || xd_fail "the receiver's m1--incoming is left"
xl list "$old" >/dev/null 2>&1 && xd_fail "the old domain $old still exists"
[ "$(xd_state m1)" = inactive ] || xd_fail "xendomd shows m1 as $(xd_state m1)"
xd_reason m1 | grep -qx 'migrated to localhost' || xd_fail "m1's reason: $(xd_reason m1)"
beats_on m1 "$hb_before" || xd_fail "m1 does not run on after the migration"
[ "$(inits m1)" -eq 1 ] || xd_fail "m1 was booted $(inits m1) times, not moved"
a1=$(alives m1); sleep 6
[ "$(alives m1)" -gt "$a1" ] || xd_fail "m1's console shows nothing after the migration"
ls -l /var/log/xen/console/
data_ready=$(xenstore-read "/local/domain/$new/data/ready" 2>/dev/null)
data_marker=$(xenstore-read "/local/domain/$new/data/lab-marker" 2>/dev/null)
echo "after the migration, /local/domain/$new/data:"; xenstore-ls "/local/domain/$new/data" 2>&1
data_kept=no; [ "$data_ready" = 1 ] && [ "$data_marker" = before-migration ] && data_kept=yes
mark MIGRATED_RUNS_ON old_domid="$old" new_domid="$new" data_kept="$data_kept"

# ---- m3: the receiver hangs up mid-stream: resumed here
old3=$(domid_of m3)
hb3=$(heartbeat m3)
out=$(xdmigrate m3 localhost --wait 2>&1) && { echo "$out"; xd_fail "m3's migration succeeded?"; }
echo "$out"
echo "$out" | grep -q 'migration to localhost failed' || xd_fail "m3's failure not said"
[ "$(domid_of m3)" = "$old3" ] || xd_fail "m3's domid changed: $old3 -> $(domid_of m3)"
[ "$(count_named m3--migratedaway)" -eq 0 ] || xd_fail "m3 left renamed away"
[ "$(xd_state m3)" = running ] || xd_fail "xendomd shows m3 as $(xd_state m3)"
beats_on m3 "$hb3" || xd_fail "m3 was not resumed"
[ "$(inits m3)" -eq 1 ] || xd_fail "m3 was rebooted"
mark FAILED_MIGRATION_RESUMED

# ---- halt: m2 migrates (here), m3 shuts down, m4's live migration fails
# and it is shut down instead
old2=$(domid_of m2)
hb2=$(heartbeat m2)
xd_halt || xd_fail "shutdown-host failed"
xl list
new2=$(domid_of m2)
[ -n "$new2" ] && [ "$new2" != "$old2" ] || xd_fail "m2 was not migrated at halt ($old2 -> '$new2')"
[ "$(count_named m2--migratedaway)" -eq 0 ] || xd_fail "m2--migratedaway left after the halt"
xl list "$old2" >/dev/null 2>&1 && xd_fail "m2's old domain $old2 still exists"
xd_reason m2 | grep -qx 'migrated to localhost' || xd_fail "m2's reason: $(xd_reason m2)"
beats_on m2 "$hb2" || xd_fail "m2 does not run on after the halt's migration"
# m1 arrived here by its migration: the halt adopted it and shut it down.
# m4: after a failed live migration it is shut down at halt; after one
# that worked it arrived during the halt, after the halt's listing, and
# is shut down here by hand
halted="m1 m3 m4"
if [ "$live_error" = none ]; then
    halted="m1 m3"
    xl shutdown -w m4 >/dev/null 2>&1 || xl destroy m4 >/dev/null 2>&1
fi
for g in $halted; do
    [ "$(count_named $g)" -eq 0 ] || xd_fail "$g still runs after the halt"
    consoles $g | grep -q 'GUEST: orderly poweroff' || xd_fail "$g did not power off cleanly"
done
xd_reason m1 | grep -qx 'stopped (poweroff)' || xd_fail "m1's reason after the halt: $(xd_reason m1)"
[ "$live_error" = none ] || xd_reason m4 | grep -qx 'stopped (poweroff)' || xd_fail "m4's reason: $(xd_reason m4)"
grep -E 'migrat' "$XD_LOG" | tail -n 20
mark HALT_MIGRATED
figure "migrate_s=$migrate_s data_kept=$data_kept live_error=$live_error"
xd_stop_daemon
pass
