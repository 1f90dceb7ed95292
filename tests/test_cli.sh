#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The prpath command: golden output of the demo (text and JSON), exit
# codes and error messages, and the man page covering every long option.
# Regenerate the golden files after an intended change with
#   PRPATH=build/src/cli/prpath UPDATE_GOLDEN=1 bash tests/test_cli.sh
set -u
PRPATH=${PRPATH:?PRPATH must point at the prpath binary}
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
GOLDEN=$SRCDIR/tests/golden
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

# normalise what differs between runs: the elapsed time
norm_text() { sed -E 's/\([0-9]+\.[0-9]+ s\)$/(TIME)/'; }
norm_json() { sed -E 's/"elapsed_ms": [0-9]+/"elapsed_ms": 0/'; }

golden() { # golden NAME FILE
	if [ -n "${UPDATE_GOLDEN:-}" ]; then
		cp "$2" "$GOLDEN/$1"; ok "updated $1"; return
	fi
	if diff -u "$GOLDEN/$1" "$2" >"$TMP/diff"; then
		ok "golden $1"
	else
		cat "$TMP/diff"; fail "golden $1 differs"
	fi
}

# ---- demo -----------------------------------------------------------------
"$PRPATH" demo --seed 1 >"$TMP/demo.out" 2>"$TMP/demo.err"
rc=$?
[ $rc -eq 0 ] && ok "demo --seed 1 exits 0" || { cat "$TMP/demo.err"; fail "demo exit $rc"; }
[ -s "$TMP/demo.err" ] && fail "demo wrote to stderr: $(head -3 "$TMP/demo.err")"
norm_text <"$TMP/demo.out" >"$TMP/demo.txt"
golden demo-seed1.txt "$TMP/demo.txt"
grep -q '^Verdict: PASS' "$TMP/demo.out" || fail "demo verdict is not PASS"

"$PRPATH" -o json demo --seed 1 >"$TMP/demo.jout" 2>/dev/null
rc=$?
[ $rc -eq 0 ] && ok "-o json demo exits 0" || fail "json demo exit $rc"
norm_json <"$TMP/demo.jout" >"$TMP/demo.json"
golden demo-seed1.json "$TMP/demo.json"
python3 - "$TMP/demo.jout" <<'PY' || fail "demo JSON content"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema_version"] == 1 and d["command"] == "demo", d.keys()
assert d["verdict"] == "pass"
assert all(c["ok"] for c in d["checks"]) and len(d["checks"]) == 10, len(d["checks"])
titles = [s["step"] for s in d["steps"]]
assert titles == [0, 1, 2, 3, 4, 4, 5, 6, 7], titles
# step 1: REGISTER on every path, RESERVE on one
s1 = {c["command"]: c for c in d["steps"][1]["commands"]}
reg = [r for r in s1["REGISTER AND IGNORE EXISTING KEY"]["results"] if r["result"] == "GOOD"]
assert reg[0]["paths"] == [1, 2, 3, 4], reg
assert s1["RESERVE"]["results"][0]["paths"] == [1]
# step 5: B preempts and aborts A
s5 = {c["command"]: c for c in d["steps"][6]["commands"] if c["host"] == "B"}
assert "PREEMPT AND ABORT" in s5, s5.keys()
PY
[ $? -eq 0 ] && ok "demo JSON content"

for p in 1 2 16; do
	"$PRPATH" demo --paths $p --seed 3 >"$TMP/o" 2>&1 && ok "demo --paths $p" || { tail -15 "$TMP/o"; fail "demo --paths $p"; }
done

# Every check counts in the verdict: each one failed on its own gives exit
# 6 with exactly that check failed (the verdict once ignored the 9th and
# 10th, among them the data check).
for n in $(seq 1 10); do
	rc=0
	PRPATH_DEMO_TEST_BREAK=$n "$PRPATH" -o json demo --seed 1 >"$TMP/b.json" 2>/dev/null || rc=$?
	if [ "$rc" -ne 6 ]; then
		fail "demo with check $n broken: exit $rc, expected 6"
		continue
	fi
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); n=int(sys.argv[2]); ok=[c["ok"] for c in d["checks"]]; assert d["verdict"] == "fail" and len(ok) == 10 and ok == [i != n - 1 for i in range(10)], ok' \
		"$TMP/b.json" "$n" && ok "demo with check $n broken: exit 6" || fail "demo with check $n broken: JSON"
