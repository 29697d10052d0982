#!/bin/bash
# nicely-agent's word on which PUs nicely batches hold, between throwaway
# users A and B on a fake cgroup2 tree and a recorded idle /proc of 4 CPUs
# (synthetic topology). The protocol: a lease's "pus" is kept and listed;
# the answer's "taken" names what other batches (of any user) hold, and
# "yield" what of ours an older batch holds too; a lease with a bad "pus"
# (not a list, a CPU the machine lacks, a negative or fractional one) is
# refused with a message naming it and changes nothing; a batch whose
# owner exited holds nothing. End to end: `nicely run` of A and then of
# B, one task each, on the same synthetic machine: B's task is placed on
# another PU than A's (before, both went to PU 0: the snapshot leaves
# nicely batches out, so each saw every PU idle).
PREFIX=napu
. "$(dirname "$0")/lib/agentd-common.sh"
. "$(dirname "$0")/lib/nonroot-common.sh"
A=$user B=${user}b
useradd --system --no-create-home --shell /usr/sbin/nologin "$B" || { echo "Bail out! useradd"; exit 1; }
users_cleanup() { userdel "$B" 2>/dev/null; userdel "$A" 2>/dev/null; rm -rf "$tmp"; }
agentd_extra_cleanup=users_cleanup
trap agentd_cleanup EXIT
as() { local u=$1; shift; setpriv --reuid "$u" --regid "$(id -g "$u")" --init-groups "$@"; }
as_bg() { local u=$1; shift; exec setpriv --reuid "$u" --regid "$(id -g "$u")" --init-groups "$@"; }
# the "pus" of every batch in the agent's list: "BATCH:CPU,CPU ..." sorted
listed() {
	"$CLIENT" "$SOCK" "$(req list '"all":true')" | python3 -c '
import json, sys
b = json.loads(sys.stdin.read())["batches"]
print(" ".join(sorted("%s:%s" % (x["batch"], ",".join(map(str, x["pus"]))) for x in b)))'
}
# fields KEY... <<<LINES: each JSON line's keys, one line each (one
# python for many answers: it starts slowly on a loaded machine)
fields() {
	python3 -c '
import json, sys
def val(v):
    return str(v).lower() if isinstance(v, bool) else str(v)
for l in sys.stdin:
    o = json.loads(l)
    print(" ".join(val(o[k]) if k in o else "-" for k in sys.argv[1:]))' "$@"
}
# batch_gone NAME: the agent lists no batch NAME
batch_gone() { ! "$CLIENT" "$SOCK" "$(req list '"all":true')" | grep -q "\"$1\""; }
# placed N: N batches said in a lease where a task of theirs is
placed() { [ "$("$CLIENT" "$SOCK" "$(req list '"all":true')" | grep -o '"pus":\[[0-9]' | wc -l)" = "$1" ]; }
# wait_long CMD...: wait_for, up to 30 s (a loaded machine starts runs slowly)
wait_long() { wait_for "$@" || wait_for "$@" || wait_for "$@"; }
# no_task: no process runs the test's sleep copy $S
no_task() {
	local p
	for p in /proc/[0-9]*; do [ "$(readlink "$p/exe" 2>/dev/null)" = "$S" ] && return 1; done
	return 0
}

fake_procfs 4
start_agent --procfs "$T/proc"

# --- the protocol -------------------------------------------------------
as_bg "$A" sleep 1000 & oa=$!
as_bg "$B" sleep 1000 & ob=$!
killme="$killme $oa $ob"
sleep 0.2
L='"want":1,"holding":1,"done":0,"total":-1,"running":1'
a=$(as "$A" "$CLIENT" --pidfd $oa "$SOCK" "$(req open '"weight":"idle","preset":"normal"')" \
	"$(req lease "$L,\"pus\":[0]")")
ba=$(field "$(sed -n 1p <<<"$a")" batch)
is "$(field "$(sed -n 2p <<<"$a")" ok taken yield)" "true [] []" "A alone holds PU 0: nothing taken, nothing to yield"
a=$(as "$B" "$CLIENT" --pidfd $ob "$SOCK" "$(req open '"weight":"idle","preset":"normal"')" \
	"$(req lease "$L,\"pus\":[]")" "$(req lease "$L,\"pus\":[0,2,0]")" \
	"$(req lease "$L,\"pus\":\"0\"")" "$(req lease "$L,\"pus\":[1,4]")" \
	"$(req lease "$L,\"pus\":[-1]")" "$(req lease "$L,\"pus\":[1.5]")" \
	"$(req lease "$L,\"pus\":[8192]")")
