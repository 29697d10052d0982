#!/bin/bash
# Dispatch against the floor: N tasks of `true` (one value each, 2 at a
# time) through
#   nicely      `nicely run -j2` with the default preset and cgroups, as
#               users run it (load-aware: on a busy machine it waits for
#               idle PUs by design, so its time says more about the load
#               than about dispatch there)
#   nuclear     `nicely run -p nuclear -j2`, cgroups on (ignores others'
#               load: the dispatch cost alone)
#   nocg        the same without cgroups (NICELY_CGROUP_ROOT nowhere)
#   before      NICELY_BEFORE=DIR: DIR/nicely -p nuclear, cgroups on (a
#               build from before a change, in the same rounds)
#   xargs       `xargs -P2 -n1 true`
#   floor       build/bench/floor: posix_spawn + waitpid, nothing else
# in rounds whose order rotates; each tool's median wall time, and the
# median of its per-round ratio to the floor (paired: load that changes
# during the run falls on both). Then the counts that load does not move
# (one run each, 2,000 tasks): system calls per task of the dispatching
# process alone and of the whole tree (strace -c), page faults per task
# (perf stat: the dispatcher alone, and the tree), the dispatcher's CPU
# time per task. Then libnicely's lifespan-1 workers against a bare
# fork+waitpid loop (build/bench/lib_throughput). The load average is
# printed beside every figure. Goals (issue 21): nuclear within 1.25x of
# the floor's time, lifespan 1 within 1.2x of bare fork+waitpid.
# Usage: bench/floor.sh; SIZES ("2000 20000"), ROUNDS (5; 3 for 20,000 and
# more), TOOLS ("nicely nuclear nocg xargs floor", plus before when
# NICELY_BEFORE is set), COUNTS (1: 0 skips the strace/perf counts), LIB
# (1: 0 skips the library figure), NICELY_BUILD (build/).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
B=${NICELY_BUILD:-$top/build}
for f in "$B/nicely" "$B/bench/floor" "$B/bench/lib_throughput"; do
	[ -x "$f" ] || { echo "floor.sh: build first ($f missing)" >&2; exit 2; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
# the machine's own config must not change what is measured
mkdir -p "$tmp/etc" "$tmp/xdg"
: >"$tmp/empty.conf"
export NICELY_SYSCONFDIR="$tmp/etc" XDG_CONFIG_HOME="$tmp/xdg" NICELY_CONFIG="$tmp/empty.conf"
tools=(${TOOLS:-nicely nuclear nocg xargs floor})
if [ -n "${NICELY_BEFORE:-}" ] && [ -z "${TOOLS:-}" ]; then
	[ -x "$NICELY_BEFORE/nicely" ] || { echo "floor.sh: $NICELY_BEFORE/nicely missing" >&2; exit 2; }
	tools=(nicely nuclear before nocg xargs floor)
fi
load() { cut -d' ' -f1-3 /proc/loadavg; }

# The command of tool $1 for $2 tasks, in CMD (stdin: the values).
tool_cmd() {
	case $1 in
	nicely) CMD=("$B/nicely" run -j2 true) ;;
	nuclear) CMD=("$B/nicely" run -p nuclear -j2 true) ;;
	before) CMD=("$NICELY_BEFORE/nicely" run -p nuclear -j2 true) ;;
	nocg) CMD=(env NICELY_CGROUP_ROOT="$tmp/none" "$B/nicely" run -p nuclear -j2 true) ;;
	xargs) CMD=(xargs -P2 -n1 true) ;;
	floor) CMD=("$B/bench/floor" "$2" 2) ;;
	*) echo "floor.sh: unknown tool $1" >&2; return 2 ;;
	esac
}
# Run tool $1 on the values in file $2 ($3 tasks); its output is thrown away.
run_tool() {
	tool_cmd "$1" "$3" || return 2
	"${CMD[@]}" <"$2" >/dev/null 2>"$tmp/err"
}
# what each tool is, for the tables
what() {
	case $1 in
	nicely) echo "nicely run -j2 (default preset, cgroups)" ;;
	nuclear) echo "nicely run -p nuclear -j2 (cgroups)" ;;
	before) echo "same, NICELY_BEFORE" ;;
	nocg) echo "nicely -p nuclear, no cgroups" ;;
	xargs) echo "xargs -P2 -n1" ;;
	floor) echo "posix_spawn+waitpid floor" ;;
	esac
}
# median, min and max of the numbers on stdin: "med (min-max)"
stat3() { sort -g | awk '{v[NR]=$1} END{if(!NR){print "-";exit}
	printf "%.3f (%.3f-%.3f)", v[int((NR+1)/2)], v[1], v[NR]}'; }
