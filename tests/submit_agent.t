#!/bin/bash
# nicely submit under nicely-agent, on a FAKE cgroup v2 tree in systemd's
# layout (as tests/agent_run_v2fake.t sets it up: the real nicely-agent
# --foreground on the fake root, an ordinary user made for the test and
# removed after): the detached batch's supervisor registers with the agent
# as any nicely run does and the agent places it (its group at
# BASE/user-UID/BATCH with the supervisor in owner/), the store's log says
# so, root sees it in status --all, it ends well with whole results, and
# its groups are removed. A small loop plays the kernel's part.
PREFIX=nicelysa
. "$(dirname "$0")/lib/agent-v2fake.sh"
mkdir -m 700 "$tmp/state"
chown "$user" "$tmp/state"
N+=(XDG_STATE_HOME="$tmp/state")
id=$(setsid "${N[@]}" "$tmp/nicely" submit -p ap -j2 "$S 3; echo done {}" ::: 1 2 </dev/null 2>"$tmp/err")
out="id '$id', err: $(cat "$tmp/err")"
check "the user submits a detached batch" '[[ "$id" =~ ^[0-9a-f]{12}$ ]]'
sd=$tmp/state/nicely/batches/$id
wait_until 10 bash -c "ls '$sd' | grep -q '^run-'"
spid=$(ls "$sd" | sed -n 's/^run-\([0-9]*\)\.sock$/\1/p')
wait_until 10 bash -c "ls '$ug' 2>/dev/null | grep -q '^$user-'"
bname=$(ls "$ug" 2>/dev/null | grep "^$user-" | head -1)
bd=$ug/$bname
out="supervisor '$spid', groups: $(ls "$ug" 2>&1 | tr '\n' ' '), owner: $(cat "$bd/owner/cgroup.procs" 2>&1)"
check "the agent placed it: its group at BASE/user-UID/BATCH, the supervisor in owner/" \
	'[ -n "$spid" ] && [ -n "$bname" ] && grep -qx "$spid" "$bd/owner/cgroup.procs"'
out=$(cat "$sd/log")
check "the store's log says the agent placed the batch" \
	'grep -q "^nicely: agent (nicely-agent at $sock placed the batch in $base/user-$uid/$bname" "$sd/log"'
out=$(NICELY_AGENT_SOCKET=$sock "$tmp/nicely" status --all 2>&1)
check "root sees it in status --all, with its store" 'grep -q "^$user .*$bname .*nicely run --store $sd " <<<"$out"'
W=(runuser -u "$user" -- env XDG_STATE_HOME="$tmp/state" NICELY_RUNTIME_DIR="$tmp/rt" NICELY_SYSCONFDIR="$tmp/etc" NICELY_CONFIG="$tmp/ap.conf")
"${W[@]}" "$tmp/nicely" wait "$id"
rc=$?
out="wait: $rc"
check "the batch ends well (wait exits 0)" '[ $rc = 0 ]'
out=$("${W[@]}" "$tmp/nicely" results --raw "$id" 2>&1)
check "its results are whole and in order" '[ "$out" = "$(printf "done 1\ndone 2")" ]'
wait_until 5 nobatch
out=$(ls -R "$ug" 2>&1 | head -5)
check "its groups are gone" 'nobatch'
agent_stop
out=$(grep -i "error\|sanitizer" "$tmp/agent.log" | head -3)
check "the agent's log has no sanitizer report" '! grep -qi "AddressSanitizer\|runtime error" "$tmp/agent.log"'
echo "1..$n"
