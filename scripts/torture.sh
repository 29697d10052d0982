#!/bin/bash
# The attack run of issue 15, kept (`make torture`; minutes, not part of
# make check: tests/torture.t runs its quick cases). Kinds of trial:
#   kill     SIGINT, SIGTERM, SIGKILL of nicely run and `nicely kill`, as
#            root (cgroups) and as a throwaway user (none), TORTURE_TRIALS
#            each (20), on tasks that double-fork setsid children, one of
#            them holding the task's stdout; after SIGKILL the next run of
#            the same user must clean up what it left
#   badinput every bad input issue 15 names (NUL in input, directories as
#            input, config text that is not UTF-8, a full TMPDIR tmpfs,
#            an unwritable results directory, results/joblog symlinks
#            planted in a shared directory, --timeout 1e-10, a 1 MB
#            argument)
#   rlimit   RLIMIT_NOFILE 9..64 (root), RLIMIT_NPROC 1..8 (the user),
#            small RLIMIT_AS
#   peers    hostile peers on the control socket: garbage, a 100 MB line,
#            half a line then silence, 1000 idle connections
#   fuzz     the libFuzzer targets of tests/fuzz/ for TORTURE_FUZZ_SECONDS
#            (60) each, corpus in tests/fuzz/corpus/TARGET/ (new finds are
#            kept there)
# Each trial counts: survivors (processes carrying the trial's mark in
# their environment after it ended), hangs (nicely, or the command under
# test, did not end within its time box: it is killed and counted),
# lost outputs (a task the joblog says succeeded whose output is missing,
# or a case that lost input or output and still exited 0), crashes
# (killed by a signal we did not send, a sanitizer report, a fuzzer
# crash). It prints a table and exits 1 unless every count is 0.
# TORTURE_KINDS picks kinds ("kill badinput rlimit peers fuzz");
# TORTURE_QUICK=1 runs a few trials of each (tests/torture.t);
# TORTURE_KILL_AFTER=SECONDS kills at that moment after the tasks are up
# instead of a random one in the first second (without cgroups, a
# descendant born since nicely's last tick is not yet recorded, so a
# SIGKILL then may leave it: only cgroups or the agent close that);
# TORTURE_PEER_ROUNDS (3) rounds of the hostile peers.
# Everything it starts is killed by PID; the user, tmpfs and files it
# makes are removed at exit.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${NICELY_BUILD:-$ROOT/build}
TRIALS=${TORTURE_TRIALS:-20}
FUZZ_SECONDS=${TORTURE_FUZZ_SECONDS:-60}
KINDS=${TORTURE_KINDS:-kill badinput rlimit peers fuzz}
QUICK=${TORTURE_QUICK:-0}
[ "$QUICK" = 1 ] && TRIALS=${TORTURE_TRIALS:-1}
W=$(mktemp -d /tmp/nicely-torture-XXXXXX)
chmod 755 "$W"
LOG=$W/log
: >"$LOG"
user=
mnt=
bg=()	# pids of helpers this script started

