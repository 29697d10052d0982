#!/bin/bash
# nicely run --on slurm against a real one-node Slurm (Debian's slurmctld,
# slurmd, munge, started here on loopback; tests/lib/slurm-cluster.sh),
# one cluster for all cases: the harness itself (MaxArraySize=21, scancel
# of an array), 60 tasks split past MaxArraySize back complete and in
# order, exit codes and a signal in the joblog and --json, a bad
# partition, --halt now and soon, --timeout, --retries, a node failure
# (the element's nicely killed: the task fails with squeue's state of the
# element, or runs again), Ctrl-C mid-batch (nothing left in squeue nor on
# the node), --resume from the joblog, and nicely status / pause / resume /
# kill through the submitting run's control socket, and streamed input
# (a pipe's tasks run before it ends; a long input is read a window at a
# time).
. "$(dirname "$0")/lib/run-common.sh"
. "$(dirname "$0")/lib/slurm-cluster.sh"

if ! slurm_have; then
	echo "1..0 # SKIP slurmctld, slurmd, slurm-client or munge not installed (scripts/deps.sh check)"
	rm -rf "$T"
	exit 0
fi
trap 'slurm_cluster_stop' EXIT
t0=$SECONDS
slurm_cluster_start
ok $? "the cluster starts (munged, slurmctld, slurmd on loopback)${SLURM_WHY:+: $SLURM_WHY}"
if [ -n "$SLURM_WHY" ]; then
	for f in "$SLURM_D"/*.log "$SLURM_D"/*.out; do
		[ -f "$f" ] && tail -5 "$f" | sed "s|^|# $(basename "$f"): |"
	done
	finish
fi
diag "cluster up in $((SECONDS - t0)) s"
is "$(scontrol show config | awk '$1 == "MaxArraySize" {print $3}')" 21 \
	"MaxArraySize is 21"
sbatch --parsable --array=0-30 -o /dev/null --wrap true >/dev/null 2>&1
ok $((! $?)) "harness: --array=0-30 refused past MaxArraySize"
id=$(sbatch --parsable --array=0-20%2 -o /dev/null --wrap 'sleep 30' 2>&1)
ok $? "harness: --array=0-20 accepted"
sleep 1
scancel "$id"
for i in $(seq 50); do [ -z "$(slurm_jobs)" ] && break; sleep 0.2; done
is "$(slurm_jobs)" "" "harness: scancel of the array id cancels every element"

SHARED="$T/shared"
printf '[slurm]\ndir = %s\n' "$SHARED" >"$T/slurm.conf"
export NICELY_CONFIG="$T/slurm.conf"
NR=("$NICELY" run --on slurm -p nuclear)

# 60 tasks, 2 per element: 30 elements, two arrays (21 + 9). (It was 300
# tasks past a MaxArraySize of 101: the same split, five times the
# elements, 15-20 s of Slurm starting them.)
t1=$SECONDS
out=$("${NR[@]}" -j8 --slurm-chunk 2 --joblog "$T/big.log" 'echo $$ >>"$PIDS"; echo t{}' ::: $(seq 60) 2>"$T/big.err")
rc=$?
diag "60 tasks in $((SECONDS - t1)) s"
ok $rc "60 tasks: exit 0"
is "$out" "$(seq 60 | sed 's/^/t/')" "60 tasks: every output, in submission order"
is "$(tail -n +2 "$T/big.log" | wc -l)" 60 "60 tasks: 60 joblog lines"
is "$(tail -n +2 "$T/big.log" | awk -F'\t' '$7 != 0 || $8 != 0' | wc -l)" 0 \
	"60 tasks: all succeeded in the joblog"
is "$(tail -n +2 "$T/big.log" | cut -f2 | sort -u)" "$(hostname)" \
	"the joblog's Host is the node"
is "$(ls "$SHARED")" "" "the batch directory is removed at the end"

# exit codes and a signal; stderr per task; exit status = failures
out=$("${NR[@]}" -j4 --joblog "$T/codes.log" --tag 'echo $$ >>"$PIDS"; echo o{}; echo e{} >&2; case {} in 2) exit 7;; 3) kill -KILL $$;; esac' ::: 1 2 3 4 2>"$T/codes.err")
is "$?" 2 "exit status: the number of failed tasks"
is "$out" "$(printf '1\to1\n2\to2\n3\to3\n4\to4')" "--tag output in order"
is "$(grep -c '^[1-4].e[1-4]$' "$T/codes.err")" 4 "each task's stderr on stderr"
is "$(tail -n +2 "$T/codes.log" | cut -f1,7,8 | sort -n | tr '\t\n' ' /')" \
	"1 0 0/2 7 0/3 0 9/4 0 0/" "joblog: exit 7 and signal 9 recorded"
"${NR[@]}" --json 'exit {}' ::: 0 3 >"$T/codes.json" 2>/dev/null
is "$(perl -MJSON::PP -ne '$j = decode_json($_); print "$j->{seq}:$j->{status}:$j->{exit} "' "$T/codes.json")" \
	"1:ok:0 2:failed:3 " "--json: one object per task with status and exit"

# a bad partition: a clear error naming the option, nothing submitted
err=$("${NR[@]}" --slurm-opt '--partition=nosuch' true ::: 1 2 2>&1 >/dev/null)
is "$?" 255 "bad partition: exit 255"
case "$err" in
*"--slurm-opt '--partition=nosuch'"*partition*) ok 0 "bad partition: the error names --slurm-opt and the partition" ;;
*) ok 1 "bad partition: the error names --slurm-opt and the partition"; diag "$err" ;;
esac
printf '[slurm]\ndir = %s\npartition = nosuch\n' "$SHARED" >"$T/badpart.conf"
err=$(NICELY_CONFIG="$T/badpart.conf" "${NR[@]}" true ::: 1 2>&1 >/dev/null)
case "$err" in
*"[slurm] partition = nosuch ($T/badpart.conf:3)"*) ok 0 "bad partition in [slurm]: the error names file:line" ;;
*) ok 1 "bad partition in [slurm]: the error names file:line"; diag "$err" ;;
esac
is "$(slurm_jobs)" "" "bad partition: nothing in squeue"

# --timeout: nicely's kill on the node; the task fails with exit -1
out=$("${NR[@]}" --timeout 1 --joblog "$T/to.log" 'echo $$ >>"$PIDS"; sleep {}; echo {}' ::: 0 30 2>"$T/to.err")
is "$?" 1 "--timeout: one task failed"
is "$(tail -n +2 "$T/to.log" | cut -f1,7 | sort -n | tr '\t\n' ' /')" "1 0/2 -1/" \
	"--timeout: joblog exit -1 for the killed task"
grep -q 'task 2: timed out' "$T/to.err"
ok $? "--timeout: said on stderr"

# an element that ends without a result (killed whole from outside, as a
# node failure would) is submitted again under --retries
out=$("${NR[@]}" --retries 2 'echo $$ >>"$PIDS"; if [ {} = 2 ] && mkdir "$PIDS.once" 2>/dev/null; then scancel --full -s KILL "${SLURM_ARRAY_JOB_ID}_$SLURM_ARRAY_TASK_ID"; sleep 30; fi; echo {}' ::: 1 2 3 2>"$T/lost.err")
is "$?" 0 "an element lost once: --retries runs it again, exit 0"
is "$(echo $out)" "1 2 3" "an element lost once: every output, in order"
grep -q 'without a result (the first: array element [0-9]* (Slurm job [0-9]*_[0-9]*) ended without its result: [A-Z_]*.*); submitting them again' "$T/lost.err"
ok $? "an element lost once: said on stderr, with its state from squeue"
grep 'submitting them again' "$T/lost.err" | sed 's/^/# /'

# --halt now,fail=1: the rest is cancelled, nothing left in squeue
t1=$SECONDS
"${NR[@]}" -j1 --halt now,fail=1 'echo $$ >>"$PIDS"; [ {} != 1 ] || exit 3; sleep 30' ::: 1 2 3 4 >/dev/null 2>"$T/halt.err"
is "$?" 1 "--halt now,fail=1: exit 1"
ok $(( SECONDS - t1 > 25 )) "--halt: did not wait for the sleeping tasks ($((SECONDS - t1)) s)"
is "$(slurm_jobs)" "" "--halt: nothing left in squeue"

# (the survivor check below covers the cases from here; it reads $PIDS)
: >"$PIDS"
# --halt soon,fail=1: the elements not started are cancelled, the running
# one goes on (two tasks an element, one element at a time: task 2 runs
# after task 1 failed, tasks 3 and 4 never do)
out=$("${NR[@]}" -j1 --slurm-chunk 2 --halt soon,fail=1 'echo $$ >>"$PIDS"; [ {} != 1 ] || exit 3; sleep 2; echo {}' ::: 1 2 3 4 2>"$T/soon.err")
is "$?:$(echo $out)" "1:2" "--halt soon: exit 1, the running element's task finished, the rest never ran"
grep -q 'halting after task 1 failed' "$T/soon.err"
ok $? "--halt soon: said on stderr"
is "$(slurm_jobs)" "" "--halt soon: nothing left in squeue"

# a node failure: the element's nicely on the node killed (SIGKILL) while
# its task runs, so no result is written: the task fails with squeue's
# state of the element; with --retries it runs again, as does a task that
# failed (that one on its node)
out=$("${NR[@]}" --joblog "$T/node.log" 'echo $$ >>"$PIDS"; [ {} != 2 ] || kill -KILL $PPID; echo {}' ::: 1 2 3 2>"$T/node.err")
is "$?:$(echo $out)" "1:1 3" "node failure: exit 1, the other tasks' output"
grep -q '^nicely: task 2: lost: array element 1 (Slurm job [0-9]*_1) ended without its result: FAILED[^;]* on node nicelynode' "$T/node.err"
ok $? "node failure: the reason names the element, its job and its state"
grep 'task 2: lost' "$T/node.err" | sed 's/^/# /'
is "$(tail -n +2 "$T/node.log" | cut -f1,7 | sort -n | tr '\t\n' ' /')" "1 0/2 -1/3 0/" \
	"node failure: the joblog records the task failed (exit -1)"
out=$("${NR[@]}" --retries 2 --joblog "$T/retry.log" 'echo $$ >>"$PIDS"; if [ {} = 1 ] && mkdir "$PIDS.r" 2>/dev/null; then exit 5; fi; if [ {} = 2 ] && mkdir "$PIDS.n" 2>/dev/null; then kill -KILL $PPID; fi; echo {}' ::: 1 2 3 2>"$T/node2.err")
is "$?:$(echo $out)" "0:1 2 3" "--retries: a failed task and a node failure run again, exit 0"
is "$(tail -n +2 "$T/retry.log" | cut -f1,7 | sort -n | tr '\t\n' ' /')" "1 0/2 0/3 0/" \
	"--retries: the joblog has the tries that succeeded"
grep -q 'ended without its result: FAILED[^;]* on node nicelynode.*submitting them again' "$T/node2.err"
ok $? "node failure under --retries: resubmitted, said with the element's state"
is "$(slurm_jobs)" "" "node failure: nothing left in squeue"
no_survivors "node failure"

# Ctrl-C mid-batch: arrays cancelled, nothing in squeue, no task process
: >"$PIDS"
"${NR[@]}" -j2 --joblog "$T/kill.log" 'echo $$ >>"$PIDS"; [ {} -le 2 ] || sleep 60; echo {}' ::: $(seq 6) >"$T/kill.out" 2>"$T/kill.err" &
nr=$!
for i in $(seq 150); do [ "$(tail -n +2 "$T/kill.log" 2>/dev/null | wc -l)" -ge 2 ] && break; sleep 0.2; done
for i in $(seq 50); do [ "$(grep -c . "$PIDS")" -ge 4 ] && break; sleep 0.2; done
kill -INT $nr
wait $nr
is "$?" 255 "Ctrl-C: exit 255"
is "$(slurm_jobs)" "" "Ctrl-C: nothing left in squeue"
no_survivors "Ctrl-C"
is "$(tail -n +2 "$T/kill.log" | cut -f1 | sort -n | tr '\n' ' ')" "1 2 " \
	"Ctrl-C: the joblog holds the finished tasks"

# --resume from that joblog: only the rest runs
out=$("${NR[@]}" -j4 --joblog "$T/kill.log" --resume 'echo {}' ::: $(seq 6) 2>/dev/null)
ok $? "--resume: exit 0"
is "$(echo $out)" "3 4 5 6" "--resume: only the tasks not in the joblog ran"
is "$(tail -n +2 "$T/kill.log" | cut -f1 | sort -n | tr '\n' ' ')" "1 2 3 4 5 6 " \
	"--resume: the joblog is complete"

# the input is streamed: a pipe's first task runs while the pipe is still
# open, and a long input is read a window at a time (100000 values: the
# writer is still blocked when task 1 runs; it fails, --halt ends the rest)
out=$( { echo 1; for i in $(seq 150); do [ -e "$PIDS.s1" ] && break; sleep 0.2; done; [ -e "$PIDS.s1" ] && echo early || echo late; } |
	"${NR[@]}" 'echo $$ >>"$PIDS"; touch "$PIDS.s{}"; echo {}' 2>/dev/null)
is "$?:$(echo $out)" "0:1 early" "streamed: a pipe's task ran before the pipe ended"
out=$( { seq 100000; touch "$PIDS.written"; } |
	"${NR[@]}" -j1 --slurm-chunk 10 --halt now,fail=1 'echo $$ >>"$PIDS"; [ {} = 1 ] || exit 0; [ -e "$PIDS.written" ] && echo whole || echo window; exit 1' 2>/dev/null)
is "$?:$out" "1:window" "streamed: a long input is not read whole before tasks run"
is "$(slurm_jobs)" "" "streamed: nothing left in squeue after the halt"

# nicely status / pause / resume / kill reach the batch through its
# control socket: squeue, scontrol hold and release, scancel
: >"$PIDS"
"${NR[@]}" -j2 --joblog "$T/ctl.log" 'echo $$ >>"$PIDS"; [ {} = 1 ] || sleep 60; echo {}' ::: $(seq 6) >"$T/ctl.out" 2>"$T/ctl.err" &
nr=$!
for i in $(seq 100); do
	st=$("$NICELY" status 2>&1)
	case "$st" in *"elements 3 pending, 2 running, 1 done"*) break ;; esac
	sleep 0.2
done
case "$st" in
*"$nr "*running*"1/6 "*"--on slurm"*"slurm array "[0-9]*": elements 3 pending, 2 running, 1 done"*)
	ok 0 "status: the Slurm batch, its array id and its elements" ;;
*) ok 1 "status: the Slurm batch, its array id and its elements"; diag "$st" ;;
esac
out=$("$NICELY" pause 2>&1)
is "$out" "batch $nr paused: 3 pending Slurm elements held; running ones go on until they end" \
	"pause: pending elements held, running ones go on"
is "$(squeue -h -r -t PD -o %r | grep -c '^JobHeld')" 3 "pause: squeue shows the 3 held"
is "$("$NICELY" status "$nr" | sed -n 's/^state: *//p')" paused "status: paused"
out=$("$NICELY" resume 2>&1)
is "$out" "batch $nr resumed: 3 pending Slurm elements released" "resume: released"
is "$(squeue -h -r -t PD -o %r | grep -c '^JobHeld')" 0 "resume: none held in squeue"
out=$("$NICELY" kill "$nr" 2>&1)
is "$?:$(slurm_jobs)" "0:" "kill: returns once nothing of the batch is in squeue"
wait $nr
is "$?" 255 "kill: its nicely run exits 255"
no_survivors "kill"
is "$(tail -n +2 "$T/ctl.log" | cut -f1)" 1 "kill: the joblog holds the finished task"

