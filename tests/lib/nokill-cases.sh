# The kill cases of a batch without cgroups (sourced by run_nokill.t as
# root with no cgroup tree, and run_nokill_nonroot.t as a throwaway user
# that may not make cgroups). The caller sets: tmp (a scratch directory
# others may read), runas (array: the command prefix that runs as the
# user, empty for root), who (that user's name), nkenv (array: env
# assignments for nicely), and the TAP function check NAME CONDITION.
# Every case runs tasks that leave double-forked (setsid) processes, one
# holding the task's stdout, named by a copy of sleep unique to this test,
# and checks that none is left afterwards.
S=$tmp/nkslp$$
cp "$(command -v sleep)" "$S"
cp "$B/nicely" "$tmp/nicely"
printf '[preset nk]\nbase = nuclear\n' >"$tmp/nk.conf"
mkdir -p "$tmp/etc" "$tmp/xdg"
chmod -R a+rX "$tmp"
mkdir -m 700 "$tmp/rt"
[ -n "$who" ] && [ "$who" != root ] && chown "$who" "$tmp/rt"
N=("${runas[@]}" env "${nkenv[@]}" NICELY_RUNTIME_DIR="$tmp/rt"
   NICELY_CONFIG="$tmp/nk.conf" NICELY_SYSCONFDIR="$tmp/etc"
   XDG_CONFIG_HOME="$tmp/xdg" "$tmp/nicely")
# one task: an orphan with its output elsewhere, a setsid child holding
# stdout, a plain child
task="(setsid $S 300 >/dev/null 2>&1 &); setsid $S 301 & $S 302; echo done"

# left: how many of this test's sleeps run (zombies waiting for init to
# reap them are gone already)
left() { ps -u "$who" -o stat=,args= | awk -v p=$$ '$1 !~ /^Z/ && index($0, "nkslp" p)' | wc -l; }
# sweep: kill (by PID) whatever a failed case left, so the next starts clean
sweep() { local p; for p in $(pgrep -u "$who" -f "nkslp$$"); do kill -9 "$p" 2>/dev/null; done; sleep 0.2; }
# what is left, for a failure's diagnosis
leftps() { ps -u "$who" -o pid=,ppid=,stat=,args= | awk -v p=$$ 'index($0, "nkslp" p)'; }
# nicely_pid: the batch's nicely process
nicely_pid() { pgrep -u "$who" -f "^$tmp/nicely run" | head -1; }
# wait_until SECONDS COMMAND...: 0 once COMMAND succeeds, 1 at the timeout
wait_until() {
	local end=$(( $(date +%s%N) / 1000000 + $1 * 1000 )); shift
	until "$@"; do
		[ $(( $(date +%s%N) / 1000000 )) -ge $end ] && return 1
		sleep 0.1
	done
}
has6() { [ "$(left)" -ge 6 ]; }
gone() { ! kill -0 "$npid" 2>/dev/null; }
none() { [ "$(left)" = 0 ]; }
# start: the batch of two such tasks in the background, in a session of
# its own; waits until all six sleeps run (and a tick recorded them)
start() {
	# not a job of this shell: no "Killed" notice when it is SIGKILLed
	( setsid "${N[@]}" run -p nk -j2 "$task" ::: 1 2 >"$tmp/out" 2>"$tmp/err" </dev/null & )
	wait_until 10 has6
	npid=$(nicely_pid)
	sleep 1.5
}
ms() { echo $(( $(date +%s%N) / 1000000 )); }

for sig in INT TERM; do
	start
	out="sleeps $(left), nicely $npid"
	check "SIG$sig: the batch runs (6 sleeps, nicely $npid)" '[ "$(left)" -ge 6 ] && [ -n "$npid" ]'
	t0=$(ms)
	kill -s $sig "$npid"
	wait_until 15 gone
	dt=$(( $(ms) - t0 ))
	wait_until 2 none
	out="left: $(leftps); err: $(cat "$tmp/err")"
	check "SIG$sig: nicely ends within 6 s ($dt ms)" '[ $dt -lt 6000 ]'
	check "SIG$sig: no process of the tasks is left, double-forked ones included" '[ "$(left)" = 0 ]'
	check "SIG$sig: the record file is gone" '[ -z "$(ls "$tmp/rt" | grep procs-)" ]'
	sweep
done

