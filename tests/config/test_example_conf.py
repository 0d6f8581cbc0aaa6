#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""etc/xendomd.conf, the example every admin copies, must be valid and must
show every key of xendomd.conf(5).  Its paths are moved into a temp dir, the xl cfgs
it names are created, and `xendomd --check` must accept it."""
import os
import re
import subprocess
import sys
import tempfile

xendomd, example = sys.argv[1], sys.argv[2]
GLOBAL_KEYS = """xen_config_dir auto_dir include_dir state_dir save_dir socket socket_group
max_parallel_starts max_parallel_stops start_timeout on_host_shutdown shutdown_timeout
save_timeout migrate_to migrate_command migrate_timeout migrate_live shutdown_fallback
stop_unmanaged restore_on_boot restore_unmanaged
on_restore_failure notify_ready
start_order""".split()
DOMAIN_KEYS = """config autostart after requires ready ready_timeout start_delay start_retries
retry_delay restart_limit on_host_shutdown shutdown_timeout save_timeout migrate_to migrate_command
migrate_timeout migrate_live exec_start_pre exec_stop_post
hook_timeout""".split()

text = open(example).read()
sections = re.split(r'^\[', text, flags=re.M)
glob = next(s for s in sections if s.startswith('global]'))
dom = next(s for s in sections if s.startswith('domain '))
missing = [k for k in GLOBAL_KEYS if not re.search(rf'^;?{k}\s*=', glob, re.M)]
missing += [f'[domain] {k}' for k in DOMAIN_KEYS if not re.search(rf'^;?{k}\s*=', dom, re.M)]
if missing:
    sys.exit(f'{example}: keys missing from the example: {", ".join(missing)}')

with tempfile.TemporaryDirectory() as d:
    conf = re.sub(r'(?<== )(/[\w/.-]+)', lambda m: d + m.group(1), text)
    for sub in ('etc/xen', 'etc/xen/auto', 'etc/xendomd/conf.d'):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    for name in re.findall(r'^\[domain (\S+)\]', text, re.M):
        with open(os.path.join(d, 'etc/xen', name + '.cfg'), 'w') as f:
            f.write(f'name = "{name}"\nmemory = 512\n')
    path = os.path.join(d, 'xendomd.conf')
    with open(path, 'w') as f:
        f.write(conf)
    r = subprocess.run([xendomd, '--check', '-c', path], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f'xendomd --check rejects the example (exit {r.returncode}):\n{r.stdout}{r.stderr}')
print(f'{example}: every key present, accepted by xendomd --check')