cleanup() {
	local p
	for p in "${bg[@]}"; do kill -KILL "$p" 2>/dev/null; done
	[ -n "$user" ] && for p in $(ps -u "$user" -o pid= 2>/dev/null); do
		kill -KILL "$p" 2>/dev/null
	done
	[ -n "$mnt" ] && umount "$mnt" 2>/dev/null
	[ -n "$user" ] && userdel "$user" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the table ------------------------------------------------------------
declare -A TR SV HG LO CR SK
order=()
# rec KIND TRIALS SURVIVORS HANGS LOST CRASHES: add to KIND's row
rec() {
	local k=$1
	[ -z "${TR[$k]+x}" ] && { order+=("$k"); TR[$k]=0; SV[$k]=0; HG[$k]=0; LO[$k]=0; CR[$k]=0; }
	TR[$k]=$((TR[$k] + $2)); SV[$k]=$((SV[$k] + $3)); HG[$k]=$((HG[$k] + $4))
	LO[$k]=$((LO[$k] + $5)); CR[$k]=$((CR[$k] + $6))
}
# skipkind KIND WHY: a row that could not run here
skipkind() { order+=("$1"); SK[$1]=$2; }
# note KIND TEXT: what went wrong, printed under the table
note() { printf "%s: %s\n" "$1" "$(printf %s "$2" | head -c 1500)" >>"$LOG"; }
say() { echo "torture: $*" >&2; }

# --- running things ---------------------------------------------------------
mark=
# marked: PIDs of live processes (not zombies) whose environment holds
# TORTURE_MARK=$mark (tests/lib/marked.sh).
. "$ROOT/tests/lib/marked.sh"
marked() { pids_marked "TORTURE_MARK=$mark"; }
# survivors SECONDS: wait up to SECONDS for the mark to vanish; print how
# many are left, killing them (by PID) and logging what they were
survivors() {
	local i left
	for i in $(seq $(($1 * 10))); do
		left=$(marked)
		[ -z "$left" ] && { echo 0; return; }
		sleep 0.1
	done
	for i in $left; do
		echo "  left: $(tr '\0' ' ' </proc/$i/cmdline 2>/dev/null)" >>"$LOG"
		kill -KILL "$i" 2>/dev/null
	done
	echo "$left" | wc -w
}
# wait_pid PID SECONDS: 0 when PID ended within SECONDS (its status in
# $wrc), else 1 (it is killed, $wrc 999)
wait_pid() {
	local i
	for i in $(seq $(($2 * 20))); do
		if ! kill -0 "$1" 2>/dev/null; then
			wait "$1" 2>/dev/null
			wrc=$?
			return 0
		fi
		sleep 0.05
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	wrc=999
	return 1
}
# crashed RC ERRFILE: 1 when RC is a signal we did not send, or the
# sanitizers reported
crashed() {
	case $1 in
	134|136|139|132|135) return 0 ;;
	esac
	grep -q 'ERROR: AddressSanitizer\|runtime error:\|ERROR: LeakSanitizer' "$2" 2>/dev/null
}

# the environment of every nicely run: private config, runtime dir per user
cfg() {
	mkdir -p "$W/etc" "$W/xdg"
	printf '[preset tort]\nbase = nuclear\n' >"$W/tort.conf"
	cp "$B/nicely" "$W/nicely"
	S=$W/tslp$$
	cp "$(command -v sleep)" "$S"
	chmod -R a+rX "$W"
	mkdir -m 700 "$W/rt-root"
}
# as WHO CMD...: CMD as root or as the throwaway user, in nicely's
# environment with the current mark; it execs (the pid is CMD's)
as() {
	local who=$1
	shift
	local e=(env -u NICELY_CGROUP_ROOT -u NICELY_CGROUP_TRACE
		 NICELY_RUNTIME_DIR="$W/rt-$who" NICELY_CONFIG="$W/tort.conf"
		 NICELY_SYSCONFDIR="$W/etc" XDG_CONFIG_HOME="$W/xdg"
		 TORTURE_MARK="$mark")
	if [ "$who" = root ]; then
		exec "${e[@]}" "$@"
	else
		exec setpriv --reuid="$user" --regid="$user" --init-groups \
			"${e[@]}" HOME="$W" "$@"
	fi
}
# a throwaway user for the kinds that need one (root only)
make_user() {
	[ -n "$user" ] && return 0
	[ "$(id -u)" = 0 ] || return 1
	command -v useradd >/dev/null && command -v setpriv >/dev/null || return 1
	user=ntort$$
	useradd --system --no-create-home --shell /usr/sbin/nologin "$user" || { user=; return 1; }
	mkdir -m 700 "$W/rt-$user"
	chown "$user" "$W/rt-$user"
}

