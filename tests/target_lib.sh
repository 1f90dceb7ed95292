# Shared helpers for the prpath target system tests (sourced).
# Needs: PRPATH (the prpath binary). Exit 77 = skip.

IQN=iqn.2026-11.io.prpath:target
INI1=iqn.2026-11.io.prpath:test-initiator-1
INI2=iqn.2026-11.io.prpath:test-initiator-2

tl_need() {
	local p
	for p in "$@"; do
		if ! command -v "$p" >/dev/null 2>&1; then
			echo "SKIP: $p not installed"
			exit 77
		fi
	done
	if [ -z "${PRPATH:-}" ] || [ ! -x "$PRPATH" ]; then
		echo "SKIP: PRPATH is not set to the prpath binary"
		exit 77
	fi
}

# Prints a free loopback TCP port.
tl_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until 127.0.0.1:$1 accepts connections (10 s).
tl_wait_port() {
	local i
	for i in $(seq 1 100); do
		if python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.5).close()' "$1" 2>/dev/null; then
			return 0
		fi
		if [ -n "${TARGET_PID:-}" ] && ! kill -0 "$TARGET_PID" 2>/dev/null; then
			return 1
		fi
		sleep 0.1
	done
	return 1
}

# tl_start_target ARGS...: starts "prpath target ARGS" in the background,
# sets TARGET_PID, and waits for the first portal port $PORT1.
tl_start_target() {
	"$PRPATH" target "$@" 2>"$TMP/target.log" &
	TARGET_PID=$!
	if ! tl_wait_port "$PORT1"; then
		echo "FAIL: target did not start"
		cat "$TMP/target.log"
		exit 1
	fi
}

tl_cleanup() {
	if [ -n "${TARGET_PID:-}" ]; then
		kill "$TARGET_PID" 2>/dev/null
		wait "$TARGET_PID" 2>/dev/null
	fi
	rm -rf "$TMP"
}

# tl_stop_target: SIGTERM, expects a clean exit 0.
tl_stop_target() {
	local rc
	kill -TERM "$TARGET_PID"
	wait "$TARGET_PID"
	rc=$?
	TARGET_PID=
	if [ "$rc" -ne 0 ]; then
		echo "FAIL: target exited with $rc after SIGTERM"
		return 1
	fi
	return 0
}

# tl_cu FAMILY URL [URL2]: runs one iscsi-test-cu family; succeeds when at
# least one test ran and none failed. Output goes to $TMP/cu-FAMILY.log.
tl_cu() {
	local fam=$1 log summary ran failed
	shift
	log="$TMP/cu-$fam.log"
	timeout 600 iscsi-test-cu --dataloss -n -i "$INI1" -I "$INI2" \
		-t "$fam" "$@" >"$log" 2>&1
	summary=$(grep -E '^ +tests ' "$log" | tail -1)
	ran=$(echo "$summary" | awk '{print $3}')
	failed=$(echo "$summary" | awk '{print $5}')
	if [ -z "$ran" ] || [ "$ran" -eq 0 ] || [ "$failed" -ne 0 ]; then
		echo "FAIL: $fam ($summary)"
		grep -E 'FAIL|\.c:[0-9]+' "$log" | head -20
		return 1
	fi
	echo "ok: $fam ($ran tests)"
	return 0
}
