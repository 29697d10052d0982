#!/bin/bash
# nicely run --halt: now (running tasks are killed, nothing left) and soon
# (running tasks finish, nothing new starts), on fail=N, success=N, done=N
# and percentages; exit status.
. "$(dirname "$0")/lib/run-common.sh"
R() { "$NICELY" run -p nuclear "$@"; }

# now,fail=1: task 2 fails at once while task 1 sleeps; task 1 is killed,
# task 3 never starts
out=$(R -j2 --halt now,fail=1 --joblog "$T/jl" 'echo $$ >>"$PIDS"; sleep {}; echo done {}; exit 7' ::: 30 0 0 2>"$T/err")
rc=$?
is "$rc" 7 "now,fail=1: exit status is the failed task's (GNU parallel's)"
is "$out" "done 0" "now,fail=1: only the failed task's output"
is "$(tail -n +2 "$T/jl" | cut -f1,7 | tr '\t\n' ': ')" "2:7 " "joblog: only the finished task"
grep -q "halting" "$T/err"
ok $? "a message says why it halted"
no_survivors "halt now: the 30 s task was killed"

# soon,fail=1: task 1 (1 s) finishes, task 3 is not started
: >"$PIDS"
out=$(R -j2 --halt soon,fail=1 'echo $$ >>"$PIDS"; sleep {}; echo done {}; [ {} = 1 ]' ::: 1 0 5 2>/dev/null)
rc=$?
is "$(echo $out)" "done 1 done 0" "soon,fail=1: the running task finishes, no new one"
is "$rc" 1 "soon,fail=1: exit 1"

# success=1: stops at the first success, exit 0
out=$(R -j1 --halt now,success=1 'echo {}; exit {}' ::: 3 0 4 5 2>/dev/null)
rc=$?
is "$(echo $out)" "3 0" "now,success=1: stops after the first success"
is "$rc" 0 "success halt: exit 0"

# done=2
out=$(R -j1 --halt soon,done=2 'echo {}' ::: a b c d 2>/dev/null)
is "$(echo $out)" "a b" "soon,done=2: two tasks"

# fail=50% of 8 tasks: the 4th failure halts
out=$(R -j1 --halt soon,fail=50% 'echo {}; exit {}' ::: 1 1 0 1 1 0 0 0 2>/dev/null)
rc=$?
is "$(echo $out)" "1 1 0 1 1" "fail=50% of 8 tasks: halts at the 4th failure"
is "$rc" 50 "fail=50%: exit 50, the percentage failed (GNU parallel's)"

# GNU parallel's short form: --halt 2 = now,fail=1
out=$(R -j1 --halt 2 'echo {}; exit {}' ::: 0 1 0 2>/dev/null)
is "$(echo $out)" "0 1" "--halt 2 is now,fail=1"

no_survivors "halt"
finish
