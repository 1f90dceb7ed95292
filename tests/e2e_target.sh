# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# Shared by the tests that run tests/e2e_host processes against `prpath
# target` (test_e2e_prpath_target.sh, test_soak.sh): checks what they need,
# starts a target with 4 portals (4 target ports) on free loopback ports and
# NLUN file-backed LUNs, and stops it by its pid on exit.
#
#   . "$SRCDIR/tests/e2e_target.sh"
#   e2e_target_start IQN NLUN LUN-SIZE   # sets P (first port), TMP, TPID;
#                                        # exit 77 when it cannot run here
# Needs PRPATH and BUILDDIR; HOST is set to the e2e_host program.

HOST="$BUILDDIR/tests/e2e_host"
TMP=$(mktemp -d)
TPID=
# shellcheck disable=SC2317 # called from the EXIT trap
e2e_target_cleanup() {
	if [ -n "$TPID" ]; then kill "$TPID" 2>/dev/null; wait "$TPID" 2>/dev/null; fi
	rm -rf "$TMP"
}
trap e2e_target_cleanup EXIT

e2e_port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

e2e_target_start() {
	local iqn=$1 nlun=$2 size=$3 i started=
	local luns=()

	if [ ! -x "$HOST" ]; then
		echo "SKIP: $HOST not built (libiscsi missing?)"
		exit 77
	fi
	command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 missing"; exit 77; }
	for i in $(seq 0 $((nlun - 1))); do luns+=(--lun "$TMP/lu$i:$size"); done
	for _ in 1 2 3 4 5 6 7 8; do
		P=$(( 20000 + (RANDOM % 10000) * 4 ))
		if ! { e2e_port_free "$P" && e2e_port_free $((P + 1)) &&
		       e2e_port_free $((P + 2)) && e2e_port_free $((P + 3)); }; then
			continue
		fi
		"$PRPATH" target --iqn "$iqn" --portal "127.0.0.1:$P" \
			--portal "127.0.0.1:$((P + 1))" --portal "127.0.0.1:$((P + 2))" \
			--portal "127.0.0.1:$((P + 3))" "${luns[@]}" >"$TMP/target.log" 2>&1 &
		TPID=$!
		for _ in $(seq 1 50); do
			kill -0 "$TPID" 2>/dev/null || break
			if ! e2e_port_free "$P" && ! e2e_port_free $((P + 3)); then
				started=1
				break
			fi
			sleep 0.1
		done
		[ -n "$started" ] && return 0
		kill "$TPID" 2>/dev/null; wait "$TPID" 2>/dev/null; TPID=
	done
	echo "SKIP: prpath target could not start"; cat "$TMP/target.log" 2>/dev/null
	exit 77
}
