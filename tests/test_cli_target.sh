#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The host commands against prpath's own iSCSI target over loopback:
# host A acquires over two paths (two portals = two target ports), writes;
# host B takes over; A's write now fails with exit status 24; B releases.
# Exit 77 (skip) only when the target cannot start.
set -u
PRPATH=${PRPATH:?PRPATH must point at the prpath binary}
TMP=$(mktemp -d)
TPID=
PROXY=
cleanup() {
	if [ -n "$PROXY" ]; then kill "$PROXY" 2>/dev/null; wait "$PROXY" 2>/dev/null; fi
	if [ -n "$TPID" ]; then kill "$TPID" 2>/dev/null; wait "$TPID" 2>/dev/null; fi
	rm -rf "$TMP"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; [ -f "$TMP/target.log" ] && tail -20 "$TMP/target.log"; exit 1; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

started=
for try in 1 2 3 4 5 6 7 8; do
	P1=$(( 20000 + (RANDOM % 6000) * 2 )) # below the ephemeral range (32768-)
	P2=$(( P1 + 1 ))
	port_free "$P1" && port_free "$P2" || continue
	"$PRPATH" target --portal "127.0.0.1:$P1" --portal "127.0.0.1:$P2" \
		--lun "$TMP/lu0:16M" --lun "$TMP/lu1:1M" --lun "$TMP/lu2:40M" >"$TMP/target.log" 2>&1 &
	TPID=$!
	for i in $(seq 1 50); do
		if ! kill -0 "$TPID" 2>/dev/null; then break; fi
		if ! port_free "$P1" && ! port_free "$P2"; then started=1; break; fi
		sleep 0.1
	done
	[ -n "$started" ] && break
	kill "$TPID" 2>/dev/null; wait "$TPID" 2>/dev/null; TPID=
done
if [ -z "$started" ]; then
	echo "SKIP: prpath target could not start"; cat "$TMP/target.log" 2>/dev/null
	exit 77
fi

# A second device server on the same backing file is refused: it would
# keep a PR state of its own for the same LU.
P3=$(( P2 + 1 ))
rc=0
timeout 10 "$PRPATH" target --portal "127.0.0.1:$P3" --lun "$TMP/lu0:16M" \
	>"$TMP/second.out" 2>"$TMP/second.err" || rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "second target on the same file: exit $rc"
grep -q "in use by another device server" "$TMP/second.err" ||
	fail "second target on the same file: $(cat "$TMP/second.err")"
echo "ok: a second target on the same backing file is refused (exit $rc)"

# A portal whose port is taken names the likely cause (the system's tgtd on
# 3260 is what a new user meets).
rc=0
timeout 10 "$PRPATH" target --portal "127.0.0.1:$P1" --lun "$TMP/other:1M" \
	>"$TMP/busy.out" 2>"$TMP/busy.err" || rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "target on a busy port: exit $rc"
grep -q "address already in use (another iSCSI target" "$TMP/busy.err" ||
	fail "target on a busy port: $(cat "$TMP/busy.err")"
echo "ok: a busy portal port is refused with its likely cause (exit $rc)"


IQN=iqn.2026-11.io.prpath:target
U1="iscsi://127.0.0.1:$P1/$IQN/0"
U2="iscsi://127.0.0.1:$P2/$IQN/0"
A="-i iqn.2026-11.io.prpath:test-a"
B="-i iqn.2026-11.io.prpath:test-b"

expect() { # expect STATUS DESCRIPTION -- command...
	local want=$1 what=$2; shift 3
	"$@" >"$TMP/out" 2>"$TMP/err"; local rc=$?
	[ "$rc" -eq "$want" ] || { cat "$TMP/out" "$TMP/err"; fail "$what: exit $rc, expected $want"; }
	echo "ok: $what (exit $rc)"
}

expect 0 "A acquires over two paths" -- "$PRPATH" $A acquire "$U1" "$U2"
expect 0 "A status (json)" -- "$PRPATH" $A -o json status "$U1" "$U2"
python3 - "$TMP/out" <<'PY' || fail "A status json content"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema_version"] == 1, d
assert d["device"]["registrations"] == 2, d
assert d["device"]["key_registrations"] == 2, d
assert d["device"]["reservation"]["ours"] is True, d
assert d["device"]["reservation"]["type"] == "wero", d
assert [p["registered"] for p in d["paths"]] == [True, True], d
assert [p["relative_target_port"] for p in d["paths"]] == [1, 2], d
assert sum(1 for p in d["paths"] if p["reservation_holder"]) == 1, d
PY
# A path is what it is (initiator, portal, target), not its position:
# the paths in the other order are the same two registered nexuses.
expect 0 "A status with the paths in the other order (json)" -- "$PRPATH" $A -o json status "$U2" "$U1"
python3 - "$TMP/out" <<'PY' || fail "A status P2 P1 json content"
import json, sys
d = json.load(open(sys.argv[1]))
assert [p["registered"] for p in d["paths"]] == [True, True], d
assert [p["relative_target_port"] for p in d["paths"]] == [2, 1], d
assert d["device"]["registrations"] == 2, d
PY
expect 0 "A writes with the paths in the other order" -- "$PRPATH" $A write --lba 12 --pattern 0x5a "$U2" "$U1"
# a PATH given twice is one nexus, not a second path: usage error, and
# nothing is sent
expect 1 "A status with a PATH given twice" -- "$PRPATH" $A status "$U1" "$U1"
grep -q "PATH 2 (.*) is the same path as PATH 1" "$TMP/err" || fail "duplicate PATH message: $(cat "$TMP/err")"
expect 1 "A acquire with a PATH given twice" -- "$PRPATH" $A acquire "$U2" "$U1" "$U2"
expect 0 "still two registrations" -- "$PRPATH" $A -o json pr in --read-keys "$U1"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["keys"]) == 2, d' "$TMP/out" || fail "keys after a duplicate PATH"

