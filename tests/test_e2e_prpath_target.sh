#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# End to end: two host processes (host A, host B; tests/e2e_host), each with
# 4 paths = 4 iSCSI sessions to 4 portals (4 target ports) of `prpath
# target` on loopback, run the multipath scenarios of tests/e2e_driver.py.
# Every scenario must pass here. Exit 77 (skip) only when the target cannot
# start (or the host program was not built: no libiscsi).
set -u
PRPATH=${PRPATH:?PRPATH must point at the prpath binary}
BUILDDIR=${BUILDDIR:?BUILDDIR not set}
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
IQN=iqn.2026-11.io.prpath:e2e
NLUN=9

# shellcheck source=tests/e2e_target.sh
. "$SRCDIR/tests/e2e_target.sh"
e2e_target_start "$IQN" "$NLUN" 4M

ARGS=(--host-bin "$HOST" --kind prpath --iqn "$IQN")
for i in 0 1 2 3; do ARGS+=(--portal "127.0.0.1:$((P + i))"); done
for i in $(seq 0 $((NLUN - 1))); do ARGS+=(--lun "$i"); done

timeout 300 python3 "$SRCDIR/tests/e2e_driver.py" "${ARGS[@]}"
rc=$?
if [ "$rc" -ne 0 ]; then
	echo "--- target log (tail) ---"
	tail -30 "$TMP/target.log"
	[ "$rc" -eq 124 ] && echo "FAIL: timed out"
	exit 1
fi
exit 0