done
# A block that does not hold its last writer's data is found, with any
# number of paths.
for p in 1 2 4; do
	rc=0
	PRPATH_DEMO_TEST_BREAK=data "$PRPATH" demo --paths $p --seed 5 >"$TMP/o" 2>&1 || rc=$?
	if [ "$rc" -eq 6 ] && grep -q '\[FAIL\] every block holds exactly what its last successful writer wrote' "$TMP/o"; then
		ok "demo --paths $p finds a block overwritten behind its back"
	else
		tail -15 "$TMP/o"; fail "demo --paths $p with a rogue block: exit $rc"
	fi
done

# ---- exit codes and messages ---------------------------------------------
# With -o json a failure prints one JSON error document on stdout, whose
# message is the stderr line and whose exit_status is the exit status.
json_error_doc() {
	python3 - "$TMP/out" "$TMP/err" "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
err = open(sys.argv[2]).read().splitlines()[0]
assert d["schema_version"] == 1 and d["error"]["exit_status"] == int(sys.argv[3]), d
assert err == "prpath: " + d["error"]["message"], (err, d)
PY
}
expect() { # expect STATUS PATTERN -- command...
	local want=$1 pat=$2; shift 3
	"$@" >"$TMP/out" 2>"$TMP/err"; local rc=$?
	if [ "$rc" -ne "$want" ]; then
		fail "'$*': exit $rc, expected $want ($(head -2 "$TMP/err"))"
	elif [ -n "$pat" ] && ! grep -q -- "$pat" "$TMP/err"; then
		fail "'$*': stderr lacks '$pat': $(cat "$TMP/err")"
	elif [ "$want" -ne 0 ] && [ "$(grep -vc '^Try ' "$TMP/err")" -ne 1 ]; then
		fail "'$*': not a one-line error: $(cat "$TMP/err")"
	elif [ "$want" -ne 0 ] && [ -s "$TMP/out" ] && ! json_error_doc "$want"; then
		fail "'$*': wrote to stdout on error: $(head -3 "$TMP/out")"
	else
		ok "'$*' -> $rc"
	fi
}
URL=iscsi://127.0.0.1:1/iqn.x/0
expect 1 "no command given" -- "$PRPATH"
expect 1 "unknown command 'frobnicate'" -- "$PRPATH" frobnicate
expect 1 "unknown option" -- "$PRPATH" --frob status "$URL"
expect 1 "unknown option" -- "$PRPATH" status --frob "$URL"
expect 1 "needs a value" -- "$PRPATH" status "$URL" --key
expect 1 "prpath: --key: '0' is not a valid key (must be non-zero)" -- "$PRPATH" --key 0 status "$URL"
expect 1 "--key: '0x' is not a valid key" -- "$PRPATH" -k 0x status "$URL"
expect 1 "--key: '-5' is not a valid key" -- "$PRPATH" -k -5 status "$URL"
expect 1 "more than 64 bits" -- "$PRPATH" -k 0x10000000000000000 status "$URL"
expect 1 "--output: 'xml'" -- "$PRPATH" -o xml status "$URL"
expect 1 "--initiator" -- "$PRPATH" -i "a,b" status "$URL"
expect 1 "--timeout: '0'" -- "$PRPATH" --timeout 0 status "$URL"
expect 1 "--type: 'wrex' is not a reservation type" -- "$PRPATH" acquire --type wrex "$URL"
expect 1 "--mode: 'forced'" -- "$PRPATH" acquire --mode forced "$URL"
# mode and type agree (issue 20, item 4): refused before any path is opened
expect 1 "--mode exclusive/single takes a registrants-only or one-nexus type (wero, earo, we or ea), not wear" -- "$PRPATH" acquire --mode exclusive --type wear "$URL"
expect 1 "not eaar: under eaar every registered host may write" -- "$PRPATH" acquire --type eaar "$URL"
expect 1 "--mode exclusive/single takes" -- "$PRPATH" acquire --type wear --mode single "$URL"
expect 1 "--mode shared takes an all-registrants type (wear or eaar), not wero" -- "$PRPATH" acquire --mode shared --type wero "$URL"
expect 1 "--mode shared takes an all-registrants type (wear or eaar), not we" -- "$PRPATH" acquire --type we --mode shared "$URL"
expect 1 "takeover takes a registrants-only or one-nexus type" -- "$PRPATH" takeover --type wear "$URL"
expect 1 "unknown option" -- "$PRPATH" takeover --mode shared "$URL"
expect 1 "give at least one PATH" -- "$PRPATH" acquire
expect 1 "unknown path syntax" -- "$PRPATH" status http://example/x
expect 1 "" -- "$PRPATH" status iscsi://127.0.0.1:99999/iqn.x/0
expect 1 "" -- "$PRPATH" status iscsi://127.0.0.1/iqn.x/notalun
expect 1 "--lba is required" -- "$PRPATH" read "$URL"
expect 1 "--lba: 'ten'" -- "$PRPATH" read --lba ten "$URL"
expect 1 "--count: '0'" -- "$PRPATH" read --lba 1 --count 0 "$URL"
expect 1 "--via: '0'" -- "$PRPATH" read --lba 1 --via 0 "$URL"
expect 1 "--via: '3' is more than the number of PATHs" -- "$PRPATH" read --lba 1 --via 3 "$URL" "$URL"
expect 1 "exactly one of --pattern and --in" -- "$PRPATH" write --lba 1 "$URL"
expect 1 "--pattern: '256'" -- "$PRPATH" write --lba 1 --pattern 256 "$URL"
expect 1 "pr: say 'in' or 'out'" -- "$PRPATH" pr
expect 1 "unknown subcommand 'sideways'" -- "$PRPATH" pr sideways "$URL"
expect 1 "give exactly one of" -- "$PRPATH" pr in "$URL"
expect 1 "give exactly one of" -- "$PRPATH" pr in --read-keys --read-reservation "$URL"
expect 1 "give exactly one PATH" -- "$PRPATH" pr in --read-keys
expect 1 "give exactly one service action" -- "$PRPATH" pr out "$URL"
expect 1 "--prout-type: 'xx'" -- "$PRPATH" pr out --reserve --prout-type xx "$URL"
expect 1 "--param-rk: 'zz'" -- "$PRPATH" pr out --register --param-rk zz "$URL"
expect 1 "needs one --transport-id" -- "$PRPATH" pr out --register-move --param-sark 0x77 "$URL"
# REGISTER AND MOVE with SARK 0 would reach the device: refused here
expect 1 "--register-move needs --param-sark KEY" -- "$PRPATH" pr out --register-move --transport-id iqn.x,i,0x1234567890ab --relative-target-port 1 "$URL"
expect 1 "--register-move needs --param-sark KEY" -- "$PRPATH" pr out --register-move --param-sark 0 --transport-id iqn.x,i,0x1234567890ab --relative-target-port 1 "$URL"
# global options a command ignores are refused, not accepted silently
expect 1 "demo: -i/--initiator does not apply" -- "$PRPATH" demo -i iqn.2026-11.x:y
expect 1 "demo: -k/--key does not apply" -- "$PRPATH" -k 5 demo
expect 1 "demo: --timeout does not apply" -- "$PRPATH" demo --timeout 3
expect 1 "target: -i/--initiator does not apply" -- "$PRPATH" -i iqn.2026-11.x:y target --lun "$TMP/never:1M"
[ -e "$TMP/never" ] && fail "a refused target created its --lun file"