# Looking never disturbs I/O: status and pr in log in on an observer port
# of their own, so they do not reinstate (end) the sessions of a read that
# runs at the same time.
(
	for i in $(seq 1 15); do
		"$PRPATH" $A status "$U1" "$U2" >/dev/null 2>&1
		"$PRPATH" $A pr in --read-keys "$U1" >/dev/null 2>&1
	done
) &
LOOKER=$!
bad=0
for i in $(seq 1 15); do
	timeout 30 "$PRPATH" $A read --lba 0 --count 8192 --out "$TMP/big" "$U1" "$U2" 2>>"$TMP/readerr" || bad=$((bad + 1))
done
wait "$LOOKER"
[ "$bad" -eq 0 ] || fail "$bad of 15 reads failed while status ran: $(tail -3 "$TMP/readerr")"
echo "ok: 15 reads while status and pr in ran alongside"

expect 0 "A writes through path 2" -- "$PRPATH" $A write --lba 10 --count 2 --via 2 --pattern 0xa5 "$U1" "$U2"
expect 0 "A reads it back" -- "$PRPATH" $A read --lba 10 --count 2 --out "$TMP/blk" "$U1" "$U2"
[ "$(od -An -tx1 -v "$TMP/blk" | tr -s ' \n' '\n\n' | grep -c '^a5$')" -eq 1024 ] || fail "read data is not the pattern"
expect 24 "B's acquire is refused" -- "$PRPATH" $B acquire "$U1" "$U2"
grep -q "reserved by another host" "$TMP/err" || fail "B's refusal message: $(cat "$TMP/err")"
expect 0 "B's refused acquire left no key of B" -- "$PRPATH" $B -o json pr in --read-keys "$U1"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["keys"]) == 2 and len(set(d["keys"])) == 1, d' "$TMP/out" || fail "keys after B's refusal"
expect 0 "B takes over" -- "$PRPATH" $B takeover "$U1" "$U2"
expect 24 "A's write after the takeover" -- "$PRPATH" $A write --lba 10 --pattern 0x11 "$U1" "$U2"
grep -q "not registered" "$TMP/err" || fail "A's conflict message: $(cat "$TMP/err")"
expect 0 "B writes" -- "$PRPATH" $B write --lba 10 --pattern 0x22 "$U1" "$U2"
expect 0 "B reads (json)" -- "$PRPATH" $B -o json read --lba 10 "$U1" "$U2"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["data_hex"] == "22"*512, d["data_hex"][:64]' "$TMP/out" || fail "block 10 is not B's"
expect 0 "B releases" -- "$PRPATH" $B release "$U1" "$U2"
expect 0 "nobody holds the LU" -- "$PRPATH" $B -o json pr in --read-reservation "$U2"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["reservation"] is None, d' "$TMP/out" || fail "reservation after release"
expect 0 "keys after release" -- "$PRPATH" $B -o json pr in --read-keys "$U1"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["keys"] == [], d' "$TMP/out" || fail "keys after B's release"
# raw PR OUT: register / reserve / release / unregister as sg_persist would
expect 0 "pr out --register-ignore" -- "$PRPATH" $A -k 0x1234 pr out --register-ignore "$U1"
expect 0 "pr out --reserve" -- "$PRPATH" $A -k 0x1234 pr out --reserve --prout-type wero "$U1"
expect 24 "pr out --reserve from an unregistered nexus" -- "$PRPATH" $B -k 0x99 pr out --reserve --prout-type 5 "$U2"
expect 0 "pr in --read-full-status" -- "$PRPATH" $A pr in --read-full-status "$U1"
grep -q "Key=0x1234" "$TMP/out" && grep -q "<< Reservation holder >>" "$TMP/out" || fail "full status: $(cat "$TMP/out")"
expect 0 "pr in --report-capabilities" -- "$PRPATH" $A pr in --report-capabilities "$U1"
expect 0 "pr out --release" -- "$PRPATH" $A -k 0x1234 pr out --release --prout-type wero "$U1"
expect 0 "pr out unregister" -- "$PRPATH" $A pr out --register-ignore --param-sark 0 "$U1"
expect 1 "pr out without a service action" -- "$PRPATH" pr out "$U1"

