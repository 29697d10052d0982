#!/bin/bash
# Declared dependencies against what the code calls: every library the
# Makefile links (LDLIBS) has its header included by the code and is listed
# the same in nicely.pc; every -dev package of the Debian Build-Depends and of
# scripts/deps.sh's build list is the package of a linked library, and every
# linked library with a package of its own is in both; and the built nicely
# and libnicely.so take at least one symbol from every shared library they
# record as needed. (libcgroup was linked and depended on while nothing
# called it.) Prints TAP.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
B=${NICELY_BUILD:-$top/build}
n=0 failed=0

# Report one TAP result: $1 is 0 for success, $2 the description.
ok() { n=$((n+1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed+1)); fi; }
# Stop the whole test with a reason.
bail() { echo "Bail out! $*"; exit 1; }

# What each library nicely may link is: its header and its Debian -dev
# package ("-" for the C library's own, which build-essential brings).
declare -A header=([hwloc]=hwloc.h [inih]=ini.h [jansson]=jansson.h [m]=math.h [pthread]=pthread.h [ncursesw]=curses.h)
declare -A devpkg=([hwloc]=libhwloc-dev [inih]=libinih-dev [jansson]=libjansson-dev [m]=- [pthread]=- [ncursesw]=libncurses-dev)

libs=$(sed -n 's/^LDLIBS *+\{0,1\}= *//p' "$top/Makefile" | tr ' ' '\n' | sed -n 's/^-l//p')
[ -n "$libs" ]; ok $? "the Makefile's LDLIBS names libraries ($(echo $libs))"
[ -n "$libs" ] || bail "no LDLIBS line in the Makefile"
# the nicely command alone also links ncurses (CURSES_LIBS: pkg-config's
# answer, else the library named after it), not libnicely.so
cli_libs=$(sed -n 's/^CURSES_LIBS *:=.*,-l\([a-z0-9]*\))$/\1/p' "$top/Makefile")
[ -n "$cli_libs" ]; ok $? "the Makefile's CURSES_LIBS names the nicely command's own library ($cli_libs)"

for l in $libs $cli_libs; do
	h=${header[$l]:-}
	if [ -z "$h" ]; then
		ok 1 "-l$l is a library this test knows (add its header and package here)"
		continue
	fi
	users=$(grep -rl --include='*.c' --include='*.h' "^#include <$h>" \
		"$top/agent" "$top/policy" "$top/sched" "$top/include" 2>/dev/null |
		sed "s|^$top/||" | xargs)
	[ -n "$users" ]; ok $? "-l$l: <$h> is included by the code${users:+ ($users)}"
done

pc=$(sed -n 's/^Libs.private: *//p' "$top/nicely.pc.in")
[ "$pc" = "$(echo $libs | sed 's/^/-l/; s/ / -l/g')" ]
ok $? "nicely.pc's Libs.private is LDLIBS ('$pc')"

# The -dev packages of a list, one per line.
dev_in() { tr ' ,\t' '\n\n\n' | sed -n '/-dev$/p' | sort -u; }
build_deps=$(awk '/^Build-Depends:/ { on = 1; sub(/^Build-Depends:/, "") }
	on && /^[A-Z][-A-Za-z]*:/ && !/^Build-Depends:/ { exit } on' \
	"$top/packaging/debian/control" | sed 's/([^)]*)//g' | dev_in)
script_deps=$(sed -n 's/^pkgs="\([^"$]*\)"$/\1/p' "$top/scripts/deps.sh" | head -1 | dev_in)
[ -n "$build_deps" ]; ok $? "debian/control has -dev Build-Depends ($(echo $build_deps))"
[ -n "$script_deps" ]; ok $? "scripts/deps.sh's build list has -dev packages ($(echo $script_deps))"
wanted=$(for l in $libs $cli_libs; do [ "${devpkg[$l]:--}" = - ] || echo "${devpkg[$l]}"; done | sort -u)
for what in "debian/control Build-Depends:build_deps" "scripts/deps.sh build list:script_deps"; do
	name=${what%:*} var=${what##*:}
	list=${!var}
	extra=$(comm -13 <(printf '%s\n' "$wanted") <(printf '%s\n' "$list") | xargs)
	[ -z "$extra" ]; ok $? "$name: no -dev package of a library nicely does not link${extra:+ (extra: $extra)}"
	missing=$(comm -23 <(printf '%s\n' "$wanted") <(printf '%s\n' "$list") | xargs)
	[ -z "$missing" ]; ok $? "$name: every linked library's -dev package${missing:+ (missing: $missing)}"
done

# The shared libraries a binary records as NEEDED, each with its path.
needed() { ldd "$1" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }'; }
for bin in "$B/nicely" "$B/libnicely.so"; do
	[ -e "$bin" ] || bail "no $bin (build first, or set NICELY_BUILD)"
	recorded=$(objdump -p "$bin" | awk '$1 == "NEEDED" { print $2 }')
	undef=$(nm -D --undefined-only "$bin" | awk '{ print $NF }' | sed 's/@.*//' | sort -u)
	unused=""
	for so in $recorded; do
		path=$(needed "$bin" | awk -v s="$so" '$1 == s { print $2 }')
		# the C library and its parts (the code calls floor(), which the
		# compiler inlines above -O0: a link without --as-needed, as the
		# sanitizer build's, records libm unused), the sanitizers' runtimes
		case $so in libc.so.*|libm.so.*|libpthread.so.*|ld-linux*|libasan.so.*|libubsan.so.*|libgcc_s.so.*) continue ;; esac
		[ -n "$path" ] || { unused="$unused $so(not found)"; continue; }
		used=$(comm -12 <(printf '%s\n' "$undef") \
			<(nm -D --defined-only "$path" | awk '{ print $NF }' | sed 's/@.*//' | sort -u) | head -1)
		[ -n "$used" ] || unused="$unused $so"
	done
	[ -z "$unused" ]; ok $? "$(basename "$bin") uses a symbol of every library it needs ($(echo $recorded))${unused:+; unused:$unused}"
done

# ncurses is the command's alone: the library never records it
! objdump -p "$B/libnicely.so" | awk '$1 == "NEEDED" { print $2 }' | grep -Eq 'ncurses|tinfo'
ok $? "libnicely.so does not link ncurses"

echo "1..$n"
[ "$failed" = 0 ]
