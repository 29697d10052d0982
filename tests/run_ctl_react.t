#!/bin/bash
# A batch pause/resume (nicely pause / nicely resume) leaves alone a task
# the preset paused itself: generous (on_return = pause) starts a task on
# CPU 1 while a busy loop holds CPU 0; a second busy loop takes CPU 1 and
# the preset pauses the task; the batch is paused and resumed, and the task
# stays paused until CPU 1 is free again, when the preset resumes it and
# the batch finishes. Thresholds and waits as in run_react.t.
. "$(dirname "$0")/lib/run-common.sh"

[ "$(nproc)" -ge 2 ] || { echo "1..0 # SKIP needs 2 CPUs"; rm -rf "$T"; exit 0; }
cat >"$T/react.conf" <<'CONF'
[preset generous]
idle_threshold = 60%
load_ceiling = off
pressure_ceiling = off
mem_floor = off
hysteresis = 0
interval = 200ms
on_return = pause
CONF
export NICELY_CONFIG="$T/react.conf"

spin0=$(busy_loop 0)
spin1=
trap 'kill -KILL $spin0 $spin1 2>/dev/null' EXIT
sleep 1

timeout -s INT 300 "$NICELY" run -p generous -j1 \
	'echo $$ >"'"$T"'/task"; echo $$ >>"$PIDS"; for i in $(seq 30); do sleep 0.1; done; echo finished {}' ::: 1 >"$T/out" &
nicely=$!
for i in $(seq 600); do [ -s "$T/task" ] && break; sleep 0.1; done
task=$(cat "$T/task" 2>/dev/null)
[ -n "$task" ] || skip_unless_started "$nicely" "$spin0"
ok 0 "the task started"

# paused: stopped (T), or frozen by its cgroup's freezer
state() {
	local s fz
	s=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)
	fz=$(grep -E '^[0-9]+:freezer:' "/proc/$1/cgroup" 2>/dev/null | cut -d: -f3)
	if [ -n "$fz" ] && [ "$fz" != / ] &&
	   [ "$(cat "/sys/fs/cgroup/freezer$fz/freezer.state" 2>/dev/null)" = FROZEN ]; then
		s=T
	fi
	echo "$s"
}
spin1=$(busy_loop 1)
for i in $(seq 150); do [ "$(state "$task")" = T ] && break; sleep 0.1; done
is "$(state "$task")" T "others took CPU 1: the preset paused the task"
# ($nicely is timeout's pid; the batch is the only one)
got=$("$NICELY" pause 2>&1)
grep -Eqx "batch [0-9]+ paused \(0 tasks frozen\)" <<<"$got"; ok $? "nicely pause: the preset's paused task is not counted ($got)"
got=$("$NICELY" resume 2>&1)
grep -Eqx "batch [0-9]+ resumed \(0 tasks thawed\)" <<<"$got"; ok $? "nicely resume: nothing thawed ($got)"
is "$(state "$task")" T "after the batch resume the task stays paused"
sleep 1
is "$(state "$task")" T "... while others keep CPU 1"
kill -KILL $spin1
wait $spin1 2>/dev/null
for i in $(seq 300); do s=$(state "$task"); [ "$s" != T ] && break; sleep 0.1; done
if [ "$(state "$task")" != T ]; then
	ok 0 "CPU 1 is free again: the preset resumed the task (state ${s:-gone})"
else
	busy1=$(cpu_busy 1 3)
	if [ "$busy1" -ge 60 ]; then
		skip "the preset resumed the task" "others keep CPU 1 ${busy1}% busy: it rightly stays paused"
	else
		ok 1 "CPU 1 is free again (${busy1}% busy): the preset resumed the task (state T)"
	fi
fi
wait $nicely
is "$?" 0 "the batch finished"
is "$(cat "$T/out")" "finished 1" "with the task's output"
kill -KILL $spin0 2>/dev/null
wait $spin0 2>/dev/null
no_survivors "react"
finish
