# SPDX-License-Identifier: ISC
# Shared by the libxl-*.sh scenarios: xendomd on the libxl backend in the lab.
# Sourced after /usr/lib/xenlab/lib.sh.

XD_CONF=/etc/xendomd/xendomd.conf
XD_LOG=/root/xendomd.log

# A guest-less dom0 has no entropy: xl's libuuid then spins on getrandom()
# (doc/xen-facts.md §9), starving xenconsoled until libxl's 10 s console wait
# fails creates.  A blocking read makes the kernel seed its CRNG (jitter).
head -c 1 /dev/random >/dev/null

# xd_conf [GLOBAL_LINE...]: start xendomd.conf; add domains with xd_domain.
xd_conf() {
    {
        echo '[global]'
        echo 'auto_dir ='
        echo 'include_dir ='
        for _l in "$@"; do echo "$_l"; done
    } > "$XD_CONF"
}

# xd_domain NAME [LINE...]: a [domain NAME] section for /etc/xen/NAME.cfg
xd_domain() {
    _n=$1; shift
    {
        echo
        echo "[domain $_n]"
        echo "config = /etc/xen/$_n.cfg"
        for _l in "$@"; do echo "$_l"; done
    } >> "$XD_CONF"
}

xd_start() {
    xendomd --check -c "$XD_CONF" || fail "xendomd --check refused $XD_CONF"
    xendomd -f -v -c "$XD_CONF" --backend libxl >>"$XD_LOG" 2>&1 &
    XD_PID=$!
    [ -n "$XD_HEARTBEAT_PID" ] || xd_heartbeat &
    XD_HEARTBEAT_PID=${XD_HEARTBEAT_PID:-$!}
}

# Every 30 s: the domains and the daemon's last log lines on the console,
# so a run that hangs still says where.
xd_heartbeat() {
    while sleep 30; do
        echo "--- heartbeat $(up)"
        xl list 2>&1 | awk 'NR > 1 { printf "%s(%s,%s) ", $1, $2, $5 } END { print "" }'
        tail -n 3 "$XD_LOG"
    done
}

xd_log_tail() { tail -n "${1:-60}" "$XD_LOG"; }

# xdctl ARGS...: xendomctl, bounded (a daemon that stops answering must
# fail the scenario with its log, not hang it)
xdctl() { timeout 120 xendomctl "$@"; }
# xd_halt: the host-shutdown sequence, waited for (bounded as well)
xd_halt() { timeout 600 xendomctl shutdown-host --wait; }

# xd_reason NAME: the reason NAME is in its state (from --json status)
xd_reason() {
    xdctl --json status "$1" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["domains"][0]["reason"])'
}

# xd_state NAME: the xendomd(8) state word of NAME ("" if the daemon does not
# answer); the table's second column (no python: it starts slowly here)
xd_state() { xdctl status "$1" 2>/dev/null | awk 'NR == 2 { print $2 }'; }

# xd_wait_state TIMEOUT_S STATE NAME...: every NAME in STATE
xd_wait_state() {
    _limit=$(awk -v u="$(up)" -v t="$1" 'BEGIN { printf "%d", u + t }')
    _want=$2; shift 2
    for _g in "$@"; do
        _n=0
        until _s=$(xd_state "$_g") && [ "$_s" = "$_want" ]; do
            [ "$(up | cut -d. -f1)" -lt "$_limit" ] || { echo "xd_wait_state: $_g is '$_s', not $_want"; return 1; }
            _n=$((_n + 1)); [ $((_n % 40)) -ne 0 ] || echo "xd_wait_state: $_g is '$_s' at $(up)"
            sleep 0.5
        done
    done
}

# xd_stop_daemon: SIGTERM (the host is not halting: guests keep running);
# its exit status goes to the console (128+N: killed by signal N)
xd_stop_daemon() {
    kill -TERM "$XD_PID" 2>/dev/null
    wait "$XD_PID" 2>/dev/null
    mark XENDOMD_EXIT status=$?
}

# count_named NAME: how many domains called NAME xl lists (0, 1, ...)
count_named() { xl list | awk -v n="$1" '$1 == n' | wc -l; }

# xd_fail MSG: fail with the daemon's log and xl list on the console
xd_fail() { xd_log_tail 80; xl list; fail "$*"; }

# xd_timeline_check LABEL <<'PY' ... PY: python assertions on the daemon's
# `xendomctl --json timeline`: `t` maps each name to its entry, and
# `need(ok, msg)` fails (printing LABEL, msg and the timeline) when not ok
xd_timeline_check() {
    xdctl --json timeline > /root/timeline.json || xd_fail "xendomctl timeline"
    python3 -c "
import json, sys
t = {d['name']: d for d in json.load(open('/root/timeline.json'))['domains']}
def need(ok, msg):
    if not ok:
        print('$1:', msg, json.dumps(t))
        sys.exit(1)
$(cat)"
}