# a refused PR OUT: one line naming the action and the path, exit 24,
# nothing on stdout (with -o json too)
expect 0 "pr out --register-ignore (0x1234)" -- "$PRPATH" $A -k 0x1234 pr out --register-ignore "$U1"
expect 0 "pr out --reserve (0x1234)" -- "$PRPATH" $A -k 0x1234 pr out --reserve --prout-type wero "$U1"
expect 24 "pr out --reserve -o json from another nexus" -- "$PRPATH" $B -k 0x99 -o json pr out --reserve --prout-type wero "$U2"
grep -qx "prpath: pr out: RESERVE on $U2: RESERVATION CONFLICT" "$TMP/err" || fail "refused RESERVE message: $(cat "$TMP/err")"
# with -o json the refusal is also a JSON error document on stdout
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["error"]["exit_status"] == 24 and d["error"]["message"] == "pr out: RESERVE on " + sys.argv[2] + ": RESERVATION CONFLICT", d' "$TMP/out" "$U2" ||
	fail "refused RESERVE JSON error document: $(cat "$TMP/out")"
expect 0 "pr out --clear" -- "$PRPATH" $A -k 0x1234 pr out --clear "$U1"

# every pr in service action as JSON
for sa in read-keys read-reservation report-capabilities read-full-status; do
	expect 0 "pr in --$sa -o json" -- "$PRPATH" pr in --$sa -o json "$U2"
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["schema_version"] == 1 and d["command"] == "pr in" and d["service_action"] == sys.argv[2].replace("-", "_"), d' "$TMP/out" "$sa" || fail "pr in --$sa JSON"
done

# paths to two different LUs
expect 3 "paths to different LUs" -- "$PRPATH" status "$U1" "iscsi://127.0.0.1:$P2/$IQN/1"
grep -q "the paths lead to different LUs" "$TMP/err" || fail "different LUs message: $(cat "$TMP/err")"

# acquire with a PATH that cannot be opened: reserved, but only partly
# registered: exit 4, the result on stdout, the reason on stderr
DEAD="iscsi://127.0.0.1:1/$IQN/0"
expect 4 "acquire with one dead path" -- "$PRPATH" $A acquire "$U1" "$DEAD"
grep -q "LU reserved by this host" "$TMP/out" || fail "partial acquire output: $(cat "$TMP/out")"
grep -q "acquire: done on 1 of 2 paths only: path 2 not usable, not registered" "$TMP/err" || fail "partial acquire message: $(cat "$TMP/err")"
expect 0 "release with the dead path" -- "$PRPATH" $A release "$U1" "$DEAD"
# status with a dead path: the status on stdout, and exit 4 (issue 20, item 8)
expect 4 "status with one dead path" -- "$PRPATH" $A status "$U1" "$DEAD"
grep -q "^status: path 2 not usable" "$TMP/err" || grep -q "prpath: status: path 2 not usable" "$TMP/err" || fail "status dead path message: $(cat "$TMP/err")"
grep -q "^PATH " "$TMP/out" || fail "status with a dead path printed no table: $(cat "$TMP/out")"
# a local write error on --out: exit 2, and what became of the file is said
expect 2 "read --out /dev/full" -- "$PRPATH" $A read --unprotected --lba 0 --out /dev/full "$U1"
grep -q "read: --out /dev/full: .*(the file was there before and now holds part of the data at most)" "$TMP/err" || fail "read --out /dev/full: $(cat "$TMP/err")"

# -vv traces each CDB on the path it goes on
expect 0 "B acquires earo" -- "$PRPATH" $B acquire --type earo "$U1" "$U2"
expect 0 "B writes through path 2 with -vv" -- "$PRPATH" $B -vv write --lba 3 --via 2 --pattern 7 "$U1" "$U2"
grep -q "path 2 -> WRITE \[2a " "$TMP/err" || fail "-vv trace: $(cat "$TMP/err")"
grep -q "path 1 -> WRITE" "$TMP/err" && fail "--via 2 wrote on path 1: $(cat "$TMP/err")"
# under exclusive access a read from an unregistered host is refused: 24
expect 24 "A's read under B's earo" -- "$PRPATH" $A -o json read --lba 3 "$U1" "$U2"
grep -q "read: this host.s key is not registered (fenced?) and the LU is reserved by 0x[0-9a-f]* (earo): nothing was read" "$TMP/err" || fail "A's read conflict message: $(cat "$TMP/err")"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["error"]["exit_status"] == 24 and "data_hex" not in d, d' "$TMP/out" ||
	fail "refused read: not a JSON error document: $(cat "$TMP/out")"
# --in must be exactly --count blocks; out-of-range blocks are named
head -c 1024 /dev/zero >"$TMP/two"
expect 1 "write --count 1 --in a 2-block file" -- "$PRPATH" $B write --lba 0 --count 1 --in "$TMP/two" "$U1" "$U2"
grep -q "1024 bytes, but --count 1 needs 512" "$TMP/err" || fail "--in size message: $(cat "$TMP/err")"
expect 1 "read at the last LBA of 2^64" -- "$PRPATH" $B read --lba 18446744073709551615 --count 2 "$U1" "$U2"
grep -q -- "--lba 18446744073709551615 --count 2 is beyond the end of the LU (32768 blocks)" "$TMP/err" || fail "beyond-end message: $(cat "$TMP/err")"
expect 0 "B releases" -- "$PRPATH" $B release "$U1" "$U2"

