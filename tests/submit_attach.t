#!/bin/bash
# Detached batches from other terminals: two attaches at once both get the
# whole ordered output and end with the batch; Ctrl-C on attach detaches
# and kills nothing; pause, resume and kill reach a detached batch by name;
# SIGKILL of the supervisor mid-batch, then `submit --resume`: every task
# whose result was recorded is not run again, every other runs once, and
# the results are whole and ordered; [store] keep expires old finished
# batches, and a bad keep is refused with file:line.
. "$(dirname "$0")/lib/run-common.sh"

killme=""
trap 'for p in $killme; do kill -KILL "$p" 2>/dev/null; done' EXIT
B="$XDG_STATE_HOME/nicely/batches"

wait_for() {
	local i
	for i in $(seq 300); do "$@" && return 0; sleep 0.1; done
	return 1
}
sup_pid() { ls "$B/$1" 2>/dev/null | sed -n 's/^run-\([0-9]*\)\.sock$/\1/p'; }
state_is() { "$NICELY" status "$1" --json 2>/dev/null | grep -q "\"state\":\"$2\""; }
gone() { ! kill -0 "$1" 2>/dev/null; }
recorded() { [ "$(grep -c '^[0-9]' "$B/$1/joblog" 2>/dev/null)" -ge "$2" ]; }

# --- two attaches at once -------------------------------------------------
id=$("$NICELY" submit -p nuclear -j3 'echo $$ >>"$PIDS"; sleep 0.{}; echo out {}; echo err {} >&2' ::: 9 1 5 3 7 2)
"$NICELY" attach "$id" >"$T/a1" 2>"$T/a1e" &
a1=$!
"$NICELY" attach "${id:0:6}" >"$T/a2" 2>"$T/a2e" &
a2=$!
killme="$killme $a1 $a2"
want=$(for v in 9 1 5 3 7 2; do echo "out $v"; done)
wait $a1
is "$?" 0 "attach ends with the batch, exit 0"
wait $a2
is "$(cat "$T/a1")" "$want" "attach 1: every task's stdout in submission order"
is "$(cat "$T/a2")" "$want" "attach 2 at the same time: the same"
is "$(cat "$T/a2e")" "$(for v in 9 1 5 3 7 2; do echo "err $v"; done)" "attach: stderr to stderr, in order"
"$NICELY" attach "$id" >"$T/a3" 2>/dev/null
is "$(cat "$T/a3")" "$want" "attach to a finished batch prints it all and returns"

# --- Ctrl-C detaches; pause, resume, kill by name --------------------------
: >"$PIDS"
"$NICELY" submit --name long -p nuclear -j1 'echo $$ >>"$PIDS"; echo started {}; exec sleep 60' ::: 1 2 >/dev/null
wait_for grep -q . "$PIDS"
"$NICELY" attach long >"$T/l" 2>"$T/le" &
at=$!
killme="$killme $at"
sleep 1
kill -INT $at
wait $at
is "$?" 0 "attach exits 0 on Ctrl-C"
grep -q "detached; batch .* goes on" "$T/le"
ok $? "... saying the batch goes on"
state_is long running
ok $? "... and the batch still runs"
kill -0 "$(head -1 "$PIDS")" 2>/dev/null
ok $? "... its task too"
"$NICELY" pause >"$T/p"
is "$?" 0 "pause without BATCH reaches your only (detached) running batch"
grep -q "^batch $(cat "$B"/*/meta | grep -o '"id":"[0-9a-f]*","name":"long"' | cut -d'"' -f4) paused" "$T/p"
ok $? "... naming it by its store id ($(cat "$T/p"))"
wait_for state_is long paused
ok $? "status says it is paused"
"$NICELY" resume long >/dev/null
is "$?" 0 "resume reaches it"
wait_for state_is long running
ok $? "status says it runs again"
"$NICELY" kill long >/dev/null
is "$?" 0 "kill reaches it"
"$NICELY" wait long
is "$?" 255 "wait: the killed batch's exit status (255)"
no_survivors "kill of a detached batch"

# --- reset of a detached batch ---------------------------------------------
: >"$PIDS"
id=$("$NICELY" submit -p nuclear -j1 'echo $$ >>"$PIDS"; exec sleep 60' ::: 1 2 3)
wait_for grep -q . "$PIDS"
"$NICELY" reset "$id" >"$T/r"
is "$(cat "$T/r")" "batch $id reset: 1 running task killed, 2 queued tasks cancelled, preset nuclear" "reset reaches a detached batch"
"$NICELY" wait "$id"
is "$?" 1 "... which ends, its killed task failed (exit 1)"
"$NICELY" results --json "$id" >"$T/rj"
is "$(grep -c '"seq"' "$T/rj"):$(grep -c '"exit":-1,"signal":0' "$T/rj")" "3:2" "the killed task and the 2 cancelled ones (exit -1) are recorded"
no_survivors "reset of a detached batch"

# --- SIGKILL of the supervisor, then --resume -------------------------------
: >"$PIDS"
id=$("$NICELY" submit -p nuclear -j2 'echo $$ >>"$PIDS"; echo {} >>'"$T"'/ran; sleep 0.3; echo out {}' ::: $(seq 20))
wait_for recorded "$id" 6
sp=$(sup_pid "$id")
[ -n "$sp" ] && kill -KILL "$sp"
wait_for gone "$sp"
no_survivors "the supervisor's SIGKILL ends its tasks"
"$NICELY" status "$id" --json | grep -q '"state":"died"'
ok $? "status: the batch whose supervisor died is 'died'"
"$NICELY" wait "$id" 2>"$T/we"
is "$?" 255 "wait on it exits 255"
grep -q "submit --resume" "$T/we"
ok $? "... and says how to go on"
before=$(grep -o '^[0-9]*' "$B/$id/joblog" | sort)
nb=$(echo "$before" | wc -l)
mv "$T/ran" "$T/ran1"
rid=$("$NICELY" submit --resume "${id:0:5}")
is "$rid" "$id" "submit --resume prints the same batch id"
"$NICELY" wait "$id"
is "$?" 0 "the resumed batch ends well"
again=$(comm -12 <(echo "$before") <(sort "$T/ran"))
is "$again" "" "no task with a recorded result ran again ($nb were recorded)"
is "$(sort -n "$T/ran" | uniq -d)" "" "every other task ran once"
is "$(sort "$T/ran" | tr '\n' ' ')" "$(comm -13 <(echo "$before") <(seq 20 | sort) | tr '\n' ' ')" "... and each of them did"
is "$("$NICELY" results --raw "$id")" "$(for i in $(seq 20); do echo "out $i"; done)" "results after resume: all 20, in order"
no_survivors "resume"

# --- [store] keep --------------------------------------------------------
touch -d '3 days ago' "$B/$id/state"
printf '[store]\nkeep = 2d\n' >"$T/keep.conf"
NICELY_CONFIG="$T/keep.conf" "$NICELY" submit true ::: 1 >"$T/kid"
"$NICELY" wait "$(cat "$T/kid")"
[ ! -e "$B/$id" ] && [ -e "$B/$(cat "$T/kid")" ]
ok $? "keep = 2d: a batch finished 3 days ago is deleted at the next submit, the new one kept"
printf '[store]\nkeep = soon\n' >"$T/bad.conf"
NICELY_CONFIG="$T/bad.conf" "$NICELY" submit true ::: 1 >/dev/null 2>"$T/err"
is "$?" 255 "a bad keep is a config error"
grep -q "bad.conf:2:.*keep = 'soon' is not an age" "$T/err"
ok $? "... naming file:line and what is accepted"
no_survivors "attach"
finish
