#!/bin/bash
# The shared library's ABI surface: SONAME libnicely.so.N (N: the
# Makefile's SOVERSION, matching the libnicelyN package), only nicely_* symbols
# exported, exactly the functions include/nicely.h marks NICELY_EXTERN, and
# exactly those listed in the Debian symbols file. Prints TAP.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
B=${NICELY_BUILD:-$top/build}
n=0 failed=0

# Report one TAP result: $1 is 0 for success, $2 the description.
ok() { n=$((n+1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed+1)); fi; }
# Stop the whole test with a reason.
bail() { echo "Bail out! $*"; exit 1; }

lib=$(readlink -f "$B/libnicely.so" 2>/dev/null)
[ -f "$lib" ] || bail "no $B/libnicely.so (build first, or set NICELY_BUILD)"
sover=$(sed -n 's/^SOVERSION *:= *//p' "$top/Makefile")
[ -n "$sover" ] || bail "no SOVERSION in the Makefile"

soname=$(objdump -p "$lib" | awk '$1 == "SONAME" { print $2 }')
[ "$soname" = "libnicely.so.$sover" ]; ok $? "SONAME is libnicely.so.$sover (got '$soname')"
[ -L "$B/libnicely.so.$sover" ] && [ "$(readlink -f "$B/libnicely.so.$sover")" = "$lib" ]
ok $? "libnicely.so.$sover links to the library"
grep -qx "Package: libnicely$sover" "$top/packaging/debian/control"
ok $? "the Debian package of the library is named libnicely$sover"

exported=$(nm -D --defined-only "$lib" | awk '{ print $NF }' | sort -u)
[ -n "$exported" ]; ok $? "the library exports symbols ($(echo "$exported" | wc -l))"
foreign=$(printf '%s\n' "$exported" | grep -v '^nicely_')
[ -z "$foreign" ]; ok $? "only nicely_* symbols are exported${foreign:+ (also: $(echo $foreign))}"
undefined_ours=$(nm -D --undefined-only "$lib" | awk '{ print $NF }' | grep '^nicely_')
[ -z "$undefined_ours" ]; ok $? "no nicely_* symbol is left undefined${undefined_ours:+ ($(echo $undefined_ours))}"

declared=$(perl -0777 -ne 'print "$1\n" while /NICELY_EXTERN\b[^;(]*?\b(nicely_\w+)\s*\(/g' "$top/include/nicely.h" 2>/dev/null | sort -u)
[ -n "$declared" ]; ok $? "include/nicely.h declares exported functions ($(echo "$declared" | wc -l))"
missing=$(comm -23 <(printf '%s\n' "$declared") <(printf '%s\n' "$exported"))
[ -z "$missing" ]; ok $? "every function nicely.h declares is exported${missing:+ (missing: $(echo $missing))}"
extra=$(comm -13 <(printf '%s\n' "$declared") <(printf '%s\n' "$exported"))
[ -z "$extra" ]; ok $? "every exported symbol is declared in nicely.h${extra:+ (undeclared: $(echo $extra))}"

symbols=$top/packaging/debian/libnicely$sover.symbols
listed=$(awk '/^ / { sub(/@.*/, "", $1); print $1 }' "$symbols" 2>/dev/null | sort -u)
[ -n "$listed" ]; ok $? "$(basename "$symbols") lists symbols"
grep -qx "libnicely.so.$sover libnicely$sover #MINVER#" "$symbols" 2>/dev/null
ok $? "$(basename "$symbols") is for libnicely.so.$sover"
grep -qx '\* Build-Depends-Package: libnicely-dev' "$symbols" 2>/dev/null
ok $? "$(basename "$symbols") names libnicely-dev as Build-Depends-Package"
diff=$(diff <(printf '%s\n' "$listed") <(printf '%s\n' "$exported") | grep '^[<>]')
[ -z "$diff" ]; ok $? "$(basename "$symbols") lists exactly the exported symbols${diff:+ ($(echo $diff))}"

echo "1..$n"
[ $failed = 0 ]
