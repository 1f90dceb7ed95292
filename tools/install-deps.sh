#!/bin/sh
# Installs what prpath needs to build and test on Debian 12 (apt-get,
# non-interactive). Needs root, or sudo for a normal user; does nothing when
# everything is already installed.
#   tools/install-deps.sh          install what is missing
#   tools/install-deps.sh --list   print the packages, one per line
#   tools/install-deps.sh --check  exit 1 (and name them) when some are missing
set -eu
PKGS="gcc g++ binutils clang libclang-rt-14-dev meson ninja-build pkg-config libcmocka-dev \
libiscsi-dev libiscsi-bin libjson-c-dev libinih-dev libsystemd-dev tgt sg3-utils python3 iproute2"

case "${1:-}" in
--list) for p in $PKGS; do echo "$p"; done; exit 0 ;;
--check|"") ;;
*) echo "usage: tools/install-deps.sh [--list|--check]" >&2; exit 1 ;;
esac

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "${1:-}" = --check ]; then
	echo "install-deps: missing:$missing" >&2
	exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
	echo "install-deps: these Debian packages are missing:$missing" >&2
	echo "install-deps: no apt-get here; prpath is built and tested on Debian 12: install their equivalents by hand" >&2
	exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO="sudo"
	else
		echo "install-deps: these Debian packages are missing:$missing" >&2
		echo "install-deps: installing them needs root and there is no sudo; as root, run:" >&2
		echo "  $(cd "$(dirname "$0")" && pwd)/install-deps.sh" >&2
		echo "  (or: apt-get install$missing)" >&2
		exit 1
	fi
fi
echo "install-deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null

# Debian's tgt package enables and starts the system tgt.service, a tgtd on
# 0.0.0.0:3260 and [::]:3260: the port `prpath target` and the README use.
# The tests start a private tgtd of their own, so a tgt installed here is
# stopped and disabled again. A tgt that was installed before is left alone.
case " $missing " in
*" tgt "*)
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
		if $SUDO systemctl disable --now tgt.service >/dev/null 2>&1; then
			echo "install-deps: stopped and disabled the system tgt.service (port 3260 stays free for prpath target; tests run their own tgtd)" >&2
		fi
	elif [ -x /etc/init.d/tgt ] && command -v update-rc.d >/dev/null 2>&1; then
		$SUDO /etc/init.d/tgt stop >/dev/null 2>&1 || true
		$SUDO update-rc.d tgt disable >/dev/null 2>&1 || true
	fi
	;;
esac
exit 0
