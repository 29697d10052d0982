#!/bin/bash
# Dispatch throughput of the CLI: N tasks of `true` (and a variant where each
# task prints 1 KiB that must come back in submission order) through
# `nicely run -p nuclear -j PUs` and the tools people use today: xargs -P,
# GNU parallel -j (with and without -k) and task-spooler (tsp -S, its own
# server on a private socket). Runs alternate between the tools (the order
# rotates every repeat) and each figure is the median of REPEATS runs.
# Prints one table per (size, variant): wall, jobs/s, us/job and each tool's
# wall divided by nicely's (above 1: nicely is faster).
# Usage: bench/dispatch_all.sh; SIZES ("2000 20000"), VARIANTS ("true out1k"),
# TOOLS ("nicely xargs parallel parallel-k tsp"), REPEATS (5),
# NICELY_BUILD (build/), BENCH_DATA (build/bench-data: a TSV for plots).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
B=${NICELY_BUILD:-$top/build}
REPEATS=${REPEATS:-5}
npu=$(nproc)
data=${BENCH_DATA:-$top/build/bench-data}
[ -x "$B/nicely" ] || { echo "dispatch_all: build first ($B/nicely missing)" >&2; exit 2; }
mkdir -p "$data" || exit 2
scratch=$(mktemp -d)
tsp_up=""
# On any exit: stop a task-spooler server we started, remove the scratch dir.
cleanup() {
	[ -z "$tsp_up" ] || TS_SOCKET=$scratch/ts.sock tsp -K >/dev/null 2>&1
	rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
: >"$scratch/empty.conf"
mkdir -p "$scratch/etc"   # built-in presets only: no machine or user config
export NICELY_CONFIG=$scratch/empty.conf XDG_CONFIG_HOME=$scratch NICELY_SYSCONFDIR=$scratch/etc
fmt1k="%01023d\n"              # one task's output: its value in 1,024 bytes

tools=(${TOOLS:-nicely xargs parallel parallel-k tsp})
for t in "${tools[@]}"; do
	case $t in
	nicely|xargs) ;;
	parallel|parallel-k) command -v parallel >/dev/null || { echo "dispatch_all: GNU parallel missing (scripts/deps.sh bench)" >&2; exit 2; } ;;
	tsp) command -v tsp >/dev/null || { echo "dispatch_all: task-spooler missing (scripts/deps.sh bench)" >&2; exit 2; } ;;
	*) echo "dispatch_all: unknown tool $t" >&2; exit 2 ;;
	esac
done

# Run the queued tsp jobs' batch: a private server with $npu slots, one
# client per task, then wait until none is queued or running; the outputs
# of variant out1k are concatenated in job order (tsp keeps one file each).
run_tsp() {
	local n=$1 v=$2 i left
	export TS_SOCKET=$scratch/ts.sock TMPDIR=$scratch/tsout TS_MAXFINISHED=$((n + 10))
	mkdir -p "$TMPDIR" || return 1
	tsp_up=1
	tsp -S "$npu" || return 1
	for ((i = 1; i <= n; i++)); do
		if [ "$v" = true ]; then tsp -n true "$i"; else tsp printf "$fmt1k" "$i"; fi
	done >/dev/null || return 1
	tsp -w >/dev/null 2>&1
	for ((;;)); do
		left=$(tsp -l | awk 'NR>1 && ($2=="running" || $2=="queued" || $2=="allocating")' | wc -l)
		[ "$left" = 0 ] && break
		sleep 0.01
	done
	tsp -l >"$scratch/tsp.list"
	if [ "$v" = out1k ]; then
		awk 'NR>1 && $2=="finished"{print $1, $3}' "$scratch/tsp.list" | sort -n |
			cut -d' ' -f2 | xargs cat || return 1
	fi
	tsp -K; tsp_up=""
	rm -rf "$TMPDIR"
	unset TS_SOCKET TMPDIR TS_MAXFINISHED
	# every job must have finished with exit level 0
	[ "$(awk 'NR>1 && $2=="finished" && $4==0' "$scratch/tsp.list" | wc -l)" = "$n" ]
}

# One run of tool $1 on $2 tasks of variant $3; output to $scratch/out.
# Returns non-zero when the tool failed.
run_tool() {
	local t=$1 n=$2 v=$3 cmd
	if [ "$v" = true ]; then cmd=(true); else cmd=("printf '$fmt1k'"); fi
	case $t in
	nicely) "$B/nicely" run -p nuclear -j "$npu" -a "$scratch/in.$n" "${cmd[@]}" ;;
	xargs) if [ "$v" = true ]; then xargs -P "$npu" -n 1 true <"$scratch/in.$n"
	       else xargs -P "$npu" -n 1 printf "$fmt1k" <"$scratch/in.$n"; fi ;;
	parallel) parallel --will-cite -j "$npu" "${cmd[@]}" <"$scratch/in.$n" ;;
	parallel-k) parallel --will-cite -k -j "$npu" "${cmd[@]}" <"$scratch/in.$n" ;;
	tsp) run_tsp "$n" "$v" ;;
	esac >"$scratch/out" 2>"$scratch/err"
}

