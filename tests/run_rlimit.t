#!/bin/bash
# RLIMIT_NOFILE too low for a batch is an error at start: `nicely run`
# under ulimit -n 9..15 exits 255 at once (no hang), naming the fds it
# needs and the limit, starts nothing and leaves no cgroup; just above
# the minimum it runs fewer tasks at once and says so once; a stale
# batch group named by our uid (left by an older run whose user-name
# lookup failed) is cleaned by the next run; nicely_pool_new fails with
# NICELY_EMFILE and a log line instead of retrying workers for ever.
# Every run is time-boxed, so a hang is a failure, not a stuck suite.
. "$(dirname "$0")/lib/run-common.sh"
killme=""
trap 'for p in $killme; do kill -KILL $p 2>/dev/null; done' EXIT
CG=/sys/fs/cgroup
real_cg=0
[ "$(id -u)" = 0 ] && [ -d "$CG/cpu" ] && real_cg=1

# nofile N OUT ERR ARGS...: nicely run ARGS under ulimit -n N, killed
# after 20 s; sets rc (137: it hung) and pid (nicely's own pid)
nofile() {
	local n=$1 out=$2 err=$3 w
	shift 3
	( ulimit -n "$n" && exec "$NICELY" run "$@" ) >"$out" 2>"$err" &
	pid=$!
	# the watchdog ends with nicely (tail --pid), or kills it at 20 s
	( timeout 20 tail --pid=$pid -f /dev/null
	  [ $? = 124 ] && kill -KILL $pid 2>/dev/null ) &
	w=$!
	killme="$killme $pid"
	wait $pid
	rc=$?
	wait $w
}

for n in 9 10 11 12 13 14 15; do
	nofile $n "$T/out" "$T/err" -p nuclear -j2 'echo $$ >>"$PIDS"; echo {}' ::: a b c
	is "$rc" 255 "ulimit -n $n: exit 255 at once (137 = it hung)"
	need=$(sed -n 's/.*needs at least \([0-9]*\) .* is \([0-9]*\);.*/\1 \2/p' "$T/err")
	set -- $need
	[ $# = 2 ] && [ "$1" -gt "$n" ] && [ "$2" = "$n" ]
	ok $? "  names the fds needed and the limit ($(head -c 200 "$T/err"))"
	is "$(wc -l <"$T/err") $(wc -c <"$T/out") $(wc -c <"$PIDS")" "1 0 0" \
		"  one line on stderr, nothing started"
	if [ $real_cg = 1 ]; then
		left=$(ls -d $CG/*/nicely/*-$pid-* 2>/dev/null)
		is "$left" "" "  no cgroup left"
	fi
done
min=$(sed -n 's/.*needs at least \([0-9]*\) .*/\1/p' "$T/err")
diag "a batch needs at least $min fds here"

# just enough for one task: -j2 runs one at a time, says so once, and
# every task runs
nofile $((min + 2)) "$T/out" "$T/err" -p nuclear -j2 --joblog "$T/jl" \
	'echo $$ >>"$PIDS"; sleep 0.3; echo {}' ::: a b c d
is "$rc" 0 "ulimit -n $((min + 2)): the batch runs (exit 0)"
is "$(tr '\n' ' ' <"$T/out")" "a b c d " "  every task ran, in order"
is "$(grep -c 'lets 1 task run at once' "$T/err")" 1 "  says once that 1 task runs at once"
grep -q 'lets 1 task run at once (each holds [0-9]* fds); the others wait (-j 2 needs ulimit -n [0-9]*)' "$T/err"
ok $? "  with what -j 2 would need ($(head -c 300 "$T/err"))"
overlaps=$(awk -F'\t' 'NR > 1 { s[NR] = $3; e[NR] = $3 + $4 }
	END { for (i in s) for (j in s) if (i < j && s[i] < e[j] - 0.002 && s[j] < e[i] - 0.002) n++; print n + 0 }' "$T/jl")
is "$overlaps" 0 "  no two tasks overlapped"

# enough for both: no word about fds
nofile $((min + 200)) "$T/out" "$T/err" -p nuclear -j2 'echo $$ >>"$PIDS"; echo {}' ::: a b
is "$rc:$(cat "$T/err")" "0:" "ulimit -n $((min + 200)): nothing said"

# a stale group named by our uid with a dead owner goes at the next run
if [ $real_cg = 1 ]; then
	sh -c 'exit 0' &
	dead=$!
	wait $dead
	stale=$(id -u)-$dead-1
	mkdir -p "$CG/cpu/nicely/$stale" "$CG/memory/nicely/$stale"
	"$NICELY" run -p nuclear 'echo $$ >>"$PIDS"' ::: x 2>"$T/err"
	left=$(ls -d $CG/*/nicely/$stale 2>/dev/null)
	is "$left" "" "a stale batch group named by our uid ($stale) is cleaned"
	rmdir $left 2>/dev/null
else
	skip "a stale batch group named by our uid is cleaned" "needs root and the v1 cpu hierarchy"
fi

# libnicely: nicely_pool_new says EMFILE, never hangs
for n in 9 12 15; do
	( ulimit -n $n && exec timeout -s KILL 20 "$NICELY_BUILD/tests/helpers/lib_probe" auto ) >"$T/lib" 2>&1
	is "$?:$(grep '^new' "$T/lib")" "0:new NICELY_EMFILE" "libnicely under ulimit -n $n: nicely_pool_new gives NICELY_EMFILE"
	grep -q '^log too few open files allowed: a pool needs at least [0-9]* .* is '$n'$' "$T/lib"
	ok $? "  and logs how many it needs ($(grep log "$T/lib" | head -c 200))"
done

no_survivors "rlimit"
finish
