#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The iSCSI transport against a private tgtd on loopback (skips, exit 77,
# when tgtd cannot run here).
set -u

SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
BUILDDIR=${BUILDDIR:?BUILDDIR not set}
PROG="$BUILDDIR/tests/test_iscsi_transport"

if [ ! -x "$PROG" ]; then
	echo "SKIP: $PROG not built (libiscsi missing?)" >&2
	exit 77
fi

# shellcheck source=tests/tgt_env.sh
. "$SRCDIR/tests/tgt_env.sh"

IQN="iqn.2024-01.org.prpath.test:transport"
MIB=16

tgt_env_start
tgt_env_add_target "$IQN" || exit 1
tgt_env_add_lun "$TGT_TID" 1 "$MIB" || exit 1
# a second LUN: paths to both through one portal share one session
tgt_env_add_lun "$TGT_TID" 2 1 || exit 1

# an IPv6 loopback portal too, where the machine has ::1
V6=()
if tgt_env_adm --mode portal --op new --param "portal=[::1]:$TGT_PORT" >/dev/null 2>&1; then
	V6=("[::1]:$TGT_PORT")
fi

PP_TEST_LUN2=2 timeout 120 "$PROG" "127.0.0.1:$TGT_PORT" "$IQN" 1 $((MIB * 1024 * 1024 / 512)) "${V6[@]}"
rc=$?
if [ "$rc" != 0 ]; then
	echo "--- tgtd log ---" >&2
	cat "$TGT_LOG" >&2
fi
exit "$rc"
