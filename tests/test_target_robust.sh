#!/bin/bash
# `prpath target` against bad peers: garbage, oversized, truncated and
# malformed PDUs, login errors, a slow reader, half-open and trickling
# connections, connection floods, concurrent reinstatement, task-set and
# buffer accounting (target_robust.py); afterwards a normal initiator
# (iscsi-inq, iscsi-ls) must still be served and the target must shut down
# cleanly and promptly on SIGTERM while connections are live. Then a target
# with --nop-interval 2 for the NOP-In ping checks (target_robust.py --nop).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/target_lib.sh"
tl_need iscsi-inq iscsi-ls python3

TMP=$(mktemp -d)
trap 'exec 3>&- 4>&- 2>/dev/null; tl_cleanup' EXIT
PORT1=$(tl_free_port)
tl_start_target --portal "127.0.0.1:$PORT1" --iqn "$IQN" \
	--lun "$TMP/lun0.img:16M" --allow "$INI1" --allow "$INI2"
URL="iscsi://127.0.0.1:$PORT1/$IQN/0"
fail=0

# the python client keeps its half-open connections while we test
mkfifo "$TMP/in"
python3 "$here/target_robust.py" "$PORT1" "$IQN" "$INI1" <"$TMP/in" >"$TMP/robust.out" 2>&1 &
py=$!
exec 3>"$TMP/in"
for i in $(seq 1 300); do
	grep -q HALFOPEN_READY "$TMP/robust.out" && break
	kill -0 "$py" 2>/dev/null || break
	sleep 0.1
done
grep -q HALFOPEN_READY "$TMP/robust.out" || { echo "FAIL: robust client did not get ready"; fail=1; }

if ! timeout 30 iscsi-inq -i "$INI2" "$URL" >"$TMP/inq.out" 2>&1 ||
   ! grep -q "Vendor:PRPATH" "$TMP/inq.out"; then
	echo "FAIL: iscsi-inq while bad peers are connected"; cat "$TMP/inq.out"; fail=1
else
	echo "ok: iscsi-inq served while bad peers are connected"
fi
if ! timeout 30 iscsi-ls -i "$INI2" -s "iscsi://127.0.0.1:$PORT1" >"$TMP/ls.out" 2>&1 ||
   ! grep -q "Portal:127.0.0.1:$PORT1,1" "$TMP/ls.out"; then
	echo "FAIL: iscsi-ls discovery"; cat "$TMP/ls.out"; fail=1
else
	echo "ok: iscsi-ls discovery lists the portal with its tag"
fi
if timeout 30 iscsi-inq -i iqn.2000-01.invalid:intruder "$URL" >/dev/null 2>&1; then
	echo "FAIL: initiator outside --allow got in"; fail=1
else
	echo "ok: initiator outside --allow refused"
fi

exec 3>&-
wait "$py" || fail=1
cat "$TMP/robust.out" | grep -v HALFOPEN_READY

if ! kill -0 "$TARGET_PID" 2>/dev/null; then
	echo "FAIL: target died"; cat "$TMP/target.log"; exit 1
fi
timeout 30 iscsi-inq -i "$INI1" "$URL" >/dev/null 2>&1 || { echo "FAIL: iscsi-inq after the bad peers left"; fail=1; }

# SIGTERM with live connections (a write waiting for data, a peer that does
# not read, a login cut off mid-PDU, an idle socket): a prompt, clean exit
mkfifo "$TMP/live_in"
python3 "$here/target_robust.py" "$PORT1" "$IQN" "$INI1" --live <"$TMP/live_in" >"$TMP/live.out" 2>&1 &
live=$!
exec 4>"$TMP/live_in"
for i in $(seq 1 300); do
	grep -q LIVE_READY "$TMP/live.out" && break
	kill -0 "$live" 2>/dev/null || break
	sleep 0.1
done
grep -q LIVE_READY "$TMP/live.out" || { echo "FAIL: live client did not get ready"; cat "$TMP/live.out"; fail=1; }
t0=$(date +%s)
tl_stop_target || fail=1
t1=$(date +%s)
if [ $((t1 - t0)) -gt 5 ]; then
	echo "FAIL: shutdown with live connections took $((t1 - t0)) s"; fail=1
else
	echo "ok: SIGTERM with live connections: clean exit in $((t1 - t0)) s"
fi
exec 4>&-
wait "$live" || fail=1
grep -v LIVE_READY "$TMP/live.out"

# NOP-In pings (--nop-interval 2): idle sessions are pinged, a peer that
# does not answer or stalls mid-PDU is dropped, one that answers stays;
# libiscsi initiators keep working
for bad in -1 abc 3601 " 2" 2s; do
	if "$PRPATH" target --nop-interval "$bad" --lun "$TMP/lun0.img" \
		--portal 127.0.0.1:0 >/dev/null 2>"$TMP/nopbad.err" ||
	   ! grep -q -- "--nop-interval: '$bad' is not a number of seconds" "$TMP/nopbad.err"; then
		echo "FAIL: --nop-interval '$bad' accepted"; cat "$TMP/nopbad.err"; fail=1
	fi
done
PORT1=$(tl_free_port)
tl_start_target --portal "127.0.0.1:$PORT1" --iqn "$IQN" \
	--lun "$TMP/lun0.img" --nop-interval 2
URL="iscsi://127.0.0.1:$PORT1/$IQN/0"
python3 "$here/target_robust.py" "$PORT1" "$IQN" "$INI1" --nop </dev/null || fail=1
if ! timeout 30 iscsi-inq -i "$INI2" "$URL" >"$TMP/inq.out" 2>&1 ||
   ! grep -q "Vendor:PRPATH" "$TMP/inq.out"; then
	echo "FAIL: iscsi-inq with --nop-interval 2"; cat "$TMP/inq.out"; fail=1
else
	echo "ok: iscsi-inq with --nop-interval 2"
fi
tl_stop_target || fail=1
exit $fail
