#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A reservation taken with acquire/takeover survives a target restart
# (APTPL by default, issue 8 item 4), re-running acquire never clears APTPL,
# --no-aptpl opts out, and after a restart without state nothing of this
# host is registered, so its I/O is refused (item 5).
set -u
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
. "$SRCDIR/tests/target_lib.sh"
tl_need python3

TMP=$(mktemp -d)
TARGET_PID=
trap tl_cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$TMP/target.log" ] && tail -20 "$TMP/target.log"; exit 1; }
expect() { # expect STATUS DESCRIPTION -- command...
	local want=$1 what=$2; shift 3
	"$@" >"$TMP/out" 2>"$TMP/err"; local rc=$?
	[ "$rc" -eq "$want" ] || { cat "$TMP/out" "$TMP/err"; fail "$what: exit $rc, expected $want"; }
	echo "ok: $what (exit $rc)"
}
jq_py() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); $1" "$TMP/out" || fail "$2: $(cat "$TMP/out")"; }

PORT1=$(tl_free_port)
mkdir -p "$TMP/state"
start() { tl_start_target --portal "127.0.0.1:$PORT1" --lun "$TMP/lu0:8M" "$@"; }
U="iscsi://127.0.0.1:$PORT1/$IQN/0"
A="-i iqn.2026-11.io.prpath:aptpl-a"
B="-i iqn.2026-11.io.prpath:aptpl-b"

start --state-dir "$TMP/state"
expect 0 "A acquires (json)" -- "$PRPATH" $A -o json acquire "$U"
jq_py 'assert d["aptpl"] is True and d["already_held"] is False, d' "aptpl asked by default"
expect 0 "A writes" -- "$PRPATH" $A write --lba 4 --pattern 0xa1 "$U"
tl_stop_target || exit 1
start --state-dir "$TMP/state"
expect 0 "after a restart: A's status (json)" -- "$PRPATH" $A -o json status "$U"
jq_py 'r = d["device"]["reservation"]; assert r and r["ours"] and r["type"] == "wero" and d["device"]["key_registrations"] == 1, d' "the reservation survived"
expect 24 "after a restart: B still cannot write" -- "$PRPATH" $B write --unprotected --lba 4 --pattern 0xb1 "$U"
expect 0 "after a restart: A writes" -- "$PRPATH" $A write --lba 4 --pattern 0xa2 "$U"
expect 0 "A acquires again (already held)" -- "$PRPATH" $A -o json acquire "$U"
jq_py 'assert d["already_held"] is True, d' "already held"
expect 0 "PTPL_A is still set" -- "$PRPATH" -o json pr in --report-capabilities "$U"
jq_py 'assert d["ptpl_a"] is True, d' "PTPL_A after a second acquire"
expect 0 "A releases" -- "$PRPATH" $A release "$U"

# --no-aptpl: the reservation does not outlive the target
expect 0 "A acquires --no-aptpl (json)" -- "$PRPATH" $A -o json acquire --no-aptpl "$U"
jq_py 'assert d["aptpl"] is False, d' "--no-aptpl"
tl_stop_target || exit 1
start --state-dir "$TMP/state"
expect 0 "after a restart: nothing reserved" -- "$PRPATH" -o json pr in --read-reservation "$U"
jq_py 'assert d["reservation"] is None, d' "no reservation after --no-aptpl"
expect 24 "after a restart: A's write is refused (it holds nothing)" -- "$PRPATH" $A write --lba 4 --pattern 0xa3 "$U"
grep -q "does not hold the LU's reservation" "$TMP/err" || fail "refusal message: $(cat "$TMP/err")"
expect 0 "the block holds A's last write" -- "$PRPATH" $A -o json read --unprotected --lba 4 "$U"
jq_py 'assert d["data_hex"] == "a2" * 512, d["data_hex"][:16]' "block 4"
tl_stop_target || exit 1
echo "PASS"
