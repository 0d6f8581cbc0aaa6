#!/bin/bash
# SPDX-License-Identifier: ISC
# The libxl backend alone on real Xen (tests/hvlibxl/probe.c, installed as
# /usr/sbin/xendomd-libxl-probe): three guests created at once from their
# xl cfgs (xl --dryrun JSON), a fourth whose kernel does not exist must fail
# with a reason and leave nothing behind; readiness through a XenStore watch
# on data/ready; one guest saved in xl's format and restored; all shut down
# by PV request, destroyed at SHUTDOWN, gone at DEATH.  Then `xl restore`
# must accept the image the backend wrote.
. /usr/lib/xenlab/lib.sh

command -v xendomd-libxl-probe >/dev/null || fail "xendomd-libxl-probe not in the image (--extra)"
# A guest-less dom0 has no entropy: xl's libuuid then spins on getrandom()
# (doc/xen-facts.md §9) and starves xenconsoled, so libxl's 10 s console wait
# times out.  A blocking read makes the kernel seed its CRNG from jitter.
head -c 1 /dev/random >/dev/null
guest_cfg p1
guest_cfg p2 "xenlab.ready_delay=2"
guest_cfg p3
guest_cfg pbad
sed -i 's|^kernel = .*|kernel = "/nonexistent/vmlinuz"|' /etc/xen/pbad.cfg

xendomd-libxl-probe /var/lib/xen/save p1=/etc/xen/p1.cfg p2=/etc/xen/p2.cfg \
    '!pbad=/etc/xen/pbad.cfg' p3=/etc/xen/p3.cfg 2>/root/probe.err
rc=$?
if [ $rc -ne 0 ]; then
    tail -n 40 /root/probe.err
    xl list
    fail "probe exited $rc"
fi
only_dom0_left || { xl list; fail "domains left after the probe"; }
mark PROBE_OK

# Interoperability: xl reads the image our backend wrote.
[ -f /var/lib/xen/save/p1 ] || fail "no save image /var/lib/xen/save/p1"
xl restore -p /var/lib/xen/save/p1 >/root/xl-restore.log 2>&1 ||
    { cat /root/xl-restore.log; fail "xl restore of our image failed"; }
[ -n "$(domain_state p1)" ] || fail "xl restore did not bring p1 back"
xl destroy p1 || fail "xl destroy p1"
mark XL_RESTORE_OF_OUR_IMAGE_OK
only_dom0_left || fail "domains left at the end"
pass