# --- kill trials ------------------------------------------------------------
VALS=(3 5 2 7 4 6)
# lost_outputs OUT JOBLOG: tasks the joblog says succeeded whose output
# line is not in OUT
lost_outputs() {
	local n=0 seq ev sg
	while IFS=$'\t' read -r seq _ _ _ _ _ ev sg _; do
		[ "$seq" = Seq ] && continue
		[ "$ev" = 0 ] && [ "$sg" = 0 ] || continue
		grep -qx "out-${VALS[$((seq - 1))]}" "$1" || n=$((n + 1))
	done <"$2"
	echo $n
}
# kill_trial WHO LABEL SIG N
kill_trial() {
	local who=$1 sig=$3 i=$4 kind="kill $3 $2" sv hang=0 lost crash=0 i2
	local task="echo out-{}; (setsid $S 300 >/dev/null 2>&1 &); setsid $S 301 & $S 0.{}"
	mark=torture-$$-$who-$sig-$i
	rm -f "$W/jl"
	: >"$W/out"
	[ "$who" != root ] && { touch "$W/jl"; chown "$user" "$W/jl" "$W/out"; }
	( as "$who" "$W/nicely" run -p tort -j2 --joblog "$W/jl" "$task" ::: "${VALS[@]}" \
		>"$W/out" 2>"$W/err" </dev/null ) &
	local npid=$!
	# until two tasks and their children run, then a random moment more
	for i2 in $(seq 100); do [ "$(marked | wc -w)" -ge 5 ] && break; sleep 0.05; done
	sleep "${TORTURE_KILL_AFTER:-0.$((RANDOM % 10))}"
	case $sig in
	INT|TERM|KILL) kill -s "$sig" "$npid" 2>/dev/null ;;
	nicelykill)
		( as "$who" "$W/nicely" kill "$npid" >"$W/kout" 2>&1 ) &
		local kp=$!
		if ! wait_pid $kp 20; then
			hang=1
			note "$kind" "trial $i: nicely kill did not return within 20 s"
		fi ;;
	esac
	if ! wait_pid "$npid" 20; then
		hang=1
		note "$kind" "trial $i: nicely run did not end within 20 s of SIG$sig; err: $(head -c 500 "$W/err")"
	fi
	local rc=$wrc
	[ "$sig" != KILL ] && [ "$sig" != nicelykill ] && [ $hang = 0 ] &&
		crashed "$rc" "$W/err" && [ "$rc" != $((128 + $(kill -l "$sig"))) ] && crash=1
	if [ "$sig" = KILL ]; then
		# the next run of the user cleans up what the killed one left
		( as "$who" "$W/nicely" run -p tort true ::: 1 >/dev/null 2>"$W/err2" </dev/null ) &
		wait_pid $! 20 || { hang=1; note "$kind" "trial $i: the clean-up run hung"; }
	fi
	sv=$(survivors 5)
	[ "$sv" != 0 ] && note "$kind" "trial $i: $sv processes left; err: $(head -c 300 "$W/err")"
	lost=$(lost_outputs "$W/out" "$W/jl")
	[ "$lost" != 0 ] && note "$kind" "trial $i: $lost outputs missing; out: $(tr '\n' ' ' <"$W/out"); joblog: $(cut -f1,7,8 "$W/jl" | tr '\n\t' '; ')"
	[ $crash = 1 ] && note "$kind" "trial $i: rc $rc; $(grep -m3 'Sanitizer\|runtime error' "$W/err")"
	rec "$kind" 1 "$sv" "$hang" "$lost" "$crash"
}

kind_kill() {
	local who sig i
	for who in root user; do
		if [ $who = user ] && ! make_user; then
			for sig in INT TERM KILL nicelykill; do
				skipkind "kill $sig user" "needs root, useradd and setpriv"
			done
			continue
		fi
		local w=$who
		[ $who = user ] && w=$user
		for sig in INT TERM KILL nicelykill; do
			say "kill trials: SIG$sig as $who ($TRIALS)"
			for i in $(seq "$TRIALS"); do kill_trial "$w" "$who" "$sig" "$i"; done
		done
	done
}

