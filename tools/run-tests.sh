#!/bin/bash
# Builds prpath in BUILDDIR with -Werror and runs the whole test suite.
#   tools/run-tests.sh [BUILDDIR] [extra meson setup options...]
# Prints meson's per-test lines and closes with "N passed, N failed, N skipped".
set -u
builddir=${1:-build}
shift || true
src=$(cd "$(dirname "$0")/.." && pwd)
# logs go inside the build directory, never into the work tree
if [ ! -f "$builddir/build.ninja" ]; then
	if ! out=$(meson setup "$builddir" "$src" --werror "$@" 2>&1); then
		printf '%s\n' "$out"; echo "0 passed, 1 failed"; exit 1
	fi
	printf '%s\n' "$out" >"$builddir/setup.log"
fi
if ! ninja -C "$builddir" >"$builddir/build.log" 2>&1; then
	tail -50 "$builddir/build.log"
	echo "build failed"
	echo "0 passed, 1 failed"
	exit 1
fi
meson test -C "$builddir" --print-errorlogs --num-processes 2 2>&1 | tee "$builddir/test-summary.log"
rc=${PIPESTATUS[0]}
ok=$(awk '/^Ok:/{print $2}' "$builddir/test-summary.log")
fail=$(awk '/^Fail:/{print $2}' "$builddir/test-summary.log")
xpass=$(awk '/^Unexpected Pass:/{print $3}' "$builddir/test-summary.log")
tmo=$(awk '/^Timeout:/{print $2}' "$builddir/test-summary.log")
skip=$(awk '/^Skipped:/{print $2}' "$builddir/test-summary.log")
ok=${ok:-0}; fail=$(( ${fail:-0} + ${xpass:-0} + ${tmo:-0} )); skip=${skip:-0}
[ "$rc" -ne 0 ] && [ "$fail" -eq 0 ] && fail=1
echo "$ok passed, $fail failed, $skip skipped"
exit $rc
