#!/bin/bash
# Build the Debian packages from a scratch copy of the tree, run lintian,
# install them, use them (nicely run, nicely presets, a program linked through
# pkg-config), upgrade over themselves with a locally changed conffile, and
# purge. Prints TAP. Needs root (it installs packages); run by `make check`
# and `make deb`. KEEP=1 leaves the scratch directory for inspection.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
n=0 failed=0
ok() { n=$((n+1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed+1)); fi; }
bail() { echo "Bail out! $*"; exit 1; }

if [ "$(id -u)" != 0 ]; then echo "1..0 # SKIP needs root to install packages"; exit 0; fi
if dpkg-query -W -f='${Status}' nicely 2>/dev/null | grep -q 'install ok installed'; then
	echo "1..0 # SKIP a nicely package is already installed on this machine; not touching it"
	exit 0
fi
"$top/scripts/deps.sh" package >&2 || bail "cannot install the packaging tools"

scratch=$(mktemp -d /tmp/nicely-deb.XXXXXX)
cleanup() {
	dpkg -P nicely libnicely-dev libnicely0 >/dev/null 2>&1
	[ -n "${KEEP:-}" ] || rm -rf "$scratch"
}
trap cleanup EXIT
src=$scratch/nicely-0.1.0
mkdir -p "$src"
# The tracked and new (not ignored) files, as they are in the work tree.
(cd "$top" && git ls-files -co --exclude-standard -z 2>/dev/null || find . -path ./build -prune -o -type f -print0) |
	(cd "$top" && xargs -0 cp --parents -t "$src" 2>/dev/null)
cp -r "$top/packaging/debian" "$src/debian"

(cd "$src" && dpkg-buildpackage -us -uc -b) >"$scratch/build.log" 2>&1
ok $? "dpkg-buildpackage builds nicely, libnicely0, libnicely-dev" || true
[ $n -gt 0 ] && [ $failed -gt 0 ] && { tail -40 "$scratch/build.log" | sed 's/^/# /'; echo "1..$n"; exit 1; }

changes=$(ls "$scratch"/nicely_*.changes)
lintian --fail-on error,warning --suppress-tags-from-file "$top/packaging/lintian-suppressed" "$changes" >"$scratch/lintian.log" 2>&1
rc=$?; ok $rc "lintian reports no error or warning"
[ $rc = 0 ] || sed 's/^/# /' "$scratch/lintian.log"

debs=("$scratch"/nicely_*.deb "$scratch"/libnicely0_*.deb "$scratch"/libnicely-dev_*.deb)
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${debs[@]}" >"$scratch/install.log" 2>&1
ok $? "the packages install with apt"

out=$(cd /tmp && NICELY_CONFIG=/dev/null nicely run -p nuclear -k -- echo {} ::: one two three 2>&1)
[ "$out" = $'one\ntwo\nthree' ]; ok $? "the installed nicely runs a batch in order"
nicely presets 2>&1 | grep -q '^normal'; ok $? "nicely presets lists the built-ins from the installed files"
nicely check-config >/dev/null 2>&1; ok $? "the shipped /etc/nicely configuration is valid"
man -w nicely >/dev/null 2>&1 && man -w nicely.conf >/dev/null 2>&1 && man -w libnicely >/dev/null 2>&1
ok $? "man pages nicely(1), nicely.conf(5), libnicely(3) are installed"

cat >"$scratch/use.c" <<'C'
#include <nicely.h>
#include <stdio.h>
int main(void) { printf("%s\n", nicely_strerror(0)); return 0; }
C
cc -o "$scratch/use" "$scratch/use.c" $(pkg-config --cflags --libs nicely) 2>"$scratch/cc.log" && "$scratch/use" >/dev/null
ok $? "a program compiles and runs against libnicely through pkg-config"

echo "# a local change an admin made" >>/etc/nicely/nicely.conf
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --reinstall \
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${debs[@]}" >"$scratch/upgrade.log" 2>&1
ok $? "the packages upgrade over themselves without a prompt"
grep -q '^# a local change an admin made' /etc/nicely/nicely.conf; ok $? "the changed conffile is kept"

dpkg -P nicely libnicely-dev libnicely0 >"$scratch/purge.log" 2>&1
ok $? "the packages purge"
left=$(ls -d /etc/nicely /usr/bin/nicely /usr/include/nicely.h /usr/lib/*/libnicely* 2>/dev/null)
[ -z "$left" ]; ok $? "nothing is left in /etc/nicely or /usr after purge${left:+ ($left)}"

echo "1..$n"
[ $failed = 0 ]
