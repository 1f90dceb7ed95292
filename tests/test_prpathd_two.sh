#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Two prpathd hosts (A and B) with a group of 8 LUs x 4 paths against
# `prpath target` (8 LUNs, 4 portals); A's paths go through per-portal TCP
# proxies so that one can be cut. The story of issue 10: acquire, B
# refused with nothing left behind, a path cut and back (registered again
# before use), A paused (SIGSTOP) and B's takeover, A wakes fenced on
# every LU and runs on_fenced, racing takeovers end with one owner of all
# 8 LUs, release leaves nothing, a daemon restart keeps the reservation.
# Every process is started here and stopped by its pid.
#
# PRPATHD_TWO_TARGET=tgt (tests/test_prpathd_two_tgt.sh): the same story
# against tgtd with 4 portals and LUNs 1-8 (LUN 0 is tgt's controller),
# where registrations belong to the session: a cut path comes back with
# no registration and the daemon registers it again under the rule that
# K must still hold the LU.
set -u
PRPATHD=${PRPATHD:?PRPATHD must point at the prpathd binary}
IQN=iqn.2026-12.io.prpath:two
NLU=8
if [ "${PRPATHD_TWO_TARGET:-prpath}" = tgt ]; then
	# shellcheck source=tests/tgt_env.sh
	. "$SRCDIR/tests/tgt_env.sh"
	TMP=$(mktemp -d)
	e2e_target_cleanup() { tgt_env_stop; rm -rf "$TMP"; }
	e2e_port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
	tgt_env_start
	tgt_env_add_target "$IQN" || exit 1
	for l in $(seq 1 "$NLU"); do tgt_env_add_lun "$TGT_TID" "$l" 1 || exit 1; done
	# three more portals next to tgtd's own: 4 target ports to reach (a
	# port another test took meanwhile is tried again elsewhere)
	PT=("$TGT_PORT")
	for k in 1 2 3; do
		for _ in 1 2 3 4 5 6 7 8; do
			port=$(( 40000 + RANDOM % 20000 ))
			e2e_port_free "$port" &&
				tgt_env_adm --mode portal --op new --param "portal=127.0.0.1:$port" 2>/dev/null &&
				{ PT[k]=$port; break; }
		done
		[ -n "${PT[k]:-}" ] || tgt_env_skip "tgtd cannot add a fourth portal"
	done
	LUN0=1
	ON_TGT=1
else
	. "$SRCDIR/tests/e2e_target.sh"
	e2e_target_start "$IQN" "$NLU" 1M
	PT=("$P" $((P + 1)) $((P + 2)) $((P + 3)))
	LUN0=0
	ON_TGT=
fi
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
APID= BPID=
PROXY=()
stop_all() {
	local p
	for p in "$APID" "$BPID" "${PROXY[@]}"; do
		[ -n "$p" ] || continue
		kill -CONT "$p" 2>/dev/null
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	APID= BPID=
	PROXY=()
}
trap 'stop_all; e2e_target_cleanup' EXIT
fail() {
	echo "FAIL: $*"
	for f in a.log b.log; do [ -f "$TMP/$f" ] && { echo "--- $f"; tail -25 "$TMP/$f"; }; done
	exit 1
}
wait_for() { # wait_for FILE TEXT SECONDS [PID: give up when it is gone]
	local i
	for i in $(seq 1 $(( $3 * 10 ))); do
		grep -qF -- "$2" "$1" 2>/dev/null && return 0
		[ -n "${4:-}" ] && ! kill -0 "$4" 2>/dev/null && return 1
		sleep 0.1
	done
	return 1
}

# A's proxies: portal k is reached through port Q+k, from 61000-64999:
# above the kernel's ephemeral ports (32768-60999) and the ranges the other
# tests pick their targets and portals from, so that nothing started in
# parallel can take a proxy's port between the check and the bind
for _ in 1 2 3 4 5 6 7 8; do
	Q=$(( 61000 + (RANDOM % 1000) * 4 ))
	e2e_port_free "$Q" && e2e_port_free $((Q + 1)) && e2e_port_free $((Q + 2)) &&
		e2e_port_free $((Q + 3)) && break
