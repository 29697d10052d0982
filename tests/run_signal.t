#!/bin/bash
# SIGINT, SIGTERM or SIGHUP to a running `nicely run`: every running task's
# process tree is killed (even one that ignores TERM), what finished is
# written and in the joblog, nicely exits 255, and nothing is left.
. "$(dirname "$0")/lib/run-common.sh"

for sig in INT TERM HUP; do
	: >"$PIDS"
	rm -f "$T/jl"
	"$NICELY" run -p nuclear -j3 --joblog "$T/jl" \
		'echo $$ >>"$PIDS"; trap "" TERM; sleep {} & echo $! >>"$PIDS"; wait; echo done {}' \
		::: 0.1 60 60 60 >"$T/out" 2>"$T/err" &
	pid=$!
	# wait until the first task finished and two long ones run
	for i in $(seq 100); do
		[ "$(wc -l <"$PIDS")" -ge 6 ] && [ -s "$T/jl" ] && [ "$(wc -l <"$T/jl")" -ge 2 ] && break
		sleep 0.1
	done
	kill -$sig $pid
	# a TERM-ignoring task is KILLed after the grace second
	for i in $(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
	wait $pid
	rc=$?
	is "$rc" 255 "SIG$sig: exit 255"
	is "$(cat "$T/out")" "done 0.1" "SIG$sig: the finished task's output is written"
	is "$(tail -n +2 "$T/jl" | cut -f1,7 | tr '\t\n' ': ')" "1:0 " "SIG$sig: joblog has the finished task"
	no_survivors "SIG$sig"
done

# a second Ctrl-C is not needed, but one is harmless
: >"$PIDS"
"$NICELY" run -p nuclear -j2 'echo $$ >>"$PIDS"; sleep 60' ::: 1 2 >/dev/null 2>&1 &
pid=$!
for i in $(seq 100); do [ "$(wc -l <"$PIDS")" -ge 2 ] && break; sleep 0.1; done
kill -INT $pid; kill -INT $pid
wait $pid
is "$?" 255 "two SIGINTs: exit 255"
no_survivors "double SIGINT"

# values from a pipe that stays open (tail -f | nicely run): tasks run as
# lines arrive, and Ctrl-C works while nicely waits for more input
mkfifo "$T/fifo"
"$NICELY" run -p nuclear -j2 'echo $$ >>"$PIDS"; echo got {}' <"$T/fifo" >"$T/out" 2>&1 &
pid=$!
exec 3>"$T/fifo"
echo first >&3
for i in $(seq 100); do [ -s "$T/out" ] && break; sleep 0.1; done
is "$(cat "$T/out")" "got first" "a line from an open pipe runs at once"
kill -INT $pid
for i in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
kill -0 $pid 2>/dev/null
ok $((!$?)) "SIGINT while waiting for input: nicely is gone at once"
kill -KILL $pid 2>/dev/null
wait $pid
is "$?" 255 "and exits 255"
exec 3>&-
no_survivors "open pipe"
finish
