#!/bin/bash
# The control socket of a running batch against hostile peers of its own
# uid (issue 15 item 6, sched/connguard.c): 64 silent half-requests no
# longer lock `nicely status` out, silent peers are closed after the idle
# timeout, 1000 idle connections under `ulimit -n 1024` do not eat the
# run's file descriptors (its tasks still start), and accept() out of
# descriptors does not spin.
. "$(dirname "$0")/lib/run-common.sh"

PEER=${CTL_PEER:-"$NICELY_BUILD/tests/helpers/ctl_peer"}
[ -x "$PEER" ] || { echo "Bail out! no $PEER"; exit 1; }
killme=""
cleanup() { for p in $killme; do kill -KILL "$p" 2>/dev/null; done; }
trap cleanup EXIT
wait_for() {
	local i
	for i in $(seq 100); do "$@" && return 0; sleep 0.1; done
	return 1
}
lines_ge() { [ "$(wc -l <"$1" 2>/dev/null || echo 0)" -ge "$2" ]; }
# utime+stime of a process, in clock ticks
cputicks() { local s f; s=$(cat "/proc/$1/stat") || return; s=${s##*) }; read -r -a f <<<"$s"; echo $((f[11] + f[12])); }
nfds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
ms() { date +%s%3N; }
HALF='{"v":1,"cmd":"sta'

# a batch that waits for $T/go: pid, its socket
start_batch() {
	rm -f "$T/go"
	( ulimit -n "$1"; exec "$NICELY" run -p nuclear -j2 \
		'while [ ! -e '"$T"'/go ]; do sleep 0.05; done; echo {}' \
		::: 1 2 3 4 5 6 7 8 >"$T/out" 2>"$T/err" ) &
	pid=$!
	killme="$killme $pid"
	sock="$NICELY_RUNTIME_DIR/run-$pid.sock"
	wait_for test -S "$sock"
}
status_ok() { "$NICELY" status "$pid" --json >"$T/st" 2>&1 && grep -q '"running"' "$T/st"; }

# --- 64 silent half-requests: status still answered, promptly ----------
start_batch 1024
"$PEER" --hold 64 4 "$sock" "$HALF" >"$T/hold" &
hp=$!
killme="$killme $hp"
wait_for grep -q connected "$T/hold"
is "$(head -1 "$T/hold")" "connected 64" "64 half-requests connected"
t0=$(ms)
status_ok
ok $? "status is answered while 64 silent half-requests are connected ($(head -c 200 "$T/st"))"
t1=$(ms)
[ $((t1 - t0)) -lt 1500 ]; ok $? "... within 1.5 s ($((t1 - t0)) ms)"
wait $hp
is "$(tail -1 "$T/hold")" "closed 64" "every silent peer was closed by the idle timeout (or to make room)"

# --- 1000 idle connections under ulimit -n 1024 -----------------------
"$PEER" --hold 1000 3 "$sock" >"$T/hold" &
hp=$!
killme="$killme $hp"
wait_for grep -q connected "$T/hold"
n=$(nfds $pid)
[ "$n" -lt 120 ]; ok $? "1000 idle peers: the run holds $n descriptors (cap 64 peers)"
status_ok; ok $? "status answered among 1000 idle peers"
touch "$T/go"
wait $pid
is "$?" 0 "every task ran (exit 0) while 1000 peers were connected"
is "$(sort -n "$T/out" | tr '\n' ' ')" "1 2 3 4 5 6 7 8 " "... all 8 results"
grep -q "Too many open files" "$T/err"; is "$?" 1 "no 'Too many open files'"
wait $hp

# --- out of descriptors: accept does not spin --------------------------
start_batch 48
"$PEER" --hold 200 3 "$sock" >"$T/hold" &
hp=$!
killme="$killme $hp"
wait_for grep -q connected "$T/hold"
sleep 0.3
c0=$(cputicks $pid)
sleep 2
c1=$(cputicks $pid)
hz=$(getconf CLK_TCK)
[ $((c1 - c0)) -lt $((hz / 2)) ]; ok $? "at EMFILE the run used $((c1 - c0)) ticks of CPU in 2 s (under half a second)"
wait $hp
wait_for status_ok
ok $? "status answered once the peers are gone"
grep -q "uninitialised\|\\\\x" "$T/err"; is "$?" 1 "no garbage in the run's messages"
touch "$T/go"
wait $pid
is "$?" 0 "the batch ends well"

echo "1..$tap_n"
[ "$tap_fail" = 0 ]
