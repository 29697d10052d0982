#!/bin/bash
# A 100,000-task batch of `true` completes with bounded memory: values are
# streamed from standard input and finished tasks are dropped once written.
# Peak RSS of nicely (GNU time's %M) must stay under 16 MiB (measured:
# about 6 MiB for 10^4 and 10^5 tasks alike). The sanitizer build runs
# 20,000 tasks with a 160 MiB bound (ASan's shadow memory and quarantine).
. "$(dirname "$0")/lib/run-common.sh"

n=100000 bound=16384
case "$NICELY_BUILD" in */asan*) n=20000 bound=163840 ;; esac
[ -x /usr/bin/time ] || { echo "1..0 # SKIP needs GNU time (apt-get install time)"; rm -rf "$T"; exit 0; }

seq "$n" | /usr/bin/time -f "%M" -o "$T/rss" "$NICELY" run -p nuclear -j2 \
	--joblog "$T/jl" true >"$T/out" 2>"$T/err"
rc=$?
is "$rc" 0 "$n tasks of true: exit 0"
is "$(tail -n +2 "$T/jl" | wc -l)" "$n" "joblog has $n lines"
is "$(tail -n +2 "$T/jl" | cut -f1 | sort -n | uniq | wc -l)" "$n" "every seq once"
is "$(tail -n +2 "$T/jl" | awk -F'\t' '$7 != 0 || $8 != 0' | wc -l)" 0 "all exit 0"
rss=$(tail -1 "$T/rss")
diag "peak RSS of nicely for $n tasks: $rss KiB (bound $bound KiB)"
[ "$rss" -lt "$bound" ]
ok $? "peak RSS $rss KiB < $bound KiB"
is "$(cat "$T/out" "$T/err")" "" "no output, no message"
no_survivors "big batch"
finish
