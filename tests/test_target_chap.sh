#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# CHAP on prpath's iSCSI target, over loopback: one-way and mutual, checked
# with libiscsi's tools (iscsi-inq, iscsi-ls: normal and discovery
# sessions) and with prpath's own host commands (credentials from the
# environment or the URL). Also: secrets never show up in output or logs.
# Exit 77 when libiscsi-bin is not installed.
set -u
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
. "$SRCDIR/tests/target_lib.sh"
tl_need iscsi-inq iscsi-ls python3

TMP=$(mktemp -d)
TARGET_PID=
trap tl_cleanup EXIT

fail() { echo "FAIL: $*"; [ -f "$TMP/target.log" ] && tail -20 "$TMP/target.log"; exit 1; }

SECRET=initiatorsecret1
MSECRET=targetsecret22
printf '%s\n' "$SECRET" >"$TMP/secret"
printf '%s' "$MSECRET" >"$TMP/msecret"
printf 'short\n' >"$TMP/short"
chmod 600 "$TMP/secret" "$TMP/msecret" "$TMP/short"
HOST=iqn.2026-11.io.prpath:chap-host

# ---- option errors: exit 1, clear message, no secret echoed ------------------
expect_usage() { # expect_usage PATTERN -- ARGS...
	local pat=$1 rc
	shift 2
	"$PRPATH" target --portal 127.0.0.1:1 --lun "$TMP/lu0:1M" "$@" \
		>"$TMP/out" 2>&1
	rc=$?
	[ "$rc" -eq 1 ] || fail "target $* exited $rc, expected 1: $(cat "$TMP/out")"
	grep -q -- "$pat" "$TMP/out" || fail "target $*: expected '$pat', got: $(cat "$TMP/out")"
	! grep -q -e "$SECRET" -e "$MSECRET" "$TMP/out" || fail "a secret was printed"
}
expect_usage "must have 12 to 255 bytes (too short)" -- --chap-user u --chap-secret-file "$TMP/short"
expect_usage "cannot open" -- --chap-user u --chap-secret-file "$TMP/missing"
expect_usage "go together" -- --chap-user u
expect_usage "go together" -- --chap-secret-file "$TMP/secret"
expect_usage "needs --chap-user" -- --chap-mutual-user t --chap-mutual-secret-file "$TMP/msecret"
expect_usage "must differ" -- --chap-user u --chap-secret-file "$TMP/secret" \
	--chap-mutual-user t --chap-mutual-secret-file "$TMP/secret"
head -c 256 /dev/zero | tr '\0' 'x' >"$TMP/long"
expect_usage "too long" -- --chap-user u --chap-secret-file "$TMP/long"
echo "ok: option errors"

# ---- one-way CHAP -------------------------------------------------------------
PORT1=$(tl_free_port)
tl_start_target --portal "127.0.0.1:$PORT1" --lun "$TMP/lu0:8M" \
	--chap-user alice --chap-secret-file "$TMP/secret"
U="iscsi://127.0.0.1:$PORT1/$IQN/0"
CU="iscsi://alice%$SECRET@127.0.0.1:$PORT1/$IQN/0"

timeout 30 iscsi-inq "$CU" >"$TMP/inq" 2>&1 || fail "iscsi-inq with CHAP: $(cat "$TMP/inq")"
grep -q "Vendor:PRPATH" "$TMP/inq" || fail "iscsi-inq output: $(cat "$TMP/inq")"
timeout 30 iscsi-inq "iscsi://alice%wrongsecret99@127.0.0.1:$PORT1/$IQN/0" >"$TMP/inq" 2>&1 &&
	fail "iscsi-inq with a wrong secret succeeded"
grep -q "Authentication failure" "$TMP/inq" || fail "wrong secret: $(cat "$TMP/inq")"
timeout 30 iscsi-inq "iscsi://bob%$SECRET@127.0.0.1:$PORT1/$IQN/0" >"$TMP/inq" 2>&1 &&
	fail "iscsi-inq with a wrong user succeeded"
timeout 30 iscsi-inq "$U" >"$TMP/inq" 2>&1 && fail "iscsi-inq without CHAP succeeded"
grep -q "Authentication failure" "$TMP/inq" || fail "no CHAP: $(cat "$TMP/inq")"
echo "ok: iscsi-inq right / wrong secret / wrong user / none"