median() { sort -g | awk '{v[NR]=$1} END{if(NR) print v[int((NR+1)/2)]}'; }

echo "# dispatch against the floor: $(nproc) PUs, $(uname -r), cgroups: $(
	[ -e /sys/fs/cgroup/cgroup.controllers ] && echo v2 ||
	{ [ -e /sys/fs/cgroup/unified/cgroup.controllers ] && echo 'hybrid (v1 controllers + cgroup2)' || echo v1; })"
for n in ${SIZES:-2000 20000}; do
	rounds=${ROUNDS:-$([ "$n" -ge 20000 ] && echo 3 || echo 5)}
	seq "$n" >"$tmp/in"
	rm -f "$tmp"/*.wall
	l0=$(load)
	for ((r = 0; r < rounds; r++)); do
		for ((k = 0; k < ${#tools[@]}; k++)); do
			t=${tools[$(((k + r) % ${#tools[@]}))]}
			t0=$EPOCHREALTIME
			if run_tool "$t" "$tmp/in" "$n"; then
				awk -v a="$t0" -v b="$EPOCHREALTIME" -v r="$r" \
					'BEGIN{printf "%d %.4f\n", r, b-a}' >>"$tmp/$t.wall"
			else
				echo "floor.sh: $t failed on $n tasks: $(tail -1 "$tmp/err")" >&2
			fi
		done
	done
	echo
	echo "## $n tasks of \`true\`, 2 at a time, $rounds rounds (load average $l0 before, $(load) after)"
	printf '| %-42s | %-26s | %-8s | %-8s | %-22s |\n' tool "wall s median (min-max)" "tasks/s" "µs/task" "/ floor, paired"
	printf '|%s|%s|%s|%s|%s|\n' -------------------------------------------- ---------------------------- ---------- ---------- ------------------------
	for t in "${tools[@]}"; do
		[ -s "$tmp/$t.wall" ] || { printf '| %-42s | failed |\n' "$(what "$t")"; continue; }
		w=$(cut -d' ' -f2 "$tmp/$t.wall" | median)
		ratio=-
		[ -s "$tmp/floor.wall" ] && ratio=$(join "$tmp/$t.wall" "$tmp/floor.wall" |
			awk '{print $2 / $3}' | stat3)
		printf '| %-42s | %-26s | %-8s | %-8s | %-22s |\n' "$(what "$t")" \
			"$(cut -d' ' -f2 "$tmp/$t.wall" | stat3)" \
			"$(awk -v n="$n" -v w="$w" 'BEGIN{printf "%.0f", n/w}')" \
			"$(awk -v n="$n" -v w="$w" 'BEGIN{printf "%.0f", w/n*1e6}')" "$ratio"
	done
	if [ -s "$tmp/nuclear.wall" ] && [ -s "$tmp/floor.wall" ]; then
		join "$tmp/nuclear.wall" "$tmp/floor.wall" | awk '{print $2 / $3}' | median |
			awk '{printf "goal: nicely -p nuclear within 1.25x of the floor: %.2f, %s\n", $1, $1 <= 1.25 ? "met" : "NOT met"}'
	fi
done

if [ "${COUNTS:-1}" = 1 ]; then
	n=2000
	seq "$n" >"$tmp/in"
	echo
	echo "## counts per task, one run of $n tasks each (load average $(load) before)"
	have_strace=$(command -v strace)
	have_perf=$(command -v perf)
	[ -n "$have_strace" ] || echo "(strace missing: scripts/deps.sh bench)"
	[ -n "$have_perf" ] || echo "(perf missing: scripts/deps.sh bench)"
	printf '| %-42s | %-16s | %-16s | %-18s | %-18s | %-16s |\n' tool \
		"syscalls, parent" "syscalls, tree" "page faults, parent" "page faults, tree" "parent CPU µs"
	printf '|%s|%s|%s|%s|%s|%s|\n' -------------------------------------------- ------------------ ------------------ -------------------- -------------------- ------------------
	for t in "${tools[@]}"; do
		[ "$t" = nicely ] && continue	# the default preset's dispatch is nuclear's
		sp=- st=- fp=- ft=- cpu=-
		tool_cmd "$t" "$n"
		if [ -n "$have_strace" ]; then
			strace -c -o "$tmp/sc" "${CMD[@]}" <"$tmp/in" >/dev/null 2>&1
			strace -f -c -o "$tmp/scf" "${CMD[@]}" <"$tmp/in" >/dev/null 2>&1
			sp=$(awk -v n="$n" '$NF=="total"{printf "%.1f", $4/n}' "$tmp/sc")
			st=$(awk -v n="$n" '$NF=="total"{printf "%.1f", $4/n}' "$tmp/scf")
		fi
		if [ -n "$have_perf" ]; then
			perf stat --no-inherit -x, -e page-faults,task-clock -o "$tmp/pp" \
				"${CMD[@]}" <"$tmp/in" >/dev/null 2>&1
			perf stat -x, -e page-faults -o "$tmp/pt" "${CMD[@]}" <"$tmp/in" >/dev/null 2>&1
			fp=$(awk -F, -v n="$n" '$3=="page-faults"{printf "%.2f", $1/n}' "$tmp/pp")
			cpu=$(awk -F, -v n="$n" '$3=="task-clock"{printf "%.0f", $1*1000/n}' "$tmp/pp")
			ft=$(awk -F, -v n="$n" '$3=="page-faults"{printf "%.1f", $1/n}' "$tmp/pt")
		fi
		printf '| %-42s | %-16s | %-16s | %-18s | %-18s | %-16s |\n' "$(what "$t")" "$sp" "$st" "$fp" "$ft" "$cpu"
	done
	echo "(load average $(load) after; parent: the dispatching process alone (with nocg, env execs it); tree: it and every task; perf's task-clock for the parent's CPU)"
fi

if [ "${LIB:-1}" = 1 ]; then
	echo
	l0=$(load)
	"$B/bench/lib_throughput" 20000 2000 0 3 >"$tmp/lib" 2>"$tmp/err" ||
		{ echo "floor.sh: lib_throughput failed: $(tail -1 "$tmp/err")" >&2; exit 1; }
	echo "## libnicely lifespan-1 workers against bare fork+waitpid (2,000 each, 10 alternating blocks; load average $l0 before, $(load) after)"
	awk '$1=="lifespan1_us"{l=$2} $1=="bare_fork_waitpid_us"{b=$2}
		$1=="lifespan1_over_bare_fork"{r=$2} $1=="lifespan1_over_bare_fork_min"{lo=$2}
		$1=="lifespan1_over_bare_fork_max"{hi=$2}
		END{printf "lifespan 1: %s µs a task; bare fork+waitpid: %s µs; ratio, median of the blocks: %s (%s-%s)\n", l, b, r, lo, hi
		    printf "goal: lifespan 1 within 1.2x of bare fork+waitpid: %s\n", r <= 1.2 ? "met" : "NOT met"}' "$tmp/lib"
fi
