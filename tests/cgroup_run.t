#!/bin/bash
# `nicely run` with cgroups on this machine (as root): tasks run in
# nicely/<user>-<pid>-<n>/task-<n> (one per {%} slot, reused) with the preset's weight, their PU as
# cpuset and the memory limit, read back while they run; the groups are gone
# afterwards. Kill-all reaches double-forked `setsid sleep`s on SIGINT, and
# after a SIGKILL of `nicely run` the next run cleans up what was left. A
# segfault, an exit 3 and a memory-limit kill are recorded and the batch
# goes on; CPU time and peak memory from the cgroup reach --json.
. "$(dirname "$0")/lib/run-common.sh"

if [ "$(id -u)" != 0 ]; then echo "1..0 # SKIP needs root for cgroups"; rm -rf "$T"; exit 0; fi
if [ ! -e /sys/fs/cgroup/cpu/cpu.shares ] || [ ! -e /sys/fs/cgroup/freezer/cgroup.procs ]; then
	echo "1..0 # SKIP no cgroup v1 cpu and freezer controllers"; rm -rf "$T"; exit 0
fi
unset NICELY_CGROUP_ROOT NICELY_CGROUP_TRACE
CG=/sys/fs/cgroup
MEMHOG="$NICELY_BUILD/tests/helpers/memhog"
cat >"$T/empty.conf" <<'EOF'
[preset cgtest]
base = nuclear
cpu_weight = idle
memory_max = 96M
EOF

# 1 when the process can never run again: gone, or a zombie.
gone() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	s=${s##*) }
	[ "${s%% *}" = Z ] || [ "${s%% *}" = X ]
}
# every pid in $PIDS gone (waits up to 5 s); kills and names survivors
none_left() {
	local left="" i p
	for i in $(seq 50); do
		left=""
		for p in $(sort -u "$PIDS"); do gone "$p" || left="$left $p"; done
		[ -z "$left" ] && break
		sleep 0.1
	done
	[ -n "$left" ] && { diag "left running:$left"; kill -KILL $left 2>/dev/null; }
	is "${left:-none}" none "$1: zero survivors by pid"
}
# the batch groups of nicely pid $1, in every hierarchy
groups_of() { ls -d $CG/*/nicely/root-"$1"-* 2>/dev/null; }
wait_lines() { # FILE N: wait up to 10 s for N lines
	local i
	for i in $(seq 100); do
		[ "$(wc -l <"$1" 2>/dev/null || echo 0)" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# --- tasks in their groups, values read back while they run
"$NICELY" run -p cgtest -j2 \
	'cat /proc/self/cgroup >'"$T"'/cg.{}; while [ ! -e '"$T"'/go ]; do sleep 0.05; done' \
	::: 1 2 >"$T/out" 2>"$T/err" &
npid=$!
for i in $(seq 100); do [ -s "$T/cg.1" ] && [ -s "$T/cg.2" ] && break; sleep 0.1; done
for s in 1 2; do
	cpu=$(grep -E '^[0-9]+:cpu:' "$T/cg.$s" | cut -d: -f3)
	case "$cpu" in
	/nicely/root-$npid-*/task-$s) ok 0 "task $s runs in its cpu group ($cpu)" ;;
	*) ok 1 "task $s runs in its cpu group (got '$cpu')" ;;
	esac
	for c in memory cpuset; do
		p=$(grep -E "^[0-9]+:$c:" "$T/cg.$s" | cut -d: -f3)
		is "$p" "$cpu" "task $s: same group in $c"
	done
	fz=$(grep -E "^[0-9]+:freezer:" "$T/cg.$s" | cut -d: -f3)
	if [ -e $CG/unified/cgroup.controllers ]; then
		is "$(grep '^0::' "$T/cg.$s" | cut -d: -f3)" "$cpu" "task $s: same group in the cgroup2 tree"
	fi
	if [ -e $CG/unified/nicely/cgroup.freeze ]; then
		# hybrid: cgroup2's own freezer pauses, the v1 one is left out
		is "$fz" / "task $s: no group in the v1 freezer (cgroup2's freezes)"
	else
		is "$fz" "$cpu" "task $s: same group in freezer"
	fi
	if [ -e "$CG/cpu$cpu/cpu.idle" ]; then
		is "$(cat "$CG/cpu$cpu/cpu.idle")" 1 "task $s: cpu.idle = 1 (preset weight idle)"
	else
		is "$(cat "$CG/cpu$cpu/cpu.shares")" 2 "task $s: cpu.shares = 2 (preset weight idle)"
	fi
	cpus=$(cat "$CG/cpuset$cpu/cpuset.cpus")
	case "$cpus" in
	[0-9] | [0-9][0-9]) ok 0 "task $s: cpuset.cpus is its one PU ($cpus)" ;;
	*) ok 1 "task $s: cpuset.cpus is its one PU (got '$cpus')" ;;
	esac
	is "$(cat "$CG/memory$cpu/memory.limit_in_bytes")" 100663296 "task $s: memory limit 96M"
