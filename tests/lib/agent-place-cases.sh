# The placement cases through nicely-agent as an ordinary user (sourced by
# tests/agent_client_place.t with the least placing agent, and by
# tests/agent_run.t with nicely-agent in a systemd-like layout). The caller
# sets: user, uid, tmp, base (the agent's base, relative to the cgroup
# root), sock, S (a copy of sleep unique to the test), N (array: the
# command prefix that runs a command as the user in their session, with
# the environment), agent_start / agent_stop (apid: the agent's pid), and
# the TAP function check NAME CONDITION. Tasks leave double-forked
# children; every case checks that nothing of them is left.
left() { ps -u "$user" -o stat=,args= | awk -v p="$S" '$1 !~ /^Z/ && index($0, p)' | wc -l; }
sweep() { local p; for p in $(pgrep -u "$user" -f "$S"); do kill -9 "$p" 2>/dev/null; done; sleep 0.2; }
batches() { ls "/sys/fs/cgroup/cpu/$base/user-$uid" 2>/dev/null | grep -c "^$user-"; }
nobatch() { [ "$(batches)" = 0 ]; }
none() { [ "$(left)" = 0 ]; }
has6() { [ "$(left)" -ge 6 ]; }
gone() { ! kill -0 "$npid" 2>/dev/null; }
wait_until() {
	local end=$(( $(date +%s%N) / 1000000 + $1 * 1000 )); shift
	until "$@"; do
		[ $(( $(date +%s%N) / 1000000 )) -ge $end ] && return 1
		sleep 0.1
	done
}

# where a task runs: its cgroup lines, nice and memory limit
task='cat /proc/self/cgroup; echo nice $(cut -d" " -f19 /proc/self/stat); m=$(sed -n "s/^[0-9]*:memory://p" /proc/self/cgroup); echo mem $(cat /sys/fs/cgroup/memory$m/memory.limit_in_bytes); echo {}'
out=$("${N[@]}" "$tmp/nicely" run -p ap "$task" ::: 1 2>"$tmp/err")
rc=$?
err=$(cat "$tmp/err")
out="rc $rc: $out; err: $err"
check "an ordinary user's batch runs through the agent" '[ $rc = 0 ]'
check "its task is in the agent's subtree, in a task group of its batch group (cpu)" \
	'grep -Eq "^[0-9]+:cpu(,cpuacct)?:/$base/user-$uid/$user-[0-9]+-[0-9]+/task-[0-9]+$" <<<"$out"'
check "... and cpuset and memory" \
	'grep -Eq "^[0-9]+:cpuset:/$base/user-$uid/$user-[0-9]+-[0-9]+/task-" <<<"$out" && grep -Eq "^[0-9]+:memory:/$base/user-$uid/$user-[0-9]+-[0-9]+/task-" <<<"$out"'
check "the preset's nice" 'grep -q "^nice 12$" <<<"$out"'
check "the preset's memory_max applies" 'grep -q "^mem 67108864$" <<<"$out"'
check "one mode line says the agent placed it (idle class), no other" \
	'[ "$(grep -c "^nicely: agent (nicely-agent at $sock placed the batch in $base/user-$uid/$user-[0-9]*-[0-9]*, idle class)" <<<"$err")" = 1 ] && [ "$(wc -l <<<"$err")" = 1 ]'
wait_until 3 nobatch
check "the batch's groups are gone when the run ended" 'nobatch'

# the batch group's class, while a batch runs
( setsid "${N[@]}" "$tmp/nicely" run -p ap "$S 30" ::: 1 >/dev/null 2>&1 </dev/null & )
wait_until 5 bash -c "[ \$(ls /sys/fs/cgroup/cpu/$base/user-$uid 2>/dev/null | grep -c ^$user-) = 1 ]"
bdir=$(ls -d /sys/fs/cgroup/cpu/$base/user-$uid/$user-* 2>/dev/null | head -1)
out="batch $bdir: idle $(cat "$bdir/cpu.idle" 2>&1)"
check "the batch group has the preset's class (cpu.idle 1)" '[ -n "$bdir" ] && [ "$(cat "$bdir/cpu.idle")" = 1 ]'
sweep
wait_until 5 nobatch

# the kill cases: a task with double-forked children, one holding stdout
ktask="(setsid $S 300 >/dev/null 2>&1 &); setsid $S 301 & $S 302; echo done"
start() {
	( setsid "${N[@]}" "$tmp/nicely" run -p ap -j2 "$ktask" ::: 1 2 >"$tmp/out" 2>"$tmp/err" </dev/null & )
	wait_until 10 has6
	npid=$(pgrep -u "$user" -f "^$tmp/nicely run" | head -1)
	sleep 0.5
}
for sig in INT TERM KILL; do
	start
	out="sleeps $(left), nicely $npid"
	check "SIG$sig: the batch runs (6 sleeps)" '[ "$(left)" -ge 6 ] && [ -n "$npid" ]'
	kill -s $sig "$npid"
	wait_until 15 gone
	wait_until 5 none
	wait_until 5 nobatch
	out="left $(left); err: $(cat "$tmp/err")"
	check "SIG$sig: no process of the tasks is left, double-forked ones included" 'none'
	check "SIG$sig: the batch's groups are gone" 'nobatch'
	sweep
done
start
"${N[@]}" "$tmp/nicely" kill >"$tmp/kout" 2>&1
krc=$?
wait_until 15 gone
out="rc $krc $(cat "$tmp/kout"); left $(left)"
check "nicely kill: returns 0 and nothing of the tasks is left" '[ $krc = 0 ] && none'
wait_until 5 nobatch
sweep

# a libnicely pool of the user: the fork server is placed, its worker runs
# in the batch's group
out=$("${N[@]}" "$tmp/agent_pool" ap 2>&1)
check "a pool's worker runs in the agent's subtree" \
	'grep -Eq "^cg /$base/user-$uid/$user-[0-9]+-[0-9]+/task-[0-9]+$" <<<"$out" && grep -q "^cgroups 1$" <<<"$out"'
check "the pool says the agent placed it" 'grep -q "^log agent (nicely-agent at $sock placed the pool in $base/user-$uid/" <<<"$out"'
wait_until 3 nobatch
check "the pool's batch is gone after nicely_pool_free" 'nobatch'

# the agent SIGKILLed mid-batch and started again: no task lost, the
# batch taken up again
( setsid "${N[@]}" "$tmp/nicely" run -p ap -j1 "$S 1; echo t{}" ::: 1 2 3 4 5 6 7 8 >"$tmp/out" 2>"$tmp/err" </dev/null & )
sleep 1.2
kill -9 "$apid"; wait "$apid" 2>/dev/null; apid=
sleep 1
agent_start
npid=$(pgrep -u "$user" -f "^$tmp/nicely run" | head -1)
# up to 60 s: its idle-class tasks are pinned, each to one CPU, and get
# only that CPU's idle time (30 s was too short at load 9)
wait_until 60 gone
out="out: $(echo $(cat "$tmp/out")); err: $(cat "$tmp/err")"
check "agent SIGKILL + restart: every task ran" '[ "$(echo $(cat "$tmp/out"))" = "t1 t2 t3 t4 t5 t6 t7 t8" ]'
check "... the loss was said once" '[ "$(grep -c "goes on without it" "$tmp/err")" = 1 ]'
check "... and the batch taken up again" 'grep -q "nicely-agent is back: it took up this batch again" "$tmp/err"'
wait_until 5 nobatch
check "... and its groups went at its end" 'nobatch'