# discovery sessions authenticate the same way
timeout 30 iscsi-ls "iscsi://alice%$SECRET@127.0.0.1:$PORT1" >"$TMP/ls" 2>&1 ||
	fail "iscsi-ls with CHAP: $(cat "$TMP/ls")"
grep -q "Target:$IQN" "$TMP/ls" || fail "iscsi-ls output: $(cat "$TMP/ls")"
timeout 30 iscsi-ls "iscsi://127.0.0.1:$PORT1" >"$TMP/ls" 2>&1 &&
	fail "discovery without CHAP succeeded"
echo "ok: discovery with and without CHAP"

# prpath host commands: credentials from the environment
PRPATH_CHAP_USER=alice PRPATH_CHAP_SECRET=$SECRET \
	"$PRPATH" -i "$HOST" status "$U" >"$TMP/st" 2>&1 || fail "status with env CHAP: $(cat "$TMP/st")"
grep -Eq '^1 +up ' "$TMP/st" || fail "status output: $(cat "$TMP/st")"
"$PRPATH" -i "$HOST" status "$U" >"$TMP/st" 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "status without CHAP exited $rc, expected 2"
grep -q "login refused: the target requires CHAP (set PRPATH_CHAP_USER and PRPATH_CHAP_SECRET)" "$TMP/st" ||
	fail "status without CHAP: $(cat "$TMP/st")"
PRPATH_CHAP_USER=alice PRPATH_CHAP_SECRET=wrongsecret99 \
	"$PRPATH" -i "$HOST" status "$U" >"$TMP/st" 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "status with a wrong secret exited $rc, expected 2"
grep -q "login refused: CHAP authentication failed: wrong user or secret, or the target requires mutual CHAP" "$TMP/st" ||
	fail "status with a wrong secret: $(cat "$TMP/st")"
PRPATH_CHAP_USER=alice "$PRPATH" -i "$HOST" status "$U" >"$TMP/st" 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "status with only PRPATH_CHAP_USER exited $rc"
grep -q "set both PRPATH_CHAP_USER and PRPATH_CHAP_SECRET" "$TMP/st" || fail "half env: $(cat "$TMP/st")"
echo "ok: prpath status with / without / wrong environment credentials"

# credentials in the URL; the secret never shows (-vv traces, JSON, errors)
"$PRPATH" -vv -i "$HOST" status "$CU" >"$TMP/st" 2>&1 || fail "status with URL CHAP: $(cat "$TMP/st")"
grep -Eq '^1 +up ' "$TMP/st" || fail "status output: $(cat "$TMP/st")"
"$PRPATH" -i "$HOST" -o json status "$CU" >>"$TMP/st" 2>&1 || fail "json status with URL CHAP"
grep -q "alice%\*\*\*@127.0.0.1" "$TMP/st" || fail "the URL is not shown redacted: $(cat "$TMP/st")"
"$PRPATH" -i "$HOST" pr in --read-keys "$CU" >>"$TMP/st" 2>&1 || fail "pr in with URL CHAP"
"$PRPATH" -vv -i "$HOST" status "iscsi://alice%wrongsecret99@127.0.0.1:$PORT1/$IQN/0" >>"$TMP/st" 2>&1 &&
	fail "status with a wrong URL secret succeeded"
! grep -q -e "$SECRET" -e wrongsecret99 "$TMP/st" || fail "a secret was printed: $(grep -e "$SECRET" -e wrongsecret99 "$TMP/st")"
! grep -q -e "$SECRET" -e wrongsecret99 "$TMP/target.log" || fail "a secret is in the target log"
grep -q "CHAP authenticated $HOST as 'alice'" "$TMP/target.log" || fail "no CHAP success in the target log"
grep -q "CHAP authentication of .* failed: wrong CHAP_R" "$TMP/target.log" || fail "no CHAP failure in the target log"
echo "ok: URL credentials, redacted everywhere"
tl_stop_target || exit 1

# ---- mutual CHAP --------------------------------------------------------------
PORT1=$(tl_free_port)
tl_start_target --portal "127.0.0.1:$PORT1" --lun "$TMP/lu0:8M" \
	--chap-user alice --chap-secret-file "$TMP/secret" \
	--chap-mutual-user prpath-target --chap-mutual-secret-file "$TMP/msecret"
