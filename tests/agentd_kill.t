#!/bin/bash
# nicely-agent kills in rounds between its loop rounds, never in place:
# while a killed batch's tasks are still there (the fake tree's stand-in
# kernel is stopped, so the agent's cgroup.kill does nothing yet), other
# peers' leases and lists are answered, the killed batch's own lease says
# "killed" at once, and the "kill" itself is answered only once the batch
# is empty. A batch whose owner exits with tasks left is ended the same
# way: its groups go once what was left is gone, the agent serving
# meanwhile. (Before, the agent killed inside its loop, up to 5 s a
# batch, and every other client's lease timed out meanwhile.)
. "$(dirname "$0")/lib/agentd-common.sh"

start_agent
open_batch() { # open_batch OWNER-PID: the batch's name
	field "$("$CLIENT" --pidfd "$1" "$SOCK" "$(req hello)" \
		"$(req open '"preset":"normal","weight":"idle","nice":19,"memory_max":0,"command":"t"')" |
		sed -n 2p)" batch
}
task_in() { # task_in BATCH: a sleep in a task group of BATCH, pid in $tpid
	sleep 1000 >/dev/null 2>&1 &
	tpid=$!
	disown $tpid	# no "Killed" line when it is
	killme="$killme $tpid"
	mkdir -p "$CG/nicely/user-0/$1/task-1"
	: >"$CG/nicely/user-0/$1/task-1/cgroup.kill"	# as the kernel makes it
	echo $tpid >"$CG/nicely/user-0/$1/task-1/cgroup.procs"
}
lease_of() { # lease_of OWNER BATCH: the lease answer's ok and killed
	field "$("$CLIENT" --pidfd "$1" "$SOCK" "$(req adopt "\"batch\":\"$2\"")" \
		"$(req lease '"want":1,"holding":0')" | sed -n 2p)" ok killed
}

sleep 1000 & oa=$!
sleep 1000 & ob=$!
killme="$killme $oa $ob"
a=$(open_batch $oa)
b=$(open_batch $ob)
[ -n "$a" ] && [ -n "$b" ]; ok $? "two batches opened ($a, $b)"
task_in "$a"; ta=$tpid

# --- a kill that takes a while --------------------------------------------
kill -STOP "$kernel_pid"
( "$CLIENT" "$SOCK" "$(req kill "\"batch\":\"$a\"")" >"$T/killout"; touch "$T/killdone" ) &
kpid=$!
sleep 0.5
is "$(lease_of $ob "$b")" "true false" "another batch's lease is answered while the kill goes on"
[ ! -e "$T/killdone" ]; ok $? "... before the kill is answered (its batch's task is still there)"
is "$(lease_of $oa "$a")" "true true" "the killed batch's own lease says killed at once"
l=$("$CLIENT" "$SOCK" "$(req list '"all":true')")
is "$(field "$l" ok)" true "a list is answered meanwhile"
[ ! -e "$T/killdone" ]; ok $? "the kill is not answered while its task lives"
gone $ta; is $? 1 "its task lives while the stand-in kernel is stopped"
kill -CONT "$kernel_pid"
wait $kpid
is "$(field "$(cat "$T/killout")" ok killed)" "true 1" "the kill is answered once the task is gone: one batch"
gone $ta; ok $? "the task was killed"
kill -0 $oa 2>/dev/null; ok $? "its owner was not"

# --- an owner exits with a task left ---------------------------------------
task_in "$b"; tb=$tpid
kill -STOP "$kernel_pid"
kill $ob; wait $ob 2>/dev/null
sleep 0.5
[ -d "$CG/nicely/user-0/$b" ]; ok $? "the owner is gone, its task is not: the batch's groups stay"
sleep 1000 & oc=$!
killme="$killme $oc"
c=$(open_batch $oc)
[ -n "$c" ]; ok $? "a new batch is opened meanwhile ($c)"
is "$(lease_of $oc "$c")" "true false" "... and its lease answered"
kill -CONT "$kernel_pid"
wait_for eval "[ ! -e '$CG/nicely/user-0/$b' ]"
[ ! -e "$CG/nicely/user-0/$b" ]; ok $? "the task gone, the batch's groups are removed"
gone $tb; ok $? "the left task was killed"
grep -q "killed the tasks of batch $a" "$T/agent.log"; ok $? "the log says the kill was done"
done_testing