# --- bad input --------------------------------------------------------------
# bad NAME WANT SECS CMD...: one case; CMD runs time-boxed (SECS) with the
# mark; WANT is the exit status it must give ("nz" = any failure that is
# not a crash). A quiet 0 where a failure was due counts as lost.
bad() {
	local name=$1 want=$2 secs=$3 hang=0 lost=0 crash=0 sv
	shift 3
	mark=torture-$$-bad-$RANDOM
	( "$@" ) >"$W/bout" 2>"$W/berr" &
	local p=$!
	if ! wait_pid $p "$secs"; then
		hang=1
		note badinput "$name: no end within $secs s"
	fi
	local rc=$wrc
	if [ $hang = 0 ]; then
		if crashed "$rc" "$W/berr" || [ "$rc" -ge 128 ] && [ "$rc" != 255 ]; then
			crash=1
			note badinput "$name: rc $rc $(head -c 300 "$W/berr")"
		elif { [ "$want" = nz ] && [ "$rc" = 0 ]; } ||
		     { [ "$want" != nz ] && [ "$rc" != "$want" ]; }; then
			lost=1
			note badinput "$name: rc $rc, want $want; err: $(head -c 300 "$W/berr")"
		fi
	fi
	sv=$(survivors 3)
	rec badinput 1 "$sv" "$hang" "$lost" "$crash"
}
# R WHO ARGS...: nicely run as WHO with the trial's environment
R() { local who=$1; shift; as "$who" "$W/nicely" run -p tort -j1 "$@"; }
# Rin FILE WHO ARGS...: R with stdin from FILE
Rin() { local f=$1; shift; R "$@" <"$f"; }
# Tmp DIR ARGS...: nicely run as root with TMPDIR=DIR
Tmp() { local t=$1; shift; TMPDIR=$t R root "$@"; }
# Cfg FILE ARGS...: nicely run as root with NICELY_CONFIG=FILE
Cfg() { local c=$1; shift; as root env NICELY_CONFIG="$c" "$W/nicely" run "$@"; }
# ulim OPT N WHO ARGS...: nicely run as WHO under ulimit OPT N
# (LeakSanitizer needs a thread at exit, which RLIMIT_NPROC may refuse)
ulim() {
	local o=$1 n=$2
	shift 2
	[ "$o" = -u ] && export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
	ulimit "$o" "$n" && R "$@"
}

