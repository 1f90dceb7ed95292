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
HOST="$BUILDDIR/tests/e2e_host"
IQN=iqn.2026-11.io.prpath:soak
SEEDS=${SOAK_SEEDS:-1:20}
NLUN=${SEEDS#*:}

if [ ! -x "$HOST" ]; then
	echo "SKIP: $HOST not built (libiscsi missing?)"
	exit 77
fi
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 missing"; exit 77; }

TMP=$(mktemp -d)
TPID=
# shellcheck disable=SC2317 # called from the EXIT trap
cleanup() {
	if [ -n "$TPID" ]; then kill "$TPID" 2>/dev/null; wait "$TPID" 2>/dev/null; fi
	rm -rf "$TMP"
}
trap cleanup EXIT

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

LUNARGS=()
for i in $(seq 0 $((NLUN - 1))); do LUNARGS+=(--lun "$TMP/lu$i:1M"); done

started=
for _ in 1 2 3 4 5 6 7 8; do
	P=$(( 20000 + (RANDOM % 10000) * 4 ))
	if ! { port_free "$P" && port_free $((P + 1)) && port_free $((P + 2)) &&
	       port_free $((P + 3)); }; then
		continue
	fi
	"$PRPATH" target --iqn "$IQN" --portal "127.0.0.1:$P" \
		--portal "127.0.0.1:$((P + 1))" --portal "127.0.0.1:$((P + 2))" \
		--portal "127.0.0.1:$((P + 3))" "${LUNARGS[@]}" >"$TMP/target.log" 2>&1 &
	TPID=$!
	for _ in $(seq 1 50); do
		kill -0 "$TPID" 2>/dev/null || break
		if ! port_free "$P" && ! port_free $((P + 3)); then started=1; break; fi
		sleep 0.1
	done
	[ -n "$started" ] && break
	kill "$TPID" 2>/dev/null; wait "$TPID" 2>/dev/null; TPID=
done
if [ -z "$started" ]; then
	echo "SKIP: prpath target could not start"; cat "$TMP/target.log" 2>/dev/null
	exit 77
fi

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
