#!/bin/bash
# The library's map tests once more without the map arena
# (NICELY_MAP_ARENA_MB=0): arguments and results then travel through the
# worker sockets and pipes, the path every map too big for the arena takes.
# Each program's TAP is passed through as one subtest line per program.
build=${NICELY_BUILD:-$(dirname "$0")/../build}
progs="lib_mapchunks lib_mapinto lib_failures"
echo "1..3"
n=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for p in $progs; do
	n=$((n + 1))
	if [ ! -x "$build/tests/$p.t" ]; then
		echo "not ok $n - $p without the arena: $build/tests/$p.t not built"
		continue
	fi
	NICELY_MAP_ARENA_MB=0 "$build/tests/$p.t" >"$out" 2>&1
	rc=$?
	total=$(grep -c '^ok\|^not ok' "$out")
	if [ $rc -eq 0 ] && ! grep -q '^not ok' "$out" && [ "$total" -gt 0 ]; then
		echo "ok $n - $p passes without the arena ($total checks)"
	else
		echo "not ok $n - $p passes without the arena (exit $rc)"
		grep '^not ok' "$out" | head -10 | sed 's/^/# /'
	fi
done
