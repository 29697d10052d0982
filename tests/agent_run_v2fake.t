#!/bin/bash
# nicely-agent end to end on a FAKE cgroup v2 tree in systemd's layout
# (tests/lib/systemd-tree.sh st_v2_*: R/user.slice/user-UID.slice/
# session-N.scope, cpu memory pids enabled down to the user slices, the
# agent's base R/nicely beside user.slice), as an ordinary user made for
# the test (removed after): the real nicely-agent --foreground on the fake
# root, `nicely run` of the user with NICELY_CGROUP_ROOT at the same root.
# Checked from the fake files and both traces (NICELY_CGROUP_TRACE): the
# batch group lands at BASE/user-UID/BATCH with the preset's class, the
# owner's pid in owner/cgroup.procs (one pid a line, as the kernel lists
# it, so the client's sampler takes it: no sampling warning), the task
# groups under the batch with the tasks' pids and memory.max from the
# preset's memory_max, subtree_control listing the controllers enabled
# down the tree, the user unable to write the batch's or user group's
# limits, a pool's done/total in the agent's list, and everything removed
# at the end. A small loop plays the kernel's part the plain files cannot
# (exited processes leave cgroup.procs; "1" in cgroup.kill kills).
PREFIX=nicelyrv
. "$(dirname "$0")/lib/agent-v2fake.sh"
# a batch of two sleeping tasks
( setsid "${N[@]}" "$tmp/nicely" run -p ap -j2 "$S 6" ::: 1 2 >"$tmp/out" 2>"$tmp/err" </dev/null & )
wait_until 10 bash -c "[ \$(pgrep -u $user -f '^$S' | wc -l) = 2 ]"
sleep 1	# a few ticks of the client's sampler over the fake files
npid=$(pgrep -u "$user" -f "^$tmp/nicely run" | head -1)
bname=$(ls "$ug" 2>/dev/null | grep "^$user-" | head -1)
bd=$ug/$bname
out="batch '$bname' in $(ls "$ug" 2>&1 | tr '\n' ' '); nicely $npid; err: $(cat "$tmp/err")"
check "the batch group is at BASE/user-UID/BATCH" '[ -n "$bname" ] && [ -d "$bd" ] && [ -n "$npid" ]'
out="cpu.idle '$(cat "$bd/cpu.idle" 2>&1)', cpu.weight '$(cat "$bd/cpu.weight" 2>&1)'"
check "the batch group has the preset's class (cpu.idle 1)" '[ "$(cat "$bd/cpu.idle")" = 1 ]'
out="owner/cgroup.procs: '$(od -c "$bd/owner/cgroup.procs" 2>&1 | head -3)'"
check "the owner's pid is in owner/cgroup.procs" 'grep -qx "$npid" "$bd/owner/cgroup.procs"'
check "... one pid a line, as the kernel lists them" 'pidlines "$bd/owner/cgroup.procs"'
tpids=$(pgrep -u "$user" -f "^$S" | sort)
tlisted=$(cat "$bd"/task-*/cgroup.procs 2>/dev/null | sort)
out="tasks: $(echo $tpids); in task groups: $(echo $tlisted); groups: $(ls "$bd" | tr '\n' ' ')"
check "the task groups under the batch list the tasks' pids" \
	'[ "$(ls -d "$bd"/task-* | wc -l)" -ge 2 ] && [ -n "$tpids" ] && [ "$(comm -23 <(echo "$tpids") <(echo "$tlisted"))" = "" ]'
check "... one pid a line" '(for f in "$bd"/task-*/cgroup.procs; do pidlines "$f" || exit 1; done)'
out="memory.max: $(cat "$bd"/task-*/memory.max 2>&1 | tr '\n' ' ')"
check "the task groups have the preset's memory_max (memory.max 67108864)" \
	'(for f in "$bd"/task-*/memory.max; do [ "$(cat "$f")" = 67108864 ] || exit 1; done)'
out="base '$(cat "$CG/$base/cgroup.subtree_control")', user '$(cat "$ug/cgroup.subtree_control")', batch '$(cat "$bd/cgroup.subtree_control")'"
check "subtree_control lists cpu and memory down the tree (base, user, batch), as the kernel would" \
	'(for d in "$CG/$base" "$ug" "$bd"; do f=$d/cgroup.subtree_control; grep -qw cpu "$f" && grep -qw memory "$f" && ! grep -q "[+-]" "$f" || exit 1; done)'
out="task controllers: $(cat "$bd"/task-*/cgroup.controllers 2>&1 | tr '\n' ' ')"
check "the task groups are offered cpu and memory" \
	'(for f in "$bd"/task-*/cgroup.controllers; do grep -qw cpu "$f" && grep -qw memory "$f" || exit 1; done)'
