#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# prpathd.conf(5): a valid file is summarised (--check, exit 0); every bad
# one is refused with FILE:LINE: and its reason (exit 1), nothing used.
set -u
PRPATHD=${PRPATHD:?PRPATHD must point at the prpathd binary}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
n=0
HOST=$'[host]\ninitiator = iqn.2026-12.com.example:node1\n'
U0=iscsi://127.0.0.1:3260/iqn.2026-12.x:t/0
U1=iscsi://127.0.0.1:3261/iqn.2026-12.x:t/0

check() { # check STATUS "TEXT ON STDERR/STDOUT" CONTENT
	local want=$1 text=$2 rc=0
	n=$((n + 1))
	printf '%s' "$3" >"$TMP/c$n.conf"
	"$PRPATHD" --config "$TMP/c$n.conf" --check >"$TMP/out" 2>"$TMP/err" || rc=$?
	[ "$rc" -eq "$want" ] || fail "case $n: exit $rc, expected $want: $(cat "$TMP/out" "$TMP/err")"
	grep -qF -- "$text" "$TMP/out" "$TMP/err" || fail "case $n: no '$text' in: $(cat "$TMP/out" "$TMP/err")"
	echo "ok: case $n ($want): $text"
}

V0=iscsi://127.0.0.1:3260/iqn.2026-12.x:u/1
V1=iscsi://127.0.0.1:3261/iqn.2026-12.x:u/1
check 0 "1 group(s), 2 LU(s), 4 path(s): valid" "$HOST"$'key = 0x1234\ncheck_interval = 5\n[group db]\nmode = exclusive\naptpl = no\non_fenced = /bin/true ; comment\nlu = data '"$U0 $U1"$'\nlu = log\npath = '"$V0"$'\npath = '"$V1"$'\n'
grep -q "check every 5 s" "$TMP/out" || fail "check_interval not read"
grep -q "aptpl no" "$TMP/out" || fail "aptpl not read"
check 0 "key 0x" "$HOST"$'[group g]\nlu = a '"$U0"$'\n'
grep -q "(derived)" "$TMP/out" || fail "derived key not said"
# errors, each naming its line
check 1 "c$((n + 1)).conf:0: [host] with initiator = ... is required" $'[group g]\nlu = a '"$U0"$'\n'
check 1 ":2: initiator 'nope' is not an iSCSI name" $'[host]\ninitiator = nope\n'
check 1 ":3: key '0' is not a reservation key" "$HOST"$'key = 0\n'
check 1 ":3: key '0x1g' is not a reservation key" "$HOST"$'key = 0x1g\n'
check 1 ":3: check_interval '0' is not a number of seconds from 1 to 3600" "$HOST"$'check_interval = 0\n'
check 1 ":3: check_interval '-5' is not a number" "$HOST"$'check_interval = -5\n'
check 1 ":3: check_interval '99999999999999999999'" "$HOST"$'check_interval = 99999999999999999999\n'
check 1 ":3: [host] has no key 'colour'" "$HOST"$'colour = blue\n'
check 1 ":2: unknown section [hosts]" $'[hosts]\ninitiator = iqn.2026-12.x:y\n'
check 1 ":1: 'initiator' outside a section" $'initiator = iqn.2026-12.x:y\n'
check 1 ":4: mode 'exclusve' is not exclusive or shared" "$HOST"$'[group g]\nmode = exclusve\n'
check 1 ":4: aptpl 'maybe' is not yes or no" "$HOST"$'[group g]\naptpl = maybe\n'
check 1 ":4: on_fenced 'stop-db' must be an absolute path" "$HOST"$'[group g]\non_fenced = stop-db\n'
check 1 ":4: lu: the first word is the LU's name, then its PATHs" "$HOST"$'[group g]\nlu = '"$U0"$'\n'
check 1 ":4: lu name 'a/b'" "$HOST"$'[group g]\nlu = a/b '"$U0"$'\n'
check 1 ":4: lu a: PATH 'http://x/y'" "$HOST"$'[group g]\nlu = a http://x/y\n'
check 1 ":4: lu a: PATH 2 is the same path as PATH 1" "$HOST"$'[group g]\nlu = a '"$U0 ${U0/:3260/}"$'\n'
check 1 ":5: group g has an LU named a already" "$HOST"$'[group g]\nlu = a '"$U0"$'\nlu = a '"$U1"$'\n'
check 1 ":4: path = comes after an lu = NAME line" "$HOST"$'[group g]\npath = '"$U0"$'\n'
check 1 ":0: group g has no lu = lines" "$HOST"$'[group g]\nmode = shared\n'
check 1 ":0: lu a of group g has no PATH" "$HOST"$'[group g]\nlu = a\n'
# LUNs of one target through one portal: one shared session, valid
check 0 "1 group(s), 2 LU(s), 4 path(s): valid" "$HOST"$'[group g]\nlu = a '"$U0 $U1"$'\nlu = b '"${U0%/0}/1 ${U1%/0}/1"$'\n'
# one path in two LUs: one LU configured twice
check 1 ":0: lu b (group h) PATH 1 and lu c (group h) PATH 2 are the same path: one LU configured twice" "$HOST"$'[group g]\nlu = a '"$U0"$'\n[group h]\nlu = b '"${U1%/0}/1"$'\nlu = c '"$V0 ${U1%/0}/1"$'\n'
check 1 ":8: a second [group g]" "$HOST"$'[group g]\nlu = a '"$U0"$'\n[group h]\nlu = b '"$U0"$'\n[group g]\nlu = c '"$U0"$'\n'
check 1 "group name 'a b'" "$HOST"$'[group a b]\nlu = a '"$U0"$'\n'
check 1 ":4: [group g] has no key 'colour'" "$HOST"$'[group g]\ncolour = red\n'
check 1 ":3: not INI" "$HOST"$'this is not a key value line\n'
printf '[host]\ninitiator = iqn.2026-12.x:y\n\0key = 1\n' >"$TMP/nul.conf"
rc=0; "$PRPATHD" --config "$TMP/nul.conf" --check >"$TMP/out" 2>"$TMP/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "nul.conf:0: the file holds a NUL byte: not a text file" "$TMP/err" ||
	fail "a NUL byte: exit $rc: $(cat "$TMP/err")"