# nicely submit --on slurm: the detached supervisor drives the arrays, its
# store keeps each task's output and exit (nicely results reads them)
id=$("$NICELY" submit --on slurm -p nuclear -j2 'echo $$ >>"$PIDS"; echo s{}; echo e{} >&2; [ {} != 2 ]' ::: 1 2 3 2>"$T/sub.err")
ok $? "submit --on slurm: a detached batch ($id$(cat "$T/sub.err"))"
timeout 120 "$NICELY" wait "$id"
is "$?" 1 "wait: the batch's exit status (one task failed)"
is "$("$NICELY" results --raw "$id" 2>/dev/null)" "$(printf 's1\ns2\ns3')" "results: every task's stdout from the store, in order"
is "$("$NICELY" results --raw "$id" 2>&1 >/dev/null)" "$(printf 'e1\ne2\ne3')" "results: stderr too"
"$NICELY" results --json "$id" 2 >"$T/sj"
python3 -c 'import json,sys; o=json.loads(open(sys.argv[1]).readline()); assert o["seq"] == 2 and o["exit"] == 1, o' "$T/sj" 2>&1
ok $? "results --json: task 2 exited 1"
is "$(slurm_jobs)" "" "submit --on slurm: nothing left in squeue"
no_survivors "submit --on slurm"

slurm_cluster_stop
trap - EXIT
diag "slurm tests took $((SECONDS - t0)) s"
finish