done
start_proxy() { # start_proxy K
	: >"$TMP/proxy$1.out"
	"$PY" "$SRCDIR/tests/tcp_proxy.py" $((Q + $1)) "${PT[$1]}" --lifetime 300 >"$TMP/proxy$1.out" 2>&1 &
	PROXY[$1]=$!
	wait_for "$TMP/proxy$1.out" ready 10 || fail "proxy $1 did not start"
}
for k in 0 1 2 3; do start_proxy "$k"; done
# each proxy answers before host A starts (once, in a fresh-clone CI run,
# A found one of them refusing connections at its start: say why if so)
proxies_up() {
	local k i
	for k in 0 1 2 3; do
		for i in $(seq 1 20); do
			! e2e_port_free $((Q + k)) && break
			sleep 0.1
		done
		if e2e_port_free $((Q + k)); then
			echo "proxy $k (port $((Q + k)), pid ${PROXY[$k]}) does not answer;" \
				"alive: $(kill -0 "${PROXY[$k]}" 2>/dev/null && echo yes || echo no);" \
				"its output: $(cat "$TMP/proxy$k.out")"
			return 1
		fi
	done
}
why=$(proxies_up) || fail "$why"

KA=0x00000000000000a1
KB=0x00000000000000b2
# path K of LU L (0-based; LUN LUN0 + L)
ua() { echo "iscsi://127.0.0.1:$(( Q + $1 ))/$IQN/$(( LUN0 + $2 ))"; }
ub() { echo "iscsi://127.0.0.1:${PT[$1]}/$IQN/$(( LUN0 + $2 ))"; }
conf() { # conf HOST KEY URLFN
	echo "[host]"
	echo "initiator = iqn.2026-12.io.prpath:host-$1"
	echo "key = $2"
	echo "check_interval = 1"
	echo "[group g]"
	echo "on_fenced = $TMP/on_fenced.sh"
	for l in $(seq 0 $((NLU - 1))); do
		echo "lu = l$l $($3 0 "$l")"
		for k in 1 2 3; do echo "path = $($3 "$k" "$l")"; done
	done
}
cat >"$TMP/on_fenced.sh" <<SH
#!/bin/sh
echo "\$PRPATHD_GROUP \$PRPATHD_LU \$PRPATHD_EVENT" >>"$TMP/fenced.out"
SH
chmod +x "$TMP/on_fenced.sh"
conf a "$KA" ua >"$TMP/a.conf"
conf b "$KB" ub >"$TMP/b.conf"
start_a() {
	"$PRPATHD" --config "$TMP/a.conf" --socket "$TMP/a.sock" -v >>"$TMP/a.log" 2>&1 &
	APID=$!
	wait_for "$TMP/a.log" "prpathd: ready" 60 "$APID" || fail "A did not get ready"
}
start_b() {
	"$PRPATHD" --config "$TMP/b.conf" --socket "$TMP/b.sock" -v >>"$TMP/b.log" 2>&1 &
	BPID=$!
	wait_for "$TMP/b.log" "prpathd: ready" 60 "$BPID" || fail "B did not get ready"
}
start_a
start_b
grep -q "group g: exclusive, $NLU LU(s) standby (nothing registered), 32 of 32 paths up" "$TMP/a.log" ||
	fail "A's start: $(grep 'group g' "$TMP/a.log"); $(proxies_up && echo 'the proxies answer now')"
echo "ok: two daemons, $NLU LUs x 4 paths each, standby"

