#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Degraded boot, the bounded halt and unconfigured save images: the real
xendomd (and xendomctl) on the sim backend.

usage: test_degraded.py XENDOMD XENDOMCTL CASE
"""

import json
import os
import shutil
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xdtest import Daemon, check, run_ctl_case  # noqa: E402

BOOT_DONE = r"^boot done in [0-9.]+ s: "


def status(ctl, sock):
    r = subprocess.run([ctl, "-s", sock, "--json", "status"], capture_output=True, text=True,
                       timeout=20)
    check(r.returncode == 0, f"xendomctl status: {r.returncode} {r.stderr}")
    return {d["name"]: d for d in json.loads(r.stdout)["domains"]}


def boot(exe, host):
    d = Daemon(exe, host, "-s", host.path("control"))
    d.wait_for(BOOT_DONE)
    return d


def halt(d):
    rc = d.stop(signal.SIGTERM)
    check(rc == 0, f"exit code {rc} after the host shutdown", d)


def case_degraded(exe, ctl, host):
    """Broken domains fail alone; their requires-dependents fail; the rest boots."""
    host.xl_cfg("other", memory=128)
    os.rename(host.path("xen", "other.cfg"), host.path("xen", "mismatch.cfg"))
    host.write_conf([("good", {}), ("badkey", {"memroy": 1}), ("noxl", {}),
                     ("mismatch", {}), ("unknownreq", {"requires": "nobody"}),
                     ("needs", {"requires": "badkey"}), ("later", {"after": "badkey"})])
    os.remove(host.path("xen", "noxl.cfg"))
    host.write_scenario({})
    d = boot(exe, host)
    st = status(ctl, host.path("control"))
    broken = {"badkey", "noxl", "mismatch", "unknownreq"}
    for name in broken:
        check(st[name]["state"] == "failed", f"{name}: {st[name]}", d)
        reason = st[name]["reason"] or ""
        check(reason.startswith(f"configuration: {host.path('')}"), f"{name}: reason {reason!r}", d)
        check(not d.entered(name, "starting"), f"{name} was created", d)
    check(":" in st["badkey"]["reason"].split("configuration: ", 1)[1], "FILE:LINE", d)
    check("memroy" in st["badkey"]["reason"], st["badkey"]["reason"], d)
    check(st["needs"]["state"] == "failed" and
          st["needs"]["reason"] == "dependency badkey has a configuration error", str(st["needs"]), d)
    check(not d.entered("needs", "starting"), "needs was created", d)
    for name in ("good", "later"):
        check(st[name]["state"] == "running", f"{name}: {st[name]}", d)
    check(any(f"{host.conf}:" in m and "memroy" in m for m in d.messages()),
          "the bad key is logged with FILE:LINE", d)
    r = subprocess.run([ctl, "-s", host.path("control"), "start", "--wait", "badkey"], capture_output=True,
                       text=True, timeout=20)
    check(r.returncode == 1, f"start of a broken domain: {r.returncode} {r.stdout} {r.stderr}", d)
    check(not d.entered("badkey", "starting"), "badkey created on demand", d)
    halt(d)


def case_global_typo(exe, ctl, host):
    """A [global] typo is logged with FILE:LINE and the defaults are used."""
    host.write_conf([("web", {})], max_parallel_startz=3)
    host.write_scenario({})
    d = boot(exe, host)
    check(any(f"{host.conf}:" in m and "max_parallel_startz" in m for m in d.messages()),
          "the typo is logged with FILE:LINE", d)
    check(status(ctl, host.path("control"))["web"]["state"] == "running", "web runs", d)
    halt(d)


def case_no_main_file(exe, ctl, host):
    """No file at the default path: defaults, said once; the domains of auto_dir boot."""
    host.write_scenario({})
    sock = host.path("control")
    env = dict(os.environ, XENDOMD_DEFAULT_CONFIG=host.path("absent.conf"))
    argv = [exe, "-f", "-s", sock, "--backend", "sim:" + host.scenario]
    # The default auto_dir is /etc/xen/auto: give the daemon its own /etc
    # when a private mount namespace is possible, else check the rest.
    private = os.geteuid() == 0 and subprocess.run(
        ["unshare", "-m", "true"], capture_output=True).returncode == 0
    if private:
        host.xl_cfg("autovm")
        auto = host.path("xen", "autovm.cfg")
        argv = ["unshare", "-m", "sh", "-c",
                f"mount -t tmpfs xdtest /etc && mkdir -p /etc/xen/auto && "
                f"cp {auto} /etc/xen/auto/ && exec \"$@\"", "sh", *argv]
    d = Daemon(exe, host, argv=argv, env=env)
    d.wait_for(BOOT_DONE)
    notes = [m for m in d.messages() if "running on the defaults" in m]
    check(len(notes) == 1, f"said once: {notes}", d)
    if private:
        check(status(ctl, sock).get("autovm", {}).get("state") == "running", "autovm boots", d)
    halt(d)


def case_save_timeout(exe, ctl, host):
    """A save that never ends is cut at save_timeout and the halt completes."""
    host.write_conf([("stuck", {"on_host_shutdown": "save", "save_timeout": 1})])
    host.write_scenario({"stuck": {"save_ms": -1}})
    d = boot(exe, host)
    halt(d)
    cut = d.first("stuck", "stopping") - d.first("stuck", "saving")
    check(0.9 <= cut < 3, f"shut down {cut:.3f} s after the save began, save_timeout = 1", d)
    check(d.final_state("stuck") == "inactive", "stuck is down", d)
    check(any("save_timeout" in m for m in d.messages("stuck")), "the cut is named", d)
    check(not os.listdir(host.path("save")), "no image left", d)


def case_unmanaged_images(exe, ctl, host):
    """Unconfigured images are restored (not with restore_unmanaged = no); a bad one is kept."""
    host.write_conf([("ghost", {"on_host_shutdown": "save"}), ("conf", {})])
    host.write_scenario({})
    halt(boot(exe, host))
    image = host.path("save", "ghost")
    check(os.path.exists(image), "ghost saved")
    keep = host.path("ghost.copy")
    shutil.copy(image, keep)
    with open(host.path("save", "junk"), "w") as f:
        f.write("not an image\n")

    host.write_conf([("conf", {})], restore_unmanaged="no")
    d = boot(exe, host)
    check("ghost" not in status(ctl, host.path("control")), "restored with restore_unmanaged = no", d)
    check(os.path.exists(image), "the image was touched", d)
    halt(d)

    host.write_conf([("conf", {})])
    d = boot(exe, host)
    st = status(ctl, host.path("control"))
    check(st.get("ghost", {}).get("state") == "running", f"ghost: {st.get('ghost')}", d)
    check("not managed" in (st["ghost"]["reason"] or ""), str(st["ghost"]), d)
    check(d.first("ghost", "restoring") >= d.first("conf", "running"), "after the configured", d)
    check(not os.path.exists(image), "the restored image is deleted", d)
    check(os.path.exists(host.path("save", "junk")), "the bad image is kept", d)
    check(any("junk" in m and "kept" in m for m in d.messages()), "the bad image is logged", d)
    halt(d)


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def main():
    return run_ctl_case(CASES, "", sys.argv)


if __name__ == "__main__":
    sys.exit(main())