# nicely kill: answered when nothing is left, within a bound although a
# setsid child holds each task's stdout
start
t0=$(ms)
"${N[@]}" kill >"$tmp/kout" 2>&1
krc=$?
dt=$(( $(ms) - t0 ))
wait_until 15 gone
out="rc $krc; $(cat "$tmp/kout"); left: $(leftps); err: $(cat "$tmp/err")"
check "nicely kill returns 0 within 6 s ($dt ms)" '[ $krc = 0 ] && [ $dt -lt 6000 ]'
check "nicely kill: no process of the tasks is left once it returned" '[ "$(left)" = 0 ]'
check "nicely kill: the batch ended" 'gone'
sweep

# a timeout ends a task whose setsid child keeps stdout open within a
# bound, with the output that arrived
t0=$(ms)
out=$("${N[@]}" run -p nk --timeout 1 "echo early; setsid $S 8 & $S 8" ::: 1 2>"$tmp/err")
rc=$?
dt=$(( $(ms) - t0 ))
out="rc $rc out '$out' ($dt ms); err: $(cat "$tmp/err")"
check "--timeout 1 with a setsid child on stdout ends within 4 s" '[ $dt -lt 4000 ]'
check "--timeout: the task failed (rc 1) and its early output is kept" 'grep -q "^rc 1 out .early" <<<"$out"'
check "--timeout: nothing of the task is left" 'none'
sweep

# a normal batch whose task leaves a setsid child on stdout ends too
t0=$(ms)
out=$("${N[@]}" run -p nk "setsid $S 30 & echo hi {}" ::: 1 2>"$tmp/err")
rc=$?
dt=$(( $(ms) - t0 ))
out="rc $rc out '$out' ($dt ms); err: $(cat "$tmp/err")"
check "a batch's last task with a setsid child on stdout ends within 4 s" '[ $dt -lt 4000 ] && [ $rc = 0 ]'
check "... its output is kept and the holder is named" 'grep -q "^rc 0 out .hi 1." <<<"$out" && grep -q "held its output" "$tmp/err"'
check "... and nothing of it is left" 'none'
sweep

# SIGKILL: what the run left is killed by the next run of the user
start
kill -9 "$npid"
wait_until 5 gone
sleep 0.3
before=$(left)
rec=$(ls "$tmp/rt" | grep procs-)
out=$("${N[@]}" run -p nk true ::: 1 2>&1)
rc=$?
wait_until 3 none
out="before $before, record '$rec', rc $rc: $out; left: $(leftps)"
check "SIGKILL: the dead run left its record and processes" '[ -n "$rec" ] && [ "$before" -gt 0 ]'
check "SIGKILL: the next run kills them all and says so" '[ $rc = 0 ] && none && grep -q "left by batch" <<<"$out"'
check "SIGKILL: the next run removed the stale record" '[ -z "$(ls "$tmp/rt" | grep procs-)" ]'
sweep

# a record names a live process of the user: killed only when pid and
# start time both match; the record goes either way
( "${runas[@]}" "$S" 120 2>/dev/null & )
( "${runas[@]}" "$S" 121 2>/dev/null & )
sleep 0.3
p1=$(pgrep -u "$who" -f "nkslp$$ 120")
p2=$(pgrep -u "$who" -f "nkslp$$ 121")
st1=$(awk '{print $22}' "/proc/$p1/stat")
st2=$(awk '{print $22}' "/proc/$p2/stat")
rec=$tmp/rt/procs-4194000
printf 'nicely 4194000 1\n%s %s\n%s %s\n' "$p1" "$((st1 + 1))" "$p2" "$st2" >"$rec"
[ "$who" != root ] && chown "$who" "$rec"
chmod 600 "$rec"
out=$("${N[@]}" run -p nk true ::: 1 2>&1)
sleep 0.3
out="p1 $p1 st $st1, p2 $p2 st $st2: $out"
check "a recorded pid whose start time differs is not killed" 'kill -0 "$p1" 2>/dev/null'
check "a recorded pid whose start time matches is killed" '! kill -0 "$p2" 2>/dev/null || grep -q "^Z" <(awk "{print \$3}" /proc/$p2/stat 2>/dev/null)'
check "the stale record is removed" '[ ! -e "$rec" ]'
# a record of a run still alive is left alone
printf 'nicely %s %s\n%s %s\n' "$$" "$(awk '{print $22}' /proc/$$/stat)" "$p1" "$st1" >"$rec"
[ "$who" != root ] && chown "$who" "$rec"
"${N[@]}" run -p nk true ::: 1 >/dev/null 2>&1
check "a record whose run is alive is kept and its processes live" '[ -e "$rec" ] && kill -0 "$p1" 2>/dev/null'
rm -f "$rec"
kill -9 "$p1" 2>/dev/null
sweep
out="left: $(leftps)"
check "nothing this test started is left" 'none && [ -z "$(pgrep -u "$who" -f "^$tmp/nicely")" ]'
