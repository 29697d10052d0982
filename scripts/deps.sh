#!/bin/sh
# Install the Debian packages nicely needs to build and test, only those
# that are missing. Run as root on Debian 12; a no-op when all are present.
# Usage: scripts/deps.sh [build|check|package|bench]
set -eu
kind=${1:-build}
pkgs="build-essential pkgconf libhwloc-dev hwloc libinih-dev libjansson-dev"
case "$kind" in
build) ;;
check) pkgs="$pkgs perl clang libclang-rt-14-dev valgrind procps util-linux time passwd" ;;
package) pkgs="$pkgs perl clang libclang-rt-14-dev valgrind procps util-linux debhelper devscripts lintian fakeroot dpkg-dev" ;;
bench) pkgs="$pkgs parallel task-spooler python3 procps util-linux time bc gnuplot-nox" ;;
*) echo "deps.sh: unknown kind '$kind' (build, check, package, bench)" >&2; exit 2 ;;
esac
missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing Debian packages:$missing; run as root: apt-get install$missing" >&2
	exit 1
fi
echo "deps.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
