# Shared by the tests/run_*.t shell tests of `nicely run`: TAP helpers, a
# private config environment (the machine's config never leaks in), and the
# check that no task process outlives a test. Source it; it sets $NICELY.
set -u
NICELY_BUILD=${NICELY_BUILD:-"$(cd "$(dirname "$0")/.." && pwd)/build"}
NICELY="$NICELY_BUILD/nicely"
T=$(mktemp -d "${TMPDIR:-/tmp}/nicely-test.XXXXXX")
mkdir -p "$T/etc" "$T/xdg"
export NICELY_SYSCONFDIR="$T/etc" XDG_CONFIG_HOME="$T/xdg"
# the batch store of nicely submit too
export XDG_STATE_HOME="$T/state"
: >"$T/empty.conf"
export NICELY_CONFIG="$T/empty.conf"
unset NICELY_TOPOLOGY NICELY_PROCFS
# python3 is the system's (scripts/deps.sh installs it) where there is
# one: a version manager's shim first on PATH (pyenv's) costs about half a
# second of CPU a call, and the tests call it dozens of times.
# (a link in $T/bin, first on PATH: a shell function would leave a
# background python3's pid unknown to the test)
if [ -x /usr/bin/python3 ] && mkdir -p "$T/bin" &&
	ln -sf /usr/bin/python3 "$T/bin/python3"; then
	PATH=$T/bin:$PATH
fi
# control sockets of the test's batches go to a private runtime directory
export NICELY_RUNTIME_DIR="$T/rt"
mkdir -m 700 "$NICELY_RUNTIME_DIR"
# tasks append their shell's PID (their process group) to $PIDS
export PIDS="$T/pids"
# every process started from here on inherits this mark in its environment
export NICELY_TEST_MARK="nicely-run-test:$T"
: >"$PIDS"
tap_n=0
tap_fail=0

