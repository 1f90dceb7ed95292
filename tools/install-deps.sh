#!/bin/sh
# Installs what prpath needs to build and test on Debian 12 (apt-get,
# non-interactive). Uses sudo when not root. Skips apt when all is there.
set -eu
PKGS="gcc clang libclang-rt-14-dev meson ninja-build pkg-config libcmocka-dev \
libiscsi-dev libiscsi-bin libjson-c-dev tgt sg3-utils python3 iproute2"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
