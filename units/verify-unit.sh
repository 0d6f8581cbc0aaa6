#!/bin/sh
# usage: verify-unit.sh xendomd.service.in XENDOMD
#
# `systemd-analyze verify` on the unit (ExecStart pointing at the built
# daemon): any complaint fails, except about the Xen units it is only
# ordered after (they exist on a Xen host, not here).  Then the settings
# doc/behaviour.md §5 asks for are checked one by one.
set -eu
unit_in=$1
xendomd=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")   # ExecStart= is absolute
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s|@sbindir@/xendomd|$xendomd|" "$unit_in" > "$tmp/xendomd.service"

out=$(systemd-analyze verify --man=no "$tmp/xendomd.service" 2>&1) || {
	printf 'systemd-analyze verify failed:\n%s\n' "$out"
	exit 1
}
rest=$(printf '%s\n' "$out" |
	grep -v -E '^$|(xen[a-z0-9-]*|proc-xen)\.(service|mount)[: ].*(not found|[Nn]o such file|not loaded)' ||
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
want 'ExecReload=/bin/kill -HUP \$MAINPID$'
for dep in corosync.service pacemaker.service; do
	grep -E '^Before=' "$tmp/xendomd.service" | grep -q -w -F "$dep" ||
		{ echo "not ordered before $dep"; fail=1; }
done
for dep in xenstored.service xenconsoled.service xen-init-dom0.service xen.service \
	network-online.target remote-fs.target; do
	grep -E '^After=' "$tmp/xendomd.service" | grep -q -w -F "$dep" ||
		{ echo "not ordered after $dep"; fail=1; }
done

# The check itself must be able to fail: a broken copy is refused.
sed 's/^Type=notify$/Type=notifyy/' "$tmp/xendomd.service" > "$tmp/broken.service"
if systemd-analyze verify --man=no "$tmp/broken.service" >"$tmp/broken.out" 2>&1 &&
	! grep -q 'notifyy' "$tmp/broken.out"; then
	echo "systemd-analyze verify accepted Type=notifyy"
	fail=1
fi
exit $fail