out=$(sed -n 's/^nicely: //p' "$tmp/err")
check "nicely run says once that the agent placed the batch (idle class), nothing else" \
	'grep -q "^agent (nicely-agent at $sock placed the batch in $base/user-$uid/$bname, idle class)" <<<"$out" && [ "$(wc -l <"$tmp/err")" = 1 ]'
out=$(cat "$tmp/err")
check "the client's sampler takes the fake cgroup.procs files (no sampling warning)" \
	'! grep -qi "sampling\|cgroup.procs" "$tmp/err"'
at=$(cat "$tmp/atrace")
out=$(grep "$bname" "$tmp/atrace" | head -20)
check "agent trace: batch group made, idle class, owner placed" \
	'grep -qx "mkdir $base/user-$uid/$bname" <<<"$at" && grep -qx "write $base/user-$uid/$bname/cpu.idle 1" <<<"$at" && grep -qx "write $base/user-$uid/$bname/owner/cgroup.procs $npid" <<<"$at"'
out=$(head -20 "$tmp/ctrace")
check "client trace: task groups made in the batch group, memory.max set" \
	'grep -q "^mkdir $base/user-$uid/$bname/task-[0-9]*$" "$tmp/ctrace" && grep -q "^write $base/user-$uid/$bname/task-[0-9]*/memory.max 67108864$" "$tmp/ctrace"'

# the user's own groups are the agent's to set
for f in "$bd/cpu.weight" "$bd/cpu.idle" "$bd/memory.max" "$ug/cpu.weight" "$ug/memory.max" "$ug/cgroup.procs"; do
	before=$(cat "$f")
	out=$(runuser -u "$user" -- sh -c "echo 10000 >'$f'" 2>&1); rc=$?
	out="$f: rc $rc: $out; now '$(cat "$f")'"
	check "the user cannot write ${f#"$CG/"}" '[ $rc != 0 ] && grep -q "ermission denied" <<<"$out" && [ "$(cat "$f")" = "$before" ]'
done
out=$(runuser -u "$user" -- sh -c "echo '+cpu' >'$ug/cgroup.subtree_control'" 2>&1); rc=$?
check "the user cannot write the user group's subtree_control" '[ $rc != 0 ]'

# the end of the batch removes its groups
wait_until 20 bash -c "! kill -0 $npid 2>/dev/null"
wait_until 5 nobatch
out="run: $(cat "$tmp/out" "$tmp/err"); left: $(ls -R "$ug" 2>&1 | head -5)"
check "the batch ran to its end" '! kill -0 "$npid" 2>/dev/null && [ "$(left)" = 0 ]'
check "the batch's groups are gone" 'nobatch && [ ! -e "$bd" ]'
out=$(grep "rmdir $base/user-$uid/$bname" "$tmp/atrace" "$tmp/ctrace")
check "... removed by rmdir (traced)" 'grep -q "rmdir $base/user-$uid/$bname$" <<<"$out"'

# a pool: placed by the agent, its done/total in the agent's list
: >"$tmp/pout"
( "${N[@]}" "$tmp/agent_pool" ap 3 4 >"$tmp/pout" 2>&1 & )
wait_until 10 grep -q '^held' "$tmp/pout"
sleep 1
out=$(NICELY_AGENT_SOCKET=$sock "$tmp/nicely" status --all 2>&1)
check "a pool's batch: done/total in the agent's list (3/4)" 'grep -Eq "^$user +$user-[0-9]+-[0-9]+ .* 3/4( |$)" <<<"$out"'
wait_until 10 grep -q '^cg ' "$tmp/pout"
out=$(cat "$tmp/pout")
check "the pool says the agent placed it" 'grep -q "^log agent (nicely-agent at $sock placed the pool in $base/user-$uid/" <<<"$out" && grep -q "^cgroups 1$" <<<"$out"'
wait_until 5 nobatch
check "the pool's batch is gone after nicely_pool_free" 'nobatch'

# the user group and the base go when the agent stops with no batch left
agent_stop
out="left in the base: $(find "$CG/$base" 2>&1 | head -5)"
check "nothing of the user's is left in the agent's subtree" '[ ! -e "$ug" ]'
out=$(grep -c . "$tmp/agent.log"; grep -i "error\|sanitizer" "$tmp/agent.log" | head -3)
check "the agent's log has no error or sanitizer report" '! grep -qi "AddressSanitizer\|runtime error" "$tmp/agent.log"'
echo "1..$n"
