#!/bin/bash
# A task's own children are not others' load, for real: a `nicely run`
# task (preset normal, loosened as in run_react.t, on_return = pause) and a
# libnicely task each do their work in a child process that burns their
# PU. With cgroups the batch's whole cgroup counts as ours, so nicely
# neither pauses, moves nor stops its own task. Needs root (cgroups) and
# an otherwise idle machine: it waits for one, bounded, and skips when
# others keep the CPUs busy.
. "$(dirname "$0")/lib/run-common.sh"

[ "$(nproc)" -ge 2 ] || { echo "1..0 # SKIP needs 2 CPUs"; rm -rf "$T"; exit 0; }
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root for cgroups"; rm -rf "$T"; exit 0; }
[ -d /sys/fs/cgroup/freezer ] || [ -f /sys/fs/cgroup/cgroup.controllers ] ||
	{ echo "1..0 # SKIP no cgroup tree at /sys/fs/cgroup"; rm -rf "$T"; exit 0; }
load_test_preset normal on_return=pause
SPIN="$NICELY_BUILD/tests/helpers/spin"
export T SPIN

# wait_idle: up to 60 s for both CPUs to be under 25% busy for a second;
# 1 when they never were (the reason in $why)
wait_idle() {
	local i b0 b1
	for i in $(seq 30); do
		b0=$(cpu_busy 0 1)
		b1=$(cpu_busy 1 1)
		[ "$b0" -lt 25 ] && [ "$b1" -lt 25 ] && return 0
		sleep 1
	done
	why="others keep the CPUs busy (CPU 0 ${b0}%, CPU 1 ${b1}%)"
	return 1
}

# cpu_ticks CPU: "BUSY TOTAL" clock ticks of Linux CPU number CPU so far
cpu_ticks() {
	awk -v c="cpu$1" '$1 == c {print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat
}

# watch RUNNER_PID FILE: until RUNNER_PID ends, sample the processes named
# in FILE ("PID..." on one line) every 0.1 s. Prints what nicely did to
# them, "paused" (one was stopped or frozen), "moved" (one's CPUs changed)
# or "quiet", and the percent of their CPU's time that others used
# meanwhile (its busy time less what the watched processes used).
watch() {
	local seen=() p s c t first="" what=quiet c0="" c1 ours=0
	local -A base=() last=()
	while kill -0 "$1" 2>/dev/null; do
		[ -s "$2" ] && read -r -a seen <"$2" 2>/dev/null
		for p in "${seen[@]}"; do
			s=$(task_state "$p")
			[ "$s" = T ] || [ "$s" = F ] && what=paused
			t=$(awk '{print $14 + $15}' /proc/"$p"/stat 2>/dev/null)
			if [ -n "$t" ]; then
				[ -n "${base[$p]:-}" ] || base[$p]=$t
				last[$p]=$t
			fi
			c=$(grep Cpus_allowed_list /proc/"$p"/status 2>/dev/null | cut -f2)
			[ -n "$c" ] || continue
			[ -z "$first" ] && first=$c && c0=$(cpu_ticks "${c%%[-,]*}")
			[ "$c" != "$first" ] && [ "$what" = quiet ] && what=moved
		done
		sleep 0.1
	done
	for p in "${!last[@]}"; do ours=$((ours + last[$p] - base[$p])); done
	if [ -n "$c0" ]; then
		c1=$(cpu_ticks "${first%%[-,]*}")
		echo "$what $(echo "$c0 $c1 $ours" | awk '{t = $4 - $2; o = $3 - $1 - $5;
			print (t > 0 && o > 0) ? int(100 * o / t) : 0}')"
	else
		echo "$what 0"
	fi
}

# judge NAME "WHAT OTHERS%": pass when WHAT is quiet; when nicely reacted,
# skip if others used 10% or more of the task's CPU meanwhile (reacting
# was right), else fail.
judge() {
	local what=${2% *} others=${2#* }
	if [ "$what" = quiet ]; then
		ok 0 "$1 (others used ${others}% of its CPU)"
	elif [ "$others" -ge 10 ]; then
		skip "$1" "the task was $what, but others used ${others}% of its CPU meanwhile"
	else
		ok 1 "$1 (it was $what; others used only ${others}% of its CPU)"
	fi
}

# The CLI: the task's shell starts a shell that runs the burner and waits.
cat >"$T/task.sh" <<'EOF'
echo $$ >>"$PIDS"
echo $$ >>"$T/starts"
cpu=$(awk '/^Cpus_allowed_list/ {print $2}' /proc/$$/status)
sh -c '"$1" "$2" 4 & echo "$$ $!" >"$3"; wait' sh "$SPIN" "$cpu" "$T/procs.new"
echo "done $1 on $cpu"
EOF
if ! wait_idle; then
	skip "nicely run: a task whose grandchild burns its PU is left alone" "$why"
else
	timeout -s INT 120 "$NICELY" run -p normal -j1 sh "$T/task.sh" {} ::: 1 \
		>"$T/out" 2>"$T/err" &
	nicely=$!
	# the task's own shell joins the watched set once the burner runs
	( for i in $(seq 100); do
		[ -s "$T/procs.new" ] && { echo "$(cat "$T/starts" | head -1) $(cat "$T/procs.new")" >"$T/procs"; break; }
		sleep 0.05
	done ) &
	what=$(watch "$nicely" "$T/procs")
	wait "$nicely"
	rc=$?
	wait
	is "$rc" 0 "nicely run: the batch succeeded"
	ok "$(grep -c '^done 1 on [0-9]*$' "$T/out" | grep -qx 1; echo $?)" "nicely run: the task's output, once"
	is "$(wc -l <"$T/starts")" 1 "nicely run: the task started once (never stopped and retried)"
	[ -s "$T/err" ] && diag "stderr: $(head -3 "$T/err")"
	judge "nicely run: a task whose grandchild burns its PU is left alone" "$what"
fi
no_survivors "nicely run"

# The library: a pool task that forks the burner and waits for it.
rm -f "$T/procs"
if ! wait_idle; then
	skip "libnicely: a task whose child burns its PU is left alone" "$why"
else
	timeout -s INT 120 "$NICELY_BUILD/tests/helpers/lib_forker" \
		"$SPIN" 4 "$T/procs" normal >"$T/lout" 2>&1 &
	lib=$!
	what=$(watch "$lib" "$T/procs")
	wait "$lib"
	rc=$?
	is "$rc" 0 "libnicely: the helper ran"
	is "$(grep '^cgroups' "$T/lout")" "cgroups 1" "libnicely: the pool has cgroups"
	ok "$(grep -q '^task 0 0 child exit 0 on CPU [0-9]*$' "$T/lout"; echo $?)" \
		"libnicely: the task's child ran to its end ($(grep '^task' "$T/lout"))"
	judge "libnicely: a task whose child burns its PU is left alone" "$what"
fi
no_survivors "libnicely"
finish
