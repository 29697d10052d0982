#!/bin/bash
# `nicely run` with cgroups on this machine (as root) keeps one task group
# per {%} slot and readies it for the slot's next task instead of making and
# removing groups per task: a batch of 20 tasks with -j2 makes at most 2 task
# groups per hierarchy (read from NICELY_CGROUP_TRACE), all removed at the
# end. The figures stay per task in a reused group (peak memory, CPU time,
# page cache a task left charged; memory that stays charged, a tmpfs file,
# makes a new group), what a task leaves behind is killed when
# it finishes, before the next task joins the group, a timed-out task's
# group serves the next one, and after a SIGKILL of `nicely run` the next
# run removes the kept groups too.
. "$(dirname "$0")/lib/run-common.sh"

if [ "$(id -u)" != 0 ]; then echo "1..0 # SKIP needs root for cgroups"; rm -rf "$T"; exit 0; fi
if [ ! -e /sys/fs/cgroup/cpu/cpu.shares ] || [ ! -e /sys/fs/cgroup/freezer/cgroup.procs ] ||
	[ ! -e /sys/fs/cgroup/memory/memory.max_usage_in_bytes ]; then
	echo "1..0 # SKIP no cgroup v1 cpu, freezer and memory controllers"; rm -rf "$T"; exit 0
fi
unset NICELY_CGROUP_ROOT
CG=/sys/fs/cgroup
MEMHOG="$NICELY_BUILD/tests/helpers/memhog"
cat >"$T/empty.conf" <<'EOF'
[preset cgtest]
base = nuclear
memory_max = 256M
EOF

