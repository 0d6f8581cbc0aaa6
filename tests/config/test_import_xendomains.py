#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""xendomd --import-xendomains on real files: Debian's /etc/default/xendomains
as the xen-utils-common package ships it (read, never run; taken from the
installed package, else extracted from its .deb into a cache under the build
directory), upstream's template (its assignments, tests/config/fixtures) and
a NetBSD rc.conf.  The mapping is checked key by key against what the
script reading each file does with its values, and every output must pass
`xendomd --check`.

usage: test_import_xendomains.py XENDOMD FIXTURES_DIR CACHE_DIR"""
import glob
import os
import re
import shlex
import subprocess
import sys
import tempfile

xendomd, fixtures, cache = sys.argv[1:4]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def debian_file():
    """The real /etc/default/xendomains of Debian's xen-utils-common."""
    r = subprocess.run(['dpkg-query', '-S', '/etc/default/xendomains'],
                       capture_output=True, text=True)
    if r.returncode == 0 and r.stdout.startswith('xen-utils-common:') \
            and os.path.isfile('/etc/default/xendomains'):
        return '/etc/default/xendomains'
    root = os.path.join(cache, 'xen-utils-common')
    path = os.path.join(root, 'etc/default/xendomains')
    if os.path.isfile(path):
        return path
    os.makedirs(cache, exist_ok=True)
    debs = os.path.join(cache, 'debs')
    os.makedirs(debs, exist_ok=True)
    r = subprocess.run(['apt-get', 'download', '-q', 'xen-utils-common'], cwd=debs,
                       capture_output=True, text=True)
    found = sorted(glob.glob(os.path.join(debs, 'xen-utils-common_*.deb')))
    if not found:
        sys.exit('cannot get xen-utils-common (needed for the real /etc/default/xendomains): '
                 f'apt-get download said:\n{r.stdout}{r.stderr}')
    subprocess.run(['dpkg-deb', '-x', found[-1], root], check=True)
    if not os.path.isfile(path):
        sys.exit(f'{found[-1]} has no etc/default/xendomains')
    return path


def shell_values(path):
    """An independent reader of plain NAME=value lines (the oracle)."""
    vals = {}
    for line in open(path):
        m = re.match(r'^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$', line)
        if m:
            v = shlex.split(m.group(2), comments=True)
            vals[m.group(1)] = v[0] if v else ''
    return vals


def run_import(path, expect_rc=0):
    r = subprocess.run([xendomd, '--import-xendomains', path], capture_output=True, text=True)
    if r.returncode != expect_rc:
        sys.exit(f'import {path}: exit {r.returncode}, wanted {expect_rc}\n{r.stdout}{r.stderr}')
    return r.stdout


def keys(conf):
    """{section: {key: value}} of the uncommented lines."""
    out, sect = {}, None
    for line in conf.splitlines():
        m = re.match(r'^\[(.*)\]$', line)
        if m:
            sect = m.group(1)
            out.setdefault(sect, {})
        m = re.match(r'^([a-z_]+) = (.*)$', line)
        if m:
            check(m.group(1) not in out[sect], f'[{sect}] {m.group(1)} written twice')
            out[sect][m.group(1)] = m.group(2)
    return out


def passes_check(conf, what, tmp):
    """--check, kept off this host's /etc: no include_dir, auto_dir as set
    or disabled."""
    text = conf.replace('[global]\n', '[global]\ninclude_dir = ""\n', 1)
    if not re.search(r'^auto_dir = ', text, re.M):
        text = text.replace('[global]\n', '[global]\nauto_dir = ""\n', 1)
    path = os.path.join(tmp, what + '.conf')
    with open(path, 'w') as f:
        f.write(text)
    r = subprocess.run([xendomd, '--check', '-c', path], capture_output=True, text=True)
    check(r.returncode == 0, f'{what}: xendomd --check exit {r.returncode}:\n{r.stdout}{r.stderr}')


def expect(got, want, what):
    for k, v in want.items():
        check(got.get(k) == v, f'{what}: {k} = {got.get(k)!r}, wanted {v!r}')


def quoted_all(conf, vals, what):
    for name in vals:
        check(re.search(rf'^; {name}(=| is not set)', conf, re.M), f'{what}: {name} not quoted')


def test_debian(tmp):
    path = debian_file()
    vals = shell_values(path)
    conf = run_import(path)
    g = keys(conf)['global']
    save, restore = vals.get('XENDOMAINS_SAVE', ''), vals.get('XENDOMAINS_RESTORE', '')
    auto, maxwait = vals.get('XENDOMAINS_AUTO', ''), vals.get('XENDOMAINS_STOP_MAXWAIT', '')
    # What Debian's init.d/xendomains does with these values.
    want = {
        'on_host_shutdown': 'save' if save else 'shutdown',
        'restore_on_boot': 'yes' if save and restore else 'no',
        'stop_unmanaged': 'yes',
        'shutdown_fallback': 'destroy',
        'shutdown_timeout': str(max(1, min(int(maxwait), 86400))) if maxwait.isdigit() else '1',
    }
    if save:
        want['save_dir'] = save
    if save and restore:
        want['on_restore_failure'] = 'fail'
    if not auto:
        want['auto_dir'] = '""'
    elif os.path.isdir(auto):
        want['auto_dir'] = auto
    expect(g, want, path)
    if auto and not os.path.isdir(auto):
        check(f';auto_dir = {auto}\n' in conf, f'{path}: missing auto_dir not shown commented out')
    check(set(g) <= set(want) | {'auto_dir'}, f'{path}: unexpected keys {set(g) - set(want)}')
    quoted_all(conf, vals, path)
    for name in ('XENDOMAINS_SAVE', 'XENDOMAINS_RESTORE', 'XENDOMAINS_AUTO',
                 'XENDOMAINS_STOP_MAXWAIT', 'XENDOMAINS_MIGRATE'):
        check(name in vals, f'{path}: Debian\'s file no longer sets {name}: review the mapping')
    check('migrate' not in ' '.join(g), f'{path}: a migrate key xendomd does not have')
    passes_check(conf, 'debian', tmp)
    print(f'{path}: {len(vals)} settings -> {", ".join(f"{k}={v}" for k, v in g.items())}')


