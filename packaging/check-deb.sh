#!/bin/bash
# Build the Debian packages from a scratch copy of the tree, run lintian,
# install them, use them (nicely run, nicely presets, nicely check-config,
# the libnicely(3) example built through pkg-config), upgrade over
# themselves with a locally changed conffile, and purge. Prints TAP. Needs
# root (it installs packages); run by `make check` and `make deb`.
# KEEP=1 leaves the scratch directory for inspection.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
n=0 failed=0
t_start=$(date +%s)

# Report one TAP result: $1 is 0 for success, $2 the description.
ok() { n=$((n+1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed+1)); fi; }
# Print a file (or stdin with -) as TAP diagnostics, its last $2 lines.
diag_file() { tail -n "${2:-40}" "$1" | sed 's/^/# /'; }
# Stop the whole test with a reason.
bail() { echo "Bail out! $*"; exit 1; }
# Give up after a failed step that later steps need: plan and exit.
stop_here() { echo "1..$n"; exit 1; }

if [ "$(id -u)" != 0 ]; then echo "1..0 # SKIP needs root to install packages"; exit 0; fi
# the library's package is named for its soname: libnicely$SOVERSION
sover=$(sed -n 's/^SOVERSION *:= *//p' "$top/Makefile")
[ -n "$sover" ] || bail "no SOVERSION in the Makefile"
libpkg=libnicely$sover
for p in nicely "$libpkg" libnicely-dev; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		echo "1..0 # SKIP package $p is already installed on this machine; not touching it"
		exit 0
	fi
done
"$top/scripts/deps.sh" package >&2 || bail "cannot install the packaging tools"

scratch=$(mktemp -d /tmp/nicely-deb.XXXXXX)
# Purge what this script installed and remove the scratch copy.
cleanup() {
	dpkg -P nicely libnicely-dev "$libpkg" >/dev/null 2>&1
	[ -n "${KEEP:-}" ] || rm -rf "$scratch"
}
trap cleanup EXIT
version=$(dpkg-parsechangelog -l "$top/packaging/debian/changelog" -S Version)
upstream=${version%-*}
src=$scratch/nicely-$upstream
mkdir -p "$src" "$scratch/home"
# The tracked and new (not ignored) files, as they are in the work tree.
(cd "$top" && git ls-files -co --exclude-standard -z 2>/dev/null || find . -path ./build -prune -o -type f -print0) |
	(cd "$top" && xargs -0 cp --parents -t "$src" 2>/dev/null)
cp -r "$top/packaging/debian" "$src/debian"

t0=$(date +%s)
(cd "$src" && DEB_BUILD_OPTIONS="parallel=$(nproc)" dpkg-buildpackage -us -uc -b) >"$scratch/build.log" 2>&1
rc=$?; ok $rc "dpkg-buildpackage builds nicely, $libpkg, libnicely-dev ($(($(date +%s) - t0)) s)"
[ $rc = 0 ] || { diag_file "$scratch/build.log"; stop_here; }
arch=$(dpkg --print-architecture)
debs=("$scratch/nicely_${version}_$arch.deb" "$scratch/${libpkg}_${version}_$arch.deb"
      "$scratch/libnicely-dev_${version}_$arch.deb")
ls "${debs[@]}" >/dev/null 2>&1; ok $? "the three .deb files are there"

# Depend on what is called, nothing else: dpkg-shlibdeps warns about a
# library linked in vain (as libcgroup was), and the binary packages depend
# on the three libraries nicely calls.
useless=$(grep 'useless dependency' "$scratch/build.log")
[ -z "$useless" ]; ok $? "dpkg-shlibdeps finds no library linked but unused"
[ -z "$useless" ] || echo "$useless" | sed 's/^/# /'
for d in "${debs[0]}" "${debs[1]}"; do
	deps=$(dpkg-deb -f "$d" Depends)
	case $deps in
	*libcgroup*) rc=1 ;;
	*libhwloc*) case $deps in *libinih*) case $deps in *libjansson*) rc=0 ;; *) rc=1 ;; esac ;; *) rc=1 ;; esac ;;
	*) rc=1 ;;
	esac
	ok $rc "$(basename "${d%%_*}") depends on libhwloc, libinih and libjansson, not libcgroup ($deps)"
done

t0=$(date +%s)
lintian --fail-on error,warning --suppress-tags-from-file "$top/packaging/lintian-suppressed" \
	"$scratch/nicely_${version}_$arch.changes" >"$scratch/lintian.log" 2>&1
rc=$?; ok $rc "lintian reports no error or warning ($(($(date +%s) - t0)) s)"
[ $rc = 0 ] || diag_file "$scratch/lintian.log"

# what each package holds
dpkg-deb -I "${debs[1]}" shlibs 2>/dev/null | grep -qx "libnicely $sover $libpkg (>= $upstream)"
ok $? "$libpkg ships shlibs for libnicely.so.$sover"
dpkg-deb -I "${debs[1]}" symbols 2>/dev/null | grep -qx '\* Build-Depends-Package: libnicely-dev'
ok $? "$libpkg ships its symbols file, naming libnicely-dev"
dpkg-deb -c "${debs[2]}" | grep -q '/pkgconfig/nicely\.pc$'
ok $? "libnicely-dev ships nicely.pc"
dpkg-deb -I "${debs[0]}" conffiles 2>/dev/null | grep -qx /etc/nicely/nicely.conf
ok $? "/etc/nicely/nicely.conf is a conffile"
dpkg-deb -c "${debs[0]}" | grep -q ' ./usr/sbin/nicely-agent$' &&
	dpkg-deb -c "${debs[0]}" | grep -q ' ./lib/systemd/system/nicely-agent.service$' &&
	dpkg-deb -I "${debs[0]}" postinst 2>/dev/null | grep -q "deb-systemd-helper enable 'nicely-agent.service'"
