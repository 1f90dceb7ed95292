#!/bin/bash
# libiscsi conformance (iscsi-test-cu) against `prpath target`: the PR
# families, RESERVE(6) and MultipathIO over two portals of the same target.
# Zero failures expected. Exit 77 when iscsi-test-cu or prpath is missing.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/target_lib.sh"
tl_need iscsi-test-cu python3 timeout

TMP=$(mktemp -d)
trap tl_cleanup EXIT
PORT1=$(tl_free_port)
PORT2=$(tl_free_port)
while [ "$PORT2" = "$PORT1" ]; do PORT2=$(tl_free_port); done

tl_start_target --portal "127.0.0.1:$PORT1" --portal "127.0.0.1:$PORT2" \
	--iqn "$IQN" --lun "$TMP/lun0.img:64M" --state-dir "$TMP/state"
tl_wait_port "$PORT2" || { echo "FAIL: second portal not listening"; exit 1; }

URL1="iscsi://127.0.0.1:$PORT1/$IQN/0"
URL2="iscsi://127.0.0.1:$PORT2/$IQN/0"
fail=0
for fam in ALL.PrinReadKeys ALL.PrinServiceactionRange ALL.PrinReportCapabilities \
	   ALL.ProutRegister ALL.ProutReserve ALL.ProutClear ALL.ProutPreempt \
	   ALL.Reserve6; do
	tl_cu "$fam" "$URL1" || fail=1
done
tl_cu ALL.MultipathIO "$URL1" "$URL2" || fail=1

if ! kill -0 "$TARGET_PID" 2>/dev/null; then
	echo "FAIL: target died"; cat "$TMP/target.log"; exit 1
fi
tl_stop_target || fail=1
exit $fail
