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

# ---- state follows the LU, not the LUN number or the file name (items 2, 3) --
lu_id() { "$PRPATH" $A -o json status "$1" >"$TMP/out" 2>"$TMP/err" || fail "status $1: $(cat "$TMP/err")"
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["lu_id"])' "$TMP/out"; }
U0="iscsi://127.0.0.1:$PORT1/$IQN/0"
U1="iscsi://127.0.0.1:$PORT1/$IQN/1"
start --state-dir "$TMP/state" --lun "$TMP/luB:8M"
idA=$(lu_id "$U0"); idB=$(lu_id "$U1")
[ "$idA" != "$idB" ] || fail "two LUs with one identity: $idA"
expect 0 "A acquires LU 0 (file lu0)" -- "$PRPATH" $A acquire "$U0"
tl_stop_target || exit 1
# the files swapped on the command line, lu0 renamed: the reservation
# stays with lu0's blocks, now LUN 1
mv "$TMP/lu0" "$TMP/lu0-renamed"
start_swapped() { tl_start_target --portal "127.0.0.1:$PORT1" --lun "$TMP/luB" --lun "$TMP/lu0-renamed" "$@"; }
start_swapped --state-dir "$TMP/state"
[ "$(lu_id "$U1")" = "$idA" ] || fail "renamed lu0 changed identity: $(lu_id "$U1") != $idA"
[ "$(lu_id "$U0")" = "$idB" ] || fail "luB changed identity"
expect 0 "LUN 1 (lu0, renamed) still reserved by A" -- "$PRPATH" $A -o json status "$U1"
jq_py 'r = d["device"]["reservation"]; assert r and r["ours"], d' "reservation followed the LU"
expect 0 "LUN 0 (luB) has nothing" -- "$PRPATH" -o json pr in --read-reservation "$U0"
jq_py 'assert d["reservation"] is None, d' "nothing moved onto luB"
expect 0 "A writes to LUN 1" -- "$PRPATH" $A write --lba 1 --pattern 0x5e "$U1"
expect 24 "A may not write to LUN 0" -- "$PRPATH" $A write --lba 1 --pattern 0x5e "$U0"
tl_stop_target || exit 1
grep -q "serial $(printf %s "$idA" | tail -c 16)" "$TMP/target.log" || fail "the target log does not name the serial: $(head -5 "$TMP/target.log")"

# a second target sharing the state directory serves another LU: its own
# state file, nothing overwritten; the first target's state is reported,
# not loaded
PORT2=$(tl_free_port)
"$PRPATH" target --portal "127.0.0.1:$PORT2" --lun "$TMP/luC:8M" --state-dir "$TMP/state" 2>"$TMP/t2.log" & T2=$!
for _ in $(seq 1 50); do grep -q "portal 127.0.0.1:$PORT2" "$TMP/t2.log" && break; sleep 0.1; done
UC="iscsi://127.0.0.1:$PORT2/$IQN/0"
expect 0 "B acquires luC on the second target" -- "$PRPATH" $B acquire "$UC"
kill -TERM "$T2"; wait "$T2"
grep -q "reservation state of an LU (serial $(printf %s "$idA" | tail -c 16)) this target does not serve: left as is" "$TMP/t2.log" ||
	fail "foreign state not reported: $(cat "$TMP/t2.log")"
start_swapped --state-dir "$TMP/state"
expect 0 "A's reservation on lu0 survived the second target" -- "$PRPATH" $A -o json status "$U1"
jq_py 'r = d["device"]["reservation"]; assert r and r["ours"], d' "A's state after the second target"
tl_stop_target || exit 1

# one identity twice: refused, nothing served
printf 'x' >"$TMP/state/lun0.pr"
rc=0
timeout 10 "$PRPATH" target --portal "127.0.0.1:$PORT1" --lun "$TMP/luD:1M,serial=00000000000000aa" \
	--lun "$TMP/luE:1M,serial=00000000000000aa" --state-dir "$TMP/state" >"$TMP/out" 2>&1 || rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "two LUs with one serial: exit $rc"
grep -q "is in use by another device server (two LUs with one serial?)" "$TMP/out" || fail "one serial twice: $(cat "$TMP/out")"
# a given serial is the identity; a 0.1 state file (by LUN number) is reported
start --state-dir "$TMP/state" --lun "$TMP/luF:1M,serial=0123456789abcdef"
[ "$(lu_id "$U1")" = "600000e0707270610123456789abcdef" ] || fail "serial= not used: $(lu_id "$U1")"
tl_stop_target || exit 1
grep -q "lun0.pr: state from prpath 0.1, keyed by LUN number: not loaded" "$TMP/target.log" ||
	fail "legacy state not reported: $(cat "$TMP/target.log")"
echo "PASS"
