#!/bin/bash
# nicely run --timeout: a task that ignores SIGTERM and has a child is
# killed with its whole tree (TERM, a grace second, KILL); it counts as
# failed, the joblog shows Exitval -1; no process survives (checked by PID).
. "$(dirname "$0")/lib/run-common.sh"

start=$(date +%s.%N)
out=$("$NICELY" run -p nuclear -j2 --timeout 1 --joblog "$T/jl" \
	'trap "" TERM; echo $$ >>"$PIDS"; sh -c "trap \"\" TERM; echo \$\$ >>\"$PIDS\"; sleep 60" & echo $! >>"$PIDS"; sleep 60; echo not reached' ::: a 2>"$T/err")
rc=$?
end=$(date +%s.%N)
is "$rc" 1 "timed-out task counts as failed"
is "$out" "" "its output after the kill never comes"
grep -q "task 1: timed out" "$T/err"
ok $? "a message names the timed-out task"
is "$(tail -n +2 "$T/jl" | cut -f7,8)" "-1	9" "joblog: Exitval -1, Signal 9 (TERM ignored, KILL after grace)"
took=$(echo "$end - $start" | bc)
[ "$(echo "$took < 20" | bc)" = 1 ]
ok $? "done in ${took}s, long before the 60 s sleeps"
is "$(sort -u "$PIDS" | wc -l)" 2 "two shells recorded (the task and its child; the sleeps share their group)"
no_survivors "timeout: the task, its child and grandchild"

# a task that obeys TERM ends quickly with Signal 15; a fast task is not hurt
: >"$PIDS"
out=$("$NICELY" run -p nuclear -j2 --timeout 1 --joblog "$T/jl2" 'echo $$ >>"$PIDS"; sleep {}; echo {}' ::: 30 0.1 2>/dev/null)
rc=$?
is "$rc" 1 "one of two timed out"
is "$out" "0.1" "the fast task's output is there"
is "$(tail -n +2 "$T/jl2" | sort -n | cut -f1,7,8 | tr '\t\n' ', ')" "1,-1,15 2,0,0 " "joblog: TERM for the slow one, 0 for the fast one"
no_survivors "timeout TERM"
finish