done
touch "$T/go"
wait $npid
is "$?" 0 "batch exits 0"
is "$(groups_of $npid)" "" "its groups are gone afterwards"

# --- pinned by joining its cpuset group alone: the child makes no
# sched_setaffinity of its own, and each task's affinity is one PU
# (LeakSanitizer cannot run under ptrace: the sanitizer build's leak
# check is left to the other runs)
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
strace -f -qq -e trace=execve,sched_setaffinity -o "$T/aff" "$NICELY" run -p cgtest -j2 \
	'grep Cpus_allowed_list: /proc/self/status; : {}' ::: 1 2 3 4 >"$T/out" 2>"$T/err"
is "$?" 0 "pinned batch exits 0"
is "$(grep -c -v -E '^Cpus_allowed_list:[[:space:]]+[0-9]+$' "$T/out")" 0 \
	"every task's affinity is one PU ($(sort -u "$T/out" | awk '{print $2}' | tr '\n' ' '))"
is "$(wc -l <"$T/out")" 4 "four tasks reported their affinity"
# nicely's own calls (topology load) are in the parent, whose execve is
# the first line: count the children's
is "$(awk -v p="$(head -1 "$T/aff" | cut -d' ' -f1)" '$1 != p' "$T/aff" | grep -c sched_setaffinity)" 0 \
	"no child called sched_setaffinity (the cpuset join pinned it)"

# --- kill-all on SIGINT: double-forked setsid sleeps die too
: >"$PIDS"
rm -f "$T/go"
"$NICELY" run -p cgtest -j2 \
	'(setsid sleep 1000 & echo $! >>"$PIDS"); echo $$ >>"$PIDS"; exec sleep 1000' \
	::: 1 2 >"$T/out" 2>"$T/err" &
npid=$!
wait_lines "$PIDS" 4
ok $? "two tasks and their setsid grandchildren started"
kill -INT $npid
wait $npid
is "$?" 255 "SIGINT: exit 255"
none_left "SIGINT"
is "$(groups_of $npid)" "" "SIGINT: groups removed"

# --- SIGKILL to nicely run: the next run kills what was left
: >"$PIDS"
"$NICELY" run -p cgtest -j2 \
	'(setsid sleep 1000 & echo $! >>"$PIDS"); echo $$ >>"$PIDS"; exec sleep 1000' \
	::: 1 2 >"$T/out" 2>"$T/err" &
npid=$!
wait_lines "$PIDS" 4
ok $? "SIGKILL: tasks started"
kill -KILL $npid
wait $npid 2>/dev/null
left=$(groups_of $npid)
if [ -n "$left" ]; then
	diag "after SIGKILL the dead batch's groups remain (expected): $(echo $left | wc -w)"
else
	diag "the dead batch's groups were already cleaned by a concurrent run"
fi
"$NICELY" run -p cgtest true ::: 1 >"$T/out" 2>"$T/err"
is "$?" 0 "the next run succeeds"
none_left "SIGKILL then a new run"
is "$(groups_of $npid)" "" "the dead batch's groups are gone"

# --- failures are results; the batch goes on
: >"$PIDS"
"$NICELY" run -p cgtest -j1 --joblog "$T/jl" ::: \
	'kill -SEGV $$' 'exit 3' "$MEMHOG 400" 'echo after' >"$T/out" 2>"$T/err"
is "$?" 3 "three failed tasks: exit 3"
is "$(tail -n +2 "$T/jl" | cut -f1,7,8 | sort -n | tr '\t\n' ':,')" \
	"1:0:11,2:3:0,3:0:9,4:0:0," "joblog: SIGSEGV, exit 3, SIGKILL by the memory limit, success"
is "$(cat "$T/out")" "after" "the task after them ran"
grep -q "memory limit" "$T/err"
ok $? "the memory-limit kill is named on stderr"

# --- CPU time and peak memory from the cgroup in --json
"$NICELY" run -p cgtest --json "$MEMHOG" ::: 40 >"$T/json" 2>"$T/err"
is "$?" 0 "--json run exits 0"
peak=$(sed -n 's/.*"mem_peak":\([0-9]*\).*/\1/p' "$T/json")
[ -n "$peak" ] && [ "$peak" -ge $((40 << 20)) ] && [ "$peak" -le $((96 << 20)) ]
ok $? "--json mem_peak from the cgroup: ${peak:-none} bytes (40 MiB touched)"
grep -Eq '"cpu_time":[0-9.]+' "$T/json"
ok $? "--json has cpu_time from the cgroup"
finish