kind_badinput() {
	local d=$W/bad
	mkdir -p "$d/dir"
	chmod -R a+rX "$d"
	say "bad input"
	printf 'a\nb\0c\nd\n' >"$d/nul"
	# a NUL byte: GNU parallel's \0 in its place and a warning, exit 0
	bad "NUL byte in a stdin line" 0 20 Rin "$d/nul" root 'echo {}'
	bad "NUL byte in -a FILE" 0 20 R root -a "$d/nul" 'echo {}'
	bad "-a DIR" 255 20 R root -a "$d/dir" 'echo {}'
	bad ":::: DIR" 255 20 R root 'echo {}' :::: "$d/dir"
	bad "a directory on stdin" 255 20 Rin "$d/dir" root 'echo {}'
	printf '[preset normal]\nnice = \377\n[\377x]\nk\377 = v\n' >"$d/latin1.conf"
	bad "check-config, not UTF-8" nz 20 as root "$W/nicely" check-config "$d/latin1.conf"
	bad "check-config --json, not UTF-8" nz 20 as root "$W/nicely" check-config --json "$d/latin1.conf"
	bad "run with a config not UTF-8" 255 20 Cfg "$d/latin1.conf" 'echo {}' ::: 1
	bad "--timeout 1e-10" nz 20 R root --timeout 1e-10 "$S 1" ::: 1
	head -c 1048576 /dev/zero | tr '\0' x >"$d/big"
	echo >>"$d/big"
	bad "a 1 MB argument" 1 30 R root -a "$d/big" 'echo'
	if [ "$(id -u)" = 0 ] && mkdir -p "$d/full" && mount -t tmpfs -o size=1m tmpfs "$d/full" 2>/dev/null; then
		mnt=$d/full
		bad "TMPDIR on a full 1 MiB tmpfs, 10 MB of output" nz 60 \
			Tmp "$d/full" 'head -c 10000000 /dev/zero' ::: 1
		bad "TMPDIR=/nonexistent, 10 MB of output" nz 60 \
			Tmp /nonexistent 'head -c 10000000 /dev/zero' ::: 1
		umount "$d/full" && mnt=
	else
		skipkind "badinput: full TMPDIR" "cannot mount a tmpfs (not root?)"
	fi
	if make_user; then
		mkdir -m 755 "$d/ro"
		bad "--results in an unwritable directory" nz 20 R "$user" --results "$d/ro/res" 'echo {}' ::: 1 2
		# another user's symlinks planted in a shared sticky directory
		mkdir -m 1777 "$d/shared"
		echo precious >"$d/victim"
		chown "$user" "$d/victim"
		ln -s "$d/victim" "$d/shared/jl"
		ln -s "$d" "$d/shared/res"
		bad "--joblog: a symlink planted in a shared dir" nz 20 R "$user" --joblog "$d/shared/jl" 'echo {}' ::: 1
		bad "--results: a symlink planted in a shared dir" nz 20 R "$user" --results "$d/shared/res" 'echo {}' ::: 1
		if [ "$(cat "$d/victim")" != precious ]; then
			rec badinput 0 0 0 1 0
			note badinput "the victim file behind the planted symlink was overwritten"
		fi
	else
		skipkind "badinput: as a user" "needs root, useradd and setpriv"
	fi
}

# --- resource limits ---------------------------------------------------------
# lim KIND NAME SECS WANTRE CMD...: CMD time-boxed; it must end with every
# output (exit 0, OUT holding ALL) or fail cleanly (exit 255 or, for
# NPROC, tasks failed with the reason): anything else is lost
lim() {
	local kind=$1 name=$2 secs=$3 hang=0 lost=0 crash=0 sv
	shift 3
	mark=torture-$$-lim-$RANDOM
	( "$@" ) >"$W/lout" 2>"$W/lerr" &
	local p=$!
	if ! wait_pid $p "$secs"; then
		hang=1
		note "$kind" "$name: no end within $secs s; err: $(sort "$W/lerr" | uniq -c | sort -rn | head -3)"
	fi
	local rc=$wrc
	if [ $hang = 0 ]; then
		if crashed "$rc" "$W/lerr" || { [ "$rc" -ge 128 ] && [ "$rc" != 255 ]; }; then
			crash=1
			note "$kind" "$name: rc $rc $(head -c 300 "$W/lerr")"
		elif [ "$rc" = 0 ] && [ "$(tr '\n' ' ' <"$W/lout")" = "$ALL" ]; then
			:
		elif [ "$rc" = 255 ] && [ ! -s "$W/lout" ] && grep -q '^nicely' "$W/lerr"; then
			:
		elif [ "$rc" != 0 ] && [ "$rc" != 255 ] && grep -q "no process can be made" "$W/lerr"; then
			:
		else
			lost=1
			note "$kind" "$name: rc $rc; out: $(tr '\n' ' ' <"$W/lout" | head -c 200); err: $(head -c 300 "$W/lerr")"
		fi
	fi
	sv=$(survivors 3)
	rec "$kind" 1 "$sv" "$hang" "$lost" "$crash"
}