echo "ok: a NUL byte is refused"
printf '[host]\ninitiator = iqn.2026-12.x:y\n[group g]\nlu = a %s\n' "$(printf 'iscsi://127.0.0.1:3260/iqn.2026-12.x:t/0 %.0s' 1 2 3 4 5)" >"$TMP/long.conf"
rc=0; "$PRPATHD" --config "$TMP/long.conf" --check >"$TMP/out" 2>"$TMP/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "long.conf:4: line too long (keep lines under 188 characters: continue an LU's PATHs on 'path = PATH' lines)" "$TMP/err" ||
	fail "a line over 199 characters: exit $rc: $(cat "$TMP/err")"
echo "ok: a line over 199 characters is refused, never cut"
# a CHAP secret in a PATH never shows in a message
check 1 "lu a: PATH 2 is the same path as PATH 1" "$HOST"$'[group g]\nlu = a iscsi://u%s3cr3t@127.0.0.1/iqn.2026-12.x:t/0 iscsi://u%s3cr3t@127.0.0.1:3260/iqn.2026-12.x:t/0\n'
check 1 "lu a: PATH 'iscsi://u" "$HOST"$'[group g]\nlu = a iscsi://u%s3cr3t@127.0.0.1/iqn.2026-12.x:t/zz\n'
grep -q s3cr3t "$TMP/err" && fail "the CHAP secret was printed: $(cat "$TMP/err")"
# the file itself
rc=0; "$PRPATHD" --config "$TMP/missing.conf" --check 2>"$TMP/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "missing.conf: No such file or directory" "$TMP/err" || fail "missing file: exit $rc: $(cat "$TMP/err")"
rc=0; "$PRPATHD" --check 2>"$TMP/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q -- "--config FILE is required" "$TMP/err" || fail "no --config: exit $rc"
# a bad file stops the daemon too, before anything is opened
rc=0; timeout 10 "$PRPATHD" --config "$TMP/c4.conf" 2>"$TMP/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "c4.conf:2: initiator 'nope'" "$TMP/err" || fail "daemon with a bad file: exit $rc"
echo "PASS ($n cases)"
