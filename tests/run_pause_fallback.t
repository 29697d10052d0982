#!/bin/bash
# A pause whose freezer write fails falls back to SIGSTOP of the task's
# process group; the resume must then wake the task even when the thaw
# write succeeds (otherwise the task stays stopped for good and the batch
# never ends). A fake cgroup v2 tree (plain files) stands in for cgroupfs;
# a directory in place of the task group's cgroup.freeze makes the write
# fail, and removing it lets the thaw through.
. "$(dirname "$0")/lib/run-common.sh"

FAKE="$T/cg"
mkdir -p "$FAKE"
echo "cpu memory" >"$FAKE/cgroup.controllers"
killme=""
trap 'for p in $killme; do kill -KILL "$p" 2>/dev/null; done; finish' EXIT

# state PID: the process state letter from /proc/PID/stat
state() { sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null; }
wait_for() {
	local i
	for i in $(seq 100); do "$@" && return 0; sleep 0.1; done
	return 1
}

NICELY_CGROUP_ROOT="$FAKE" "$NICELY" run -p nuclear -j1 \
	'echo $$ >>"$PIDS"; i=0; while [ $i -lt 40 ]; do sleep 0.05; i=$((i+1)); done; echo done {}' \
	::: 1 >"$T/out" 2>"$T/err" &
run=$!
killme="$run"
wait_for test -s "$PIDS"
task=$(head -1 "$PIDS")
grp=$(find "$FAKE/nicely" -mindepth 2 -maxdepth 2 -type d -name 'task-*' | head -1)
[ -n "$grp" ]
ok $? "the task has a group in the fake tree (${grp#$FAKE/})"
rm -f "$grp/cgroup.freeze"
mkdir "$grp/cgroup.freeze"
"$NICELY" pause "$run" >/dev/null 2>&1
wait_for sh -c "[ \"\$(sed 's/.*) \\(.\\).*/\\1/' /proc/$task/stat)\" = T ]"
ok $? "the freezer write failed: the task is stopped by signal instead (state $(state "$task"))"
grep -q "task 1: .*cgroup.freeze" "$T/err"
ok $? "... and the failed write is said ($(grep -m1 "task 1: .*cgroup.freeze" "$T/err"))"
rmdir "$grp/cgroup.freeze"
"$NICELY" resume "$run" >/dev/null 2>&1
wait_for sh -c "s=\$(sed 's/.*) \\(.\\).*/\\1/' /proc/$task/stat 2>/dev/null); [ -n \"\$s\" ] && [ \"\$s\" != T ] || ! kill -0 $task 2>/dev/null"
ok $? "the thaw succeeded and the task runs again (state $(state "$task"))"
for i in $(seq 100); do kill -0 "$run" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$run" 2>/dev/null; then
	ok 1 "the batch ends"
	kill -KILL -- "-$task" 2>/dev/null
else
	wait "$run"
	is "$?" 0 "the batch ends, exit 0"
fi
grep -qx "done 1" "$T/out"
ok $? "the task's output is whole"
no_survivors "after the fallback pause"