# ---- an acquire never drops what this host holds (issue 8, item 1) ----------
jq_py() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); $1" "$TMP/out" || fail "$2: $(cat "$TMP/out")"; }
expect 0 "A acquires (wero)" -- "$PRPATH" $A acquire "$U1" "$U2"
expect 0 "A acquires again, the same" -- "$PRPATH" $A -o json acquire "$U1" "$U2"
jq_py 'assert d["already_held"] is True and d["device"]["key_registrations"] == 2, d' "already held"
expect 0 "A acquires again (text)" -- "$PRPATH" $A acquire "$U2" "$U1"
grep -q "acquire: LU already held by this host" "$TMP/out" || fail "already held text: $(cat "$TMP/out")"
for m in "--mode single" "--mode shared" "--type earo"; do
	# shellcheck disable=SC2086
	expect 24 "A acquire $m over its own wero" -- "$PRPATH" $A acquire $m "$U1"
	grep -q "this host already holds the LU with a wero reservation; nothing was changed" "$TMP/err" ||
		fail "A acquire $m message: $(cat "$TMP/err")"
	expect 0 "still A's wero, both paths" -- "$PRPATH" $A -o json status "$U1" "$U2"
	jq_py 'assert d["device"]["reservation"]["ours"] and d["device"]["reservation"]["type"] == "wero" and d["device"]["key_registrations"] == 2, d' "after acquire $m"
	expect 24 "B cannot write after A's refused acquire $m" -- "$PRPATH" $B write --unprotected --lba 1 --pattern 0xbb "$U1"
done
expect 0 "A releases" -- "$PRPATH" $A release "$U1" "$U2"
# a shared holder re-running a shared acquire is told "already held"
expect 0 "A acquires shared" -- "$PRPATH" $A acquire --mode shared "$U1" "$U2"
expect 0 "A acquires shared again" -- "$PRPATH" $A -o json acquire --mode shared "$U1" "$U2"
jq_py 'assert d["already_held"] is True, d' "shared already held"
expect 24 "A acquire exclusive over its own wear" -- "$PRPATH" $A acquire "$U1" "$U2"
grep -q "this host already holds the LU with a wear reservation" "$TMP/err" || fail "wear message: $(cat "$TMP/err")"
expect 0 "A releases the shared hold" -- "$PRPATH" $A release "$U1" "$U2"

# ---- I/O only as the holder (item 5) ----------------------------------------
expect 24 "A writes on an LU nobody holds" -- "$PRPATH" $A write --lba 1 --pattern 0x11 "$U1" "$U2"
grep -q "write: this host does not hold the LU's reservation: nothing was written" "$TMP/err" || fail "not holder message: $(cat "$TMP/err")"
expect 0 "A reads (json) with --unprotected" -- "$PRPATH" $A -o json read --unprotected --lba 1 "$U1"
jq_py 'assert d["data_hex"] != "11"*512, d["data_hex"][:16]' "the refused write changed nothing"
expect 0 "A writes with --unprotected" -- "$PRPATH" $A write --unprotected --lba 1 --pattern 0x11 "$U1" "$U2"
expect 0 "nothing registered by unprotected I/O" -- "$PRPATH" -o json pr in --read-keys "$U1"
jq_py 'assert d["keys"] == [], d' "keys after unprotected I/O"

# ---- transfers above the device's maximum are split (item 11) --------------
# prpath target's VPD B0 says 65536 blocks (32 MiB) per command
U5="iscsi://127.0.0.1:$P1/$IQN/2"
U6="iscsi://127.0.0.1:$P2/$IQN/2"
head -c $((70000 * 512)) /dev/urandom >"$TMP/big.in"
expect 0 "write --count 70000 (above the 65536-block maximum)" -- "$PRPATH" $A write --unprotected --lba 7 --count 70000 --in "$TMP/big.in" "$U5" "$U6"
expect 0 "read --count 70000" -- "$PRPATH" $A read --unprotected --lba 7 --count 70000 --out "$TMP/big.out" "$U5" "$U6"
cmp -s "$TMP/big.in" "$TMP/big.out" || fail "70000 blocks read back differ"
echo "ok: 70000 blocks written and read back in pieces"
rm -f "$TMP/big.in" "$TMP/big.out"

# ---- WE / EA belong to one nexus (item 12) ----------------------------------
expect 1 "acquire --type we over two paths" -- "$PRPATH" $A acquire --type we "$U1" "$U2"
grep -q "belongs to one I_T nexus" "$TMP/err" || fail "we over two paths: $(cat "$TMP/err")"
expect 0 "acquire --mode single over two paths" -- "$PRPATH" $A acquire --mode single "$U1" "$U2"
expect 0 "A writes (single: the holder path)" -- "$PRPATH" $A write --lba 2 --pattern 0x22 "$U1" "$U2"
expect 0 "A releases the single hold" -- "$PRPATH" $A release "$U1" "$U2"
expect 0 "nothing left after the single release" -- "$PRPATH" -o json pr in --read-keys "$U1"
jq_py 'assert d["keys"] == [], d' "keys after the single release"

