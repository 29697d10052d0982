#!/bin/bash
# nicely submit and the batch store: submit returns at once with an id;
# the batch outlives its submitting session (setsid + SIGHUP of it);
# results are complete and in order (text, --raw, --json, chosen SEQs);
# wait exits with run's status; status lists running and finished batches
# with their size, by short unique id prefix or name; store files are
# private; stdin input is copied into the store; options that make no
# sense detached are refused; rm deletes a finished store and refuses a
# running one; no task process is left.
. "$(dirname "$0")/lib/run-common.sh"

killme=""
trap 'for p in $killme; do kill -KILL "$p" 2>/dev/null; done' EXIT
B="$XDG_STATE_HOME/nicely/batches"

# wait_for CMD...: up to 20 s until CMD succeeds
wait_for() {
	local i
	for i in $(seq 200); do "$@" && return 0; sleep 0.1; done
	return 1
}
# supervisor PID of a running batch (the holder of its lock)
sup_pid() { ls "$B/$1" 2>/dev/null | sed -n 's/^run-\([0-9]*\)\.sock$/\1/p'; }
finished() { "$NICELY" status "$1" --json 2>/dev/null | grep -q '"state":"finished"'; }

# --- submit returns at once; the batch outlives its session and SIGHUP ---
t0=$(date +%s%N)
{ NICELY="$NICELY" T="$T" setsid bash -c '
	"$NICELY" submit --name hup -j2 "echo \$\$ >>\"$PIDS\"; sleep 0.{}; echo out {}; echo err {} >&2; exit \$(( {} % 3 == 0 ))" ::: 8 2 5 3 9 1 >"$T/id"
	kill -HUP 0'; } 2>/dev/null
t1=$(date +%s%N)
id=$(cat "$T/id")
[[ "$id" =~ ^[0-9a-f]{12}$ ]]
ok $? "submit prints a 12-digit batch id ($id)"
[ $(( (t1 - t0) / 1000000 )) -lt 3000 ]
ok $? "submit returns at once ($(( (t1 - t0) / 1000000 )) ms, the batch takes longer)"
"$NICELY" status --json | grep -q "\"id\":\"$id\".*\"state\":\"running\""
ok $? "status lists the batch as running after its session got SIGHUP"
"$NICELY" wait "${id:0:4}"
is "$?" 2 "wait (by a 4-digit prefix) exits with run's status: 2 tasks failed"
want=$(for v in 8 2 5 3 9 1; do echo "out $v"; done)
is "$("$NICELY" results --raw hup 2>/dev/null)" "$want" "results --raw: every task's stdout, in submission order"
is "$("$NICELY" results --raw hup 2>&1 >/dev/null)" "$(for v in 8 2 5 3 9 1; do echo "err $v"; done)" "results: stderr to stderr, in order"
"$NICELY" results hup 2>/dev/null >"$T/res"
is "$(grep -c '^== task' "$T/res")" 6 "results: a header line per task"
grep -q '^== task 4: exit 1, [0-9.]* s, started [0-9-]* [0-9:]*: echo' "$T/res"
ok $? "results: the header gives the exit code, runtime and start time"
"$NICELY" results --json "$id" 5 2 >"$T/json"
python3 - "$T/json" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r["seq"] for r in rows] == [5, 2], rows
assert rows[0]["stdout"] == "out 9\n" and rows[0]["stderr"] == "err 9\n"
assert rows[0]["exit"] == 1 and rows[0]["status"] == "failed"
assert rows[1]["exit"] == 0 and rows[1]["status"] == "ok" and rows[1]["runtime"] > 0.1
EOF
ok $? "results --json SEQ...: the tasks asked for, with exit, status, outputs"
"$NICELY" results "$id" 7 >/dev/null 2>"$T/err"
is "$?" 1 "results of a task that has no result exits 1"
grep -q "no result of task 7" "$T/err"
ok $? "... and says so"
"$NICELY" status >"$T/st"
grep -qE "^${id:0:4} +hup +[0-9-]+ [0-9:]+ +finished\(2\) +6 +2 +[0-9]+[BK]" "$T/st"
ok $? "status lists the finished batch: short id, name, exit, done, failed, size"
# private store
is "$(stat -c %a "$B" "$B/$id" "$B/$id/tasks" | sort -u)" 700 "store directories are 0700"
is "$(find "$B/$id" -type f -printf '%m\n' | sort -u)" 600 "store files are 0600"

# --- stdin input is copied into the store ---
id2=$(printf 'a\nb\nc\n' | "$NICELY" submit -j1 echo v)
"$NICELY" wait "$id2"
is "$?" 0 "a batch reading stdin ends well"
is "$("$NICELY" results --raw "$id2")" "$(printf 'v a\nv b\nv c')" "its input came from the copy in the store"
[ -f "$B/$id2/input-0" ]
ok $? "stdin is kept in the store (input-0)"

# --- refusals ---
"$NICELY" submit --results "$T/r" echo ::: 1 >/dev/null 2>"$T/err"
is "$?" 255 "submit --results is a usage error"
grep -q "nicely submit: --results does not go with a detached batch" "$T/err"
ok $? "... that says why"
"$NICELY" submit --name hup echo ::: 1 >/dev/null 2>"$T/err"
is "$?" 255 "a name in use is refused"
"$NICELY" submit --name 'bad name' echo ::: 1 >/dev/null 2>&1
is "$?" 255 "a bad name is refused"
"$NICELY" submit -p nosuch echo ::: 1 >/dev/null 2>"$T/err"
is "$?" 255 "a batch that cannot start (unknown preset) fails submit"
grep -q "nosuch" "$T/err"
ok $? "... with the supervisor's message"
is "$(ls "$B" | wc -l)" 2 "... and leaves no store behind"
"$NICELY" results nosuch >/dev/null 2>&1
is "$?" 2 "results of an unknown batch exits 2"

# --- an ambiguous prefix, rm ---
mkdir -m 700 "$B/${id:0:3}000000000"
"$NICELY" results "${id:0:3}" >/dev/null 2>"$T/err"
is "$?" 2 "an ambiguous prefix is refused"
grep -q "start of several batch ids" "$T/err"
ok $? "... saying which ids it starts"
rmdir "$B/${id:0:3}000000000"
id3=$("$NICELY" submit 'echo $$ >>"$PIDS"; sleep 30' ::: 1)
killme="$killme $(sup_pid "$id3")"
"$NICELY" rm "$id3" >/dev/null 2>"$T/err"
is "$?" 1 "rm of a running batch is refused"
"$NICELY" kill "$id3" >/dev/null
is "$?" 0 "kill reaches a detached batch by its id"
wait_for finished "$id3"
"$NICELY" wait "$id3"
is "$?" 255 "wait after kill exits 255, as run does"
"$NICELY" rm "$id3" "$id2" >/dev/null
is "$?" 0 "rm deletes finished batches"
[ ! -e "$B/$id3" ] && [ ! -e "$B/$id2" ]
ok $? "... their stores are gone"
no_survivors "submit"
finish