def test_upstream(tmp):
    path = os.path.join(fixtures, 'sysconfig.xendomains')
    vals = shell_values(path)
    conf = run_import(path)
    check('as Xen\'s own xendomains script reads it' in conf, f'{path}: not read as upstream\'s')
    g = keys(conf)['global']
    want = {
        'on_host_shutdown': 'save', 'save_dir': vals['XENDOMAINS_SAVE'],
        'restore_on_boot': 'yes', 'on_restore_failure': 'fail',
        'stop_unmanaged': 'yes',             # SHUTDOWN_ALL="--all --wait"
        'shutdown_timeout': vals['XENDOMAINS_STOP_MAXWAIT'], 'shutdown_fallback': 'destroy',
    }
    expect(g, want, path)
    check(set(g) <= set(want) | {'auto_dir'}, f'{path}: unexpected keys {set(g) - set(want)}')
    quoted_all(conf, vals, path)
    check(';max_parallel_starts = 1\n' in conf, f'{path}: CREATE_USLEEP suggestion missing')
    passes_check(conf, 'upstream', tmp)


def test_netbsd(tmp):
    text = open(os.path.join(fixtures, 'rc.conf')).read().replace('@DIR@', tmp)
    path = os.path.join(tmp, 'rc.conf')
    with open(path, 'w') as f:
        f.write(text)
    for name in ('web', 'db'):
        with open(os.path.join(tmp, name + '.cfg'), 'w') as f:
            f.write(f'name = "{name}"\nmemory = 256\n')
    conf = run_import(path)
    k = keys(conf)
    expect(k['global'], {'auto_dir': '""', 'restore_on_boot': 'no',
                         'on_host_shutdown': 'shutdown', 'stop_unmanaged': 'no'}, path)
    check(list(k) == ['global', 'domain web', 'domain db'], f'{path}: sections {list(k)}')
    for name in ('web', 'db'):
        expect(k.get(f'domain {name}', {}), {'config': os.path.join(tmp, name + '.cfg')}, path)
    passes_check(conf, 'netbsd', tmp)
    # From standard input too.
    r = subprocess.run([xendomd, '--import-xendomains', '-'], input=text, capture_output=True,
                       text=True)
    check(r.returncode == 0 and '[domain web]' in r.stdout, f'stdin: exit {r.returncode}')


def test_debian_migrate(tmp):
    """Debian's own file with XENDOMAINS_MIGRATE set (its comment: `xm migrate
    DOMID` gets the value, e.g. "HOST --live"): migrate at halt, to HOST,
    bounded by STOP_MAXWAIT; the result passes --check."""
    text = open(debian_file()).read()
    text, n = re.subn(r'^XENDOMAINS_MIGRATE=.*$', 'XENDOMAINS_MIGRATE="backup.example --live"',
                      text, flags=re.M)
    check(n == 1, 'Debian\'s file has no XENDOMAINS_MIGRATE line to change')
    path = os.path.join(tmp, 'xendomains-migrate')
    with open(path, 'w') as f:
        f.write(text)
    vals = shell_values(path)
    conf = run_import(path)
    g = keys(conf)['global']
    maxwait = vals.get('XENDOMAINS_STOP_MAXWAIT', '')
    expect(g, {'on_host_shutdown': 'migrate', 'migrate_to': 'backup.example',
               'migrate_timeout': str(max(1, min(int(maxwait), 86400))) if maxwait.isdigit()
               else '1'}, path)
    check('migrate_command' not in g, f'{path}: migrate_command written without -s')
    if vals.get('XENDOMAINS_SAVE'):
        check(';on_host_shutdown = save\n' in conf, f'{path}: the save it fell back to not shown')
        check('never falls back to a save' in conf, f'{path}: the changed fallback not said')
    passes_check(conf, 'debian-migrate', tmp)


def test_errors():
    r = subprocess.run([xendomd, '--import-xendomains', '/nonexistent/xendomains'],
                       capture_output=True, text=True)
    check(r.returncode == 2 and 'No such file' in r.stderr and not r.stdout,
          f'missing file: exit {r.returncode} {r.stderr!r}')
    r = subprocess.run([xendomd, '--import-xendomains', 'a', 'b'], capture_output=True, text=True)
    check(r.returncode == 2, f'two files: exit {r.returncode}')


with tempfile.TemporaryDirectory() as tmp:
    test_debian(tmp)
    test_debian_migrate(tmp)
    test_upstream(tmp)
    test_netbsd(tmp)
    test_errors()
if failures:
    sys.exit('\n'.join(failures))
print('import-xendomains: Debian, upstream and NetBSD settings mapped and accepted by --check')
