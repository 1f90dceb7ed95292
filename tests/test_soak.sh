#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Randomized fault soak (tests/soak.py): host A writes through 4 paths of
# `prpath target`, each behind a fault-injecting proxy, while paths are cut,
# paused and brought back; host B takes over; the invariants are checked
# on the LU for every seed. SOAK_SEEDS=FIRST:COUNT (default 1:20, the CI
# campaign); a long run: SOAK_SEEDS=1:400 (docs/SOAK.md). Exit 77 (skip)
# only when the target cannot start or the host program was not built.
set -u
PRPATH=${PRPATH:?PRPATH must point at the prpath binary}
BUILDDIR=${BUILDDIR:?BUILDDIR not set}
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
IQN=iqn.2026-11.io.prpath:soak
SEEDS=${SOAK_SEEDS:-1:20}
NLUN=${SEEDS#*:}

# shellcheck source=tests/e2e_target.sh
. "$SRCDIR/tests/e2e_target.sh"
e2e_target_start "$IQN" "$NLUN" 1M

ARGS=(--host-bin "$HOST" --iqn "$IQN" --seeds "$SEEDS")
for i in 0 1 2 3; do ARGS+=(--portal "127.0.0.1:$((P + i))"); done
for i in $(seq 0 $((NLUN - 1))); do ARGS+=(--lun "$i"); done

timeout "${SOAK_TIMEOUT:-900}" python3 "$SRCDIR/tests/soak.py" "${ARGS[@]}"
rc=$?
if [ "$rc" -ne 0 ]; then
	echo "--- target log (tail) ---"
	tail -30 "$TMP/target.log"
	[ "$rc" -eq 124 ] && echo "FAIL: timed out"
	exit 1
fi
exit 0
