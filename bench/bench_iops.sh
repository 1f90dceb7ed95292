#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# bench_iops.sh — 4 KiB random read and random write IOPS of `prpath target`
# against tgtd, same backing file, same machine, same run, loopback only.
# A benchmark, not a test: it asserts nothing and is not in the test suite.
#
#   bench/bench_iops.sh [BUILDDIR]        (default: build)
#
# Environment: ROUNDS (3), SECS per run (10), QD commands in flight (32),
# SIZE_MIB of the backing file (256).
#
# Reads use libiscsi's iscsi-perf (-r -b 8: random 4 KiB READ(16)); writes use
# bench/iscsi_iops -w (random 4 KiB WRITE(16); iscsi-perf cannot write). Each
# round runs prpath and tgtd back to back, the order alternating per round;
# the ratio is median(prpath) / median(tgtd). Every process the script starts
# is stopped by its pid. Exit 77 when a tool is missing or tgtd cannot run.
set -u

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
build=${1:-$src/build}
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-10}
QD=${QD:-32}
SIZE_MIB=${SIZE_MIB:-256}
PRPATH=${PRPATH:-$build/src/cli/prpath}
ISCSI_IOPS=${ISCSI_IOPS:-$build/bench/iscsi_iops}
IQN_P=iqn.2026-11.io.prpath:bench-iops
IQN_T=iqn.2026-11.io.prpath:bench-iops-tgt
INI=iqn.2026-11.io.prpath:bench-initiator

skip() {
	echo "SKIP: $*"
	exit 77
}

for tool in iscsi-perf tgtd tgtadm python3 timeout dd; do
	command -v "$tool" >/dev/null 2>&1 || skip "$tool not installed"
done
[ -x "$PRPATH" ] || skip "no prpath binary at $PRPATH (build first, or set PRPATH)"
[ -x "$ISCSI_IOPS" ] || skip "no iscsi_iops at $ISCSI_IOPS (build first, or set ISCSI_IOPS)"

# tgtd on its own control port, stopped by pid (tgt_env_stop).
. "$src/tests/tgt_env.sh"

TARGET_PID=""
WORK=""
# shellcheck disable=SC2317 # called from the EXIT trap
cleanup() {
	if [ -n "$TARGET_PID" ] && kill -0 "$TARGET_PID" 2>/dev/null; then
		kill -TERM "$TARGET_PID" 2>/dev/null
		wait "$TARGET_PID" 2>/dev/null
	fi
	TARGET_PID=""
	tgt_env_stop
	[ -n "$WORK" ] && rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

tgt_env_start
trap cleanup EXIT   # tgt_env_start installed its own EXIT trap

WORK=$(mktemp -d "${TMPDIR:-/tmp}/prpath-bench-iops.XXXXXX") || exit 1
LUN="$WORK/lun.img"
dd if=/dev/urandom of="$LUN" bs=1M count="$SIZE_MIB" status=none ||
	{ echo "cannot create $LUN"; exit 1; }
cat "$LUN" >/dev/null

# tgtd: target 1, LUN 1 (LUN 0 is tgt's controller) on the file.
tgt_env_add_target "$IQN_T" || exit 1
tgt_env_adm --mode logicalunit --op new --tid "$TGT_TID" --lun 1 \
	--backing-store "$LUN" || { echo "tgtadm cannot add the LUN"; exit 1; }

# prpath target: LUN 0 on the same file.
PPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PRPATH" target --portal "127.0.0.1:$PPORT" --iqn "$IQN_P" --lun "$LUN" \
	2>"$WORK/prpath-target.log" &
TARGET_PID=$!
for _ in $(seq 1 100); do
	tgt_env_port_busy "$PPORT" && break
	kill -0 "$TARGET_PID" 2>/dev/null || break
	sleep 0.1
done
if ! tgt_env_port_busy "$PPORT"; then
	echo "prpath target did not start:"
	cat "$WORK/prpath-target.log"
	exit 1
fi

URL_P="iscsi://127.0.0.1:$PPORT/$IQN_P/0"
URL_T="iscsi://127.0.0.1:$TGT_PORT/$IQN_T/1"

# run_one read|write URL -> prints the IOPS (empty on failure)
run_one() {
	local mode=$1 url=$2 out
	if [ "$mode" = read ]; then
		out=$(timeout $((SECS + 30)) iscsi-perf -i "$INI" -m "$QD" -b 8 \
			-t "$SECS" -r "$url" 2>&1 | tr '\r' '\n')
		echo "$out" | sed -n 's/^iops average \([0-9]*\) .*/\1/p' | tail -1
	else
		out=$(timeout $((SECS + 30)) "$ISCSI_IOPS" -w -i "$INI" -q "$QD" \
			-s 4096 -t "$SECS" "$url" 2>&1)
		echo "$out" | sed -n 's/^iops \([0-9]*\) .*/\1/p' | tail -1
	fi
}

median() {
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print 0; exit }
		if (NR % 2) print v[(NR + 1) / 2];
		else printf "%d\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "bench_iops: $(nproc) CPUs, $(uname -r), ${SIZE_MIB} MiB file on $(df -P "$WORK" | awk 'NR == 2 { print $1 }')"
echo "bench_iops: 4 KiB random, queue depth $QD, $ROUNDS rounds x ${SECS} s per target and mode"
echo "bench_iops: prpath $URL_P  tgtd $URL_T"

declare -A res
fail=0
for mode in read write; do
	for r in $(seq 1 "$ROUNDS"); do
		if [ $((r % 2)) = 1 ]; then order="prpath tgtd"; else order="tgtd prpath"; fi
		for who in $order; do
			if [ "$who" = prpath ]; then url=$URL_P; else url=$URL_T; fi
			v=$(run_one "$mode" "$url")
			if [ -z "$v" ]; then
				echo "bench_iops: $mode on $who failed"
				fail=1
				v=0
			fi
			res[$mode,$who,$r]=$v
		done
		printf '%-5s round %d: prpath %8d IOPS  tgtd %8d IOPS\n' "$mode" "$r" \
			"${res[$mode,prpath,$r]}" "${res[$mode,tgtd,$r]}"
	done
done

echo
for mode in read write; do
	p=(); t=()
	for r in $(seq 1 "$ROUNDS"); do
		p+=("${res[$mode,prpath,$r]}")
		t+=("${res[$mode,tgtd,$r]}")
	done
	mp=$(median "${p[@]}")
	mt=$(median "${t[@]}")
	ratio=$(awk -v a="$mp" -v b="$mt" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
	printf 'random %-5s median: prpath %8d IOPS  tgtd %8d IOPS  ratio prpath/tgtd %s\n' \
		"$mode" "$mp" "$mt" "$ratio"
done
if ! kill -0 "$TARGET_PID" 2>/dev/null; then
	echo "bench_iops: prpath target died:"
	cat "$WORK/prpath-target.log"
	fail=1
fi
exit $fail
