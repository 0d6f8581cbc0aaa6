#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Load tests/compat/corpus/auto as the daemon's start does and compare,
entry by entry, with expected.tsv (ENTRY, OUTCOME, text the detail must
contain, and optionally text of the one warning the entry gets while it
still loads).  OUTCOME: start (boots), fail (kept, failed: configuration),
skip (one warning, passed over), error (not an xl cfg: reported, left out),
absent (not even looked at: dotfiles).  Entries git cannot hold (a
directory, a dangling symlink, a symlink to an xl cfg) are made here."""
import os
import shutil
import subprocess
import sys
import tempfile

loader, corpus, table = sys.argv[1], sys.argv[2], sys.argv[3]

expected = {}
for line in open(table, encoding="utf-8"):
    if not line.strip() or line.startswith("#"):
        continue
    entry, outcome, detail, warning = (line.rstrip("\n").split("\t") + ["", ""])[:4]
    expected[entry] = (outcome, detail, warning)

tmp = tempfile.mkdtemp(prefix="xd-compat-")
try:
    auto, xen = os.path.join(tmp, "auto"), os.path.join(tmp, "xen")
    shutil.copytree(os.path.join(corpus, "auto"), auto)
    shutil.copytree(os.path.join(corpus, "xen"), xen)
    os.mkdir(os.path.join(auto, "old-guests"))
    os.symlink(os.path.join(tmp, "nowhere.cfg"), os.path.join(auto, "85-gone.cfg"))
    os.symlink(os.path.join(xen, "linked.cfg"), os.path.join(auto, "15-linked"))
    conf = os.path.join(tmp, "xendomd.conf")
    with open(conf, "w") as f:
        f.write(f"[global]\nxen_config_dir = {xen}\nauto_dir = {auto}\ninclude_dir = \"\"\n")
    out = subprocess.run([loader, conf], capture_output=True, text=True, check=True).stdout
    got = {}
    warned = {}
    order = []
    for line in out.splitlines():
        outcome, path, detail = line.split("\t", 2)
        entry = os.path.basename(path)
        if outcome == "warning":
            warned.setdefault(entry, []).append(detail)
            continue
        if outcome == "start":
            order.append(detail)
        if entry in got and got[entry][0] == outcome == "error":
            continue        # an entry that is no xl cfg may have several errors: the first
        if entry in got:
            sys.exit(f"entry {entry} has two outcomes: {got[entry]} and {(outcome, detail)}")
        got[entry] = (outcome, detail)
    for entry in sorted(os.listdir(auto)):
        got.setdefault(entry, ("absent", ""))
    bad = []
    for entry in sorted(set(expected) | set(got)):
        if entry not in expected:
            bad.append(f"{entry}: not in expected.tsv (got {got[entry]})")
            continue
        want, text, warning = expected[entry]
        have = got.get(entry, ("missing", ""))
        if have[0] != want or text not in have[1]:
            bad.append(f"{entry}: want {want} '{text}', got {have[0]} '{have[1]}'")
        w = warned.get(entry, [])
        if (len(w) != 1 or warning not in w[0]) if warning else w:
            bad.append(f"{entry}: want warning '{warning}', got {w}")
    if bad:
        print(out)
        sys.exit("\n".join(bad))
    # filename order is boot order for auto_dir
    want_order = ["web1", "linked", "libvirt-guest", "db & cache+1@site", "café 日本"]
    if order != want_order:
        sys.exit(f"start order {order}, want {want_order}")
    print(f"{len(expected)} entries as expected")
finally:
    shutil.rmtree(tmp)
