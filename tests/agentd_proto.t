#!/bin/bash
# nicely-agent's protocol as root against a fake cgroup2 tree: hello, open
# with a pidfd (the batch's groups made, the owner moved into its leaf),
# lease, list, kill (the next lease says killed), the owner's exit (the
# batch removed); refusals: version mismatch (answered, then closed),
# garbage, unknown commands, open without a pidfd, with two fds, with a
# file that is no pidfd, lease before open; the socket (mode 0666, a live
# agent refused, a stale file replaced, the file removed at exit).
. "$(dirname "$0")/lib/agentd-common.sh"

start_agent
[ -S "$SOCK" ]; ok $? "the agent listens on \$NICELY_AGENT_SOCKET"
is "$(stat -c %a "$SOCK")" 666 "the socket is mode 0666"

a=$("$CLIENT" "$SOCK" "$(req hello)")
is "$(field "$a" v ok uid admin tick_ms mode base)" "1 true 0 true 100 fake nicely" "hello: version, uid, admin (root), tick, mode, base"
snap=$(field "$a" snapshot)
is "$snap" "$SOCK.snapshot" "hello names the snapshot beside the socket"
wait_for test -s "$snap"
s=$(cat "$snap" 2>/dev/null)
is "$(field "$s" v tick_ms)" "1 100" "the snapshot file: version, tick"
python3 -c 'import json,sys; o=json.loads(sys.argv[1]); assert len(o["cpus"]) > 0 and all(0 <= c["busy"] <= 1 for c in o["cpus"]) and len(o["loadavg"]) == 3 and o["mem_total_kb"] > 0' "$s" 2>/dev/null
ok $? "the snapshot has per-CPU busy, load average and memory"
is "$(stat -c %a "$snap")" 644 "the snapshot is mode 0644"
seq1=$(field "$s" seq); sleep 0.3
is "$([ "$(field "$(cat "$snap")" seq)" -gt "$seq1" ] && echo yes)" yes "the snapshot is rewritten each tick"

# --- open, lease, list, kill ---------------------------------------------
sleep 1000 &
owner=$!
killme="$killme $owner"
out=$("$CLIENT" --pidfd $owner "$SOCK" "$(req hello)" \
	"$(req open '"preset":"normal","weight":"idle","nice":19,"memory_max":0,"command":"sim {} ::: 1 2"')" \
	"$(req lease '"want":4,"holding":0,"done":0,"total":2,"running":0')" \
	"sleep:300" "$(req lease '"want":4,"holding":1,"done":1,"total":2,"running":1,"reason":"PU 1 busy (others 83%)"')" \
	"$(req lease '"want":4,"holding":1,"done":1,"total":2,"running":1,"reason":"a\u0001b"')")
o=$(sed -n 2p <<<"$out")
batch=$(field "$o" batch)
is "$(field "$o" ok weight group)" "true idle nicely/user-0/$batch" "open: ok, the weight, the group"
case $batch in root-$owner-*) r=0 ;; *) r=1 ;; esac
ok $r "the batch is named <user>-<owner pid>-<n> ($batch)"
grep -qx "$owner" "$CG/nicely/user-0/$batch/owner/cgroup.procs" 2>/dev/null
ok $? "the owner was moved into the batch's owner leaf"
l=$(sed -n 4p <<<"$out")
is "$(field "$l" ok killed)" "true false" "lease: ok, not killed"
g=$(field "$l" grant)
[ "$g" -ge 1 ] 2>/dev/null; ok $? "lease: a grant of at least what it holds ($g)"
u=$(field "$l" users)
is "$u" 1 "lease: one user wants PUs"
a=$("$CLIENT" "$SOCK" "$(req list '"all":true')")
python3 -c '
import json, sys
o = json.loads(sys.argv[1]); b = o["batches"]
assert len(b) == 1, b
b = b[0]
assert b["batch"] == sys.argv[2] and b["pid"] == int(sys.argv[3]) and b["user"] == "root" and b["uid"] == 0
assert b["preset"] == "normal" and b["weight"] == "idle" and b["command"] == "sim {} ::: 1 2"
assert b["done"] == 1 and b["total"] == 2 and b["running"] == 1 and b["holding"] == 1
assert b["reason"] == "PU 1 busy (others 83%)", b
' "$a" "$batch" "$owner" 2>&1
ok $? "list all: the batch with its user, pid, preset, weight, command, counts and reason"
grep -q '"ok":false.*control character' <<<"$(sed -n 5p <<<"$out")"
ok $? "a lease whose reason holds a control character: refused, the last reason kept"

# the batch's own task (in a task group): kill takes it, not the owner
sleep 1000 &
task=$!
disown $task	# no "Killed" line when the agent kills it
killme="$killme $task"
mkdir -p "$CG/nicely/user-0/$batch/task-1"
echo $task >"$CG/nicely/user-0/$batch/task-1/cgroup.procs"
a=$("$CLIENT" "$SOCK" "$(req kill "\"batch\":\"$batch\"")")
is "$(field "$a" ok killed)" "true 1" "kill the batch: one batch"
wait_for gone $task
gone $task; ok $? "its task was killed"
kill -0 $owner 2>/dev/null; ok $? "its owner was not"
a=$("$CLIENT" --pidfd $owner "$SOCK" "$(req adopt "\"batch\":\"$batch\"")" "$(req lease '"want":1,"holding":0')")
is "$(field "$(sed -n 2p <<<"$a")" ok killed)" "true true" "the next lease says killed"