# ok COND-EXIT-STATUS NAME: "ok N - NAME" when the previous command (or the
# given status) is 0.
ok() {
	tap_n=$((tap_n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_fail=$((tap_fail + 1))
	fi
}

# is GOT WANT NAME
is() {
	tap_n=$((tap_n + 1))
	if [ "$1" = "$2" ]; then
		echo "ok $tap_n - $3"
	else
		echo "not ok $tap_n - $3"
		printf '%s\n' "$1" | head -20 | sed 's/^/#   got:  /'
		printf '%s\n' "$2" | head -20 | sed 's/^/#   want: /'
		tap_fail=$((tap_fail + 1))
	fi
}

diag() { echo "# $*"; }

# skip NAME REASON: a test that cannot be judged on this machine right now
skip() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1 # SKIP $2"
}

# cpu_busy CPU SECONDS: percent of the time Linux CPU number CPU was busy
# (all users) over the next SECONDS, from /proc/stat.
cpu_busy() {
	local a b
	a=$(awk -v c="cpu$1" '$1 == c {print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat)
	sleep "$2"
	b=$(awk -v c="cpu$1" '$1 == c {print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat)
	echo "$a $b" | awk '{busy = $3 - $1; idle = $4 - $2; t = busy + idle;
		print (t > 0) ? int(100 * busy / t) : 0}'
}

# PIDs of live processes (not this shell) whose environment holds the
# test's mark: anything a task started, however it was detached.
. "$(dirname "${BASH_SOURCE[0]}")/marked.sh"
marked() { pids_marked "NICELY_TEST_MARK=$NICELY_TEST_MARK"; }

# No process recorded in $PIDS (nor its process group) is alive, and none
# carries the test's mark; waits up to 5 s for the kernel to finish
# reaping. Kills and reports survivors.
# One pass over /proc in pure bash per try (a kill -0 and a pgrep -g per
# recorded pid cost 0.1-0.2 s each on a loaded machine): a recorded pid is
# left when a process (zombies included, as kill -0 and pgrep count them)
# has it as its pid or its process group.
no_survivors() {
	local left="" i p f st rest
	local -A live
	for i in $(seq 50); do
		live=()
		for f in /proc/[0-9]*/stat; do
			{ read -r st <"$f"; } 2>/dev/null || continue
			live[${st%% *}]=1
			rest=${st##*) }		# state ppid pgrp ...
			rest=${rest#* }
			rest=${rest#* }
			live[g${rest%% *}]=1
		done
		left=""
		for p in $(sort -u "$PIDS"); do
			[ -n "${live[$p]-}${live[g$p]-}" ] && left="$left $p"
		done
		left="$left $(marked)"
		left=${left// / }
		[ -z "${left// /}" ] && { left=""; break; }
		sleep 0.1
	done
	if [ -n "$left" ]; then
		for p in $left; do kill -KILL -- "-$p" "$p" 2>/dev/null; done
		diag "left running:$left"
		ok 1 "no task process left ($1)"
	else
		ok 0 "no task process left ($1)"
	fi
}

# Run at exit: plan, clean up the temp dir, exit status = failures.
finish() {
	echo "1..$tap_n"
	rm -rf "$T"
	[ "$tap_fail" -gt 254 ] && tap_fail=254
	exit "$tap_fail"
}

# busy_loop CPU: start a busy loop pinned to CPU for at most 300 s; prints
# its pid (the caller kills it).
busy_loop() {
	"$NICELY_BUILD/tests/helpers/spin" "$1" 300 >/dev/null 2>&1 &
	echo $!
}

# skip_unless_started NICELY_PID SPIN_PID: called when a task did not start
# under a polite preset: stops the batch and the spinner, then passes (CPU 1
# was free enough, so the start was missed: a failure) or skips (others keep
# CPU 1 busy: waiting is right), and ends the test.
skip_unless_started() {
	local busy1
	busy1=$(cpu_busy 1 3)
	kill -INT "$1" 2>/dev/null
	wait "$1"
	kill -KILL "$2" 2>/dev/null
	wait "$2" 2>/dev/null
	if [ "$busy1" -ge 60 ]; then
		skip "the task started" "others keep CPU 1 ${busy1}% busy: the preset waits, as it should"
	else
		ok 1 "the task started (CPU 1 only ${busy1}% busy)"
	fi
	no_survivors "no start"
	finish
}

# load_test_preset NAME [KEY=VALUE ...]: a config, exported as
# NICELY_CONFIG, in which preset NAME judges PUs by their use alone (free
# under 60%; no load, pressure or memory gate; no hysteresis; 200 ms
# ticks), plus the given keys. Other people's work shares the machine, so
# the real-load tests loosen the gentle presets this way.
load_test_preset() {
	local name=$1 kv
	shift
	{
		printf '[preset %s]\nidle_threshold = 60%%\nload_ceiling = off\n' "$name"
		printf 'pressure_ceiling = off\nmem_floor = off\nhysteresis = 0\n'
		printf 'interval = 200ms\n'
		for kv in "$@"; do printf '%s = %s\n' "${kv%%=*}" "${kv#*=}"; done
	} >"$T/load.conf"
	export NICELY_CONFIG="$T/load.conf"
}

# start_on_cpu1 PRESET STEPS: with a busy loop holding CPU 0 ($spin0; a
# trap kills it and $spin1 at exit), start a batch of one task under
# PRESET ($nicely: the pid of its timeout wrapper, output in $T/out) whose
# task is a shell looping STEPS sleeps of 0.1 s, and wait for the task to
# start ($task: its shell's pid). When it never starts, the test ends
# there (skip_unless_started).
start_on_cpu1() {
	local i
	spin0=$(busy_loop 0)
	spin1=
	trap 'kill -KILL $spin0 $spin1 2>/dev/null' EXIT
	sleep 1
	timeout -s INT 300 "$NICELY" run -p "$1" -j1 \
		'echo $$ >"'"$T"'/task"; echo $$ >>"$PIDS"; for i in $(seq '"$2"'); do sleep 0.1; done; echo finished {}' \
		::: 1 >"$T/out" &
	nicely=$!
	for i in $(seq 600); do [ -s "$T/task" ] && break; sleep 0.1; done
	task=$(cat "$T/task" 2>/dev/null)
	# the preset rightly waits while others keep CPU 1 busy too
	[ -n "$task" ] || skip_unless_started "$nicely" "$spin0"
}

# task_state PID: the process's state letter from /proc; T when it is
# stopped or frozen by its cgroup's freezer (v1, or cgroup2's on hybrid
# and v2 trees); F when its group's freeze is requested (freezer.state
# FREEZING, cgroup.freeze 1) but not yet done: from the request on, no
# process of the group runs user code, yet each must get a CPU once to be
# counted frozen, which an idle-weight task on a CPU others keep busy may
# not for seconds.
task_state() {
	local s fz u fs
	s=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)
	fz=$(grep -E '^[0-9]+:freezer:' "/proc/$1/cgroup" 2>/dev/null | cut -d: -f3)
	u=$(grep -E '^0::' "/proc/$1/cgroup" 2>/dev/null | cut -d: -f3)
	[ -n "$fz" ] && [ "$fz" != / ] &&
		fs=$(cat "/sys/fs/cgroup/freezer$fz/freezer.state" 2>/dev/null)
	if [ "${fs:-}" = FROZEN ]; then
		s=T
	elif [ -n "$u" ] && [ "$u" != / ] &&
	     grep -qx 'frozen 1' "/sys/fs/cgroup/unified$u/cgroup.events" \
		     "/sys/fs/cgroup$u/cgroup.events" 2>/dev/null; then
		s=T
	elif [ "$s" != T ] && { [ "${fs:-}" = FREEZING ] ||
		{ [ -n "$u" ] && [ "$u" != / ] &&
		  grep -qx 1 "/sys/fs/cgroup/unified$u/cgroup.freeze" \
			  "/sys/fs/cgroup$u/cgroup.freeze" 2>/dev/null; }; }; then
		s=F
	fi
	echo "$s"
}

# task_cpu_us PID: CPU time (microseconds) of the task group PID runs in:
# cgroup2's cpu.stat (there on hybrid trees too), else v1 cpuacct.
task_cpu_us() {
	local u a
	u=$(grep -E '^0::' "/proc/$1/cgroup" 2>/dev/null | cut -d: -f3)
	if [ -n "$u" ] && [ "$u" != / ]; then
		awk '$1 == "usage_usec" {print $2; f = 1} END {exit !f}' \
			"/sys/fs/cgroup/unified$u/cpu.stat" 2>/dev/null && return
		awk '$1 == "usage_usec" {print $2; f = 1} END {exit !f}' \
			"/sys/fs/cgroup$u/cpu.stat" 2>/dev/null && return
	fi
	a=$(grep -E '^[0-9]+:([^:]*,)?cpuacct(,[^:]*)?:' "/proc/$1/cgroup" 2>/dev/null | cut -d: -f3)
	if [ -n "$a" ] && [ -r "/sys/fs/cgroup/cpuacct$a/cpuacct.usage" ]; then
		echo $(($(cat "/sys/fs/cgroup/cpuacct$a/cpuacct.usage") / 1000))
		return
	fi
	echo 0
}

# paused_or_skip NAME [SECONDS]: $task must be paused (state T) within
# SECONDS (15). A task whose freeze was requested (F) but which got no
# more than 20 ms of CPU since cannot show that it stops: the check is
# skipped with the reason. F with more CPU than that, or no request at
# all, fails.
paused_or_skip() {
	local i s="" us0="" us
	for i in $(seq $((${2:-15} * 10))); do
		s=$(task_state "$task")
		[ "$s" = T ] && break
		[ "$s" = F ] && [ -z "$us0" ] && us0=$(task_cpu_us "$task")
		sleep 0.1
	done
	if [ "$s" = T ]; then
		ok 0 "$1 (state T)"
	elif [ "$s" = F ] && [ -n "$us0" ]; then
		us=$(( $(task_cpu_us "$task") - us0 ))
		if [ "$us" -le 20000 ]; then
			skip "$1" "freeze requested, but others left the task $((us / 1000)) ms of CPU in ${2:-15} s to reach the freeze point"
		else
			ok 1 "$1 (freeze requested, the task had $((us / 1000)) ms of CPU since, still not frozen)"
		fi
	else
		ok 1 "$1 (state ${s:-gone}: not paused)"
	fi
}

# is_paused NAME: $task is paused now, or its freeze is requested.
is_paused() {
	local s
	s=$(task_state "$task")
	[ "$s" = T ] || [ "$s" = F ]
	ok $? "$1 (state ${s:-gone})"
}

# resumed_or_skip NAME: others left CPU 1, so the preset must resume the
# paused $task within 30 s (NAME is the check). When others keep CPU 1
# busy it rightly stays paused: the batch ($nicely) is stopped and the
# test ends there with a skip.
resumed_or_skip() {
	local i s busy1
	for i in $(seq 300); do s=$(task_state "$task"); [ "$s" != T ] && [ "$s" != F ] && break; sleep 0.1; done
	if [ "$s" != T ] && [ "$s" != F ]; then
		ok 0 "$1 (state ${s:-gone})"
		return
	fi
	busy1=$(cpu_busy 1 3)
	if [ "$busy1" -lt 60 ]; then
		ok 1 "$1 (CPU 1 only ${busy1}% busy, still state $s)"
		return
	fi
	skip "$1" "others keep CPU 1 ${busy1}% busy: it rightly stays paused"
	kill -INT "$nicely" 2>/dev/null
	wait "$nicely" 2>/dev/null
	kill -KILL "$spin0" 2>/dev/null
	wait "$spin0" 2>/dev/null
	no_survivors "stopped while paused"
	finish
}