# ---- exclusive means exclusive (issue 20, items 1 and 2) --------------------
keys_are() { # keys_are DESCRIPTION PYTHON-CONDITION-ON-k
	expect 0 "$1: read keys" -- "$PRPATH" -o json pr in --read-keys "$U1"
	python3 -c "import json,sys; k=json.load(open(sys.argv[1]))['keys']; assert $2, k" "$TMP/out" ||
		fail "$1: keys $(cat "$TMP/out")"
}
expect 0 "B registers only (key 0xb2, no reservation)" -- "$PRPATH" $B -k 0xb2 pr out --register-ignore "$U2"
expect 24 "A's exclusive acquire with B's key registered" -- "$PRPATH" $A acquire "$U1" "$U2"
grep -q "acquire: other hosts' keys are registered on the LU, 1 registration(s) of other key (0x00000000000000b2): under an exclusive reservation they could write; nothing was changed; 'prpath takeover' fences them" "$TMP/err" ||
	fail "other keys message: $(cat "$TMP/err")"
keys_are "refused acquire sent nothing" 'k == ["0x00000000000000b2"]'
expect 24 "A's single acquire with B's key registered" -- "$PRPATH" $A acquire --mode single "$U1"
expect 0 "A takes over: B's registration is preempted" -- "$PRPATH" $A -o json takeover "$U1" "$U2"
jq_py 'assert d["preempted_keys"] == ["0x00000000000000b2"] and d["device"]["registrations"] == 2 and d["device"]["key_registrations"] == 2, d' "takeover JSON"
keys_are "after the takeover only A" 'len(k) == 2 and "0x00000000000000b2" not in k and len(set(k)) == 1'
expect 24 "B cannot write through its old nexus" -- "$PRPATH" $B -k 0xb2 write --unprotected --lba 3 --pattern 0xb2 "$U2"
# A already holds; B registers again: re-running acquire keeps A's hold
# but says B could write (exit 24)
expect 0 "B registers again" -- "$PRPATH" $B -k 0xb2 pr out --register-ignore "$U2"
expect 24 "A's acquire over its own hold with B registered" -- "$PRPATH" $A acquire "$U1" "$U2"
grep -q "this host keeps the reservation it held, nothing was changed" "$TMP/err" || fail "held + other keys: $(cat "$TMP/err")"
expect 0 "A takes over again (text)" -- "$PRPATH" $A takeover "$U1" "$U2"
grep -q "takeover: preempted 1 registration(s) of other key (0x00000000000000b2): they can no longer write" "$TMP/out" ||
	fail "takeover text: $(cat "$TMP/out")"
# a shared acquire may join other registrants: that is what shared means;
# a takeover of the all-registrants reservation removes every other key
expect 0 "A releases its wero" -- "$PRPATH" $A release "$U1" "$U2"
expect 0 "B registers again" -- "$PRPATH" $B -k 0xb2 pr out --register-ignore "$U2"
expect 0 "A's shared acquire with B registered" -- "$PRPATH" $A acquire --mode shared "$U1" "$U2"
expect 0 "A releases the shared hold" -- "$PRPATH" $A release "$U1" "$U2"
keys_are "A's shared release" 'k == ["0x00000000000000b2"]'
expect 0 "A takes over the all-registrants reservation" -- "$PRPATH" $A takeover "$U1" "$U2"
keys_are "after the takeover of wear only A" 'len(k) == 2 and "0x00000000000000b2" not in k and len(set(k)) == 1'
expect 0 "A releases" -- "$PRPATH" $A release "$U1" "$U2"
keys_are "A's release" 'k == []'
# item 1: path lists that shrink and grow between commands leave no key
# of a released host behind
expect 0 "A acquires P1 P2" -- "$PRPATH" $A acquire "$U1" "$U2"
expect 0 "A acquires P2 only: already held" -- "$PRPATH" $A acquire "$U2"
expect 0 "A releases P1 P2" -- "$PRPATH" $A release "$U1" "$U2"
keys_are "nothing of A after shrink and release" 'k == []'
expect 0 "A acquires P2 P1" -- "$PRPATH" $A acquire "$U2" "$U1"
expect 0 "A releases P2 only: the reservation held through P1 is moved and released" -- "$PRPATH" $A -o json release "$U2"
jq_py 'assert d["result"] == "released the reservation and unregistered" and d["device"]["registrations"] == 0 and d["device"]["reservation"] is None, d' "release through P2 only"
keys_are "nothing of A after releasing through P2 only" 'k == []'
# a key of A left through P1 (registered, not reserved): B's acquire is
# refused, B's takeover fences it
expect 0 "A registers through P1 (pr out)" -- "$PRPATH" $A pr out --register-ignore "$U1"
expect 24 "B's acquire with A's key left on P1" -- "$PRPATH" $B acquire "$U1" "$U2"
grep -q "other hosts' keys are registered on the LU, 1 registration(s)" "$TMP/err" || fail "B's acquire: $(cat "$TMP/err")"
expect 0 "B takes over instead" -- "$PRPATH" $B takeover "$U1" "$U2"
keys_are "B's takeover leaves only B" 'len(k) == 2 and len(set(k)) == 1'
expect 24 "A cannot write through P1 under B's reservation" -- "$PRPATH" $A write --unprotected --lba 5 --pattern 0xa1 "$U1"
expect 0 "B releases" -- "$PRPATH" $B release "$U1" "$U2"
keys_are "nothing left" 'k == []'