kind_rlimit() {
	local n ns
	ALL="1 2 3 4 5 6 "
	ns=$(seq 9 64)
	[ "$QUICK" = 1 ] && ns="9 12 15 48 64"
	say "RLIMIT_NOFILE $(echo $ns | tr ' ' ',')"
	for n in $ns; do
		lim "rlimit NOFILE" "ulimit -n $n" 30 ulim -n "$n" root -j4 'echo {}' ::: 1 2 3 4 5 6
	done
	if make_user; then
		ns=$(seq 1 8)
		[ "$QUICK" = 1 ] && ns="2 3"
		say "RLIMIT_NPROC $(echo $ns | tr ' ' ',') as $user"
		for n in $ns; do
			lim "rlimit NPROC" "ulimit -u $n" 90 ulim -u "$n" "$user" -j4 "echo {}; exec $S 0.2" ::: 1 2 3 4 5 6
		done
	else
		skipkind "rlimit NPROC" "needs root, useradd and setpriv"
	fi
	if ldd "$W/nicely" 2>/dev/null | grep -q libasan; then
		skipkind "rlimit AS" "the sanitizer build needs more address space than any small limit"
	else
		ns="20000 50000 100000 200000"
		[ "$QUICK" = 1 ] && ns="50000"
		say "RLIMIT_AS (KiB) $(echo $ns | tr ' ' ',')"
		for n in $ns; do
			lim "rlimit AS" "ulimit -v $n" 30 ulim -v "$n" root -j4 'echo {}' ::: 1 2 3 4 5 6
		done
	fi
}

# --- hostile peers ----------------------------------------------------------
# peer_case NAME ATTACK: a batch of 16 half-second tasks (-j2) under ulimit
# -n 1024; ATTACK (a python snippet given the socket path) runs against
# its control socket; `nicely status` must still answer within 10 s and
# the batch must end with every output.
peer_case() {
	local name=$1 attack=$2 hang=0 lost=0 crash=0 sv i
	mark=torture-$$-peer-$RANDOM
	( ulimit -n 1024 && as root "$W/nicely" run -p tort -j2 "$S 0.5; echo {}" ::: $(seq 16) \
		>"$W/pout" 2>"$W/perr" </dev/null ) &
	local npid=$!
	local sock=$W/rt-root/run-$npid.sock
	for i in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
	python3 -c "$PEERPY
$attack" "$sock" >"$W/peer.log" 2>&1 &
	local pp=$!
	bg+=("$pp")
	sleep 1
	( as root "$W/nicely" status "$npid" >"$W/st" 2>&1 ) &
	if ! wait_pid $! 10; then
		hang=1
		note peers "$name: nicely status got no answer within 10 s"
	elif [ "$wrc" != 0 ]; then
		hang=1
		note peers "$name: nicely status failed (rc $wrc): $(head -c 200 "$W/st")"
	fi
	if ! wait_pid "$npid" 60; then
		hang=1
		note peers "$name: the batch did not end within 60 s"
	fi
	local rc=$wrc
	kill -KILL "$pp" 2>/dev/null
	wait "$pp" 2>/dev/null
	if [ "$rc" != 999 ]; then
		if crashed "$rc" "$W/perr"; then
			crash=1
			note peers "$name: rc $rc"
		elif [ "$rc" != 0 ] || [ "$(tr '\n' ' ' <"$W/pout")" != "$(echo $(seq 16)) " ]; then
			lost=1
			note peers "$name: rc $rc; out $(tr '\n' ' ' <"$W/pout"); err $(sort "$W/perr" | uniq -c | head -3)"
		fi
	fi
	sv=$(survivors 3)
	rec peers 1 "$sv" "$hang" "$lost" "$crash"
}
PEERPY='import os, socket, sys, time
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    return s'

kind_peers() {
	local n=${TORTURE_PEER_ROUNDS:-3}
	[ "$QUICK" = 1 ] && n=1
	say "hostile peers ($n each)"
	for i in $(seq $n); do
		peer_case "garbage" 's = conn()
for k in range(64): s.sendall(os.urandom(1024) + b"\n")
s.close()'
		peer_case "half a line, then silence" 's = conn(); s.sendall(b"{\"v\":1,\"cmd\":\"sta"); time.sleep(60)'
		[ "$QUICK" = 1 ] && continue
		peer_case "a 100 MB line" 's = conn()
s.settimeout(20)
try:
    for k in range(100): s.sendall(b"x" * 1048576)
except OSError: pass
time.sleep(60)'
		peer_case "1000 idle connections" 'import resource
resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
c = []
for k in range(1000):
    try: c.append(conn())
    except OSError: time.sleep(0.01)
time.sleep(60)'
	done
}