# Check a run's output: variant out1k must be N KiB, and in submission order
# for the tools that promise it (nicely, parallel -k, tsp gathered by id).
check_out() {
	local t=$1 n=$2 v=$3
	[ "$v" = true ] && return 0
	[ "$(stat -c %s "$scratch/out")" = $((n * 1024)) ] || return 1
	case $t in
	nicely|parallel-k|tsp) cmp -s "$scratch/out" "$scratch/want.$n" ;;
	*) sort "$scratch/out" | cmp -s - "$scratch/want.$n" ;;
	esac
}

# median (min-max) of the numbers on stdin
stat3() { sort -g | awk '{v[NR]=$1} END{if(!NR){print "-";exit}
	printf "%.3f (%.3f-%.3f)", v[int((NR+1)/2)], v[1], v[NR]}'; }
# median of the numbers on stdin
median() { sort -g | awk '{v[NR]=$1} END{if(NR) print v[int((NR+1)/2)]}'; }

echo "# dispatch: $npu PUs, median of $REPEATS alternating runs; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
: >"$data/dispatch.tsv"
for n in ${SIZES:-2000 20000}; do
	seq "$n" >"$scratch/in.$n"
	xargs printf "$fmt1k" <"$scratch/in.$n" >"$scratch/want.$n"
	for v in ${VARIANTS:-true out1k}; do
		declare -A walls=() fails=()
		for ((r = 0; r < REPEATS; r++)); do
			for ((k = 0; k < ${#tools[@]}; k++)); do
				t=${tools[$(((k + r) % ${#tools[@]}))]}
				t0=$EPOCHREALTIME
				if run_tool "$t" "$n" "$v" && check_out "$t" "$n" "$v"; then
					walls[$t]+="$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.4f", b-a}') "
				else
					fails[$t]=$(( ${fails[$t]:-0} + 1 ))
					echo "dispatch_all: $t failed on $n x $v: $(tail -1 "$scratch/err")" >&2
				fi
			done
		done
		desc="\`true\`"; [ "$v" = out1k ] && desc="1 KiB of output each, ordered where the tool can"
		echo
		echo "## $n tasks, $desc"
		printf '| %-10s | %-24s | %-8s | %-8s | %-10s |\n' tool "wall s median (min-max)" "jobs/s" "us/job" "/ nicely"
		printf '|%s|%s|%s|%s|%s|\n' ------------ -------------------------- ---------- ---------- ------------
		ref=$(echo ${walls[nicely]:-} | tr ' ' '\n' | median)
		for t in "${tools[@]}"; do
			w=$(echo ${walls[$t]:-} | tr ' ' '\n' | median)
			if [ -z "$w" ]; then
				printf '| %-10s | %-24s | %-8s | %-8s | %-10s |\n' "$t" "failed ${fails[$t]:-0}x" - - -
				continue
			fi
			ratio=-; [ -n "$ref" ] && ratio=$(awk -v a="$w" -v b="$ref" 'BEGIN{printf "%.2f", a/b}')
			note=""; [ -n "${fails[$t]:-}" ] && note=" ${fails[$t]} failed"
			printf '| %-10s | %-24s | %-8s | %-8s | %-10s |\n' "$t" \
				"$(echo ${walls[$t]} | tr ' ' '\n' | stat3)$note" \
				"$(awk -v n="$n" -v w="$w" 'BEGIN{printf "%.0f", n/w}')" \
				"$(awk -v n="$n" -v w="$w" 'BEGIN{printf "%.0f", w/n*1e6}')" "$ratio"
			printf '%s\t%s\t%s\t%s\n' "$n" "$v" "$t" "$(awk -v n="$n" -v w="$w" 'BEGIN{printf "%.1f", n/w}')" >>"$data/dispatch.tsv"
		done
		rx=$(echo ${walls[xargs]:-} | tr ' ' '\n' | median); rp=$(echo ${walls[parallel]:-} | tr ' ' '\n' | median)
		if [ -n "$ref" ] && [ -n "$rx" ] && [ -n "$rp" ]; then
			awk -v n="$ref" -v x="$rx" -v p="$rp" 'BEGIN{
				printf "goals: no slower than xargs -P (xargs/nicely %.2f >= 1: %s); 10x GNU parallel (parallel/nicely %.1f >= 10: %s)\n",
					x/n, (x/n >= 1) ? "met" : "NOT met", p/n, (p/n >= 10) ? "met" : "NOT met"}'
		fi
		unset walls fails
	done
done
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg). xargs and parallel without -k do not keep order (their output is checked sorted); tsp runs each task without a shell and keeps each output in a file, gathered here in job order."