f=$(fields batch ok taken yield error <<<"$a")
bb=$(sed -n 1p <<<"$f" | cut -d' ' -f1)
is "$(sed -n 2p <<<"$f")" "- true [0] [] -" "B (another user) learns that PU 0 is taken"
is "$(sed -n 3p <<<"$f")" "- true [0] [0] -" "B on PUs 0 and 2: 0 is A's, older: B yields it"
is "$(sed -n 4p <<<"$f")" "- false - - \"pus\" must be a list of CPU numbers" "pus not a list: refused"
is "$(sed -n 5p <<<"$f")" "- false - - \"pus\" item 1 is not a CPU of this machine (an integer from 0 to 8191 that it has)" \
	"a CPU the machine lacks (4 of 0-3): refused, naming the item"
is "$(sed -n '6,8p' <<<"$f" | cut -d' ' -f2 | tr '\n' ' ')" \
	"false false false " "a negative, a fractional, a too large CPU: refused"
is "$(listed)" "$(printf '%s\n' "$ba:0" "$bb:0,2" | sort | tr '\n' ' ' | sed 's/ $//')" \
	"the refused leases changed nothing: list shows A on 0, B on 0 and 2"
a=$(as "$A" "$CLIENT" --pidfd $oa "$SOCK" "$(req adopt "\"batch\":\"$ba\"")" "$(req lease "$L,\"pus\":[0,3]")")
is "$(field "$(sed -n 2p <<<"$a")" ok taken yield)" "true [0, 2] []" "A (older) sees B's PUs taken and yields none"
kill -KILL $ob; wait $ob 2>/dev/null
wait_for batch_gone "$bb"
a=$(as "$A" "$CLIENT" --pidfd $oa "$SOCK" "$(req adopt "\"batch\":\"$ba\"")" "$(req lease "$L,\"pus\":[0]")")
is "$(field "$(sed -n 2p <<<"$a")" ok taken)" "true []" "B's owner exited: its PUs are free again"
kill -KILL $oa; wait $oa 2>/dev/null
wait_for batch_gone "$ba"

# --- end to end: two users' `nicely run`, one task each ---------------
cat >"$tmp/pu.conf" <<'EOF'
[preset putest]
base = normal
cpu_weight = idle
hysteresis = 0
reserve_pus = 0
ramp_up = 0
load_ceiling = off
pressure_ceiling = off
smt_avoid = no
interval = 100ms
EOF
mkdir -p "$tmp/etc" "$tmp/xdg"
for u in "$A" "$B"; do mkdir -m 700 "$tmp/rt-$u"; chown "$u" "$tmp/rt-$u"; done
chmod 755 "$tmp"
chmod -R a+rX "$tmp/pu.conf" "$tmp/etc" "$tmp/xdg"
S=$tmp/pusleep$$
cp "$(command -v sleep)" "$S"
chmod 755 "$S"
run_as() {
	local u=$1
	as_bg "$u" env NICELY_TOPOLOGY="synthetic:pack:1 core:4 pu:1" NICELY_PROCFS="$T/proc" \
		NICELY_CGROUP_ROOT="$CG" NICELY_AGENT_SOCKET="$SOCK" NICELY_RUNTIME_DIR="$tmp/rt-$u" \
		NICELY_CONFIG="$tmp/pu.conf" NICELY_SYSCONFDIR="$tmp/etc" XDG_CONFIG_HOME="$tmp/xdg" \
		"$B_BIN" run --preset putest "$S" 30 ::: 1
}
B_BIN=$NICELY_BUILD/nicely
cp "$B_BIN" "$tmp/nicely" && chmod 755 "$tmp/nicely" && B_BIN=$tmp/nicely
run_as "$A" >"$tmp/a.out" 2>"$tmp/a.err" & ra=$!
killme="$killme $ra"
wait_long placed 1
pa=$(listed)
run_as "$B" >"$tmp/b.out" 2>"$tmp/b.err" & rb=$!
killme="$killme $rb"
wait_long placed 2
p=$(listed)
tasks=$(sed 's/[^ ]*://g' <<<"$p")
is "$(wc -w <<<"$tasks")" 2 "both users' batches hold a PU ($p)"
one=${tasks% *} two=${tasks#* }
[ -n "$one" ] && [ "$one" != "$two" ]; ok $? "... not the same one (A first: $pa; then both: $p)"
grep -q "agent (nicely-agent" "$tmp/a.err" && grep -q "agent (nicely-agent" "$tmp/b.err"; ok $? "both ran under the agent"
[ "$one" != "$two" ] || grep -h . "$tmp/a.err" "$tmp/b.err" | sed 's/^/# /'
kill -TERM $ra $rb 2>/dev/null
wait $ra $rb 2>/dev/null
wait_long no_task; ok $? "no task is left"
done_testing
