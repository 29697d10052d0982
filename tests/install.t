#!/bin/bash
# `make install` and `make uninstall` with DESTDIR, PREFIX, LIBDIR and
# SYSCONFDIR, from an existing build: the program, the library and its
# SONAME links, the header, a nicely.pc naming the prefix of *this* install,
# the configuration, every man page in man/, the bash completion; uninstall
# removes all but the configuration. Prints TAP.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
B=${NICELY_BUILD:-$top/build}
n=0 failed=0
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# Report one TAP result: $1 is 0 for success, $2 the description.
ok() { n=$((n+1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed+1)); fi; }
# Print a file as TAP diagnostics.
diag_file() { tail -n 30 "$1" | sed 's/^/# /'; }

# The install rule is the Makefile's, the same for both builds; and make
# with B=build/asan but not the sanitizer's flags rebuilds build/asan plain
# (every shell test after this one then ran without the sanitizers).
case "$B" in
*asan*) echo "1..0 # SKIP the install rule is checked on the plain build"; exit 0 ;;
esac
[ -x "$B/nicely" ] || { echo "Bail out! no $B/nicely (build first, or set NICELY_BUILD)"; exit 1; }
version=$(sed -n 's/^VERSION *:= *//p' "$top/Makefile")
sover=$(sed -n 's/^SOVERSION *:= *//p' "$top/Makefile")
[ -n "$version" ] && [ -n "$sover" ]; ok $? "the Makefile names VERSION $version and SOVERSION $sover"

# Install into $1 (DESTDIR) with prefix $2 and libdir $3.
install_to() {
	make -s -C "$top" B="$B" install DESTDIR="$1" PREFIX="$2" LIBDIR="$3" SYSCONFDIR=/etc >"$T/make.log" 2>&1
}

R=$T/root
install_to "$R" /usr /usr/lib/x86_64-linux-gnu
rc=$?; ok $rc "make install DESTDIR=... PREFIX=/usr LIBDIR=/usr/lib/x86_64-linux-gnu"
[ $rc = 0 ] || diag_file "$T/make.log"
L=$R/usr/lib/x86_64-linux-gnu
[ -x "$R/usr/bin/nicely" ]; ok $? "usr/bin/nicely"
[ -f "$L/libnicely.so.$version" ] && [ ! -L "$L/libnicely.so.$version" ]; ok $? "the library libnicely.so.$version"
[ "$(readlink "$L/libnicely.so.$sover")" = "libnicely.so.$version" ]; ok $? "libnicely.so.$sover -> libnicely.so.$version"
[ "$(readlink "$L/libnicely.so")" = "libnicely.so.$sover" ]; ok $? "libnicely.so -> libnicely.so.$sover"
cmp -s "$top/include/nicely.h" "$R/usr/include/nicely.h"; ok $? "usr/include/nicely.h"
pc=$L/pkgconfig/nicely.pc
[ "$(PKG_CONFIG_PATH=$L/pkgconfig PKG_CONFIG_LIBDIR=/nonexistent pkg-config --modversion nicely 2>&1)" = "$version" ]
ok $? "nicely.pc gives version $version"
[ "$(PKG_CONFIG_PATH=$L/pkgconfig PKG_CONFIG_LIBDIR=/nonexistent pkg-config --variable=libdir nicely 2>&1)" = /usr/lib/x86_64-linux-gnu ] &&
	[ "$(PKG_CONFIG_PATH=$L/pkgconfig PKG_CONFIG_LIBDIR=/nonexistent pkg-config --variable=includedir nicely 2>&1)" = /usr/include ]
rc=$?; ok $rc "nicely.pc names this install's libdir and includedir"
[ $rc = 0 ] || diag_file "$pc"
PKG_CONFIG_PATH=$L/pkgconfig PKG_CONFIG_LIBDIR=/nonexistent pkg-config --libs nicely 2>/dev/null | grep -qw -- -lnicely
ok $? "nicely.pc links with -lnicely"
cmp -s "$top/etc/nicely.conf" "$R/etc/nicely/nicely.conf"; ok $? "etc/nicely/nicely.conf"
bad=""
for f in "$top"/etc/presets.d/*.conf; do
	[ -e "$f" ] || continue
	cmp -s "$f" "$R/etc/nicely/presets.d/$(basename "$f")" || bad="$bad $(basename "$f")"
done
[ -z "$bad" ]; ok $? "etc/nicely/presets.d/ holds etc/presets.d/*.conf${bad:+ (missing:$bad)}"
bad="" count=0
for m in "$top"/man/*.[1-8]; do
	[ -e "$m" ] || continue
	count=$((count+1))
	cmp -s "$m" "$R/usr/share/man/man${m##*.}/$(basename "$m")" || bad="$bad $(basename "$m")"
done
[ $count -ge 3 ] && [ -z "$bad" ]; ok $? "every man page of man/ ($count) is installed${bad:+ (missing:$bad)}"
cmp -s "$top/etc/bash-completion/nicely" "$R/usr/share/bash-completion/completions/nicely"
ok $? "the bash completion"
[ -x "$R/usr/sbin/nicely-agent" ]; ok $? "usr/sbin/nicely-agent"
grep -qx 'ExecStart=/usr/sbin/nicely-agent --foreground' "$R/usr/lib/systemd/system/nicely-agent.service"
ok $? "its systemd unit, naming the installed binary"

# Installing again elsewhere must not reuse the first install's paths.
R2=$T/root2
install_to "$R2" /opt/nicely /opt/nicely/lib64
rc=$?; ok $rc "make install again with PREFIX=/opt/nicely LIBDIR=/opt/nicely/lib64"
[ $rc = 0 ] || diag_file "$T/make.log"
[ "$(PKG_CONFIG_PATH=$R2/opt/nicely/lib64/pkgconfig PKG_CONFIG_LIBDIR=/nonexistent pkg-config --variable=libdir nicely 2>&1)" = /opt/nicely/lib64 ]
rc=$?; ok $rc "its nicely.pc names /opt/nicely/lib64, not an earlier prefix"
[ $rc = 0 ] || diag_file "$R2/opt/nicely/lib64/pkgconfig/nicely.pc"

make -s -C "$top" B="$B" uninstall DESTDIR="$R" PREFIX=/usr LIBDIR=/usr/lib/x86_64-linux-gnu SYSCONFDIR=/etc >"$T/make.log" 2>&1
rc=$?; ok $rc "make uninstall"
[ $rc = 0 ] || diag_file "$T/make.log"
left=$(cd "$R" && find . ! -type d ! -path './etc/*' | sort | xargs)
[ -z "$left" ]; ok $? "uninstall leaves only the configuration${left:+ (left: $left)}"

echo "1..$n"
[ $failed = 0 ]