ga() { "$PRPATH" -S "$TMP/a.sock" group "$@"; }
gb() { "$PRPATH" -S "$TMP/b.sock" group "$@"; }
# what LUN L holds: "HOLDER KEY KEY ..." (holder "-" when not reserved)
lun_state() {
	local res keys
	res=$("$PRPATH" -i iqn.2026-12.io.prpath:look -o json pr in --read-reservation "$(ub 3 "$1")") || return 1
	keys=$("$PRPATH" -i iqn.2026-12.io.prpath:look -o json pr in --read-keys "$(ub 3 "$1")") || return 1
	"$PY" -c '
import json, sys
r, k = json.loads(sys.argv[1]), json.loads(sys.argv[2])
h = (r.get("reservation") or {}).get("key") or "-"
print(h, *sorted(k["keys"]))' "$res" "$keys"
}
# every LUN held by KEY with its 4 registrations and nothing else; with
# "stale" on tgt, more registrations of KEY are allowed (but no other key):
# tgt keeps a dead session's registration next to the new session's
# (docs/tgt-deviations.md, 1. and 6.)
all_held_by() {
	local l s want k n
	want="$1 $1 $1 $1 $1"
	for l in $(seq 0 $((NLU - 1))); do
		s=$(lun_state "$l") || return 1
		[ "$s" = "$want" ] && continue
		if [ "${2:-}" = stale ] && [ -n "$ON_TGT" ]; then
			n=0
			for k in $s; do [ "$k" = "$1" ] || { n=-99; break; }; n=$((n + 1)); done
			[ "$n" -ge 5 ] && continue
		fi
		echo "LUN $l: $s (want $want)"
		return 1
	done
}
all_free() {
	local l s
	for l in $(seq 0 $((NLU - 1))); do
		s=$(lun_state "$l") || return 1
		[ "$s" = "-" ] || { echo "LUN $l: $s (want nothing)"; return 1; }
	done
}

# ---- acquire; B refused with nothing left behind ---------------------------------
ga acquire g >"$TMP/out" 2>&1 || fail "A's acquire: $(cat "$TMP/out")"
why=$(all_held_by "$KA") || fail "after A's acquire: $why"
rc=0; gb acquire g >"$TMP/out" 2>&1 || rc=$?
[ "$rc" -eq 24 ] || fail "B's acquire of A's group: exit $rc: $(cat "$TMP/out")"
why=$(all_held_by "$KA") || fail "after B's refused acquire (B left something?): $why"
rc=0; "$PRPATH" -i iqn.2026-12.io.prpath:host-b -k "$KB" write --lba 3 --pattern 0xbb "$(ub 0 5)" >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 24 ] || fail "a write by B while A holds: exit $rc"
echo "ok: A holds all $NLU LUs on every path; B is refused and leaves nothing"