# --lun errors say why, and leave no file behind
mkdir -p "$TMP/lundir"
expect 1 "cannot open backing store $TMP/lundir: is a directory" -- "$PRPATH" target --portal 127.0.0.1:0 --lun "$TMP/lundir"
expect 1 "cannot open backing store /dev/null: not a regular file or a block device" -- "$PRPATH" target --portal 127.0.0.1:0 --lun /dev/null:1M
expect 1 "the size is beyond what the file system or device holds" -- "$PRPATH" target --portal 127.0.0.1:0 --lun "$TMP/lundir/huge:900T"
expect 2 "cannot open backing store $TMP/lundir/no/x: No such file or directory" -- "$PRPATH" target --portal 127.0.0.1:0 --lun "$TMP/lundir/no/x:1M"
[ -z "$(ls -A "$TMP/lundir")" ] || fail "refused --lun left files: $(ls -A "$TMP/lundir")"
# an existing file is never removed by a failed start
: >"$TMP/lundir/empty"
expect 1 "smaller than one block" -- "$PRPATH" target --portal 127.0.0.1:0 --lun "$TMP/lundir/empty"
[ -e "$TMP/lundir/empty" ] || fail "a failed start removed an existing file"
expect 1 "--paths: '0'" -- "$PRPATH" demo --paths 0
expect 1 "--paths: '17'" -- "$PRPATH" demo --paths 17
expect 1 "--seed: 'abc'" -- "$PRPATH" demo --seed abc
# an unreachable portal: a clear one-line error, device/transport status
expect 2 "iscsi://127.0.0.1:1/iqn.x/0: " -- "$PRPATH" status "$URL"
expect 2 "iscsi://127.0.0.1:1/iqn.x/0: " -- "$PRPATH" acquire "$URL"
expect 2 "iscsi://127.0.0.1:1/iqn.x/0: " -- "$PRPATH" pr in --read-keys "$URL"
expect 2 "iscsi://127.0.0.1:1/iqn.x/0: " -- "$PRPATH" -k 5 pr out --reserve --prout-type 5 "$URL"
# arguments are checked before anything is sent: these would otherwise
# fail with exit status 2 on the unreachable portal
expect 1 "pr out: --reserve needs --prout-type" -- "$PRPATH" -k 5 pr out --reserve "$URL"
expect 1 "--param-unreg goes with --register-move only" -- "$PRPATH" -k 5 pr out --release --prout-type 5 --param-unreg "$URL"
expect 1 "--relative-target-port goes with --register-move only" -- "$PRPATH" -k 5 pr out --release --prout-type 5 --relative-target-port 2 "$URL"
expect 1 "--param-alltgpt does not go with --register-move" -- "$PRPATH" pr out --register-move --param-alltgpt --transport-id iqn.x,i,0x1234567890ab --relative-target-port 1 "$URL"
# global options between "pr" and "in"/"out"
expect 1 "--key: '0' is not a valid key" -- "$PRPATH" pr -k 0 out --register-ignore "$URL"
expect 2 "iscsi://127.0.0.1:1/iqn.x/0: " -- "$PRPATH" pr -o json --timeout 2 in --read-keys "$URL"
json_error_doc 2 && ok "-o json: the failure as a JSON document" || fail "-o json error document: $(cat "$TMP/out")"
# the same for a usage error and for every host command
# a CHAP secret in a URL never shows, also in a malformed URL
for u in "iscsi://alice%Sekr3tSekr3t@127.0.0.1:99999/iqn.x:y/0" \
	 "iscsi://alice%Sekr3t/Sekr3t@127.0.0.1/iqn.x:y/0" \
	 "iscsi://alice%Sekr3t@Sekr3t@127.0.0.1/iqn.x:y/zz" \
	 "iscsi://alice%Sekr3tSekr3t@/iqn.x:y/0"; do
	for cmd in status "pr in --read-keys" "pr out --register" "write --lba 0 --pattern 1"; do
		# shellcheck disable=SC2086
		"$PRPATH" -o json $cmd "$u" >"$TMP/out" 2>"$TMP/err"
		rc=$?
		[ "$rc" -eq 1 ] || fail "$cmd $u: exit $rc, expected 1"
		grep -q "Sekr3t" "$TMP/out" "$TMP/err" && fail "$cmd: the secret shows: $(cat "$TMP/err")"
	done
