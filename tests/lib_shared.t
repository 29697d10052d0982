#!/bin/bash
# libnicely as users get it: the shared library exports only nicely_*
# symbols, nicely.pc is valid and names the version, and an example built
# against include/nicely.h and libnicely.so (not the core archive) runs.
build=${NICELY_BUILD:-$(dirname "$0")/../build}
src=$(cd "$(dirname "$0")/.." && pwd)
case "$build" in
*asan*) echo "1..0 # SKIP the shared-library check runs on the plain build"; exit 0 ;;
esac
[ -e "$build/libnicely.so" ] || { echo "1..0 # SKIP $build/libnicely.so not built"; exit 0; }
echo "1..5"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/etc" "$tmp/xdg"
export NICELY_SYSCONFDIR=$tmp/etc XDG_CONFIG_HOME=$tmp/xdg NICELY_CONFIG=

others=$(nm -D --defined-only "$build/libnicely.so" | awk '$2 ~ /^[TDBR]$/ {print $3}' | grep -v '^nicely_' | grep -v '^_' )
if [ -z "$others" ]; then echo "ok 1 - only nicely_* symbols are exported"; else
	echo "not ok 1 - only nicely_* symbols are exported"; echo "$others" | head | sed 's/^/# /'; fi
n=$(nm -D --defined-only "$build/libnicely.so" | grep -c ' T nicely_')
if [ "$n" -ge 20 ]; then echo "ok 2 - $n public functions"; else echo "not ok 2 - public functions ($n)"; fi

if PKG_CONFIG_PATH=$build pkg-config --validate nicely &&
   [ "$(PKG_CONFIG_PATH=$build pkg-config --modversion nicely)" = "$(sed -n 's/^Version: //p' "$build/nicely.pc")" ] &&
   PKG_CONFIG_PATH=$build pkg-config --libs nicely | grep -q -- '-lnicely'; then
	echo "ok 3 - nicely.pc is valid"
else
	echo "not ok 3 - nicely.pc is valid"
fi

if cc -std=gnu11 -Wall -Werror -I"$src/include" -o "$tmp/fav" \
	"$src/examples/favourite_numbers.c" -L"$build" -lnicely 2>"$tmp/cc.err"; then
	echo "ok 4 - the example builds against nicely.h and libnicely.so"
else
	echo "not ok 4 - the example builds against nicely.h and libnicely.so"
	sed 's/^/# /' "$tmp/cc.err" | head
fi
out=$(LD_LIBRARY_PATH=$build timeout 30 "$tmp/fav" 2>&1)
if echo "$out" | grep -q 'returns in call order: 6 4 2'; then
	echo "ok 5 - favourite numbers: 6 4 2 in call order"
else
	echo "not ok 5 - favourite numbers: 6 4 2 in call order"
	echo "$out" | sed 's/^/# /' | head
fi