# ---- release with the holder path dead (issue 20, item 5) -------------------
# the system's python: a version manager's shim (pyenv) can wait on a lock
# and would delay the proxy, and its pid is the shim's
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
# A's first path goes through a TCP proxy; RESERVE goes out on it, so its
# nexus holds the reservation. The proxy dies; release through what is left
# moves the reservation to a live path (PREEMPT of A's own key there),
# releases it and unregisters: nothing of A stays, and B gets the LU.
P4=$(( P2 + 2 ))
: >"$TMP/proxy.out"
"$PY" "$(dirname "$0")/tcp_proxy.py" "$P4" "$P1" >>"$TMP/proxy.out" 2>&1 &
PROXY=$!
for i in $(seq 1 600); do grep -q ready "$TMP/proxy.out" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$TMP/proxy.out" || fail "the TCP proxy did not start: $(cat "$TMP/proxy.out")"
UP="iscsi://127.0.0.1:$P4/$IQN/0"
expect 0 "A acquires through the proxy and P2" -- "$PRPATH" $A -o json acquire "$UP" "$U2"
jq_py 'assert d["paths"][0]["reservation_holder"] is True, d["paths"]' "holder through the proxy"
kill "$PROXY"; wait "$PROXY" 2>/dev/null; PROXY=
expect 0 "A releases with the holder path dead" -- "$PRPATH" $A --timeout 5 release "$UP" "$U2"
grep -q "^release: released the reservation and unregistered" "$TMP/out" || fail "release output: $(cat "$TMP/out")"
keys_are "nothing of A after releasing with the holder path dead" 'k == []'
expect 0 "nobody holds the LU" -- "$PRPATH" -o json pr in --read-reservation "$U1"
jq_py 'assert d["reservation"] is None, d' "reservation after the release"
expect 0 "B acquires" -- "$PRPATH" $B acquire "$U1" "$U2"
expect 0 "B releases" -- "$PRPATH" $B release "$U1" "$U2"

# ---- interrupted commands say what they may have left (issue 20, item 7) ----
P5=$(( P2 + 3 ))
start_proxy() { # start_proxy [--hold-prout SA]: 127.0.0.1:P5 -> P1
	# emptied here, not by the background job's redirection: the wait
	# below must not find the previous proxy's "ready"
	: >"$TMP/proxy.out"
	"$PY" "$(dirname "$0")/tcp_proxy.py" "$P5" "$P1" "$@" >>"$TMP/proxy.out" 2>&1 &
	PROXY=$!
	for i in $(seq 1 600); do grep -q ready "$TMP/proxy.out" 2>/dev/null && break; sleep 0.1; done
	grep -q ready "$TMP/proxy.out" ||
		fail "the TCP proxy did not start: $(cat "$TMP/proxy.out"; ss -tanp 2>/dev/null | grep ":$P5 "; ps -o pid,stat,args -p "$PROXY")"
}
stop_proxy() { kill "$PROXY"; wait "$PROXY" 2>/dev/null; PROXY=; }
interrupt_at_hold() { # interrupt_at_hold DESCRIPTION -- command...
	local what=$1 pid rc=0 i
	shift 2
	"$@" >"$TMP/out" 2>"$TMP/err" &
	pid=$!
	for i in $(seq 1 600); do
		grep -q held "$TMP/proxy.out" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	grep -q held "$TMP/proxy.out" || {
		kill "$pid" 2>/dev/null; wait "$pid"
		fail "$what: the proxy never held: $(cat "$TMP/out" "$TMP/err")"
	}
	sleep 0.3
	kill -INT "$pid"
	wait "$pid" || rc=$?
	[ "$rc" -eq 130 ] || fail "$what: exit $rc after SIGINT, expected 130: $(cat "$TMP/err")"
	echo "ok: $what (exit 130)"
}
UH="iscsi://127.0.0.1:$P5/$IQN/0"
start_proxy --hold-prout 6
interrupt_at_hold "A's acquire interrupted at a REGISTER" -- "$PRPATH" $A acquire "$UH" "$U2"
grep -q "acquire interrupted: paths of this host may be registered while the LU is not reserved yet; run the same 'prpath acquire' again to finish, or 'prpath release' to undo" "$TMP/err" ||
	fail "interrupted acquire: $(cat "$TMP/err")"
stop_proxy
start_proxy
expect 0 "A runs the same acquire again" -- "$PRPATH" $A -o json acquire "$UH" "$U2"
jq_py 'assert [p["registered"] for p in d["paths"]] == [True, True] and d["device"]["reservation"]["ours"] and d["device"]["registrations"] == 2, d' "acquire after the interrupted one"
stop_proxy
start_proxy --hold-prout 2
interrupt_at_hold "A's release interrupted at RELEASE" -- "$PRPATH" $A release "$UH" "$U2"
grep -q "release interrupted: the reservation may be released while registrations of this host remain; run the same 'prpath release' again to finish" "$TMP/err" ||
	fail "interrupted release: $(cat "$TMP/err")"
