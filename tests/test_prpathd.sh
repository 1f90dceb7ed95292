#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# prpathd as a standby daemon against `prpath target` (4 portals, 2 LUNs):
# it logs in every path of every LU at start and says so, registers
# nothing, logs a path it cannot open, stops on SIGTERM with exit 0, and
# never prints a CHAP secret. Started and stopped by its own pid.
set -u
PRPATHD=${PRPATHD:?PRPATHD must point at the prpathd binary}
. "$SRCDIR/tests/e2e_target.sh"
IQN=iqn.2026-11.io.prpath:prpathd
e2e_target_start "$IQN" 2 1M
DPID=
stop_daemon() { if [ -n "$DPID" ]; then kill "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; DPID=; fi; }
trap 'stop_daemon; e2e_target_cleanup' EXIT
fail() { echo "FAIL: $*"; [ -f "$TMP/d.log" ] && tail -20 "$TMP/d.log"; exit 1; }
wait_log() { # wait_log TEXT SECONDS
	local i
	for i in $(seq 1 $(( $2 * 10 ))); do grep -qF -- "$1" "$TMP/d.log" && return 0; sleep 0.1; done
	return 1
}
u() { echo "iscsi://127.0.0.1:$(( P + $1 ))/$IQN/$2"; }
cat >"$TMP/d.conf" <<CONF
[host]
initiator = iqn.2026-11.io.prpath:prpathd-a
check_interval = 1
[group db]
lu = data $(u 0 0) $(u 1 0)
path = $(u 2 0)
lu = log $(u 0 1) $(u 1 1) iscsi://u%s3cr3t@127.0.0.1:1/$IQN/1
CONF
"$PRPATHD" --config "$TMP/d.conf" -v >"$TMP/d.out" 2>"$TMP/d.log" &
DPID=$!
wait_log "prpathd: ready" 30 || fail "prpathd did not get ready"
grep -q "group db: exclusive, 2 LU(s) standby (nothing registered), 5 of 6 paths up" "$TMP/d.log" ||
	fail "startup summary: $(grep 'group db' "$TMP/d.log")"
grep -q "db/log path 3 (iscsi://u%\*\*\*@127.0.0.1:1/$IQN/1): " "$TMP/d.log" ||
	fail "the path that cannot be opened is not named: $(grep 'db/log' "$TMP/d.log")"
grep -q s3cr3t "$TMP/d.log" && fail "a CHAP secret was logged"
echo "ok: standby with 5 of 6 paths, the failing path named, no secret"
# standby: nothing registered on either LU
for lun in 0 1; do
	"$PRPATH" -o json pr in --read-keys "$(u 3 $lun)" >"$TMP/keys" || fail "pr in on LUN $lun"
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["keys"] == [], d' "$TMP/keys" ||
		fail "LUN $lun has registrations: $(cat "$TMP/keys")"
done
echo "ok: nothing registered by a standby daemon"
# the checker runs every second: the dead path is retried, not fatal
sleep 2.5
kill -0 "$DPID" 2>/dev/null || fail "prpathd died"
# SIGHUP: said, nothing changes; SIGTERM: clean stop, exit 0
kill -HUP "$DPID"
wait_log "SIGHUP: reloading the configuration is not available yet" 5 || fail "SIGHUP not said"
kill -TERM "$DPID"
rc=0; wait "$DPID" || rc=$?
DPID=
[ "$rc" -eq 0 ] || fail "prpathd exit $rc after SIGTERM"
grep -q "prpathd: stopped" "$TMP/d.log" || fail "no 'stopped'"
echo "ok: SIGHUP said, SIGTERM stops with exit 0"
echo PASS
