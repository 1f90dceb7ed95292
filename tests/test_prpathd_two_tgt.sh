#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The two-daemon group story (tests/test_prpathd_two.sh) against tgtd.
# Skips (exit 77) when tgtd cannot run here.
PRPATHD_TWO_TARGET=tgt exec bash "$SRCDIR/tests/test_prpathd_two.sh"
