#!/bin/sh
# SPDX-License-Identifier: ISC
# usage: verify-unit.sh xendomd.service.in XENDOMD XENDOMCTL MAIN.C
#
# `systemd-analyze verify` on the unit (Exec*= pointing at the built
# binaries): any complaint fails, except about the units it is only
# ordered against (they exist on a Xen host, or a cluster node, not here).
# Then the settings that matter are checked one by one, and the exit code
# RestartPreventExitStatus= names against the daemon's source (MAIN.C).
set -eu
unit_in=$1
abs() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }   # Exec*= are absolute
xendomd=$(abs "$2")
xendomctl=$(abs "$3")
main_c=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed -e "s|@sbindir@/xendomd |$xendomd |; s|@sbindir@/xendomd\$|$xendomd|" \
	-e "s|@sbindir@/xendomctl|$xendomctl|" "$unit_in" > "$tmp/xendomd.service"
grep -q @sbindir@ "$tmp/xendomd.service" && { echo "unsubstituted @sbindir@"; exit 1; }

out=$(systemd-analyze verify --man=no "$tmp/xendomd.service" 2>&1) || {
	printf 'systemd-analyze verify failed:\n%s\n' "$out"
	exit 1
}
rest=$(printf '%s\n' "$out" |
	grep -v -E '^$|(xen[a-z0-9-]*|proc-xen|drbd|iscsid|open-iscsi|openvswitch-switch|nfs-kernel-server|corosync|pacemaker|libvirtd)\.(service|mount)[: ].*(not found|[Nn]o such file|not loaded)' ||
	true)
if [ -n "$rest" ]; then
	printf 'systemd-analyze verify complains:\n%s\n' "$rest"
	exit 1
fi

fail=0
want() {
	grep -q -E "^$1" "$tmp/xendomd.service" || { echo "missing: $1"; fail=1; }
}
want 'Type=notify$'
want 'KillMode=process$'
want 'Conflicts=xendomains\.service$'
want 'TimeoutStopSec=[0-9]+min$'
want 'NotifyAccess=exec$'
# a refused reload must fail `systemctl reload`: through the socket, whose
# reply xendomctl turns into its exit status (not a signal, which always works)
want "ExecReload=$xendomctl reload\$"
want "ExecStopPost=$xendomd --halt-fallback\$"
want 'Restart=on-failure$'
# configuration errors are not retried: the code must be the daemon's own
usage=$(sed -n 's/^#define EXIT_USAGE \([0-9]*\).*/\1/p' "$main_c")
[ -n "$usage" ] || { echo "no EXIT_USAGE in $main_c"; fail=1; }
want "RestartPreventExitStatus=$usage\$"
# ordered like Debian's xendomains, where those units exist
for dep in xen.service network-online.target remote-fs.target drbd.service iscsid.service \
	open-iscsi.service openvswitch-switch.service nfs-kernel-server.service; do
	grep -E '^After=' "$tmp/xendomd.service" | grep -q -w -F "$dep" ||
		{ echo "not ordered after $dep"; fail=1; }
done
for dep in corosync.service pacemaker.service libvirtd.service; do
	grep -E '^Before=' "$tmp/xendomd.service" | grep -q -w -F "$dep" ||
		{ echo "not ordered before $dep"; fail=1; }
done
# no After= on units Debian does not have (upstream's split Xen units are
# for a drop-in, as the unit's comment says)
for dep in xenstored.service xenconsoled.service xen-init-dom0.service proc-xen.mount; do
	grep -E '^After=' "$tmp/xendomd.service" | grep -q -w -F "$dep" &&
		{ echo "a no-op After=$dep on Debian"; fail=1; }
done

# The check itself must be able to fail: a broken copy is refused.
sed 's/^Type=notify$/Type=notifyy/' "$tmp/xendomd.service" > "$tmp/broken.service"
if systemd-analyze verify --man=no "$tmp/broken.service" >"$tmp/broken.out" 2>&1 &&
	! grep -q 'notifyy' "$tmp/broken.out"; then
	echo "systemd-analyze verify accepted Type=notifyy"
	fail=1
fi
exit $fail
