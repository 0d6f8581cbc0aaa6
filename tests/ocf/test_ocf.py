#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""The OCF resource agent ocf/xendomd-guest against a real xendomd on the sim.

usage: test_ocf.py XENDOMD XENDOMCTL AGENT README CASE

  tester     Debian's ocf-tester (resource-agents) on the agent for a domain
             with autostart = no, then the agent's answers where ocf-tester
             does not look: validate-all refusing what xendomd starts at boot,
             an unknown domain, a crashed guest, no daemon, live migration
             (migrate_to through xendomd's migration, migrate_from adopting
             a guest that arrived and refusing one that did not).
  metadata   shellcheck on the agent, and its meta-data beside ocf:heartbeat:Xen's (run from
             resource-agents): the mapping table of README "Many hosts"
             must name every Xen parameter, and every agent parameter it
             names must exist (and no other).
"""
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "daemon"))
from xdtest import Daemon, Failure, Host, check  # noqa: E402

OCF_ROOT = "/usr/lib/ocf"
HEARTBEAT_XEN = OCF_ROOT + "/resource.d/heartbeat/Xen"
OCF = {"success": 0, "generic": 1, "unimplemented": 3, "installed": 5, "configured": 6,
       "not_running": 7}

xendomd, xendomctl, agent_src, readme, case = sys.argv[1:6]


def install_agent(host):
    """A copy every user can run (ocf-tester runs meta-data as nobody)."""
    d = host.path("ocf")
    os.mkdir(d)
    os.chmod(host.dir, 0o755)
    os.chmod(d, 0o755)
    agent = os.path.join(d, "guest")
    shutil.copy(agent_src, agent)
    os.chmod(agent, 0o755)
    ctl = host.path("xendomctl")
    shutil.copy(xendomctl, ctl)
    os.chmod(ctl, 0o755)
    return agent, ctl


def action(agent, act, daemon=None, interval="10000", **params):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCF_")}
    env.update({"OCF_ROOT": OCF_ROOT, "OCF_RESOURCE_INSTANCE": "t",
                "OCF_RESKEY_CRM_meta_interval": interval})
    env.update({"OCF_RESKEY_" + k: v for k, v in params.items()})
    r = subprocess.run([agent, act], env=env, capture_output=True, text=True, timeout=120)
    return r.returncode, r.stdout + r.stderr


def expect(agent, act, want, daemon, **params):
    rc, out = action(agent, act, **params)
    check(rc == OCF[want], f"{act} {params.get('domain')!r}: rc {rc}, wanted {want} "
          f"({OCF[want]}):\n{out}", daemon)
    return out


def case_tester():
    host = Host("ocf")
    try:
        agent, ctl = install_agent(host)
        os.makedirs(host.path("run"))
        sock = host.path("run", "control")
        host.write_conf([("storage", {}),
                         ("guest", {"autostart": "no", "requires": "storage"}),
                         ("pulled", {"autostart": "no"}),
                         ("web", {"requires": "pulled"}),
                         ("crashy", {"autostart": "no"}),
                         ("incoming", {"autostart": "no"})])
        # "incoming" appears by itself 2 s after the start, as a guest
        # that xl migrate-receive ran here would
        host.write_scenario({"guest": {"create_ms": 100, "shutdown_ms": 100},
                             "crashy": {"crash_after_ms": 3000},
                             "incoming": {"arrive_ms": 2000}})
        t0 = time.monotonic()
        d = Daemon(xendomd, host, "-s", sock)
        d.wait_for(r"^boot done in ")
        p = {"socket": sock, "xendomctl": ctl}

        tester = shutil.which("ocf-tester")
        check(tester, "ocf-tester not found (package resource-agents; .ci/setup installs it)")
        r = subprocess.run([tester, "-v", "-n", "guest", "-o", "domain=guest",
                            "-o", f"socket={sock}", "-o", f"xendomctl={ctl}", agent],
                           env={**os.environ, "OCF_ROOT": OCF_ROOT},
                           capture_output=True, text=True, timeout=600)
        check(r.returncode == 0 and "passed all tests" in r.stdout,
              f"ocf-tester: exit {r.returncode}\n{r.stdout}{r.stderr}", d)
        # migrate_to is implemented, so migrate_from was tried too.
        check("Checking for migrate_to action" in r.stdout
              and "Checking for migrate_from action" in r.stdout,
              f"ocf-tester did not try both migrate actions:\n{r.stdout}", d)
        # ocf-tester started and stopped it through xendomd.
        check(d.entered("guest", "running") and d.final_state("guest") == "inactive",
              "guest ran and stopped under xendomd", d)

        expect(agent, "validate-all", "success", d, domain="guest", **p)
        out = expect(agent, "validate-all", "configured", d, domain="web", **p)
        check("autostart = no" in out, f"validate-all web says why: {out}", d)
        # Not autostart, but an autostart domain requires it: xendomd's too.
        expect(agent, "validate-all", "configured", d, domain="pulled", **p)
        expect(agent, "validate-all", "installed", d, domain="nosuch", **p)
        expect(agent, "validate-all", "configured", d, domain="a/b", **p)
        expect(agent, "start", "configured", d, domain="", **p)
        expect(agent, "monitor", "installed", d, domain="nosuch", **p)
        # ... and is not running here: stopping it succeeds (no fencing).
        expect(agent, "stop", "success", d, domain="nosuch", **p)
        expect(agent, "monitor", "success", d, domain="web", **p)

        # A guest that crashes after its start: failed without a domid is
        # not running (Pacemaker recovers it).
        expect(agent, "start", "success", d, domain="crashy", **p)
        expect(agent, "monitor", "success", d, domain="crashy", **p)
        d.wait_for(r"crash", timeout=10)
        deadline = time.monotonic() + 10
        while action(agent, "monitor", domain="crashy", **p)[0] != OCF["not_running"]:
            check(time.monotonic() < deadline, "crashy never reported not running", d)
            time.sleep(0.1)
        expect(agent, "stop", "success", d, domain="crashy", **p)

        # migrate_to: through xendomd's live migration, to the target node
        expect(agent, "start", "success", d, domain="guest", **p)
        out = expect(agent, "migrate_to", "configured", d, domain="guest", **p)
        check("migration target" in out, f"migrate_to without a target says why: {out}", d)
        expect(agent, "migrate_to", "success", d, domain="guest",
               CRM_meta_migrate_target="nodeb", **p)
        d.wait_for(r"state migrating -> inactive: migrated to nodeb")
        check(d.final_state("guest") == "inactive", "guest left by migration", d)
        expect(agent, "monitor", "not_running", d, domain="guest", **p)

        # migrate_from: a guest that has not arrived is refused, not booted
        flag = host.path("arrived")
        xl = host.path("xl")
        with open(xl, "w") as f:
            f.write(f"#!/bin/sh\n[ \"$1 $2\" = \"list incoming\" ] && [ -e {flag} ]\n")
        os.chmod(xl, 0o755)
        out = expect(agent, "migrate_from", "generic", d, domain="incoming", xl=xl, **p)
        check("has not arrived" in out, f"migrate_from says why: {out}", d)
        check(not d.states("incoming"), f"migrate_from touched a guest that is not here: {d.states('incoming')}", d)
        # ... and one that arrived is adopted, not created a second time
        time.sleep(max(0.0, t0 + 3.0 - time.monotonic()))
        open(flag, "w").close()
        expect(agent, "migrate_from", "success", d, domain="incoming", xl=xl, **p)
        check(any("adopted running domain" in m for m in d.messages("incoming")),
              "xendomd adopted the arrived guest", d)
        check(not d.entered("incoming", "starting"), "the arrived guest was created again", d)
        expect(agent, "monitor", "success", d, domain="incoming", **p)
        expect(agent, "reload", "unimplemented", d, domain="guest", **p)

        # No daemon: a monitor cannot tell, it fails; a probe without
        # xendomctl at all is "not running".
        expect(agent, "start", "success", d, domain="guest", **p)
        d.kill()
        expect(agent, "monitor", "generic", None, domain="guest", **p)
        rc, _ = action(agent, "monitor", interval="0", domain="guest", socket=sock,
                       xendomctl=host.path("none"))
        check(rc == OCF["not_running"], f"probe without xendomctl: rc {rc}")
        rc, _ = action(agent, "monitor", domain="guest", socket=sock, xendomctl=host.path("none"))
        check(rc == OCF["installed"], f"monitor without xendomctl: rc {rc}")
    finally:
        host.cleanup()


def meta(argv):
    r = subprocess.run(argv, env={**os.environ, "OCF_ROOT": OCF_ROOT}, capture_output=True,
                       text=True, timeout=30)
    check(r.returncode == 0, f"{argv} meta-data: exit {r.returncode} {r.stderr}")
    root = ET.fromstring(r.stdout.split("\n", 1)[1] if r.stdout.startswith("<?xml") else r.stdout)
    params = [p.get("name") for p in root.iter("parameter")]
    actions = [a.get("name") for a in root.iter("action")]
    return params, actions


def readme_table():
    """The rows of README's table whose header names ocf:heartbeat:Xen:
    (xen parameter or None, agent parameter or None, the whole row)."""
    lines = open(readme).read().splitlines()
    start = next((i for i, l in enumerate(lines)
                  if l.startswith("|") and "`ocf:heartbeat:Xen`" in l), None)
    check(start is not None, "README has no table headed `ocf:heartbeat:Xen`")
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        check(len(cells) == 2, f"README table row with {len(cells)} cells: {line}")
        name = lambda c: (re.match(r"^`([A-Za-z0-9_]+)`", c) or [None, None])[1]  # noqa: E731
        xen, ours = name(cells[0]), name(cells[1])
        check(xen or cells[0].startswith("—"), f"first cell neither `param` nor —: {line}")
        check(ours or cells[1].startswith("—"), f"second cell neither `param` nor —: {line}")
        rows.append((xen, ours, line))
    return rows


def case_metadata():
    sc = shutil.which("shellcheck")
    check(sc, "shellcheck not found")
    r = subprocess.run([sc, agent_src], capture_output=True, text=True)
    check(r.returncode == 0, f"shellcheck {agent_src}:\n{r.stdout}{r.stderr}")
    check(os.access(HEARTBEAT_XEN, os.X_OK), f"{HEARTBEAT_XEN} missing (package resource-agents)")
    xen_params, xen_actions = meta([HEARTBEAT_XEN, "meta-data"])
    our_params, our_actions = meta([agent_src, "meta-data"])
    rows = readme_table()
    table_xen = [x for x, _, _ in rows if x]
    table_ours = [o for _, o, _ in rows if o]
    check(sorted(table_xen) == sorted(xen_params),
          f"README table vs ocf:heartbeat:Xen's parameters: table {sorted(table_xen)}, "
          f"Xen {sorted(xen_params)}")
    check(sorted(set(table_ours)) == sorted(our_params),
          f"README table vs the agent's parameters: table {sorted(set(table_ours))}, "
          f"agent {sorted(our_params)}")
    mapped = {x: o for x, o, _ in rows if x and o}
    unmapped = sorted(x for x, o, _ in rows if x and not o)
    # The actions: the same, live migration included.
    check(set(xen_actions) - set(our_actions) == set(),
          f"actions Xen has and the agent lacks: {set(xen_actions) - set(our_actions)}")
    check(set(our_actions) <= set(xen_actions), f"agent actions {our_actions}")
    print("ocf:heartbeat:Xen -> ocf:xendomd:guest:")
    for x, o in sorted(mapped.items()):
        print(f"  {x} -> {o}")
    print(f"  no parameter: {', '.join(unmapped)}")
    print(f"  agent only: {', '.join(sorted(set(our_params) - set(mapped.values())))}")
    print(f"  actions: {', '.join(sorted(set(our_actions)))}")


def main():
    try:
        {"tester": case_tester, "metadata": case_metadata}[case]()
    except Failure as e:
        print(f"FAIL {case}: {e}", file=sys.stderr)
        return 1
    print(f"ok {case}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