stop_proxy
start_proxy
expect 0 "A runs the same release again" -- "$PRPATH" $A release "$UH" "$U2"
keys_are "nothing of A after the repeated release" 'k == []'
expect 0 "A acquires P1 P2" -- "$PRPATH" $A acquire "$U1" "$U2"
stop_proxy
start_proxy --hold-prout 5
interrupt_at_hold "B's takeover interrupted at PREEMPT AND ABORT" -- "$PRPATH" $B takeover "$UH"
grep -q "takeover interrupted: the old holder may already be preempted (fenced) while this host does not hold the LU yet; run the same 'prpath takeover' again to finish" "$TMP/err" ||
	fail "interrupted takeover: $(cat "$TMP/err")"
stop_proxy
start_proxy
expect 0 "B runs the same takeover again" -- "$PRPATH" $B takeover "$UH"
expect 24 "A is fenced" -- "$PRPATH" $A write --lba 1 --pattern 0xa1 "$U1" "$U2"
expect 0 "B releases" -- "$PRPATH" $B release "$UH"
keys_are "nothing left after the interrupted commands" 'k == []'
stop_proxy

# ---- an administrator changed this host's holder key (issue 20, item 8) ----
expect 0 "A acquires (holder: path 1)" -- "$PRPATH" $A acquire "$U1" "$U2"
expect 0 "admin: path 1's nexus gets key 0x5555" -- "$PRPATH" $A pr out --register-ignore --param-sark 0x5555 "$U1"
expect 0 "A's status (json)" -- "$PRPATH" $A -o json status "$U1" "$U2"
jq_py 'r = d["device"]["reservation"]; assert r["holder_key"] == "0x0000000000005555" and r["ours"] is False and r["this_initiator"] is True, r' "status after the key change"
expect 0 "A's status (text)" -- "$PRPATH" $A status "$U1" "$U2"
grep -q "held by 0x0000000000005555 (this host's initiator, but not this host's key)" "$TMP/out" || fail "status label: $(cat "$TMP/out")"
expect 0 "A releases: its own key only" -- "$PRPATH" $A release "$U1" "$U2"
grep -q "the LU stays reserved by key 0x0000000000005555 through this host's initiator: not this host's key, left alone (-k 0x0000000000005555 releases it)" "$TMP/err" ||
	fail "release with a changed key: $(cat "$TMP/err")"
keys_are "the changed key stays" 'k == ["0x0000000000005555"]'
expect 0 "A releases with -k 0x5555" -- "$PRPATH" $A -k 0x5555 release "$U1" "$U2"
keys_are "nothing left after the changed key's release" 'k == []'

# ---- two hosts with one key (issue 20, item 3) ------------------------------
KS="-k 0x1234"
AI=iqn.2026-11.io.prpath:test-a
expect 0 "A acquires with key 0x1234" -- "$PRPATH" $A $KS acquire "$U1" "$U2"
expect 24 "B with A's key: acquire refused" -- "$PRPATH" $B $KS acquire "$U1" "$U2"
grep -q "acquire: this host's key 0x0000000000001234 is registered by initiator $AI too: two hosts with one key are one host to the LU" "$TMP/err" ||
	fail "B's acquire with A's key: $(cat "$TMP/err")"
keys_are "B's refused acquire registered nothing" 'len(k) == 2'
expect 24 "B with A's key cannot write" -- "$PRPATH" $B $KS write --lba 6 --pattern 0xbb "$U1" "$U2"
grep -q "write: this host's key 0x0000000000001234 is registered by initiator $AI too.*nothing was written" "$TMP/err" ||
	fail "B's write with A's key: $(cat "$TMP/err")"
expect 24 "B with A's key: status says so" -- "$PRPATH" $B $KS -o json status "$U1" "$U2"
jq_py 'dv = d["device"]; assert dv["key_registrations_other_initiators"] == 2 and dv["other_initiator"] == "'$AI'" and dv["reservation"]["ours"] is False and [p["registered"] for p in d["paths"]] == [False, False], d' "B's status"
grep -q "status: this host's key 0x0000000000001234 is registered by initiator $AI too" "$TMP/err" || fail "B's status message: $(cat "$TMP/err")"
expect 24 "B with A's key: takeover refused" -- "$PRPATH" $B $KS takeover "$U1" "$U2"
grep -q "takeover: this host's key 0x0000000000001234 is registered by initiator $AI too.*nothing of this host is left registered" "$TMP/err" ||
	fail "B's takeover with A's key: $(cat "$TMP/err")"
keys_are "after B's refused takeover only A's two" 'len(k) == 2'
expect 0 "A still holds and writes" -- "$PRPATH" $A $KS write --lba 6 --pattern 0xaa "$U1" "$U2"
expect 0 "A's status: no other initiator" -- "$PRPATH" $A $KS -o json status "$U1" "$U2"
jq_py 'dv = d["device"]; assert dv["key_registrations_other_initiators"] == 0 and dv["key_registrations_elsewhere"] == 0 and dv["reservation"]["ours"], d' "A's status"
expect 0 "A releases" -- "$PRPATH" $A $KS release "$U1" "$U2"
expect 0 "B registers with 0x1234 first" -- "$PRPATH" $B $KS pr out --register-ignore "$U2"
expect 24 "A's acquire with B registered under A's key" -- "$PRPATH" $A $KS acquire "$U1" "$U2"
grep -q "registered by initiator iqn.2026-11.io.prpath:test-b too" "$TMP/err" || fail "A's acquire: $(cat "$TMP/err")"
keys_are "A's refused acquire registered nothing" 'len(k) == 1'
expect 0 "B unregisters" -- "$PRPATH" $B $KS pr out --register-ignore --param-sark 0 "$U2"
keys_are "no key left" 'k == []'
# this host's own key through a nexus that is none of the PATHs (a path
# not given this time): an exclusive acquire removes it
expect 0 "A registers through path 2 only" -- "$PRPATH" $A pr out --register-ignore "$U2"
expect 0 "A acquires through path 1 only" -- "$PRPATH" $A -o json acquire "$U1"
jq_py 'dv = d["device"]; assert dv["key_registrations"] == 1 and dv["registrations"] == 1 and dv["key_registrations_elsewhere"] == 0, d' "A's acquire through path 1"
expect 0 "A releases through path 1" -- "$PRPATH" $A release "$U1"
keys_are "nothing left after A's release" 'k == []'