# --- fuzzing ----------------------------------------------------------------
kind_fuzz() {
	local t f
	if ! command -v clang >/dev/null; then
		skipkind fuzz "no clang"
		return
	fi
	for f in "$ROOT"/tests/fuzz/*.c; do
		t=$(basename "$f" .c)
		make -C "$ROOT" --no-print-directory "build/fuzz/$t" >"$W/fuzzbuild" 2>&1 ||
			{ rec "fuzz $t" 1 0 0 0 1; note "fuzz $t" "build failed: $(tail -5 "$W/fuzzbuild")"; continue; }
		mkdir -p "$ROOT/tests/fuzz/corpus/$t"
		say "fuzz $t for $FUZZ_SECONDS s"
		mkdir -p "$W/art-$t"
		timeout -s KILL $((FUZZ_SECONDS + 60)) "$ROOT/build/fuzz/$t" \
			-max_total_time="$FUZZ_SECONDS" -timeout=5 -rss_limit_mb=2048 \
			-artifact_prefix="$W/art-$t/" \
			"$ROOT/tests/fuzz/corpus/$t" "$ROOT/tests/fuzz/seeds-$t" >"$W/fuzz-$t.log" 2>&1
		local rc=$? hang=0 crash=0
		[ $rc = 137 ] && hang=1
		if [ $rc != 0 ] && [ $rc != 137 ] || ls "$W/art-$t" | grep -q .; then
			crash=1
			mkdir -p "$ROOT/build/fuzz/artifacts-$t"
			cp "$W/art-$t"/* "$ROOT/build/fuzz/artifacts-$t/" 2>/dev/null
			note "fuzz $t" "rc $rc; artifacts in build/fuzz/artifacts-$t: $(ls "$W/art-$t" | tr '\n' ' '); $(grep -m2 'ERROR\|SUMMARY' "$W/fuzz-$t.log")"
		fi
		rec "fuzz $t" 1 0 "$hang" 0 "$crash"
	done
}

# --- run -------------------------------------------------------------------
# (one function, read whole before it runs: editing the file meanwhile
# cannot change a run in progress)
main() {
	[ -x "$B/nicely" ] || { echo "torture: no $B/nicely (make all first)" >&2; exit 2; }
	cfg
	for k in $KINDS; do
		case $k in
		kill|badinput|rlimit|peers|fuzz) "kind_$k" ;;
		*) echo "torture: unknown kind $k" >&2; exit 2 ;;
		esac
	done

	bad_total=0
	printf '%-28s | %6s | %9s | %5s | %12s | %7s\n' kind trials survivors hangs "lost outputs" crashes
	printf '%s\n' "-----------------------------+--------+-----------+-------+--------------+--------"
	for k in "${order[@]}"; do
		if [ -n "${SK[$k]+x}" ]; then
			printf '%-28s | skipped: %s\n' "$k" "${SK[$k]}"
			continue
		fi
		[ -z "${TR[$k]+x}" ] && continue
		printf '%-28s | %6d | %9d | %5d | %12d | %7d\n' "$k" "${TR[$k]}" "${SV[$k]}" \
			"${HG[$k]}" "${LO[$k]}" "${CR[$k]}"
		bad_total=$((bad_total + SV[$k] + HG[$k] + LO[$k] + CR[$k]))
	done
	echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
	if [ -s "$LOG" ]; then
		echo "what went wrong:"
		sed 's/^/  /' "$LOG"
	fi
	[ $bad_total = 0 ]
}
main "$@"; exit $?
