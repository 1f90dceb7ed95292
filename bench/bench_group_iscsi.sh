#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# bench_group_iscsi.sh — group takeover of N LUs x 4 portals over iSCSI
# against `prpath target` on loopback (issue 10). A benchmark: asserts
# nothing, not in the test suite. Starts the target itself and stops it by
# its pid.
#
#   bench/bench_group_iscsi.sh [BUILDDIR] [NLU]     (default build, 64)
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
build=${1:-$src/build}
NLU=${2:-64}
PRPATH=${PRPATH:-$build/src/cli/prpath}
BENCH=$build/bench/bench_group_iscsi
IQN=iqn.2026-12.io.prpath:bench-group
[ -x "$BENCH" ] || { echo "SKIP: $BENCH not built (libiscsi missing?)"; exit 77; }
TMP=$(mktemp -d)
TPID=
trap '[ -n "$TPID" ] && { kill "$TPID"; wait "$TPID"; } 2>/dev/null; rm -rf "$TMP"' EXIT
free_port() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for _ in 1 2 3 4 5 6 7 8; do
	P=$(( 20000 + (RANDOM % 10000) * 4 ))
	free_port "$P" && free_port $((P + 1)) && free_port $((P + 2)) && free_port $((P + 3)) && break
done
luns=()
for i in $(seq 0 $((NLU - 1))); do luns+=(--lun "$TMP/lu$i:1M"); done
"$PRPATH" target --iqn "$IQN" --portal "127.0.0.1:$P" --portal "127.0.0.1:$((P + 1))" \
	--portal "127.0.0.1:$((P + 2))" --portal "127.0.0.1:$((P + 3))" "${luns[@]}" \
	>"$TMP/target.log" 2>&1 &
TPID=$!
for _ in $(seq 1 100); do ! free_port "$P" && ! free_port $((P + 3)) && break; sleep 0.1; done
timeout 600 "$BENCH" 127.0.0.1 "$P" "$IQN" "$NLU"
rc=$?
echo "target logins: $(grep -c 'logged in' "$TMP/target.log")"
exit $rc