done
ok "CHAP secrets in malformed URLs never show"
expect 1 "is not a block address" -- "$PRPATH" -o json read --lba x "$URL"
json_error_doc 1 && ok "-o json: a usage error as a JSON document" || fail "-o json usage error document: $(cat "$TMP/out")"
for cmd in acquire takeover release status "read --lba 0" "write --lba 0 --pattern 1"; do
	# shellcheck disable=SC2086
	expect 2 "" -- "$PRPATH" -o json --timeout 2 $cmd "$URL"
	json_error_doc 2 || fail "-o json $cmd: no error document: $(cat "$TMP/out")"
done
# local files: checked up front, clear reasons
printf 'x%.0s' $(seq 1 1000) >"$TMP/f1000"
expect 1 "--in $TMP/f1000: 1000 bytes is not a whole number of blocks" -- "$PRPATH" write --lba 0 --in "$TMP/f1000" "$URL"
expect 2 "--in $TMP: Is a directory" -- "$PRPATH" write --lba 0 --in "$TMP" "$URL"
expect 2 "read: --out $TMP/no/such/dir: No such file or directory" -- "$PRPATH" read --lba 0 --out "$TMP/no/such/dir" "$URL"
expect 2 "read: --out $TMP: Is a directory" -- "$PRPATH" read --lba 0 --out "$TMP" "$URL"
echo keep >"$TMP/keep"
expect 2 "iscsi://127.0.0.1:1/iqn.x/0: " -- "$PRPATH" read --lba 0 --out "$TMP/keep" "$URL"
[ "$(cat "$TMP/keep")" = keep ] || fail "a failed read changed an existing --out file"
expect 2 "iscsi://127.0.0.1:1/iqn.x/0: " -- "$PRPATH" read --lba 0 --out "$TMP/new" "$URL"
[ -e "$TMP/new" ] && fail "a failed read left its new --out file behind"
# target: bad names and sizes are usage errors
expect 1 "--iqn: 'bad name' is not a valid iSCSI name" -- timeout 10 "$PRPATH" target --iqn "bad name" --lun "$TMP/lu:1M" --portal 127.0.0.1:1
expect 1 "--allow: 'a,b' is not a valid iSCSI name" -- timeout 10 "$PRPATH" target --allow "a,b" --lun "$TMP/lu:1M" --portal 127.0.0.1:1
expect 1 "bad size in --lun '$TMP/lu:1000' (a multiple of 512 bytes" -- timeout 10 "$PRPATH" target --lun "$TMP/lu:1000" --portal 127.0.0.1:1

