#!/bin/bash
# nicely-agent killed or restarted mid-batch loses no work: after SIGKILL
# the next agent finds the batch in the tree (its owner alive in the owner
# leaf) and keeps it, the client adopts it again and leases; a batch whose
# owner died while no agent ran is removed at the start; SIGHUP writes a
# changed [limits] on user groups and puts running batches under a lower
# max_preset (back up once lifted); SIGTERM keeps
# batches too; an owner that exits after the restart is still noticed.
. "$(dirname "$0")/lib/agentd-common.sh"

start_agent
sleep 1000 & o1=$!
sleep 1000 & o2=$!
killme="$killme $o1 $o2"
b1=$(field "$("$CLIENT" --pidfd $o1 "$SOCK" "$(req open '"weight":"idle","preset":"normal"')")" batch)
b2=$(field "$("$CLIENT" --pidfd $o2 "$SOCK" "$(req open '"weight":"low","preset":"aggressive"')")" batch)
[ -d "$CG/nicely/user-0/$b1" ] && [ -d "$CG/nicely/user-0/$b2" ]; ok $? "two batches placed ($b1, $b2)"
sleep 1000 & task=$!
killme="$killme $task"
mkdir -p "$CG/nicely/user-0/$b1/task-1"
echo $task >"$CG/nicely/user-0/$b1/task-1/cgroup.procs"

kill -KILL $agent_pid; wait $agent_pid 2>/dev/null; agent_pid=""
kill $o2; wait $o2 2>/dev/null   # dies while no agent runs
kill -0 $task && kill -0 $o1; ok $? "SIGKILL of the agent: the batch's task and owner live on"
start_agent
grep -q "found 1 batch of an earlier agent again, removed 1 whose owner is gone" "$T/agent.log"; ok $? "restart: one batch found again, one removed ($(tail -1 "$T/agent.log"))"
[ -d "$CG/nicely/user-0/$b1" ]; ok $? "the live owner's batch is kept"
[ ! -e "$CG/nicely/user-0/$b2" ]; ok $? "the dead owner's batch is removed"
kill -0 $task; ok $? "no task was killed by the restart"
a=$("$CLIENT" "$SOCK" "$(req list)")
is "$(python3 -c 'import json,sys; print(" ".join(b["batch"] for b in json.loads(sys.argv[1])["batches"]))' "$a")" "$b1" "list: the batch found again"
a=$("$CLIENT" --pidfd $o1 "$SOCK" "$(req adopt "\"batch\":\"$b1\"")" "$(req lease '"want":2,"holding":1,"done":3,"total":10,"running":1')")
is "$(field "$(head -1 <<<"$a")" ok batch group)" "true $b1 nicely/user-0/$b1" "adopt: the same batch and group"
is "$(field "$(sed -n 2p <<<"$a")" ok killed)" "true false" "lease after adopt"
a=$("$CLIENT" --pidfd $task "$SOCK" "$(req adopt "\"batch\":\"$b1\"")")
grep -q "is not the owner of batch" <<<"$a"; ok $? "adopt with another process than the owner: refused"

# SIGHUP: the config again, its [limits] written on the user's group
printf '[limits]\nmax_pus = 1\n' >"$T/etc/nicely/nicely.conf"
kill -HUP $agent_pid
wait_for grep -q "config read again" "$T/agent.log"
q=$(cat "$CG/nicely/user-0/cpu.max" 2>/dev/null)
case $q in "100000 100000"|[0-9]*" "[0-9]*) r=0 ;; *) r=1 ;; esac
[ $r = 0 ] && [ "$q" != max ] && [ "${q%% *}" != max ]; ok $? "SIGHUP: [limits] max_pus 1 becomes the user group's CPU quota ($q)"
printf '[limits]\nmax_pus = bogus\n' >"$T/etc/nicely/nicely.conf"
kill -HUP $agent_pid
wait_for grep -q "config not read again" "$T/agent.log"
grep -q "config not read again: .*nicely.conf:2" "$T/agent.log"; ok $? "SIGHUP with a bad config: said with file:line, the old one stays"
rm -f "$T/etc/nicely/nicely.conf"

# SIGHUP with a lower [limits] max_preset: running batches are put in its
# CPU class, and back in the one asked once it is lifted; a batch found
# again keeps the class it had (read back from its group)
sleep 1000 & o3=$!
killme="$killme $o3"
b3=$(field "$("$CLIENT" --pidfd $o3 "$SOCK" "$(req open '"weight":"normal","preset":"aggressive"')")" batch)
weights() { # the list's weight of each batch, in the order given
	local a
	a=$("$CLIENT" "$SOCK" "$(req list)")
	python3 -c 'import json,sys; w={b["batch"]:b["weight"] for b in json.loads(sys.argv[1])["batches"]}; print(" ".join(w.get(x,"-") for x in sys.argv[2:]))' "$a" "$@"
}
is "$(weights "$b1" "$b3")" "idle normal" "list: the found batch's class read back (idle), the new one's (normal)"
printf '[limits]\nmax_preset = generous\n' >"$T/etc/nicely/nicely.conf"
n0=$(grep -c "config read again" "$T/agent.log")
kill -HUP $agent_pid
wait_for eval '[ $(grep -c "config read again" "$T/agent.log") -gt $n0 ]'
is "$(cat "$CG/nicely/user-0/$b3/cpu.weight") $(cat "$CG/nicely/user-0/$b3/cpu.idle")" "1 1" "SIGHUP, max_preset generous: the normal batch is put in the idle class (cpu.weight 1, cpu.idle 1)"
is "$(weights "$b1" "$b3")" "idle idle" "... and listed so"
grep -q "batch $b3: CPU class idle now (\[limits\] max_preset)" "$T/agent.log"; ok $? "... and said in the log"
rm -f "$T/etc/nicely/nicely.conf"
n0=$(grep -c "config read again" "$T/agent.log")
kill -HUP $agent_pid
wait_for eval '[ $(grep -c "config read again" "$T/agent.log") -gt $n0 ]'
is "$(cat "$CG/nicely/user-0/$b3/cpu.weight") $(cat "$CG/nicely/user-0/$b3/cpu.idle")" "100 0" "the limit lifted: back in the normal class it asked for"
is "$(weights "$b1" "$b3")" "idle normal" "... the found batch stays idle"
kill $o3; wait $o3 2>/dev/null

stop_agent
[ -d "$CG/nicely/user-0/$b1" ] && kill -0 $task; ok $? "SIGTERM of the agent: batch and task stay"
start_agent
[ -d "$CG/nicely/user-0/$b1" ]; ok $? "... and the next agent keeps the batch"
kill $o1; wait $o1 2>/dev/null
wait_for eval "[ ! -e '$CG/nicely/user-0/$b1' ]"
[ ! -e "$CG/nicely/user-0/$b1" ]; ok $? "the owner exits after the restart: the batch is removed"
wait_for gone $task
gone $task; ok $? "... its task killed with it"
done_testing
