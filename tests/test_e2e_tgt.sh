#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# End to end against a real tgtd on loopback: two host processes (host A,
# host B; tests/e2e_host), each with 4 paths = 4 iSCSI sessions (4 ISIDs,
# so 4 I_T nexuses) to the one portal, run the scenarios of
# tests/e2e_driver.py. Where tgt deviates from SPC-4, the driver asserts
# the deviation it observes (docs/tgt-deviations.md). Exit 77 (skip) only
# when tgtd cannot run here (tests/tgt_env.sh) or e2e_host was not built.
set -u
BUILDDIR=${BUILDDIR:?BUILDDIR not set}
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
HOST="$BUILDDIR/tests/e2e_host"
IQN=iqn.2026-11.io.prpath:e2e-tgt
NLUN=9

if [ ! -x "$HOST" ]; then
	echo "SKIP: $HOST not built (libiscsi missing?)"
	exit 77
fi
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 missing"; exit 77; }

# shellcheck source=tests/tgt_env.sh
. "$SRCDIR/tests/tgt_env.sh"

tgt_env_start
tgt_env_add_target "$IQN" || exit 1
ARGS=(--host-bin "$HOST" --kind tgt --iqn "$IQN" --portal "127.0.0.1:$TGT_PORT")
# LUN 0 is tgt's controller: one LUN per scenario from 1
for i in $(seq 1 "$NLUN"); do
	tgt_env_add_lun "$TGT_TID" "$i" 4 || exit 1
	ARGS+=(--lun "$i")
done

timeout 300 python3 "$SRCDIR/tests/e2e_driver.py" "${ARGS[@]}"
rc=$?
if [ "$rc" -ne 0 ]; then
	echo "--- tgtd log (tail) ---"
	tail -30 "$TGT_LOG"
	[ "$rc" -eq 124 ] && echo "FAIL: timed out"
	exit 1
fi
exit 0