# a portal that accepts the connection and never answers: the login times
# out after --timeout (not "refused"), and several such paths are waited
# for at once, not one after the other
python3 - "$TMP/bh.port" <<'PY' &
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0)); s.listen(16)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
held = []
s.settimeout(30)
try:
    while True:
        held.append(s.accept()[0])
except Exception:
    pass
PY
BHPID=$!
for _ in $(seq 1 50); do [ -s "$TMP/bh.port" ] && break; sleep 0.1; done
BH="iscsi://127.0.0.1:$(cat "$TMP/bh.port")/iqn.x/0"
expect 2 "$BH: login timed out (no answer from 127.0.0.1:$(cat "$TMP/bh.port") within 1 s)" -- "$PRPATH" --timeout 1 pr in --read-keys "$BH"
t0=$(date +%s.%N)
# three different paths (a PATH given twice is a usage error)
"$PRPATH" --timeout 2 status "$BH" "${BH/iqn.x/iqn.y}" "${BH/iqn.x/iqn.z}" >"$TMP/out" 2>"$TMP/err"; rc=$?
t1=$(date +%s.%N)
[ $rc -eq 2 ] || fail "status on three silent portals: exit $rc"
[ "$(grep -c 'login timed out' "$TMP/err")" -eq 3 ] || fail "silent portals: $(cat "$TMP/err")"
grep -q refused "$TMP/err" && fail "a silent portal is reported as refused: $(cat "$TMP/err")"
python3 -c 'import sys; d=float(sys.argv[2])-float(sys.argv[1]); sys.exit(0 if d < 4.5 else 1)' "$t0" "$t1" \
	&& ok "three silent portals cost one timeout" || fail "three silent portals with --timeout 2 took more than 4.5 s (opened one after the other?)"
kill "$BHPID" 2>/dev/null; wait "$BHPID" 2>/dev/null

expect 0 "" -- "$PRPATH" --version
grep -q '^prpath [0-9]' "$TMP/out" || fail "--version output: $(cat "$TMP/out")"

# ---- every long option of every --help is in the man page ------------------
MAN=$SRCDIR/docs/prpath.8
mantext=$(sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$MAN")
{
	"$PRPATH" --help
	for c in acquire takeover release status read write demo target "pr in" "pr out"; do
		# shellcheck disable=SC2086
		"$PRPATH" $c --help || fail "'prpath $c --help' failed"
	done
} >"$TMP/help" 2>&1
opts=$(grep -o -- '--[a-z][a-z0-9-]*' "$TMP/help" | sort -u)
[ "$(echo "$opts" | wc -l)" -gt 30 ] || fail "too few options found in --help: $opts"
missing=
for o in $opts; do
	grep -q -- "$o\b" <<<"$mantext" || missing="$missing $o"
done
[ -z "$missing" ] && ok "every long option is in prpath(8)" || fail "not in prpath(8):$missing"
for sec in "EXIT STATUS" "EXAMPLES" "GLOBAL OPTIONS"; do
	grep -q "^\.SH $sec" "$MAN" || fail "prpath(8) has no $sec section"
done

if [ $failures -ne 0 ]; then
	echo "$failures failure(s)"
	exit 1
fi
echo PASS
