# SPDX-License-Identifier: ISC
# /usr/lib/xenlab/lib.sh - helpers for the lab's dom0 init and scenarios.
# POSIX sh (busybox ash runs the init; scenarios run under bash).
#
# Results leave dom0 as serial console lines "@@XT NAME key=value ...":
#   mark NAME k=v...   a progress marker (xenlab-run timestamps it on the host)
#   figure k=v...      figures the host collects and prints at the end
#   pass / fail MSG    the verdict; a scenario without "RESULT PASS" fails
#   next_boot          ask the host to boot the lab again with the same disk

XENLAB_GUEST_DIR=/usr/lib/xenlab/guest

up() { cut -d' ' -f1 /proc/uptime; }
mark() { echo "@@XT $* dom0_uptime=$(up)"; }
figure() { echo "@@XT FIGURE $*"; }
pass() { mark "RESULT PASS"; exit 0; }
fail() { mark "RESULT FAIL $*"; exit 1; }
next_boot() { mark NEXT_BOOT; exit 0; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }

# cmdline_arg NAME [DEFAULT]: value of NAME=... on the kernel command line
cmdline_arg() {
    for _w in $(cat /proc/cmdline); do
        case "$_w" in "$1="*) echo "${_w#*=}"; return 0 ;; esac
    done
    echo "${2:-}"
}

# guest_cfg NAME [GUEST_FLAGS [EXTRA_CFG_LINE...]]: write /etc/xen/NAME.cfg for
# a lab guest: the Debian kernel with the lab's tiny initramfs (guest/init).
# GUEST_FLAGS are kernel command line flags guest/init understands:
#   xenlab.ready_delay=S   write data/ready=1 to XenStore S seconds after init starts
#   xenlab.crash=S         panic S seconds after writing data/ready
#   xenlab.reboot=S        reboot S seconds after writing data/ready (every boot)
#   xenlab.ignore_shutdown=1   log and ignore PV shutdown/reboot requests
#   xenlab.heartbeat=S     every S seconds log "alive" and write data/heartbeat=<uptime>
guest_cfg() {
    _name=$1; _flags=${2:-}
    shift; [ $# -gt 0 ] && shift
    {
        echo "name = \"$_name\""
        echo 'type = "pv"'
        echo "kernel = \"$XENLAB_GUEST_DIR/vmlinuz.gz\""
        echo "ramdisk = \"$XENLAB_GUEST_DIR/initrd.cpio\""
        echo 'memory = 128'
        echo 'vcpus = 1'
        echo "extra = \"console=hvc0 loglevel=4 $_flags\""
        for _l in "$@"; do echo "$_l"; done
    } > "/etc/xen/$_name.cfg"
}

domid_of() { xl domid "$1" 2>/dev/null; }

# domain_state NAME: xl's state flags (e.g. "-b----"), empty if no such domain
domain_state() { xl list "$1" 2>/dev/null | awk 'NR == 2 { print $5 }'; }

# guest_ready NAME: true once the guest wrote exactly "1" to data/ready.
# The value is guest-written: read a bounded prefix, compare exactly.
guest_ready() {
    _id=$(domid_of "$1") || return 1
    _v=$(xenstore-read "/local/domain/$_id/data/ready" 2>/dev/null | head -c 16)
    [ "$_v" = 1 ]
}

# wait_ready TIMEOUT_S NAME...: wait until every named guest is ready
wait_ready() {
    _limit=$(awk -v u="$(up)" -v t="$1" 'BEGIN { printf "%d", u + t }')
    shift
    for _g in "$@"; do
        until guest_ready "$_g"; do
            [ "$(up | cut -d. -f1)" -lt "$_limit" ] || { echo "wait_ready: $_g not ready"; return 1; }
            sleep 0.2
        done
    done
}

# only_dom0_left: true when xl lists no domain but Domain-0
only_dom0_left() { [ "$(xl list | awk 'NR > 1 && $1 != "Domain-0"' | wc -l)" -eq 0 ]; }

# guest_console NAME: the guest's console log (xenconsoled), \r stripped
guest_console() { tr -d '\r' 2>/dev/null < "/var/log/xen/console/guest-$1.log"; }