ok $? "nicely ships nicely-agent and its systemd unit, enabled on install"
# (control-flow protection is not among Debian 12's hardening flags)
hardening-check -q --nocfprotection "$src/debian/nicely/usr/bin/nicely" "$src/debian/nicely/usr/sbin/nicely-agent" \
	"$src/debian/$libpkg"/usr/lib/*/libnicely.so.* \
	>"$scratch/hardening.log" 2>&1
rc=$?; ok $rc "the binary and the library are built hardened (PIE, stack protector, fortify, relro, bindnow)"
[ $rc = 0 ] || diag_file "$scratch/hardening.log"

DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${debs[@]}" >"$scratch/install.log" 2>&1
rc=$?; ok $rc "the packages install with apt"
[ $rc = 0 ] || { diag_file "$scratch/install.log"; stop_here; }

# The installed nicely, as a user without configuration of their own.
as_user() { (cd /tmp && env -u NICELY_CONFIG -u NICELY_SYSCONFDIR -u XDG_CONFIG_HOME HOME="$scratch/home" "$@"); }
[ "$(as_user nicely --version 2>&1)" = "nicely $upstream" ]; ok $? "nicely --version says $upstream"
out=$(as_user nicely run -p nuclear -k -- echo {} ::: one two three 2>&1)
[ "$out" = $'one\ntwo\nthree' ]; rc=$?; ok $rc "the installed nicely runs a batch in order"
[ $rc = 0 ] || echo "$out" | sed 's/^/# /'
out=$(as_user nicely presets 2>&1)
printf '%s\n' "$out" | grep -q '^normal *\*'; rc=$?
ok $rc "nicely presets lists the built-ins with normal as the default"
[ $rc = 0 ] || echo "$out" | sed 's/^/# /'
out=$(as_user nicely check-config 2>&1)
rc=$?; ok $rc "the shipped /etc/nicely configuration is valid"
[ $rc = 0 ] || echo "$out" | sed 's/^/# /'
printf '%s\n' "$out" | grep -q /etc/nicely/nicely.conf; ok $? "check-config read /etc/nicely/nicely.conf"
for m in nicely.1 nicely.conf.5 libnicely.3; do
	p=$(man -w "${m%.*}" 2>/dev/null)
	[ "$p" = "/usr/share/man/man${m##*.}/$m.gz" ] && w=$(man --warnings -l "$p" 2>&1 >/dev/null) && [ -z "$w" ]
	ok $? "man page $m is installed and renders cleanly"
done

# The libnicely(3) example, from the installed page, built with pkg-config.
zcat /usr/share/man/man3/libnicely.3.gz | sed -n '/^\.SH EXAMPLES/,$p' |
	awk '/^\.EX/ { on = 1; next } /^\.EE/ { if (on) exit } on' |
	sed 's/\\e/\\/g; s/\\-/-/g; s/\\&//g' >"$scratch/example.c"
# shellcheck disable=SC2046
cc -Wall -Wextra -Werror -o "$scratch/example" "$scratch/example.c" $(pkg-config --cflags --libs nicely) \
	>"$scratch/cc.log" 2>&1
rc=$?; ok $rc "the libnicely(3) example compiles against the installed library through pkg-config"
[ $rc = 0 ] || diag_file "$scratch/cc.log"
objdump -p "$scratch/example" 2>/dev/null | grep -q "NEEDED *libnicely\\.so\\.$sover\$"
ok $? "the example links to libnicely.so.$sover"
out=$(as_user timeout 20 "$scratch/example" 2>&1)
[ "$out" = $'task 0 returned 6\ntask 1 returned 4\ntask 2 returned 2' ]; rc=$?
ok $rc "the example runs and prints its results in call order"
[ $rc = 0 ] || echo "$out" | sed 's/^/# /'
sleep 0.2
left=$(pgrep -f "^$scratch/example" | xargs)
[ -z "$left" ]; ok $? "no process of the example is left${left:+ (pids $left)}"
[ -z "$left" ] || kill -KILL $left 2>/dev/null

echo "# a local change an admin made" >>/etc/nicely/nicely.conf
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --reinstall \
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${debs[@]}" >"$scratch/upgrade.log" 2>&1
rc=$?; ok $rc "the packages upgrade over themselves without a prompt"
[ $rc = 0 ] || diag_file "$scratch/upgrade.log"
grep -q '^# a local change an admin made' /etc/nicely/nicely.conf; ok $? "the changed conffile is kept"
as_user nicely check-config >/dev/null 2>&1; ok $? "the configuration is still valid after the upgrade"

dpkg -P nicely libnicely-dev "$libpkg" >"$scratch/purge.log" 2>&1
rc=$?; ok $rc "the packages purge"
[ $rc = 0 ] || diag_file "$scratch/purge.log"
left=$(ls -d /etc/nicely /usr/bin/nicely /usr/sbin/nicely-agent /lib/systemd/system/nicely-agent.service \
	/usr/include/nicely.h /usr/lib/*/libnicely* \
	/usr/lib/*/pkgconfig/nicely.pc /usr/share/man/man*/*nicely* \
	/usr/share/bash-completion/completions/nicely /usr/share/doc/*nicely* 2>/dev/null)
[ -z "$left" ]; ok $? "nothing is left in /etc/nicely or /usr after purge${left:+ ($(echo $left))}"

echo "# the packaging check took $(($(date +%s) - t_start)) s"
echo "1..$n"
[ $failed = 0 ]
