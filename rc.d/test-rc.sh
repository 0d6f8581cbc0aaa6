#!/bin/sh
# SPDX-License-Identifier: ISC
# usage: test-rc.sh RC_SCRIPT SHELLCHECK XENDOMD
#
# The rc.d script parses (sh -n), is clean for shellcheck, and turns
# rc.conf's xendomains="a b" list into an include file that the real
# xendomd accepts -- run here with stand-ins for rc.subr's functions.
set -eu
script=$1 shellcheck=$2 xendomd=$3
sh -n "$script"
"$shellcheck" -s sh "$script"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/xen" "$tmp/conf.d" "$tmp/save" "$tmp/state"
for d in a b c; do
	printf 'name = "%s"\nmemory = 128\n' "$d" > "$tmp/xen/$d"
done
cat > "$tmp/xendomd.conf" <<CONF
[global]
xen_config_dir = $tmp/xen
auto_dir = ""
include_dir = $tmp/conf.d   ; where the list goes
save_dir = $tmp/save
state_dir = $tmp/state
socket = $tmp/control
[domain b]
config = $tmp/xen/b
CONF

fail() { echo "FAIL: $*"; exit 1; }

# What rc.subr provides, reduced to nothing; the script only defines
# its functions when sourced like this.
load_rc_config() { :; }
run_rc_command() { :; }
_rc_subr_loaded=:
# shellcheck disable=SC1090
. "$script"

xendomd_config=$tmp/xendomd.conf
xendomains="c a b"
xendomains_config="$tmp/xen/%s"
[ "$(xendomd_include_dir)" = "set:$tmp/conf.d" ] || fail "include_dir: $(xendomd_include_dir)"
xendomd_write_rcconf
inc=$tmp/conf.d/zz-rc.conf-xendomains.conf
[ -f "$inc" ] || fail "no include file"
sections=$(grep '^\[domain' "$inc" | tr '\n' ' ')
[ "$sections" = "[domain c] [domain a] " ] || fail "sections: $sections"
grep -q "^config = $tmp/xen/c\$" "$inc" || fail "config path of c"
grep -q '^; b: has its own \[domain\] section$' "$inc" || fail "b not skipped"
"$xendomd" --check -c "$tmp/xendomd.conf" > "$tmp/check.out" ||
	{ cat "$tmp/check.out"; fail "xendomd --check refused the generated file"; }
"$xendomd" --plan -c "$tmp/xendomd.conf" > "$tmp/plan.out"
grep -q 'c' "$tmp/plan.out" && grep -q 'a' "$tmp/plan.out" || fail "plan: $(cat "$tmp/plan.out")"

# An emptied list removes the file.
xendomains=""
xendomd_write_rcconf
[ ! -e "$inc" ] || fail "include file left behind"

# Without include_dir in [global], the default is used.
sed -i '/^include_dir/d' "$tmp/xendomd.conf"
[ "$(xendomd_include_dir)" = "default:/etc/xendomd/conf.d" ] ||
	fail "default include_dir: $(xendomd_include_dir)"
# include_dir = "" disables includes: the list is ignored, loudly.
sed -i 's|^\[global\]$|[global]\ninclude_dir = ""|' "$tmp/xendomd.conf"
xendomains="a"
err=$(xendomd_write_rcconf 2>&1)
case "$err" in *"is ignored"*) ;; *) fail "no warning: $err" ;; esac
echo "ok"
