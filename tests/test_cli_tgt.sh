#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The CLI story against a real tgtd, every step a separate prpath process
# (issue 8, item 9). tgt ties a registration to the session that made it,
# so each new process finds its paths unregistered although its key holds
# the LU: the host commands register them under the "K present" rule and go
# on. Two sessions per host through tgt's one portal (two spellings of the
# portal are two paths, two ISIDs).
# Exit 77 only when tgtd cannot run here (tests/tgt_env.sh).
set -u
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
PRPATH=${PRPATH:?PRPATH must point at the prpath binary}
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 missing"; exit 77; }
# shellcheck source=tests/tgt_env.sh
. "$SRCDIR/tests/tgt_env.sh"
IQN=iqn.2026-11.io.prpath:cli-tgt
tgt_env_start
tgt_env_add_target "$IQN" || exit 1
tgt_env_add_lun "$TGT_TID" 1 8 || exit 1

OUT=$TGT_DIR/out
ERR=$TGT_DIR/err
fail() { echo "FAIL: $*"; tail -20 "$TGT_LOG"; exit 1; }
expect() { # expect STATUS DESCRIPTION -- command...
	local want=$1 what=$2; shift 3
	"$@" >"$OUT" 2>"$ERR"; local rc=$?
	[ "$rc" -eq "$want" ] || { cat "$OUT" "$ERR"; fail "$what: exit $rc, expected $want"; }
	echo "ok: $what (exit $rc)"
}
jq_py() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); $1" "$OUT" || fail "$2: $(cat "$OUT")"; }

P1="iscsi://127.0.0.1:$TGT_PORT/$IQN/1"
P2="iscsi://localhost:$TGT_PORT/$IQN/1"
A="-i iqn.2026-11.io.prpath:tgt-a"
B="-i iqn.2026-11.io.prpath:tgt-b"
T="--timeout 10"

expect 0 "A acquires over two sessions" -- "$PRPATH" $T $A acquire "$P1" "$P2"
expect 0 "A writes through path 1 (a new process: new sessions)" -- "$PRPATH" $T $A write --via 1 --lba 8 --pattern 0xa1 "$P1" "$P2"
expect 0 "A writes through path 2" -- "$PRPATH" $T $A write --via 2 --lba 9 --pattern 0xa2 "$P1" "$P2"
expect 24 "B's acquire is refused" -- "$PRPATH" $T $B acquire "$P1" "$P2"
grep -q "reserved by another host" "$ERR" || fail "B's refusal: $(cat "$ERR")"
expect 0 "READ KEYS: none of B" -- "$PRPATH" $T $B -o json pr in --read-keys "$P1"
jq_py 'assert len(d["keys"]) >= 2 and len(set(d["keys"])) == 1, d' "keys after B's refusal"
AKEY=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["keys"][0])' "$OUT")
expect 24 "B's write is refused" -- "$PRPATH" $T $B write --lba 8 --pattern 0xbb "$P1" "$P2"
expect 0 "B takes over" -- "$PRPATH" $T $B takeover "$P1" "$P2"
expect 24 "A's write after the takeover" -- "$PRPATH" $T $A write --lba 8 --pattern 0xa3 "$P1" "$P2"
expect 0 "no key of A is left" -- "$PRPATH" $T -o json pr in --read-keys "$P1"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert sys.argv[2] not in d["keys"] and d["keys"], d' "$OUT" "$AKEY" || fail "A's key after the takeover: $(cat "$OUT")"
expect 0 "B writes" -- "$PRPATH" $T $B write --lba 8 --pattern 0xb2 "$P1" "$P2"
expect 0 "B reads it back (json)" -- "$PRPATH" $T $B -o json read --lba 8 --count 2 "$P1" "$P2"
jq_py 'assert d["data_hex"] == "b2" * 512 + "a2" * 512, d["data_hex"][::512]' "blocks 8 and 9"
expect 24 "A's acquire is refused" -- "$PRPATH" $T $A acquire "$P1" "$P2"
expect 0 "B releases" -- "$PRPATH" $T $B release "$P1" "$P2"
expect 0 "nothing reserved" -- "$PRPATH" $T -o json pr in --read-reservation "$P1"
jq_py 'assert d["reservation"] is None, d' "reservation after B's release"
expect 0 "nothing registered" -- "$PRPATH" $T -o json pr in --read-keys "$P1"
jq_py 'assert d["keys"] == [], d' "keys after B's release"
# ---- issue 20 against tgt (no READ FULL STATUS, no PREEMPT AND ABORT) ------
keys_are() { # keys_are DESCRIPTION PYTHON-CONDITION-ON-k
	expect 0 "$1: read keys" -- "$PRPATH" $T -o json pr in --read-keys "$P1"
	python3 -c "import json,sys; k=json.load(open(sys.argv[1]))['keys']; assert $2, k" "$OUT" ||
		fail "$1: keys $(cat "$OUT")"
}
expect 1 "mode and type disagree" -- "$PRPATH" $T $A acquire --mode exclusive --type wear "$P1" "$P2"
expect 0 "B registers only (0xb2)" -- "$PRPATH" $T $B -k 0xb2 pr out --register-ignore "$P2"
expect 24 "A's exclusive acquire with B's key registered" -- "$PRPATH" $T $A acquire "$P1" "$P2"
grep -q "other hosts' keys are registered on the LU, 1 registration(s) of other key (0x00000000000000b2)" "$ERR" ||
	fail "other keys on tgt: $(cat "$ERR")"
keys_are "A's refused acquire sent nothing" 'k == ["0x00000000000000b2"]'
expect 0 "A takes over: B's registration is preempted" -- "$PRPATH" $T $A -o json takeover "$P1" "$P2"
jq_py 'assert d["preempted_keys"] == ["0x00000000000000b2"], d' "takeover on tgt"
keys_are "only A after the takeover" '"0x00000000000000b2" not in k and len(set(k)) == 1'
expect 24 "B cannot write through its old nexus" -- "$PRPATH" $T $B -k 0xb2 write --unprotected --lba 3 --pattern 0xb2 "$P2"
# release through one path only: tgt cannot say which nexus holds, but K
# counted more often than the paths moves the reservation all the same
expect 0 "A releases through path 2 only" -- "$PRPATH" $T $A release "$P2"
keys_are "nothing of A after releasing through path 2 only" 'k == []'
expect 0 "nothing reserved after it" -- "$PRPATH" $T -o json pr in --read-reservation "$P1"
jq_py 'assert d["reservation"] is None, d' "reservation after A's release through path 2"
echo "PASS"