U="iscsi://127.0.0.1:$PORT1/$IQN/0"
CU="iscsi://alice%$SECRET@127.0.0.1:$PORT1/$IQN/0"
timeout 30 iscsi-inq "$CU?target_user=prpath-target&target_password=$MSECRET" >"$TMP/inq" 2>&1 ||
	fail "iscsi-inq with mutual CHAP: $(cat "$TMP/inq")"
grep -q "Vendor:PRPATH" "$TMP/inq" || fail "iscsi-inq output: $(cat "$TMP/inq")"
timeout 30 iscsi-inq "$CU?target_user=prpath-target&target_password=wrongsecret99" >"$TMP/inq" 2>&1 &&
	fail "iscsi-inq accepted a target with the wrong mutual secret"
grep -q "Invalid CHAP_R response from the target" "$TMP/inq" || fail "wrong mutual secret: $(cat "$TMP/inq")"
timeout 30 iscsi-inq "$CU" >"$TMP/inq" 2>&1 && fail "one-way CHAP accepted when mutual is required"
echo "ok: iscsi-inq mutual right / wrong / missing"

PRPATH_CHAP_USER=alice PRPATH_CHAP_SECRET=$SECRET \
PRPATH_CHAP_MUTUAL_USER=prpath-target PRPATH_CHAP_MUTUAL_SECRET=$MSECRET \
	"$PRPATH" -i "$HOST" status "$U" >"$TMP/st" 2>&1 || fail "status with mutual CHAP: $(cat "$TMP/st")"
grep -Eq '^1 +up ' "$TMP/st" || fail "status output: $(cat "$TMP/st")"
PRPATH_CHAP_USER=alice PRPATH_CHAP_SECRET=$SECRET \
PRPATH_CHAP_MUTUAL_USER=prpath-target PRPATH_CHAP_MUTUAL_SECRET=wrongsecret99 \
	"$PRPATH" -i "$HOST" status "$U" >"$TMP/st" 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "status with a wrong mutual secret exited $rc, expected 2"
grep -q "the target failed mutual CHAP (its answer does not match PRPATH_CHAP_MUTUAL_USER/PRPATH_CHAP_MUTUAL_SECRET)" "$TMP/st" || fail "wrong mutual: $(cat "$TMP/st")"
# one-way credentials where mutual CHAP is required: not blamed on the secret alone
PRPATH_CHAP_USER=alice PRPATH_CHAP_SECRET=$SECRET \
	"$PRPATH" -i "$HOST" status "$U" >"$TMP/st" 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "status without mutual credentials exited $rc, expected 2"
grep -q "or the target requires mutual CHAP (set PRPATH_CHAP_MUTUAL_USER and PRPATH_CHAP_MUTUAL_SECRET)" "$TMP/st" ||
	fail "missing mutual CHAP: $(cat "$TMP/st")"
grep -q "CHAP authenticated $HOST as 'alice' (mutual)" "$TMP/target.log" || fail "no mutual success in the log"
grep -q "mutual CHAP required but the initiator sent no CHAP_I/CHAP_C" "$TMP/target.log" ||
	fail "no mutual-required failure in the log"
! grep -q -e "$SECRET" -e "$MSECRET" "$TMP/target.log" "$TMP/st" || fail "a secret was printed"
echo "ok: prpath status with mutual CHAP"
tl_stop_target || exit 1

# ---- --allow: a refused initiator is told so, not to set CHAP -------------------
PORT1=$(tl_free_port)
tl_start_target --portal "127.0.0.1:$PORT1" --lun "$TMP/lu0:8M" --allow "$HOST"
U="iscsi://127.0.0.1:$PORT1/$IQN/0"
"$PRPATH" -i "$HOST" status "$U" >"$TMP/st" 2>&1 || fail "status of an allowed initiator: $(cat "$TMP/st")"
"$PRPATH" -i iqn.2026-11.io.prpath:stranger status "$U" >"$TMP/st" 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "status of a stranger exited $rc, expected 2"
grep -q "login refused: the target does not allow initiator iqn.2026-11.io.prpath:stranger (not on its access list)" "$TMP/st" ||
	fail "stranger: $(cat "$TMP/st")"
grep -q "CHAP" "$TMP/st" && fail "a refusal by --allow mentions CHAP: $(cat "$TMP/st")"
grep -q "initiator iqn.2026-11.io.prpath:stranger is not on the --allow list" "$TMP/target.log" ||
	fail "no --allow refusal in the target log"
echo "ok: --allow refusal named as such"
tl_stop_target || exit 1
echo "PASS"
