#!/bin/bash
# Moving off a PU others come back to, for real: preset normal (on_return =
# move) starts a task on CPU 1 while a busy loop holds CPU 0; then the loop
# moves to CPU 1 and CPU 0 is free: every process of the task is re-pinned
# to CPU 0 and the task goes on. Thresholds loosened as in run_load.t.
. "$(dirname "$0")/lib/run-common.sh"

[ "$(nproc)" -ge 2 ] || { echo "1..0 # SKIP needs 2 CPUs"; rm -rf "$T"; exit 0; }
load_test_preset normal on_return=move force_one=no

# the task: a shell whose child sleeps in steps; both must move
start_on_cpu1 normal 100
cpus() { grep Cpus_allowed_list /proc/"$1"/status 2>/dev/null | cut -f2; }
is "$(cpus "$task")" 1 "the task started on CPU 1 (CPU 0 is busy)"

spin1=$(busy_loop 1)
kill -KILL $spin0
wait $spin0 2>/dev/null
for i in $(seq 200); do [ "$(cpus "$task")" = 0 ] && break; sleep 0.1; done
busy0=0
[ "$(cpus "$task")" = 0 ] || busy0=$(cpu_busy 0 2)
if [ "$busy0" -ge 60 ]; then
	# others (another test's busy loop, say) keep CPU 0 busy: no free PU
	skip "others moved to CPU 1: the task was re-pinned to CPU 0" "others keep CPU 0 ${busy0}% busy"
else
	is "$(cpus "$task")" 0 "others moved to CPU 1: the task was re-pinned to CPU 0"
	# its child is a short sleep: take one that is still there when read
	kidcpu=
	for i in $(seq 20); do
		kid=$(pgrep -g "$task" sleep | head -1)
		[ -n "$kid" ] && kidcpu=$(cpus "$kid") && [ -n "$kidcpu" ] && break
		sleep 0.05
	done
	[ -z "$kidcpu" ] || is "$kidcpu" 0 "its child too"
fi
kill -KILL $spin1
wait $spin1 2>/dev/null
wait $nicely
is "$?" 0 "the batch finished"
is "$(cat "$T/out")" "finished 1" "with the task's output"
no_survivors "move"
finish