# the batch groups of nicely pid $1, in every hierarchy
groups_of() { ls -d $CG/*/nicely/root-"$1"-* 2>/dev/null; }
# task-group mkdirs in trace $1, one "HIERARCHY COUNT" line each, sorted
task_mkdirs() {
	grep -E '^mkdir [^ ]+/nicely/[^/]+/task-[0-9]+$' "$1" |
		awk '{split($2, p, "/"); n[p[1]]++} END {for (h in n) print h, n[h]}' | sort
}
# the JSON field $2 of the task with seq $3 in --json output $1
jfield() {
	python3 -c '
import json, sys
for l in open(sys.argv[1]):
    j = json.loads(l)
    if j["seq"] == int(sys.argv[3]):
        v = j[sys.argv[2]]
        print("null" if v is None else v)' "$1" "$2" "$3"
}
# the cgroup of hierarchy $2 in /proc/PID/cgroup copy $1
cg_line() { grep -E "^[0-9]+:$2:" "$1" | cut -d: -f3; }

# --- 20 tasks, -j2: two task groups per hierarchy, not twenty ----------
seq 20 >"$T/list"
NICELY_CGROUP_TRACE="$T/trace" "$NICELY" run -p cgtest -j2 'echo {}' <"$T/list" >"$T/out" 2>"$T/err" &
npid=$!
wait $npid
is "$?" 0 "20 tasks: exit 0 ($(head -c 300 "$T/err"))"
is "$(sort -n "$T/out" | tr '\n' ' ')" "$(seq 20 | tr '\n' ' ')" "20 tasks: every output, once"
mk=$(task_mkdirs "$T/trace")
hs=$(echo "$mk" | wc -l)
ok "$([ "$hs" -ge 4 ] && echo 0 || echo 1)" "task groups in $hs hierarchies ($(echo $mk))"
bad=$(echo "$mk" | awk '$2 < 1 || $2 > 2')
is "$bad" "" "at most 2 task groups made per hierarchy for 20 tasks (one per slot)"
is "$(grep -cE '^rmdir [^ ]+/nicely/[^/]+/task-' "$T/trace")" \
	"$(grep -cE '^mkdir [^ ]+/nicely/[^/]+/task-' "$T/trace")" "every task group made is removed"
is "$(groups_of $npid)" "" "no group of the batch left afterwards"

# --- -j40: as many task groups as tasks ran at once (the PUs say how many)
seq 120 >"$T/list40"
NICELY_CGROUP_TRACE="$T/trace40" "$NICELY" run -p cgtest -j40 'sleep 0.3; echo {}' <"$T/list40" >"$T/out" 2>"$T/err" &
npid=$!
wait $npid
is "$?" 0 "120 tasks at -j40: exit 0 ($(head -c 300 "$T/err"))"
is "$(sort -n "$T/out" | tr '\n' ' ')" "$(seq 120 | tr '\n' ' ')" "120 tasks: every output, once"
mk=$(task_mkdirs "$T/trace40")
is "$(echo "$mk" | awk '$2 < 1 || $2 > 40')" "" "at most 40 task groups per hierarchy for 120 tasks ($(echo $mk))"
is "$(groups_of $npid)" "" "no group of the batch left afterwards"

# --- figures per task in one reused group (-j1) --------------------------
burn='i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done'
printf '%s\n' "$MEMHOG 64" true "$burn" true \
	"dd if=/dev/zero of=$T/cache bs=1M count=48 status=none && sync" true \
	>"$T/fig"
NICELY_CGROUP_TRACE="$T/trace2" "$NICELY" run -p cgtest -j1 --json <"$T/fig" >"$T/json" 2>"$T/err"
is "$?" 0 "figures batch: exit 0 ($(head -c 300 "$T/err"))"
is "$(task_mkdirs "$T/trace2" | awk '$2 != 1')" "" "one task group per hierarchy for its 6 tasks"
p1=$(jfield "$T/json" mem_peak 1)
p2=$(jfield "$T/json" mem_peak 2)
ok "$([ "$p1" -ge $((64 << 20)) ] 2>/dev/null && echo 0 || echo 1)" "memhog 64: peak $p1 bytes"
ok "$([ "$p2" -lt $((16 << 20)) ] 2>/dev/null && echo 0 || echo 1)" \
	"the true after it, in the same group: its own peak ($p2 bytes), not the memhog's"
c3=$(jfield "$T/json" cpu_time 3)
c4=$(jfield "$T/json" cpu_time 4)
ok "$(awk -v a="$c3" -v b="$c4" 'BEGIN {exit !(a >= 0.1 && b < a / 2)}'; echo $?)" \
	"CPU time per task: the loop ${c3}s, the true after it ${c4}s"
p5=$(jfield "$T/json" mem_peak 5)
p6=$(jfield "$T/json" mem_peak 6)
ok "$([ "$p5" -ge $((40 << 20)) ] 2>/dev/null && echo 0 || echo 1)" "dd of 48 MiB: peak $p5 bytes (its page cache)"
ok "$([ "$p6" -lt $((16 << 20)) ] 2>/dev/null && echo 0 || echo 1)" \
	"the true after it: $p6 bytes (the page cache the dd left was given back)"
grep -q "memory.force_empty" "$T/trace2"
ok $? "the reused memory group was emptied with memory.force_empty"
rm -f "$T/cache"

# --- memory that stays charged (a tmpfs file, no swap): a new group -----
if [ -d /dev/shm ] && [ "$(stat -f -c %T /dev/shm)" = tmpfs ] && [ -z "$(swapon --noheadings 2>/dev/null)" ]; then
	shm=/dev/shm/nicely-reuse-test.$$
	NICELY_CGROUP_TRACE="$T/trace4" "$NICELY" run -p cgtest -j1 --json ::: \
		"dd if=/dev/zero of=$shm bs=1M count=8 status=none" true >"$T/json4" 2>"$T/err"
	is "$?" 0 "tmpfs batch: exit 0 ($(head -c 300 "$T/err"))"
	rm -f "$shm"
	is "$(task_mkdirs "$T/trace4" | awk '$2 != 2')" "" \
		"8 MiB of tmpfs left charged: the next task got a new group"
	p2=$(jfield "$T/json4" mem_peak 2)
	ok "$([ "$p2" -lt $((4 << 20)) ] 2>/dev/null && echo 0 || echo 1)" \
		"and its peak is its own ($p2 bytes)"
else
	for n in "tmpfs batch" "tmpfs left charged: a new group" "and its peak is its own"; do
		skip "$n" "no tmpfs /dev/shm, or swap is on"
	done
fi

# --- what a task leaves behind dies when it ends, before the next joins --
: >"$PIDS"
NICELY_CGROUP_TRACE="$T/trace3" "$NICELY" run -p cgtest -j1 ::: \
	"cat /proc/self/cgroup >$T/cg1; setsid sleep 1000 </dev/null >/dev/null 2>&1 & echo \$! >>$PIDS" \
	"cat /proc/self/cgroup >$T/cg2; cat /proc/\$(head -1 $PIDS)/stat >$T/st 2>/dev/null; cat $CG/memory\$(grep -E '^[0-9]+:memory:' /proc/self/cgroup | cut -d: -f3)/cgroup.procs >$T/procs2" \
	>"$T/out" 2>"$T/err"
is "$?" 0 "leftover batch: exit 0 ($(head -c 300 "$T/err"))"
is "$(cg_line "$T/cg2" memory)" "$(cg_line "$T/cg1" memory)" "task 2 ran in the group task 1 left"
st=$(cat "$T/st" 2>/dev/null)
st=${st##*) }
st=${st%% *}
ok "$(case "$st" in "" | Z | X) echo 0 ;; *) echo 1 ;; esac)" \
	"task 1's setsid sleep was killed before task 2 ran (state '${st:-gone}')"
sl=$(head -1 "$PIDS")
ok "$(grep -qx "$sl" "$T/procs2" && echo 1 || echo 0)" "the sleep ($sl) was not in task 2's group ($(tr '\n' ' ' <"$T/procs2"))"
no_survivors "leftovers"

# --- a timed-out task's group serves the next task -----------------------
: >"$PIDS"
"$NICELY" run -p cgtest -j1 --timeout 1 --joblog "$T/jl" ::: \
	"echo \$\$ >>$PIDS; (setsid sleep 1000 & echo \$! >>$PIDS); exec sleep 1000" 'echo after' \
	>"$T/out" 2>"$T/err"
is "$(tail -n +2 "$T/jl" | cut -f1,7 | tr '\t\n' ':,')" "1:-1,2:0," "timeout: task 1 killed (exit -1), task 2 succeeds"
is "$(cat "$T/out")" "after" "the task after the timed-out one ran in its group"
no_survivors "timeout"

# --- SIGKILL of nicely run with kept groups: the next run removes them ---
: >"$PIDS"
"$NICELY" run -p cgtest -j2 ::: true true "echo \$\$ >>$PIDS; exec sleep 1000" \
	>"$T/out" 2>"$T/err" &
npid=$!
for i in $(seq 100); do [ -s "$PIDS" ] && break; sleep 0.1; done
sleep 0.3
n=$(ls -d $CG/memory/nicely/root-$npid-*/task-* 2>/dev/null | wc -l)
ok "$([ "$n" -ge 2 ] && echo 0 || echo 1)" "a kept group beside the running one ($n task groups)"
kill -KILL $npid
wait $npid 2>/dev/null
"$NICELY" run -p cgtest true ::: 1 >"$T/out" 2>"$T/err"
is "$?" 0 "the next run succeeds"
is "$(groups_of $npid)" "" "the killed batch's groups, kept ones too, are gone"
no_survivors "SIGKILL"
finish
