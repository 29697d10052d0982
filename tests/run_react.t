#!/bin/bash
# Reacting to others for real: preset generous (on_return = pause) starts a
# task on CPU 1 while a busy loop holds CPU 0; when a second busy loop takes
# CPU 1, the task is paused (stopped, state T, or frozen by its cgroup's
# freezer); when it goes
# away the task is resumed and finishes. Thresholds loosened as in
# run_load.t; waits are generous because other work shares the machine.
. "$(dirname "$0")/lib/run-common.sh"

[ "$(nproc)" -ge 2 ] || { echo "1..0 # SKIP needs 2 CPUs"; rm -rf "$T"; exit 0; }
load_test_preset generous on_return=pause

# the task: a shell loop of short sleeps (about 3 s of work in all)
start_on_cpu1 generous 30
[ -n "$task" ]
ok $? "the task started"
is "$(grep Cpus_allowed_list /proc/"$task"/status 2>/dev/null | cut -f2)" 1 "on CPU 1 (CPU 0 is busy)"

spin1=$(busy_loop 1)
paused_or_skip "others took CPU 1: the task is paused (stopped or frozen)"
kill -KILL $spin1
wait $spin1 2>/dev/null
resumed_or_skip "CPU 1 is free again: the task resumed"
wait $nicely
is "$?" 0 "the batch finished"
is "$(cat "$T/out")" "finished 1" "with the task's output"
kill -KILL $spin0 2>/dev/null
wait $spin0 2>/dev/null
no_survivors "react"
finish