# ---- a path cut and back: registered again before it is used -----------------------
kill "${PROXY[2]}"; wait "${PROXY[2]}" 2>/dev/null; PROXY[2]=
for i in $(seq 1 100); do
	n=$("$PRPATH" -S "$TMP/a.sock" -o json group status g | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(sum(p["state"] != "up" for l in d["lus"] for p in l["paths"]))')
	[ "$n" -eq "$NLU" ] && break
	sleep 0.1
done
[ "$n" -eq "$NLU" ] || fail "path 3 of every LU did not go down: $n down"
start_proxy 2
for i in $(seq 1 100); do
	n=$("$PRPATH" -S "$TMP/a.sock" -o json group status g | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(sum(p["state"] == "up" and p["registered"] for l in d["lus"] for p in l["paths"]))')
	[ "$n" -eq $((NLU * 4)) ] && break
	sleep 0.1
done
[ "$n" -eq $((NLU * 4)) ] || fail "path 3 did not come back registered: $n of $((NLU * 4)) paths up and registered"
why=$(all_held_by "$KA" stale) || fail "after the path came back: $why"
grep -q "fenced" "$TMP/a.log" && fail "A believed itself fenced after a path cut"
echo "ok: a cut path goes down on all $NLU LUs, comes back registered, nothing else changes"

# ---- A paused; B takes over; A wakes fenced everywhere -------------------------------
kill -STOP "$APID"
gb takeover g >"$TMP/out" 2>&1 || fail "B's takeover: $(cat "$TMP/out")"
why=$(all_held_by "$KB") || fail "after B's takeover: $why"
kill -CONT "$APID"
wait_for "$TMP/a.log" "group g: fenced on LU" 15 || fail "A did not notice it was fenced"
wait_for "$TMP/fenced.out" "g " 10 || fail "on_fenced did not run"
ga list >"$TMP/out"
grep -qx "g: exclusive, fenced, $NLU LU(s)" "$TMP/out" || fail "A's state: $(cat "$TMP/out")"
sleep 2.5
why=$(all_held_by "$KB") || fail "A registered again after it was fenced: $why"
echo "ok: A paused, B took the group over; A woke up fenced, ran on_fenced, and registers nothing"
ga release g >/dev/null 2>&1 || fail "A's release of its fenced group"
why=$(all_held_by "$KB") || fail "A's release touched B's LUs: $why"
gb release g >"$TMP/out" 2>&1 || fail "B's release: $(cat "$TMP/out")"
why=$(all_free) || fail "after both released: $why"
echo "ok: release leaves nothing"

# ---- racing takeovers: one owner of all 8 LUs, every time ----------------------------
for round in 1 2 3 4; do
	if [ $((round % 2)) -eq 1 ]; then ga acquire g >/dev/null 2>&1 || fail "round $round: A's acquire"
	else gb acquire g >/dev/null 2>&1 || fail "round $round: B's acquire"; fi
	ra=0 rb=0
	ga takeover g >"$TMP/ra" 2>&1 & PA=$!
	gb takeover g >"$TMP/rb" 2>&1 & PB=$!
	wait "$PA" || ra=$?
	wait "$PB" || rb=$?
	if [ "$ra" -eq 0 ] && [ "$rb" -ne 0 ]; then win=$KA; wg=ga; lg=gb
	elif [ "$rb" -eq 0 ] && [ "$ra" -ne 0 ]; then win=$KB; wg=gb; lg=ga
	elif [ "$ra" -eq 0 ] && [ "$rb" -eq 0 ]; then
		# one daemon started its takeover only after the other had
		# finished (the arbiter's settle time is a bound on "at once"):
		# two takeovers one after the other. The last one owns the
		# group; the first must find itself fenced
		win=$(lun_state 0 | cut -d' ' -f1)
		if [ "$win" = "$KA" ]; then wg=ga; lg=gb; else wg=gb; lg=ga; fi
		for i in $(seq 1 50); do $lg list | grep -q "g: exclusive, fenced" && break; sleep 0.2; done
		$lg list | grep -q "g: exclusive, fenced" || fail "round $round: both took over, and the first does not know it was fenced: $($lg list)"
	else fail "round $round: A exit $ra, B exit $rb: $(cat "$TMP/ra" "$TMP/rb")"; fi
	why=$(all_held_by "$win") || fail "round $round: the group is divided or shared: $why"
	$lg list | grep -Eq "g: exclusive, (standby|fenced)" || fail "round $round: the loser's state: $($lg list)"
	echo "ok: round $round: A exit $ra, B exit $rb; $win holds all $NLU LUs alone"
	$wg release g >/dev/null 2>&1 || fail "round $round: release"
	$lg release g >/dev/null 2>&1
	why=$(all_free) || fail "round $round: after release: $why"
done

# ---- a daemon restart keeps the reservation --------------------------------------------
gb acquire g >/dev/null 2>&1 || fail "B's acquire before its restart"
kill -TERM "$BPID"; rc=0; wait "$BPID" || rc=$?; BPID=
[ "$rc" -eq 0 ] || fail "B's stop: exit $rc"
why=$(all_held_by "$KB") || fail "B's stop touched its reservation: $why"
start_b
why=$(all_held_by "$KB" stale) || fail "B's start touched its reservation: $why"
rc=0; ga acquire g >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 24 ] || fail "A's acquire while B (restarted) holds: exit $rc"
gb acquire g >"$TMP/out" 2>&1 || fail "B's acquire after its restart: $(cat "$TMP/out")"
why=$(all_held_by "$KB" stale) || fail "after B's acquire again: $why"
gb release g >/dev/null 2>&1 || fail "B's last release"
why=$(all_free) || fail "after the last release: $why"
echo "ok: a restarted daemon finds its reservation kept and takes it up again"
for f in a.log b.log; do
	if grep -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$TMP/$f"; then fail "sanitizers in $f"; fi
done
stop_all
echo PASS
