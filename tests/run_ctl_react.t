#!/bin/bash
# A batch pause/resume (nicely pause / nicely resume) leaves alone a task
# the preset paused itself: generous (on_return = pause) starts a task on
# CPU 1 while a busy loop holds CPU 0; a second busy loop takes CPU 1 and
# the preset pauses the task; the batch is paused and resumed, and the task
# stays paused until CPU 1 is free again, when the preset resumes it and
# the batch finishes. Thresholds and waits as in run_react.t.
. "$(dirname "$0")/lib/run-common.sh"

[ "$(nproc)" -ge 2 ] || { echo "1..0 # SKIP needs 2 CPUs"; rm -rf "$T"; exit 0; }
load_test_preset generous on_return=pause

start_on_cpu1 generous 30
ok 0 "the task started"

spin1=$(busy_loop 1)
paused_or_skip "others took CPU 1: the preset paused the task"
# ($nicely is timeout's pid; the batch is the only one)
got=$("$NICELY" pause 2>&1)
grep -Eqx "batch [0-9]+ paused \(0 tasks frozen\)" <<<"$got"; ok $? "nicely pause: the preset's paused task is not counted ($got)"
got=$("$NICELY" resume 2>&1)
grep -Eqx "batch [0-9]+ resumed \(0 tasks thawed\)" <<<"$got"; ok $? "nicely resume: nothing thawed ($got)"
is_paused "after the batch resume the task stays paused"
sleep 1
is_paused "... while others keep CPU 1"
kill -KILL $spin1
wait $spin1 2>/dev/null
resumed_or_skip "CPU 1 is free again: the preset resumed the task"
wait $nicely
is "$?" 0 "the batch finished"
is "$(cat "$T/out")" "finished 1" "with the task's output"
kill -KILL $spin0 2>/dev/null
wait $spin0 2>/dev/null
no_survivors "react"
finish
