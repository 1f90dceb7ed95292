# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# shellcheck disable=SC2034 # TGT_* are for the sourcing test
#
# tgt_env.sh — a private Linux SCSI target (tgtd) on loopback for tests.
# Source it from a bash test; it never touches another tgtd: it uses its own
# control port (tgtd -C N: management socket /var/run/tgtd/socket.N) and its
# own iSCSI port on 127.0.0.1, and stops only the tgtd it started, by pid.
#
#   . "$SRCDIR/tests/tgt_env.sh"
#   tgt_env_start                       # exit 77 (skip) when tgtd cannot run
#   tgt_env_add_target "$IQN"           # -> TID in $TGT_TID
#   tgt_env_add_lun "$TGT_TID" 1 16     # LUN 1, 16 MiB file-backed
#   ... iscsi://127.0.0.1:$TGT_PORT/$IQN/1 ...
#   (tgt_env_stop runs from the EXIT trap; a test that sets its own EXIT
#    trap must call tgt_env_stop from it.)
#
# Variables set: TGT_PID, TGT_CTL (control port), TGT_PORT (iSCSI port),
# TGT_DIR (scratch directory for backing files and the log), TGT_LOG.

TGT_PID=""
TGT_CTL=""
TGT_PORT=""
TGT_DIR=""
TGT_LOG=""
TGT_TID=""
TGT_NEXT_TID=1

tgt_env_log() {
	echo "tgt_env: $*" >&2
}

tgt_env_skip() {
	tgt_env_log "SKIP: $*"
	tgt_env_stop
	exit 77
}

# true when something listens on 127.0.0.1:$1
tgt_env_port_busy() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

tgt_env_adm() {
	tgtadm -C "$TGT_CTL" --lld iscsi "$@"
}

tgt_env_stop() {
	local _i
	if [ -n "$TGT_PID" ] && kill -0 "$TGT_PID" 2>/dev/null; then
		# tgtd takes its time over SIGTERM; a test target needs no
		# clean shutdown, so KILL follows after a second.
		kill -TERM "$TGT_PID" 2>/dev/null
		for _i in $(seq 1 10); do
			kill -0 "$TGT_PID" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$TGT_PID" 2>/dev/null; then
			kill -KILL "$TGT_PID" 2>/dev/null
		fi
		wait "$TGT_PID" 2>/dev/null
	fi
	TGT_PID=""
	if [ -n "$TGT_CTL" ]; then
		rm -f "/var/run/tgtd/socket.$TGT_CTL" "/var/run/tgtd/socket.$TGT_CTL.lock"
		TGT_CTL=""
	fi
	if [ -n "$TGT_DIR" ] && [ -d "$TGT_DIR" ]; then
		if [ -n "${TGT_KEEP_LOG:-}" ] && [ -s "$TGT_LOG" ]; then
			cat "$TGT_LOG" >&2
		fi
		rm -rf "$TGT_DIR"
	fi
	TGT_DIR=""
}

# tgt_env_start: starts tgtd (up to 5 tries with other ports); sets the
# EXIT trap. Exits 77 when tgtd is missing or cannot run here.
tgt_env_start() {
	local try ctl port
	# tgtd and tgtadm live in /usr/sbin, which a normal user's PATH lacks:
	# look there too, so that a skip names the real reason
	case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/sbin:/sbin ;; esac
	command -v tgtd >/dev/null 2>&1 || tgt_env_skip "tgtd not installed (Debian package tgt; tools/install-deps.sh installs it)"
	command -v tgtadm >/dev/null 2>&1 || tgt_env_skip "tgtadm not installed (Debian package tgt)"
	[ "$(id -u)" = 0 ] || tgt_env_skip "tgtd needs root (it opens /var/run/tgtd and serves block files as root); run the suite as root to include the tgt tests"
	mkdir -p /var/run/tgtd 2>/dev/null || tgt_env_skip "cannot create /var/run/tgtd"

	TGT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/prpath-tgt.XXXXXX") ||
		tgt_env_skip "mktemp failed"
	TGT_LOG="$TGT_DIR/tgtd.log"
	trap tgt_env_stop EXIT

	for try in 1 2 3 4 5; do
		# tgtd takes control ports below 32768
		ctl=$((20000 + RANDOM % 12000))
		port=$((40000 + RANDOM % 20000))
		[ -e "/var/run/tgtd/socket.$ctl" ] && continue
		tgt_env_port_busy "$port" && continue
		TGT_CTL=$ctl
		TGT_PORT=$port
		tgtd -f -C "$ctl" --iscsi "portal=127.0.0.1:$port" >"$TGT_LOG" 2>&1 &
		TGT_PID=$!
		for _ in $(seq 1 50); do
			kill -0 "$TGT_PID" 2>/dev/null || break
			if tgt_env_adm --mode target --op show >/dev/null 2>&1 &&
			   tgt_env_port_busy "$port"; then
				tgt_env_log "tgtd pid $TGT_PID, control port $ctl, iSCSI 127.0.0.1:$port"
				return 0
			fi
			sleep 0.1
		done
		tgt_env_log "tgtd did not come up (try $try):"
		sed 's/^/  /' "$TGT_LOG" >&2
		if kill -0 "$TGT_PID" 2>/dev/null; then
			kill -KILL "$TGT_PID" 2>/dev/null
		fi
		wait "$TGT_PID" 2>/dev/null
		TGT_PID=""
		rm -f "/var/run/tgtd/socket.$ctl" "/var/run/tgtd/socket.$ctl.lock"
		TGT_CTL=""
	done
	tgt_env_skip "tgtd cannot run here"
}

# tgt_env_add_target IQN: a new target open to ALL initiators; TGT_TID.
tgt_env_add_target() {
	local iqn=$1
	TGT_TID=$TGT_NEXT_TID
	TGT_NEXT_TID=$((TGT_NEXT_TID + 1))
	tgt_env_adm --mode target --op new --tid "$TGT_TID" --targetname "$iqn" ||
		{ tgt_env_log "cannot create target $iqn"; return 1; }
	tgt_env_adm --mode target --op bind --tid "$TGT_TID" --initiator-address ALL ||
		{ tgt_env_log "cannot open target $iqn to all initiators"; return 1; }
}

# tgt_env_add_lun TID LUN SIZE_MIB: a file-backed LUN (LUN >= 1; LUN 0 is
# tgt's controller).
tgt_env_add_lun() {
	local tid=$1 lun=$2 mib=$3 file
	file="$TGT_DIR/lun-$tid-$lun.img"
	truncate -s "${mib}M" "$file" || return 1
	tgt_env_adm --mode logicalunit --op new --tid "$tid" --lun "$lun" \
		--backing-store "$file" ||
		{ tgt_env_log "cannot add LUN $lun to target $tid"; return 1; }
}
