#!/bin/bash
# The whole-batch controls of a running `nicely run` from outside, over its
# control socket: status (plain and --json, counts that follow the batch),
# pause/resume (every task frozen, CPU time stands still, timeouts do not
# count frozen time, all results after resume; the same on Ctrl-Z and
# fg), kill (double-forked setsid
# grandchildren too, finished results kept, exit 255), reset with stdin
# input (running killed, queued cancelled and reported, the config read
# again, a bad config refused with file:line), peers of another uid and of
# another protocol version refused, stale sockets of dead runs ignored.
. "$(dirname "$0")/lib/run-common.sh"

PEER="$NICELY_BUILD/tests/helpers/ctl_peer"
[ -x "$PEER" ] || { echo "Bail out! no $PEER"; exit 1; }
CG=/sys/fs/cgroup
killme=""
user=""
cleanup() {
	for p in $killme; do kill -KILL "$p" 2>/dev/null; done
	[ -n "$user" ] && userdel "$user" 2>/dev/null
}
trap cleanup EXIT

# wait_for CMD...: up to 10 s until CMD succeeds
wait_for() {
	local i
	for i in $(seq 100); do "$@" && return 0; sleep 0.1; done
	return 1
}
# field PID NAME...: fields of `nicely status PID --json`, space-separated
field() {
	local p=$1
	shift
	"$NICELY" status "$p" --json 2>/dev/null | python3 -c '
import json, sys
o = json.load(sys.stdin)
print(" ".join(str(o[k]).lower() for k in sys.argv[1:]))' "$@" 2>/dev/null
}
counts() { field "$1" total queued running done failed; }
counts_are() { [ "$(counts "$1")" = "$2" ]; }
lines_ge() { [ "$(wc -l <"$1" 2>/dev/null || echo 0)" -ge "$2" ]; }
# 0 when the process can never run again: gone, or a zombie
gone() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	s=${s##*) }
	[ "${s%% *}" = Z ] || [ "${s%% *}" = X ]
}
# state letter of a process
pstate() { local s; s=$(cat "/proc/$1/stat" 2>/dev/null) || return; s=${s##*) }; echo "${s%% *}"; }
# utime+stime of the processes given
cputime() {
	local p s t=0 f
	for p in "$@"; do
		s=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		s=${s##*) }
		read -r -a f <<<"$s"
		t=$((t + f[11] + f[12]))
	done
	echo $t
}
# the task groups of batch PID in its freezer, if any: cgroup2's on a
# hybrid tree, else the v1 freezer; freezer_state G prints FROZEN/THAWED
freezer_groups() {
	ls -d $CG/unified/nicely/*-"$1"-*/task-* 2>/dev/null ||
		ls -d $CG/freezer/nicely/*-"$1"-*/task-* 2>/dev/null
}
freezer_state() {
	if [ -e "$1/freezer.state" ]; then cat "$1/freezer.state"
	elif grep -qx 'frozen 1' "$1/cgroup.events"; then echo FROZEN
	else echo THAWED; fi
}
# all_frozen PID: every task group of batch PID says FROZEN (the pause is
# requested at once; the kernel says FROZEN when each task got there)
all_frozen() {
	[ "$(for g in $(freezer_groups $1); do freezer_state $g; done | sort -u | tr '\n' ' ')" = "FROZEN " ]
}
batch_groups() { ls -d $CG/*/nicely/*-"$1"-* $CG/nicely/*-"$1"-* 2>/dev/null; }
# A batch of two tasks that spin until $T/stop exists, both running: sets
# pid (nicely's) and tasks (the two shells' PIDs).
start_spinners() {
	: >"$PIDS"
	rm -f "$T/stop"
	"$NICELY" run -p nuclear -j2 'echo $$ >>"$PIDS"; while [ ! -e '"$T"'/stop ]; do :; done; echo {}' \
		::: 1 2 >"$T/out" 2>"$T/err" &
	pid=$!
	killme="$killme $pid"
	wait_for lines_ge "$PIDS" 2
	tasks=$(sort -u "$PIDS" | tr '\n' ' ')
}
json_statuses() { python3 -c '
import json, sys
print(" ".join(json.loads(l)["status"] for l in open(sys.argv[1])))' "$1"; }

# --- status: a running batch, its counts as tasks finish ----------------
: >"$PIDS"
"$NICELY" run -p nuclear -j2 'echo $$ >>"$PIDS"; while [ ! -e '"$T"'/go.{} ]; do sleep 0.05; done; echo {}' \
	::: 1 2 3 4 >"$T/out" 2>"$T/err" &
pid=$!
killme="$killme $pid"
wait_for counts_are $pid "4 2 2 0 0"
is "$(counts $pid)" "4 2 2 0 0" "status --json: total 4, queued 2, running 2, done 0, failed 0"
is "$(field $pid id pid paused state preset)" "$pid $pid false running nuclear" "status --json: id, pid, not paused, preset"
line=$("$NICELY" status | awk -v p=$pid '$1 == p')
is "$(awk '{print $4, $5, $6, $7, $8, $9}' <<<"$line")" "running 0/4 2 2 0 nuclear" "status: one line for the batch with its counts"
grep -q "nicely run -p nuclear -j2 " <<<"$line"; ok $? "status: the line shows the command"
is "$("$NICELY" status | head -1 | awk '{print $1, $2}')" "BATCH STARTED" "status: a header line"
touch "$T/go.1"
wait_for counts_are $pid "4 1 2 1 0"
is "$(counts $pid)" "4 1 2 1 0" "status --json after one task finished: 1 queued, 2 running, 1 done"
touch "$T/go.2" "$T/go.3"
wait_for counts_are $pid "4 0 1 3 0"
is "$(counts $pid)" "4 0 1 3 0" "status --json after three: 0 queued, 1 running, 3 done"
line=$("$NICELY" status | awk -v p=$pid '$1 == p')
is "$(awk '{print $5, $6, $7}' <<<"$line")" "3/4 1 0" "status: the line follows (3/4, 1 running, 0 queued)"
"$NICELY" status $pid >"$T/detail"
grep -Eq "^done: +3$" "$T/detail" && grep -Eq "^batch: +$pid$" "$T/detail" && grep -Eq "^state: +running$" "$T/detail"
ok $? "status BATCH: the batch in detail"
is "$("$NICELY" status --json | python3 -c 'import json,sys; print([b["id"] for b in json.load(sys.stdin)])')" \
	"['$pid']" "status --json: an array with the batch"
touch "$T/go.4"
wait $pid
is "$?" 0 "the batch ends with exit 0"
is "$(cat "$T/out" | tr '\n' ' ')" "1 2 3 4 " "every result written"
[ ! -e "$NICELY_RUNTIME_DIR/run-$pid.sock" ]; ok $? "the socket is removed at the end"
is "$("$NICELY" status)" "no batch of yours is running" "status: nothing after the end"
is "$("$NICELY" status --json)" "[]" "status --json: [] after the end"
"$NICELY" status $pid >/dev/null 2>"$T/e"
is "$?" 2 "status of a batch that ended: exit 2"
grep -q "no running batch '$pid'" "$T/e"; ok $? "... naming it ($(cat "$T/e"))"
no_survivors "status"

# --- pause / resume: frozen, CPU time stands still, then all results ----
start_spinners
"$NICELY" pause >"$T/o" 2>&1
is "$?" 0 "pause: exit 0 ($(cat "$T/o"))"
if [ -n "$(freezer_groups $pid)" ]; then
	wait_for all_frozen $pid
	st=$(for g in $(freezer_groups $pid); do freezer_state $g; done | sort -u | tr '\n' ' ')
	is "$st" "FROZEN " "pause: every task's freezer group is FROZEN"
else
	all_t() { [ "$(for p in $tasks; do pstate $p; done | sort -u | tr '\n' ' ')" = "T " ]; }
	wait_for all_t
	st=$(for p in $tasks; do pstate $p; done | sort -u | tr '\n' ' ')
	is "$st" "T " "pause: every task is stopped (state T)"
fi
c1=$(cputime $tasks)
sleep 0.5
c2=$(cputime $tasks)
is "$c2" "$c1" "pause: the tasks' CPU time does not advance"
is "$(field $pid paused state)" "true paused" "status: paused"
"$NICELY" pause >"$T/o" 2>&1
is "$?:$(cat "$T/o")" "0:batch $pid was paused already" "pause twice: said, exit 0"
"$NICELY" resume >"$T/o" 2>&1
is "$?" 0 "resume: exit 0 ($(cat "$T/o"))"
moved() { [ "$(cputime $tasks)" != "$c2" ]; }
wait_for moved
ok $? "resume: the tasks' CPU time advances again"
is "$(field $pid paused state)" "false running" "status: running again"
touch "$T/stop"
wait $pid
is "$?" 0 "after resume the batch finishes, exit 0"
is "$(cat "$T/out" | tr '\n' ' ')" "1 2 " "... with every result"
no_survivors "pause"

# without cgroups: SIGSTOP/SIGCONT of each task's process group, and kill
# through the process groups (the shell waits for its child: a task whose
# own process ended is recorded at the batch's end after the grace, even
# while its child holds the output)
: >"$PIDS"
NICELY_CGROUP_ROOT="$T/no-cgroups" "$NICELY" run -p nuclear -j2 \
	'echo $$ >>"$PIDS"; sh -c "while :; do :; done" & echo $! >>"$PIDS"; wait $!; : {}' \
	::: 1 2 >"$T/out" 2>"$T/err" </dev/null &
pid=$!
killme="$killme $pid"
wait_for lines_ge "$PIDS" 4
tasks=$(sort -u "$PIDS" | tr '\n' ' ')
"$NICELY" pause $pid >/dev/null
# SIGSTOP lands at once, but /proc may show it a moment later
all_t() { [ "$(for p in $tasks; do pstate $p; done | sort -u | tr '\n' ' ')" = "T " ]; }
wait_for all_t
st=$(for p in $tasks; do pstate $p; done | sort -u | tr '\n' ' ')
is "$st" "T " "no cgroups, pause: every process of every task is stopped (state T)"
c1=$(cputime $tasks)
sleep 0.5
is "$(cputime $tasks)" "$c1" "no cgroups, pause: CPU time does not advance"
"$NICELY" resume $pid >/dev/null
c2=$c1
wait_for moved
ok $? "no cgroups, resume: they run again"
"$NICELY" kill $pid >/dev/null
left=""
for p in $tasks; do gone $p || left="$left $p"; done
is "${left:-none}" none "no cgroups, kill: every process of the process groups is gone when kill returns"
wait $pid
is "$?" 255 "no cgroups, kill: exit 255"
no_survivors "no cgroups"

# Ctrl-Z (SIGTSTP) pauses the batch before nicely stops itself; SIGCONT
# (fg, bg) resumes it
start_spinners
kill -TSTP $pid
is_stopped() { [ "$(pstate $1)" = T ]; }
wait_for is_stopped $pid
is "$(pstate $pid)" T "SIGTSTP: nicely stops itself"
if [ -n "$(freezer_groups $pid)" ]; then
	wait_for all_frozen $pid
	st=$(for g in $(freezer_groups $pid); do freezer_state $g; done | sort -u | tr '\n' ' ')
	is "$st" "FROZEN " "SIGTSTP: every task's freezer group is FROZEN first"
else
	wait_for all_t
	st=$(for p in $tasks; do pstate $p; done | sort -u | tr '\n' ' ')
	is "$st" "T " "SIGTSTP: every task is stopped first (state T)"
fi
c1=$(cputime $tasks)
line=$("$NICELY" status 2>&1 | awk -v p=$pid '$1 == p')
is "$(awk '{print $2, $3}' <<<"$line")" "- stopped" "status lists a stopped nicely run as stopped ($line)"
is "$(cputime $tasks)" "$c1" "SIGTSTP: the tasks' CPU time does not advance"
kill -CONT $pid
c2=$c1
wait_for moved
ok $? "SIGCONT: the tasks run again"
is "$(field $pid paused state)" "false running" "SIGCONT: status says running"
touch "$T/stop"
wait $pid
is "$?" 0 "after SIGCONT the batch finishes, exit 0"
is "$(cat "$T/out" | tr '\n' ' ')" "1 2 " "... with every result"
no_survivors "SIGTSTP"

# a timeout does not count frozen time
: >"$PIDS"
"$NICELY" run -p nuclear --timeout 2 --json 'echo $$ >>"$PIDS"; sleep 1; echo slept' ::: 1 >"$T/out" 2>"$T/err" &
pid=$!
killme="$killme $pid"
wait_for lines_ge "$PIDS" 1
"$NICELY" pause $pid >/dev/null
sleep 2.5
"$NICELY" resume $pid >/dev/null
wait $pid
is "$?" 0 "--timeout 2, paused 2.5 s: not timed out, exit 0"
is "$(json_statuses "$T/out")" "ok" "... its status is ok"
no_survivors "pause with timeout"

# --- kill: double-forked grandchildren too, finished results kept -------
: >"$PIDS"
"$NICELY" run -p nuclear -j3 --joblog "$T/jl" --json \
	'echo $$ >>"$PIDS"; if [ {} = 0 ]; then exit 0; fi; setsid sleep 1000 & echo $! >>"$PIDS"; sleep 1000' \
	::: 0 1 2 >"$T/out" 2>"$T/err" &
pid=$!
killme="$killme $pid"
wait_for lines_ge "$PIDS" 5
wait_for lines_ge "$T/jl" 2
grep -q "no cgroups" "$T/err" && nocg=1 || nocg=0
"$NICELY" kill >"$T/o" 2>&1
is "$?:$(cat "$T/o")" "0:batch $pid killed (2 running tasks)" "kill: exit 0 once done"
left=""
for p in $(sort -u "$PIDS"); do gone $p || left="$left $p"; done
if [ $nocg = 1 ]; then
	for p in $left; do kill -KILL $p 2>/dev/null; done
	skip "kill: zero survivors when kill returns" "no cgroups here: setsid grandchildren leave the process group"
else
	is "${left:-none}" none "kill: zero survivors (setsid grandchildren too) when kill returns"
fi
wait $pid
is "$?" 255 "kill: nicely run exits 255"
is "$(json_statuses "$T/out")" "ok killed killed" "kill: --json has the finished task and the killed ones"
is "$(tail -n +2 "$T/jl" | sort -n | awk -F'\t' '{print $1 ":" $7 ":" ($8 > 0)}' | tr '\n' ' ')" \
	"1:0:0 2:0:1 3:0:1 " "kill: joblog has the finished task and the killed ones (by a signal)"
grep -q "killed by 'nicely kill': 2 running tasks" "$T/err"; ok $? "kill: nicely run says so"
is "$(batch_groups $pid)" "" "kill: no cgroup of the batch left"
[ ! -e "$NICELY_RUNTIME_DIR/run-$pid.sock" ]; ok $? "kill: the socket is removed"
no_survivors "kill"

# --- reset mid-batch, input from a pipe ----------------------------------
: >"$PIDS"
mkfifo "$T/fifo"
printf '[preset mine]\nbase = nuclear\nnice = 5\n' >"$T/c.conf"
export NICELY_CONFIG="$T/c.conf"
"$NICELY" run -p mine -j2 --json --joblog "$T/jl" \
	'echo $$ >>"$PIDS"; cut -d" " -f19 /proc/self/stat; sleep {}' <"$T/fifo" >"$T/out" 2>"$T/err" &
pid=$!
killme="$killme $pid"
exec 3>"$T/fifo"
printf '0\n1000\n1000\n1000\n1000\n' >&3
wait_for counts_are $pid "-1 2 2 1 0"
is "$(field $pid queued running done)" "2 2 1" "reset: before it, 2 running and 2 queued"
# a bad config: refused, naming file:line, nothing changes
printf '[preset mine]\nbase = nuclear\nnice = 3\nmax_pus = lots\n' >"$T/c.conf"
"$NICELY" reset >"$T/o" 2>"$T/e"
is "$?" 1 "reset with a bad config: exit 1"
grep -q "c.conf:4:" "$T/e"; ok $? "reset with a bad config: the error names file:line ($(cat "$T/e"))"
grep -q "old config" "$T/e"; ok $? "... and says the batch keeps its old config"
is "$(field $pid queued running done cancelled resets)" "2 2 1 0 0" "a refused reset kills and drops nothing"
# a good one: running killed, queued dropped, the new nice for what follows
printf '[preset mine]\nbase = nuclear\nnice = 11\n' >"$T/c.conf"
"$NICELY" reset $pid >"$T/o" 2>"$T/e"
is "$?" 0 "reset: exit 0"
is "$(cat "$T/o")" "batch $pid reset: 2 running tasks killed, 2 queued tasks cancelled, preset mine" "reset: what it did"
is "$(field $pid queued running cancelled resets)" "0 0 2 1" "status after the reset: nothing runs or waits, 2 cancelled"
echo 0 >&3
wait_for counts_are $pid "-1 0 0 4 2"
# the bad config again: refused, and the config in force stays nice 11
printf '[preset mine]\nbase = nuclear\nnice = 3\nmax_pus = lots\n' >"$T/c.conf"
"$NICELY" reset $pid >/dev/null 2>&1
is "$?" 1 "reset with a bad config after a good one: exit 1"
echo 0 >&3
wait_for counts_are $pid "-1 0 0 5 2"
exec 3>&-
wait $pid
is "$?" 2 "reset: nicely run ends when its input does, exit 2 (the killed tasks failed)"
is "$(json_statuses "$T/out")" "ok killed killed cancelled cancelled ok ok" "reset: --json says killed and cancelled"
nices=$(python3 -c '
import json, sys
print(" ".join(json.loads(l)["stdout"].strip() or "-" for l in open(sys.argv[1])))' "$T/out")
is "$nices" "5 5 5 - - 11 11" "reset: tasks after it run at the new config's nice, read from /proc; a refused config changes nothing"
is "$(tail -n +2 "$T/jl" | sort -n | awk -F'\t' '{print $1 ":" $7}' | tr '\n' ' ')" \
	"1:0 2:0 3:0 4:-1 5:-1 6:0 7:0 " "reset: joblog records the cancelled tasks (Exitval -1)"
grep -q "reset: 2 running tasks killed, 2 queued tasks cancelled" "$T/err"; ok $? "reset: nicely run says so"
no_survivors "reset"
export NICELY_CONFIG="$T/empty.conf"

# --- reset of input that is all there: the batch ends --------------------
: >"$PIDS"
"$NICELY" run -p nuclear -j1 'echo $$ >>"$PIDS"; sleep {}' ::: 1000 1000 1000 >"$T/out" 2>"$T/err" &
pid=$!
killme="$killme $pid"
wait_for lines_ge "$PIDS" 1
"$NICELY" reset >"$T/o" 2>&1
is "$(cat "$T/o")" "batch $pid reset: 1 running task killed, 2 queued tasks cancelled, preset nuclear" "reset of ::: input: the rest is cancelled"
wait $pid
is "$?" 1 "... and the batch ends, exit 1 (the killed task)"
no_survivors "reset of ::: input"

# --- peers: another uid, another protocol version ------------------------
V=$(sed -n 's/^#define CTL_PROTO_VERSION //p' "$(dirname "$0")/../sched/ctl_proto.h")
W=$((V + 1))
: >"$PIDS"
"$NICELY" run -p nuclear 'echo $$ >>"$PIDS"; sleep 1000' ::: 1 >"$T/out" 2>"$T/err" &
pid=$!
killme="$killme $pid"
wait_for lines_ge "$PIDS" 1
sock="$NICELY_RUNTIME_DIR/run-$pid.sock"
is "$(stat -c %a "$sock")" 600 "the socket is private (0600)"
got=$("$PEER" "$sock" '{"v":999,"cmd":"status"}')
grep -q '"ok":false' <<<"$got" && grep -q "version mismatch" <<<"$got" && grep -q "version 999" <<<"$got" && grep -q "version $V " <<<"$got"
ok $? "a client of protocol version 999 is refused naming both versions ($got)"
got=$("$PEER" "$sock" 'not json')
grep -q '"ok":false' <<<"$got"; ok $? "a line that is not JSON is refused ($got)"
got=$("$PEER" "$sock" '{"v":'$V',"cmd":"status"}')
grep -q '"ok":true' <<<"$got"; ok $? "root may ask"
if [ "$(id -u)" = 0 ] && command -v useradd >/dev/null; then
	user=nicelyc$$
	if useradd --system --no-create-home --shell /usr/sbin/nologin "$user"; then
		uid=$(id -u "$user")
		got=$("$PEER" "$sock" '{"v":'$V',"cmd":"kill"}' "$uid")
		grep -q '"ok":false' <<<"$got" && grep -q "refused: you are uid $uid" <<<"$got"
		ok $? "uid $uid is refused with a clear message ($got)"
		is "$(field $pid running state)" "1 running" "... and the batch goes on"
		userdel "$user" 2>/dev/null
		! id "$user" >/dev/null 2>&1; ok $? "test user removed"
		user=""
	else
		skip "another uid is refused" "useradd failed"
	fi
else
	skip "another uid is refused" "needs root and useradd"
fi
# silent peers (one says nothing, one half a line) stall nothing
python3 - "$sock" "$V" >"$T/silent" <<'EOF' &
import socket, sys, time
a = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); a.connect(sys.argv[1])
b = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); b.connect(sys.argv[1])
b.sendall(b'{"v":%s,"cmd":' % sys.argv[2].encode())
print("connected", flush=True)
time.sleep(30)
EOF
silent=$!
killme="$killme $silent"
wait_for test -s "$T/silent"
is "$(field $pid running state)" "1 running" "status answers while two silent peers hold connections"
# a batch speaking another version: the client says so
python3 - "$NICELY_RUNTIME_DIR" "$W" >"$T/fake.pid" <<'EOF' &
import os, socket, sys
p = os.path.join(sys.argv[1], "run-%d.sock" % os.getpid())
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(p); s.listen(4)
print(os.getpid(), flush=True)
s.settimeout(20)
try:
    for _ in range(2):
        c, _ = s.accept()
        c.settimeout(5)
        try:
            if c.recv(4096):
                c.sendall(b'{"v":%s,"ok":true,"batch":{}}\n' % sys.argv[2].encode())
        except OSError:
            pass
        c.close()
finally:
    os.unlink(p)
EOF
fake=$!
killme="$killme $fake"
wait_for test -s "$T/fake.pid"
"$NICELY" status "$(cat "$T/fake.pid")" >/dev/null 2>"$T/e"
rc=$?
is "$rc" 1 "status of a batch speaking version $W: exit 1"
grep -q "protocol version mismatch: batch $(cat "$T/fake.pid") speaks version $W, this nicely speaks version $V" "$T/e"
ok $? "... naming both versions ($(cat "$T/e"))"
kill $fake 2>/dev/null
wait $fake 2>/dev/null
rm -f "$NICELY_RUNTIME_DIR/run-$fake.sock"

# --- which batch: unknown, several, stale ---------------------------------
"$NICELY" pause 99999999 >/dev/null 2>"$T/e"
is "$?" 2 "an unknown BATCH: exit 2"
grep -q "no running batch '99999999'" "$T/e"; ok $? "... naming it"
"$NICELY" pause nonsense >/dev/null 2>"$T/e"
is "$?" 2 "a BATCH that is not an id: exit 2"
"$NICELY" run -p nuclear 'echo $$ >>"$PIDS"; sleep 1000' ::: 1 >/dev/null 2>&1 &
pid2=$!
killme="$killme $pid2"
wait_for lines_ge "$PIDS" 2
"$NICELY" pause >/dev/null 2>"$T/e"
is "$?" 2 "two batches and no BATCH: exit 2"
grep -q "2 batches of yours are running; name one: $(printf '%s\n' $pid $pid2 | sort -n | tr '\n' ' ' | sed 's/ $//')" "$T/e"
ok $? "... listing them ($(cat "$T/e"))"
"$NICELY" kill $pid2 >/dev/null
wait $pid2
is "$?" 255 "kill BATCH: that one ends, exit 255"
# a stale socket of a dead run
python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(os.path.join(sys.argv[1], "run-%d.sock" % os.getpid()))
print(os.getpid())' "$NICELY_RUNTIME_DIR" >"$T/stale.pid"
stale=$(cat "$T/stale.pid")
[ -S "$NICELY_RUNTIME_DIR/run-$stale.sock" ]; ok $? "a stale socket of a dead run is there"
is "$(field $pid id)" "$pid" "status BATCH works beside it"
is "$("$NICELY" status --json | python3 -c 'import json,sys; print([b["id"] for b in json.load(sys.stdin)])')" \
	"['$pid']" "status lists only the live batch"
[ ! -e "$NICELY_RUNTIME_DIR/run-$stale.sock" ]; ok $? "the stale socket is removed"
"$NICELY" kill --all >"$T/o" 2>&1
is "$?:$(cat "$T/o")" "0:batch $pid killed (1 running task)" "kill --all: the one live batch"
wait $pid
is "$?" 255 "... exit 255"
kill $silent 2>/dev/null
wait $silent 2>/dev/null
"$NICELY" kill >/dev/null 2>"$T/e"
is "$?:$(cat "$T/e")" "2:nicely kill: no batch of yours is running" "kill with none running: exit 2"
"$NICELY" kill --all 1 >/dev/null 2>&1
is "$?" 255 "kill BATCH --all: usage error 255"
is "$(ls "$NICELY_RUNTIME_DIR")" "" "nothing left in the runtime directory"
no_survivors "peers"
finish
