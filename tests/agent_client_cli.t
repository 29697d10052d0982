#!/bin/bash
# The CLI's side of nicely-agent against a scripted agent
# (tests/helpers/agent_peer): `nicely status --all` (table and --json, a
# refusal), `nicely kill --user`, `nicely top --once` listing the agent's
# batches; `nicely run` with an agent of another protocol version, with
# one that refuses the batch, and with none (nothing said but the mode).
. "$(dirname "$0")/lib/run-common.sh"
peer=$NICELY_BUILD/tests/helpers/agent_peer
[ -x "$peer" ] || { echo "Bail out! $peer not built"; exit 1; }
export NICELY_AGENT_SOCKET="$T/agent.sock"
ppid_=
cleanup_peer() {
	if [ -n "$ppid_" ]; then kill -TERM "$ppid_" 2>/dev/null; wait "$ppid_" 2>/dev/null; fi
	ppid_=
	rm -f "$NICELY_AGENT_SOCKET"
}
trap 'cleanup_peer; rm -rf "$T"' EXIT

# peer SCRIPT-TEXT: start the scripted agent and wait for its socket
peer_start() {
	cleanup_peer
	printf '%s\n' "$1" >"$T/script"
	: >"$T/log"
	"$peer" "$NICELY_AGENT_SOCKET" "$T/script" "$T/log" &
	ppid_=$!
	for _ in $(seq 100); do [ -S "$NICELY_AGENT_SOCKET" ] && return; sleep 0.05; done
}
# peer_end: the peer's exit status once it played its script
peer_end() {
	local rc
	wait "$ppid_"; rc=$?
	ppid_=
	return $rc
}

HELLO='hello {"v":1,"ok":true,"agent":"9.9","mode":"v1","root":"/sys/fs/cgroup","base":"nicely","uid":0,"admin":true,"tick_ms":250,"snapshot":""}'
LIST='list {"v":1,"ok":true,"batches":[{"user":"alice","uid":1001,"batch":"alice-10-1","pid":10,"preset":"gentle","weight":"idle","grant":2,"holding":1,"cpu_share":0.25,"done":3,"total":10,"running":1,"pus":[0,2,3,4,7],"command":"make -j"},{"user":"bob","uid":1002,"batch":"bob-20-1","pid":20,"preset":"nuclear","weight":"normal","grant":1,"holding":1,"cpu_share":0.5,"done":0,"total":-1,"running":1,"command":"sim \u00e9"}]}'

peer_start "$HELLO
$LIST"
out=$("$NICELY" status --all 2>"$T/err"); rc=$?
is "$rc" 0 "status --all: exit 0"
grep -q '^USER  *BATCH  *PRESET  *PUS  *GRANT  *CPU%  *DONE/TOTAL  *CPUS  *COMMAND' <<<"$out"
ok $? "status --all: a header"
grep -q '^alice  *alice-10-1  *gentle  *1  *2  *25.0  *3/10  *0,2-4,7  *make -j$' <<<"$out"
ok $? "status --all: alice's batch: PUs held, granted, CPU share, done/total, the CPUs its tasks are on"
grep -q '^bob  *bob-20-1  *nuclear  *1  *1  *50.0  *0/?  *-  *sim é$' <<<"$out"
ok $? "status --all: bob's batch (total unknown, no CPUs given)"
peer_end; ok $? "the agent got hello and list"
grep -q '"cmd":"list"' "$T/log" && grep -q '"all":true' "$T/log"
ok $? "list asked for every user's batches"

peer_start "$HELLO
$LIST"
"$NICELY" status --all --json >"$T/j" 2>"$T/err"; rc=$?
is "$rc" 0 "status --all --json: exit 0"
python3 -c '
import json,sys
v=json.load(open(sys.argv[1]))
assert [b["user"] for b in v]==["alice","bob"] and v[0]["holding"]==1 and v[1]["cpu_share"]==0.5 and v[0]["done"]==3
' "$T/j"
ok $? "status --all --json: the agent's batches as JSON"
peer_end

peer_start "${HELLO/\"admin\":true/\"admin\":false}
list {\"v\":1,\"ok\":false,\"error\":\"only root or [agent] admins see every user's batches\"}"
"$NICELY" status --all >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 1 "status --all refused: exit 1"
grep -q "only root or \[agent\] admins" "$T/err"
ok $? "status --all refused: the agent's reason ($(head -1 "$T/err"))"
peer_end

peer_start "$HELLO
kill {\"v\":1,\"ok\":true,\"killed\":2}"
out=$("$NICELY" kill --user bob 2>"$T/err"); rc=$?
is "$rc" 0 "kill --user: exit 0"
is "$out" "2 batches of bob killed" "kill --user: says how many"
peer_end
grep -q '"user":"bob"' "$T/log" && grep -q '"cmd":"kill"' "$T/log"
ok $? "kill --user asked the agent to kill bob's batches"

peer_start "$HELLO
kill {\"v\":1,\"ok\":false,\"error\":\"you may kill your own batches only\"}"
"$NICELY" kill --user alice >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 1 "kill --user refused: exit 1"
grep -q "your own batches only" "$T/err"
ok $? "kill --user refused: the agent's reason"
peer_end

# top: the mode line names the agent, then every user's batches
peer_start "$HELLO
$HELLO
$LIST"
"$NICELY" top --once >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 0 "top --once with the agent: exit 0"
grep -q "^mode: agent (nicely-agent 9.9 at $NICELY_AGENT_SOCKET" "$T/out"
ok $? "top --once: the mode is the agent ($(head -1 "$T/out"))"
grep -q "^every user's batches (nicely-agent):" "$T/out" && grep -q '^alice  *alice-10-1' "$T/out"
ok $? "top --once: every user's batches"
peer_end

# nicely run with an agent of another protocol version: said once, runs
peer_start 'hello {"v":2,"ok":false,"error":"protocol version 1 is not 2"}'
out=$("$NICELY" run -j2 'echo {}' ::: a b 2>"$T/err"); rc=$?
is "$rc" 0 "run with an agent of another version: exit 0"
is "$(echo $out)" "a b" "... every task ran"
is "$(grep -c 'speaks protocol version 2, this nicely speaks version 1; running without it' "$T/err")" 1 \
	"... said once ($(head -1 "$T/err"))"
peer_end

# an agent that refuses the batch: said once, the batch runs without it
peer_start "$HELLO
open {\"v\":1,\"ok\":false,\"error\":\"too many batches\"}"
out=$("$NICELY" run 'echo {}' ::: x 2>"$T/err"); rc=$?
is "$rc/$out" "0/x" "run with an agent that refuses: the batch runs"
is "$(grep -c 'too many batches; running without it' "$T/err")" 1 "... said once"
peer_end
grep -q '"cmd":"open".* +FD$' "$T/log"
ok $? "open came with a pidfd"

# no agent: nothing about it (as root the batch has cgroups of its own)
cleanup_peer
out=$("$NICELY" run 'echo {}' ::: y 2>"$T/err"); rc=$?
is "$rc/$out" "0/y" "run without an agent"
if [ "$(id -u)" = 0 ]; then
	[ ! -s "$T/err" ]; ok $? "no agent, root: nothing said ($(head -1 "$T/err"))"
else
	grep -q "no nicely-agent at $NICELY_AGENT_SOCKET" "$T/err"; ok $? "no agent: the mode line says so"
fi

echo "1..$tap_n"
[ "$tap_fail" = 0 ]
