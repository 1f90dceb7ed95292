#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The suite's preflight: everything the tests run is installed by the
# README's install step (tools/install-deps.sh), so a fresh machine runs
# every test instead of silently skipping one. See tests/needs.txt.
set -u
SRCDIR=${SRCDIR:?SRCDIR must point at the source tree}
needs="$SRCDIR/tests/needs.txt"
fail=0
bad() { echo "FAIL: $*"; fail=1; }

pkgs=$("$SRCDIR/tools/install-deps.sh" --list) || { echo "FAIL: tools/install-deps.sh --list"; exit 1; }
in_install() { printf '%s\n' "$pkgs" | grep -qxF "$1"; }
essential() { [ "$(dpkg-query -W -f='${Essential}' "$1" 2>/dev/null)" = yes ]; }

# tgtd and friends are in /usr/sbin
PATH=$PATH:/usr/sbin:/sbin
listed=" "
n=0
while read -r cmd pkg rest; do
	case "$cmd" in ''|'#'*) continue ;; esac
	[ -n "$pkg" ] && [ -z "$rest" ] || { bad "tests/needs.txt: bad line '$cmd $pkg $rest'"; continue; }
	listed="$listed$cmd "
	n=$((n + 1))
	in_install "$pkg" || essential "$pkg" ||
		bad "$cmd comes from package $pkg, which tools/install-deps.sh does not install"
	command -v "$cmd" >/dev/null 2>&1 ||
		bad "$cmd not found (package $pkg): run tools/install-deps.sh"
done <"$needs"
[ "$n" -ge 5 ] || bad "tests/needs.txt lists only $n commands"

# every command a test looks for must be listed
for t in "$SRCDIR"/tests/*.sh; do
	for cmd in $(sed -n -e 's/.*command -v \([A-Za-z0-9_.+-]*\).*/\1/p' \
			    -e 's/^[[:space:]]*tl_need \(.*\)/\1/p' "$t"); do
		case "$cmd" in '"$'*|'$'*) continue ;; esac
		case "$listed" in *" $cmd "*) ;; *)
			bad "$(basename "$t") needs '$cmd', which tests/needs.txt does not list" ;;
		esac
	done
done

"$SRCDIR/tools/install-deps.sh" --check || bad "packages of tools/install-deps.sh are missing"
[ $fail -eq 0 ] && echo "preflight: $n commands, all installed by tools/install-deps.sh"
exit $fail
