#!/bin/sh
# SPDX-License-Identifier: ISC
# usage: check-man.sh MANDOC KEYS_C PROTO_C xendomd.8 xendomctl.8 xendomd.conf.5
#
# Each page is clean for `mandoc -Tlint` (warnings and worse), every key
# of the configuration loader has an entry in xendomd.conf(5), and every
# command of the control protocol (src/proto) has one in xendomctl(8).
set -eu
mandoc=$1 load_c=$2 ctl_c=$3
shift 3
fail=0
for page in "$@"; do
	out=$("$mandoc" -Tlint -W warning "$page" 2>&1) || true
	if [ -n "$out" ]; then
		printf '%s\n' "$out"
		fail=1
	fi
	case "$page" in
	*xendomd.conf.5) conf5=$page ;;
	*xendomctl.8) ctl8=$page ;;
	esac
done

keys=$(sed -n 's/^[[:space:]]*\[KEY_[A-Z_]*\] = { "\([a-z_]*\)".*/\1/p' "$load_c")
[ -n "$keys" ] || { echo "no keys found in $load_c"; exit 1; }
for k in $keys; do
	grep -q -E "^\.It Cm ([a-z_]+ , )*$k( |$)" "$conf5" ||
		{ echo "xendomd.conf.5 does not document $k"; fail=1; }
done

cmds=$(sed -n 's/^[[:space:]]*{ XD_CMD_[A-Z_]*, "\([a-z-]*\)",.*/\1/p' "$ctl_c")
[ -n "$cmds" ] || { echo "no commands found in $ctl_c"; exit 1; }
for c in $cmds; do
	grep -q -E "^\.It Cm $c( |$)" "$ctl8" ||
		{ echo "xendomctl.8 does not document $c"; fail=1; }
done
exit $fail