# ---- hundreds of registrants: every PR IN read whole (issue 20, item 6) -----
expect 0 "A acquires" -- "$PRPATH" $A acquire "$U1" "$U2"
for i in $(seq 100 299); do
	if [ $(( i % 2 )) -eq 0 ]; then u=$U1; else u=$U2; fi
	"$PRPATH" -i "iqn.2026-11.io.prpath:registrant-$i" -k 0xcc pr out --register-ignore "$u" >/dev/null 2>&1 ||
		fail "registrant $i could not register"
done
expect 0 "A's status with 202 registrations (json)" -- "$PRPATH" $A -o json status "$U1" "$U2"
jq_py 'assert d["device"]["registrations"] == 202 and [p["registered"] for p in d["paths"]] == [True, True] and sum(p["reservation_holder"] for p in d["paths"]) == 1, d["paths"]' "status with 202 registrations"
expect 0 "pr in --read-full-status with 202 registrations" -- "$PRPATH" -o json pr in --read-full-status "$U1"
jq_py 'assert len(d["registrations"]) == 202 and d["truncated"] is False, len(d["registrations"])' "full status of 202"
expect 0 "pr in --read-full-status (text)" -- "$PRPATH" pr in --read-full-status "$U1"
[ "$(grep -c "Key=0x" "$TMP/out")" -eq 202 ] || fail "full status text lists $(grep -c "Key=0x" "$TMP/out") of 202"
expect 0 "A takes over: 200 registrations of 0xcc preempted" -- "$PRPATH" $A -o json takeover "$U1" "$U2"
jq_py 'assert d["preempted_keys"] == ["0x00000000000000cc"] and d["device"]["registrations"] == 2, d["device"]' "takeover of 200 registrants"
expect 0 "A releases" -- "$PRPATH" $A release "$U1" "$U2"
keys_are "nothing left after the registrants" 'k == []'

# ---- two takeovers at once: at most one says it holds the LU (item 6) -------
KA=0x00000000000000a1
KB=0x00000000000000b2
wins=0
for round in $(seq 1 12); do
	"$PRPATH" $A -k $KA takeover "$U1" "$U2" >"$TMP/ta.out" 2>"$TMP/ta.err" & pa=$!
	"$PRPATH" $B -k $KB takeover "$U2" "$U1" >"$TMP/tb.out" 2>"$TMP/tb.err" & pb=$!
	wait $pa; ra=$?
	wait $pb; rb=$?
	case "$ra$rb" in 024|240|2424) ;; *) fail "round $round: takeovers exited $ra and $rb: $(cat "$TMP/ta.err" "$TMP/tb.err")";; esac
	"$PRPATH" -o json pr in --read-full-status "$U1" >"$TMP/out" 2>"$TMP/err" || fail "round $round: read full status"
	python3 - "$TMP/out" "$ra" "$rb" "$KA" "$KB" <<'PY' || fail "round $round: $(cat "$TMP/ta.err" "$TMP/tb.err")"
import json, sys
d = json.load(open(sys.argv[1]))
ra, rb, ka, kb = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
regs = d["registrations"]
holder = [r["key"] for r in regs if r["reservation_holder"]]
keys = {r["key"] for r in regs}
if ra == 0:
    assert holder == [ka] and keys == {ka}, (holder, keys)   # B left nothing
elif rb == 0:
    assert holder == [kb] and keys == {kb}, (holder, keys)   # A left nothing
else:
    assert not (keys & {ka, kb}) or holder, (holder, keys)
PY
	[ "$ra" -eq 0 ] || [ "$rb" -eq 0 ] && wins=$((wins + 1))
	"$PRPATH" $A -k $KA release "$U1" "$U2" >/dev/null 2>&1
	"$PRPATH" $B -k $KB release "$U1" "$U2" >/dev/null 2>&1
done
echo "ok: 12 rounds of two takeovers at once: at most one success each ($wins decided)"
[ "$wins" -ge 1 ] || fail "no round had a winner"

# ---- APTPL: a target without --state-dir cannot persist (item 4) ------------
expect 0 "A acquires (json): aptpl refused by this target" -- "$PRPATH" $A -o json acquire "$U1" "$U2"
jq_py 'assert d["aptpl"] is False, d' "aptpl without a state dir"
expect 0 "A releases" -- "$PRPATH" $A release "$U1" "$U2"
echo "PASS"
