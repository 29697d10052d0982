#!/bin/bash
# Reacting to others for real: preset generous (on_return = pause) starts a
# task on CPU 1 while a busy loop holds CPU 0; when a second busy loop takes
# CPU 1, the task is paused (stopped, state T, or frozen by its cgroup's
# freezer); when it goes
# away the task is resumed and finishes. Thresholds loosened as in
# run_load.t; waits are generous because other work shares the machine.
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

# the task: a shell loop of short sleeps (about 3 s of work in all)
timeout -s INT 300 "$NICELY" run -p generous -j1 \
	'echo $$ >"'"$T"'/task"; echo $$ >>"$PIDS"; for i in $(seq 30); do sleep 0.1; done; echo finished {}' ::: 1 >"$T/out" &
nicely=$!
for i in $(seq 600); do [ -s "$T/task" ] && break; sleep 0.1; done
task=$(cat "$T/task" 2>/dev/null)
# the preset rightly waits while others keep CPU 1 busy too
[ -n "$task" ] || skip_unless_started "$nicely" "$spin0"
[ -n "$task" ]
ok $? "the task started"
is "$(grep Cpus_allowed_list /proc/"$task"/status 2>/dev/null | cut -f2)" 1 "on CPU 1 (CPU 0 is busy)"

# paused: stopped (T), or frozen by its cgroup's freezer (with cgroups)
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
is "$(state "$task")" T "others took CPU 1: the task is paused (stopped or frozen)"
kill -KILL $spin1
wait $spin1 2>/dev/null
for i in $(seq 300); do s=$(state "$task"); [ "$s" != T ] && break; sleep 0.1; done
[ "$(state "$task")" != T ]
ok $? "CPU 1 is free again: the task resumed (state ${s:-gone})"
wait $nicely
is "$?" 0 "the batch finished"
is "$(cat "$T/out")" "finished 1" "with the task's output"
kill -KILL $spin0 2>/dev/null
wait $spin0 2>/dev/null
no_survivors "react"
finish
