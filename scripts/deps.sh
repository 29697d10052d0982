#!/bin/sh
# Install the Debian packages nicely needs to build and test, only those
# that are missing. Run as root on Debian 12; a no-op when all are present.
# Usage: scripts/deps.sh [build|check|package|bench|fresh]
# The lists are checked against a `debootstrap --variant=minbase bookworm`
# root plus make (`make fresh-check`): what such a root has (coreutils,
# util-linux, findutils, diffutils, mawk, sed, grep, tar, passwd, perl-base,
# ncurses-bin) is not named unless a test needs a version of it that minbase
# lacks. What the tests, packaging/check-deb.sh and scripts/demo.sh call:
#   check:   perl (prove, JSON::PP), python3 (cgroup_reuse.t, run_ctl.t,
#            run_output.t), parallel (GNU parallel, gnu_compat.t), bc
#            (run_timeout.t), man-db + groff-base +
#            bsdextrautils (manpages.t: man, groff, col), procps (pgrep),
#            time (/usr/bin/time, run_big.t), valgrind, clang and its
#            runtime (fuzz-smoke), binutils (nm, objdump: build-essential),
#            slurmctld + slurmd + slurm-client + munge (slurm_run.t starts
#            a one-node Slurm of its own; no systemd), tmux (top_tui.t:
#            nicely top's full-screen view in a detached session), curl +
#            chromium (agentd_dash.t: the agent's web dashboard over HTTP,
#            and its page's script run in headless Chromium)
#   package: the check tools, dpkg-buildpackage, lintian, man (installed pages)
#   fresh:   debootstrap, for `make fresh-check`
set -eu
kind=${1:-build}
pkgs="build-essential pkgconf libhwloc-dev hwloc libinih-dev libjansson-dev libncurses-dev"
case "$kind" in
build) ;;
check) pkgs="$pkgs tmux perl python3 parallel bc man-db groff-base bsdextrautils clang libclang-rt-14-dev valgrind strace procps util-linux time passwd slurmctld slurmd slurm-client munge curl chromium" ;;
package) pkgs="$pkgs tmux perl python3 parallel bc man-db groff-base bsdextrautils clang libclang-rt-14-dev valgrind procps util-linux time passwd slurmctld slurmd slurm-client munge curl chromium strace debhelper devscripts lintian fakeroot dpkg-dev" ;;
bench) pkgs="$pkgs parallel task-spooler python3 procps util-linux time bc gnuplot-nox strace linux-perf" ;;
fresh) pkgs="debootstrap" ;;
*) echo "deps.sh: unknown kind '$kind' (build, check, package, bench, fresh)" >&2; exit 2 ;;
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
