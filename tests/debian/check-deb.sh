#!/bin/sh
# SPDX-License-Identifier: ISC
# usage: check-deb.sh SRCDIR WORKDIR
#
# Builds the Debian package from a copy of the source tree (the tracked
# and untracked-but-not-ignored files; dpkg-buildpackage writes into the
# tree and its parent, so never in SRCDIR itself), without running the
# test suites again (nocheck), then checks what it installs and what its
# maintainer scripts do, and runs lintian at error level.
# The .deb is left in WORKDIR (the systemd lab installs it from there).
set -eu
src=$(cd "$1" && pwd)
work=$2
fail=0
bad() { echo "check-deb: $*"; fail=1; }

for t in dpkg-buildpackage dh lintian; do
	command -v $t >/dev/null || { echo "check-deb: $t missing (run .ci/setup)"; exit 1; }
done
rm -rf "$work"; mkdir -p "$work/src"
if [ -d "$src/.git" ] || [ -f "$src/.git" ]; then
	( cd "$src" && git ls-files -co --exclude-standard -z ) |
		( cd "$src" && tar -c --null -T - -f - ) | tar -x -C "$work/src" -f -
else
	( cd "$src" && tar -c --exclude='./build*' --exclude='./obj-*' -f - . ) | tar -x -C "$work/src" -f -
fi
cd "$work/src"
dpkg-checkbuilddeps || { echo "check-deb: build dependencies missing (run .ci/setup)"; exit 1; }
if ! DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1; then
	tail -40 "$work/build.log"; echo "check-deb: dpkg-buildpackage failed"; exit 1
fi
cd "$work"
deb=$(ls xendomd_*.deb)
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' > contents.txt
for f in /usr/sbin/xendomd /usr/sbin/xendomctl /lib/systemd/system/xendomd.service \
	/etc/xendomd/xendomd.conf /usr/share/man/man8/xendomd.8.gz \
	/usr/share/man/man8/xendomctl.8.gz /usr/share/man/man5/xendomd.conf.5.gz \
	/usr/share/doc/xendomd/examples/rc.d/xendomd /usr/share/doc/xendomd/copyright \
	/usr/lib/ocf/resource.d/xendomd/guest /usr/share/bash-completion/completions/xendomctl \
	/var/lib/xendomd/ /var/lib/xen/save/; do
	grep -qxF "$f" contents.txt || bad "not in the package: $f"
done
mkdir -p ctl; dpkg-deb -e "$deb" ctl
grep -qxF /etc/xendomd/xendomd.conf ctl/conffiles || bad "xendomd.conf is not a conffile"
grep -q "deb-systemd-helper enable 'xendomd.service'" ctl/postinst || bad "postinst does not enable the unit"
# Removing the package stops the service (guests stay: the host is running)
# and nothing else: no host-shutdown sequence from a maintainer script.
grep -q "deb-systemd-invoke stop 'xendomd.service'" ctl/prerm || bad "prerm does not stop the service"
if grep -l -E 'shutdown-host|halt-fallback|xendomctl|xl (shutdown|destroy)' ctl/preinst ctl/postinst ctl/prerm ctl/postrm 2>/dev/null; then
	bad "a maintainer script touches guests"
fi
dpkg-deb -f "$deb" Depends | grep -q libxenmisc || bad "no shlibs dependency on libxenlight's package"
# the unit in the package is the configured one
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./lib/systemd/system/xendomd.service > unit.txt
grep -qx 'ExecStart=/usr/sbin/xendomd' unit.txt || bad "unit ExecStart is not /usr/sbin/xendomd"
lintian --fail-on error "$deb" > lintian.txt 2>&1 ||
	{ cat lintian.txt; bad "lintian reports errors"; }
grep '^E:' lintian.txt && bad "lintian errors"
[ $fail = 0 ] && echo "check-deb: $deb ok ($(wc -l < contents.txt) paths; lintian: $(grep -c '^[WE]:' lintian.txt) warnings)"
exit $fail