# the owner exits: the batch goes
kill $owner; wait $owner 2>/dev/null
wait_for eval "[ ! -e '$CG/nicely/user-0/$batch' ]"
[ ! -e "$CG/nicely/user-0/$batch" ]; ok $? "the owner exited: the batch's groups are removed"
[ ! -e "$CG/nicely/user-0" ]; ok $? "... and the user's group, empty now"
a=$("$CLIENT" "$SOCK" "$(req list)")
is "$a" '{"batches":[],"ok":true,"v":1}' "list: nothing left"

# --- refusals --------------------------------------------------------------
sleep 1000 &
owner=$!
killme="$killme $owner"
a=$("$CLIENT" "$SOCK" '{"v":2,"cmd":"hello"}' "$(req hello)")
is "$(field "$(head -1 <<<"$a")" ok)" false "another version: ok false"
grep -q "client speaks version 2, nicely-agent .* speaks version 1" <<<"$a"; ok $? "... naming both versions"
is "$(sed -n 2p <<<"$a")" "no answer" "... and the connection is closed"
a=$("$CLIENT" "$SOCK" 'hello?' '[1,2]' "$(req frobnicate)" '{"v":1}' "$(req hello)")
is "$(head -4 <<<"$a" | python3 -c 'import json,sys; print(" ".join(str(json.loads(l)["ok"]).lower() for l in sys.stdin))')" \
	"false false false false" "garbage, a non-object, an unknown command, no cmd: each refused"
grep -q "unknown command 'frobnicate'" <<<"$a"; ok $? "... naming the unknown command"
is "$(field "$(sed -n 5p <<<"$a")" ok)" true "... and the connection still serves"
a=$("$CLIENT" "$SOCK" "$(req open '"weight":"idle"')")
grep -q "needs the owner's pidfd" <<<"$a"; ok $? "open without a pidfd: refused ($a)"
a=$("$CLIENT" --pidfd $owner --fds 2 "$SOCK" "$(req open '"weight":"idle"')")
grep -q "exactly one file descriptor" <<<"$a"; ok $? "open with two fds: refused ($a)"
a=$("$CLIENT" --notpidfd "$SOCK" "$(req open '"weight":"idle"')")
grep -q "is not a pidfd" <<<"$a"; ok $? "open with a file that is not a pidfd: refused ($a)"
a=$("$CLIENT" --pidfd $owner "$SOCK" "$(req open '"weight":"huge"')" "$(req open '"weight":"idle","nice":"x"')")
is "$(grep -c '"ok":false' <<<"$a")" 2 "bad weight, bad nice: refused"
a=$("$CLIENT" "$SOCK" "$(req lease '"want":1')")
grep -q "lease before open" <<<"$a"; ok $? "lease before open: refused"
a=$("$CLIENT" --pidfd $owner "$SOCK" "$(req open '"weight":"low"')" "$(req open '"weight":"low"')")
grep -q "one open per connection" <<<"$(sed -n 2p <<<"$a")"; ok $? "a second open on a connection: refused"
a=$( (sleep 0.2 & p=$!; exec "$CLIENT" --pidfd $p "$SOCK" "sleep:500" "$(req open '"weight":"low"')") )
grep -q "exited" <<<"$a"; ok $? "open with the pidfd of a process that exited: refused ($a)"
find "$CG/nicely/user-0" -mindepth 1 -maxdepth 1 -type d | grep -c . >"$T/n"
is "$(cat "$T/n")" 1 "refused opens left no group behind (one batch: the good open)"

# a limit the tree cannot hold is said in the open's note (the fake root,
# as systemd leaves it, enables no cpuset below itself)
sleep 1000 &
o2=$!
killme="$killme $o2"
a=$("$CLIENT" --pidfd $o2 "$SOCK" "$(req open '"weight":"low","cpus":"0","memory_max":1048576')")
is "$(field "$a" ok)" true "open with cpus on a tree without cpuset: placed"
grep -q "cpus 0 not fenced: the agent's cgroup tree has no cpuset controller" <<<"$a"; ok $? "... its note says cpus are not fenced ($a)"
grep -q "memory_max not applied" <<<"$a"; is $? 1 "... and nothing about memory_max (the tree has memory)"
kill $o2; wait $o2 2>/dev/null

# --- the socket --------------------------------------------------------------
"$AGENT" --foreground --cgroup-root "$CG" >"$T/second" 2>&1
is "$?" 1 "a second agent on the same socket: exit 1"
grep -q "another nicely-agent (pid $agent_pid) already answers on $SOCK" "$T/second"; ok $? "... saying so ($(cat "$T/second"))"
[ -S "$SOCK" ] && [ "$(field "$("$CLIENT" "$SOCK" "$(req hello)")" ok)" = true ]; ok $? "... and the first one still answers"
stop_agent
[ ! -e "$SOCK" ]; ok $? "SIGTERM: the agent removes its socket"
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$SOCK"
start_agent
is "$(field "$("$CLIENT" "$SOCK" "$(req hello)")" ok)" true "a stale socket file is replaced"
grep -q "replaced the stale socket" "$T/agent.log"; ok $? "... and said"
stop_agent
rm -f "$SOCK"; : >"$SOCK"
"$AGENT" --foreground --cgroup-root "$CG" >"$T/second" 2>&1
is "$?" 1 "a plain file where the socket goes: refused"
[ -f "$SOCK" ]; ok $? "... and left alone"
rm -f "$SOCK"
kill $owner
done_testing
