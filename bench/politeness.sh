#!/bin/bash
# The politeness benchmark: how much a batch slows another user's work, and
# how much idle CPU it still harvests. A CPU-bound batch (bench/fgwork burn,
# enough for 30 s on every PU) runs in its own session under: xargs -P,
# nice -n 19, chrt --idle 0, GNU parallel --nice 19 and --load 100%, and
# nicely with each preset. Beside it, in sessions of their own as another
# user's jobs would be, bench/fgwork measures in turn:
#   harvest (fg idle)  CPU the batch got / CPU others left idle, over IDLEWIN s
#                      with no foreground at all;
#   reaction           a burner pinned to the last PU appears; the time until
#                      it gets >= 90% of that PU over 100 ms (the batch
#                      paused, moved or yielded), its CPU time sampled every
#                      10 ms, REACT s at most;
#   slowdown           fixed work on all PUs (about 1 s alone): wall / alone;
#   harvest (fg busy)  CPU the batch got / CPU the fixed work left idle;
#   p99 ratio          1,000 x (sleep 1 ms + 200 us of work): p99 / alone.
# The batch's CPU is the CPU time of the processes in its session, so other
# users' load does not count as harvest. A run where others used more than
# MAXBUSY (0.10) of the machine during the measurement is discarded and run
# again (up to 3 times); the discarded runs are counted. At the end of each
# scenario the batch is stopped: nicely gets SIGTERM alone and must kill its
# tasks by itself (what it leaves is reported); the others get SIGTERM and
# then SIGKILL to every PID in their session, until the session is empty.
# Prints medians and min-max over REPEATS. Usage: bench/politeness.sh
# [SCENARIO...]; REPEATS (5), DEADLINE (epoch seconds: no repeat starts
# after it), SETTLE (3 s after the batch starts), IDLEWIN
# (3 s), REACT (5 s), MAXBUSY (0.10), NICELY_BUILD (build/), BENCH_DATA
# (build/bench-data: a TSV for plots).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
B=${NICELY_BUILD:-$top/build}
FG=$B/bench/fgwork
REPEATS=${REPEATS:-5}
SETTLE=${SETTLE:-3}
IDLEWIN=${IDLEWIN:-3}
REACT=${REACT:-5}
MAXBUSY=${MAXBUSY:-0.10}
data=${BENCH_DATA:-$top/build/bench-data}
npu=$(nproc)
hz=$(getconf CLK_TCK)
[ -x "$FG" ] || { echo "politeness: build first ($FG missing)" >&2; exit 2; }
mkdir -p "$data" || exit 2
scratch=$(mktemp -d)
cur_sid=""
# On any exit: stop a batch still running, remove the scratch dir.
cleanup() {
	[ -z "$cur_sid" ] || stop_batch "$cur_sid" - >/dev/null
	rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
: >"$scratch/empty.conf"
mkdir -p "$scratch/etc"   # built-in presets only: no machine or user config
export NICELY_CONFIG=$scratch/empty.conf XDG_CONFIG_HOME=$scratch NICELY_SYSCONFDIR=$scratch/etc

rate=$("$FG" calibrate)
work_iters=$rate                      # about 1 s alone on each PU
lat_iters=$((rate / 5000))            # about 200 us alone
batch_tasks=$((npu * 6))              # 6 x 5 s per PU: 30 s of work per PU
burn="$FG burn 5"
react_pu=$((npu - 1))

# Busy and total jiffies of the whole machine, from the first line of /proc/stat.
stat_jiffies() {
	awk '/^cpu /{t=0; for(k=2;k<=9;k++) t+=$k; print t-$5-$6, t; exit}' /proc/stat
}

# Busy share of the whole machine over `sleep $1`.
busy_over() {
	local b0 t0 b1 t1
	read -r b0 t0 < <(stat_jiffies); sleep "$1"; read -r b1 t1 < <(stat_jiffies)
	awk -v b="$((b1 - b0))" -v t="$((t1 - t0))" 'BEGIN{printf "%.3f\n", t ? b/t : 0}'
}

# PIDs in session $1.
session_pids() { ps -eo pid=,sid= | awk -v s="$1" '$2==s{print $1}'; }

# CPU seconds of session $1: every live process's own time plus what it
# collected from children it reaped (fields 14-17 of /proc/PID/stat).
session_cpu() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v s="$1" -v hz="$hz" '
		{ sub(/^.*\) /, ""); if ($4 == s) t += $12 + $13 + $14 + $15 }
		END { printf "%.2f\n", t / hz }'
}

# Start the batch of one scenario in its own session; its id in cur_sid.
start_batch() {
	local s=$1 cmd
	case $s in
	xargs) cmd="seq $batch_tasks | xargs -P $npu -I{} $burn" ;;
	nice19) cmd="seq $batch_tasks | nice -n 19 xargs -P $npu -I{} $burn" ;;
	chrt-idle) cmd="seq $batch_tasks | chrt --idle 0 xargs -P $npu -I{} $burn" ;;
	parallel-nice19) cmd="seq $batch_tasks | parallel --will-cite --nice 19 -j $npu $burn" ;;
	parallel-load) cmd="seq $batch_tasks | parallel --will-cite --load 100% -j $npu $burn" ;;
	nicely-*) cmd="seq $batch_tasks | exec $B/nicely run -p ${s#nicely-} -- $burn" ;;
	*) echo "politeness: unknown scenario $s" >&2; return 2 ;;
	esac
	setsid bash -c "exec >/dev/null 2>>$scratch/batch.err; $cmd" &
	cur_sid=$!
}

# End the batch of session $1 ($2: its scenario). nicely gets SIGTERM alone
# and 3 s to kill its tasks; then every PID left in the session gets TERM,
# then KILL, until none is left. Prints how many processes nicely left.
stop_batch() {
	local sid=$1 s=$2 p n left=0 i
	if [[ $s == nicely-* ]]; then
		n=$(ps -eo pid=,sid=,comm= | awk -v s="$sid" '$2==s && $3=="nicely"{print $1}')
		[ -z "$n" ] || kill -TERM $n 2>/dev/null
		for ((i = 0; i < 30; i++)); do
			[ -z "$(session_pids "$sid")" ] && break
			sleep 0.1
		done
		left=$(ps -eo sid=,comm= | awk -v s="$sid" '$1==s && $2!="bash" && $2!="seq"' | wc -l)
	fi
	for ((i = 0; i < 50; i++)); do
		p=$(session_pids "$sid")
		[ -z "$p" ] && break
		kill -"$([ $i -lt 5 ] && echo TERM || echo KILL)" $p 2>/dev/null
		sleep 0.1
	done
	[ -z "$(session_pids "$sid")" ] || echo "politeness: session $sid still has processes" >&2
	wait "$sid" 2>/dev/null
	echo "$left"
}

# Value of key $1 in the key=value line $2.
kv() { local x=${2##*$1=}; echo "${x%% *}"; }

# One measurement of scenario $1. Sets result to "fg-wall p99 harvest-busy
# harvest-idle react-ms others-share left".
measure() {
	local s=$1 sid="" b0 t0 b1 t1 c0 c1 a0 a1 out wall wcpu lat p99 lcpu r rms rcpu
	local hidle="-" hbusy="-" left=0 fgcpu
	if [ "$s" != alone ]; then
		start_batch "$s" || return 1
		sid=$cur_sid
		sleep "$SETTLE"
	fi
	read -r b0 t0 < <(stat_jiffies)
	if [ -n "$sid" ]; then
		c0=$(session_cpu "$sid"); sleep "$IDLEWIN"; c1=$(session_cpu "$sid")
		read -r b1 t1 < <(stat_jiffies)
		hidle=$(awk -v c="$(echo "$c1 - $c0" | bc)" -v b="$((b1 - b0))" -v t="$((t1 - t0))" -v hz="$hz" 'BEGIN{
			cap=t/hz; others=b/hz-c; idle=cap-(others>0?others:0)
			printf "%.2f", (idle > 0) ? c / idle : 0}')
	fi
	r=$(setsid -w "$FG" react "$react_pu" "$REACT") || return 1
	rms=$(kv react_ms "$r"); rcpu=$(kv cpu "$r")
	[ "$rms" = -1 ] && rms=$((REACT * 1000))
	sleep 1
	[ -n "$sid" ] && a0=$(session_cpu "$sid")
	read -r b1 t1 < <(stat_jiffies)
	out=$(setsid -w "$FG" work "$work_iters") || return 1
	read -r b2 t2 < <(stat_jiffies)
	[ -n "$sid" ] && a1=$(session_cpu "$sid")
	wall=$(kv wall "$out"); wcpu=$(kv cpu "$out")
	if [ -n "$sid" ]; then
		hbusy=$(awk -v c="$(echo "$a1 - $a0" | bc)" -v n="$npu" -v w="$wall" -v f="$wcpu" 'BEGIN{
			idle=n*w-f; if (idle<=0.05) {print "-"; exit} printf "%.2f", c/idle}')
	fi
	lat=$(setsid -w "$FG" latency "$lat_iters") || return 1
	p99=$(kv p99_us "$lat"); lcpu=$(kv cpu "$lat")
	read -r b3 t3 < <(stat_jiffies)
	[ -n "$sid" ] && c1=$(session_cpu "$sid") || c1=0
	c0=${c0:-0}
	if [ -n "$sid" ]; then left=$(stop_batch "$sid" "$s"); cur_sid=""; fi
	# others' share: all busy CPU minus the batch's and the foreground's
	fgcpu=$(echo "$rcpu + $wcpu + $lcpu" | bc)
	result=$(awk -v b="$((b3 - b0))" -v t="$((t3 - t0))" -v hz="$hz" -v c="$(echo "$c1 - $c0" | bc)" -v f="$fgcpu" \
		-v w="$wall" -v p="$p99" -v hb="$hbusy" -v hi="$hidle" -v r="$rms" -v l="$left" 'BEGIN{
		o=(b/hz-c-f)/(t/hz); if (o<0) o=0
		printf "%s %s %s %s %s %.3f %s\n", w, p, hb, hi, r, o, l}')
}

scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(xargs nice19 chrt-idle parallel-nice19 parallel-load
	nicely-generous nicely-normal nicely-aggressive nicely-extreme nicely-nuclear)
command -v parallel >/dev/null || scenarios=($(printf '%s\n' "${scenarios[@]}" | grep -v '^parallel'))
[ -x "$B/nicely" ] || scenarios=($(printf '%s\n' "${scenarios[@]}" | grep -v '^nicely'))

discarded=0 waited=0 lost=0
declare -A walls p99s hbusys hidles reacts lefts others
start_load=$(cut -d' ' -f1-3 /proc/loadavg)
done_reps=0
for ((r = 1; r <= REPEATS; r++)); do
	# DEADLINE (seconds since the epoch): start no repeat after it
	if [ -n "${DEADLINE:-}" ] && [ "$(date +%s)" -ge "$DEADLINE" ]; then
		echo "politeness: DEADLINE reached after $done_reps repeats" >&2; break
	fi
	done_reps=$r
	for s in alone "${scenarios[@]}"; do
		for ((try = 0; try < 4; try++)); do
			# wait (up to 20 s) for others to quieten before starting
			for ((q = 0; q < 10; q++)); do
				[ "$(awk -v b="$(busy_over 0.5)" -v m="$MAXBUSY" 'BEGIN{print (b>m)}')" = 0 ] && break
				waited=$((waited + 2)); sleep 1.5
			done
			result=""
			measure "$s" || { echo "politeness: $s: a measurement failed" >&2; line=""
				[ -z "$cur_sid" ] || stop_batch "$cur_sid" "$s" >/dev/null; cur_sid=""; break; }
			line=$result; [ -z "${DEBUG:-}" ] || echo "politeness: $s: $line" >&2
			read -r wall p99 hb hi rms oth left <<<"$line"
			lefts[$s]=$(( ${lefts[$s]:-0} + left ))
			if [ "$(awk -v o="$oth" -v m="$MAXBUSY" 'BEGIN{print (o>m)}')" = 1 ]; then
				discarded=$((discarded + 1)); others[$s]+="$oth "; line=""
				continue
			fi
			break
		done
		[ -n "$line" ] || { lost=$((lost + 1)); continue; }
		others[$s]+="$oth "
		if [ "$s" = alone ]; then alone_wall=$wall; alone_p99=$p99; alone_react=$rms; continue; fi
		[ -n "${alone_wall:-}" ] || continue
		walls[$s]+="$(awk -v w="$wall" -v a="$alone_wall" 'BEGIN{printf "%.3f", w/a}') "
		p99s[$s]+="$(awk -v w="$p99" -v a="$alone_p99" 'BEGIN{printf "%.2f", w/a}') "
		hbusys[$s]+="$hb "
		hidles[$s]+="$hi "
		reacts[$s]+="$rms "
	done
done

# median (min-max) of a list of numbers
stat3() { tr ' ' '\n' | grep -v '^-*$' | sort -g | awk '{v[NR]=$1} END{if(!NR){print "-";exit}
	printf "%s (%s-%s)", v[int((NR+1)/2)], v[1], v[NR]}'; }
# median of a list of numbers, "-" when empty
med() { tr ' ' '\n' | grep -v '^-*$' | sort -g | awk '{v[NR]=$1} END{print NR ? v[int((NR+1)/2)] : "-"}'; }
# reaction figures: median (min-max) in ms, "none" for no reaction within REACT s
react3() { stat3 | sed "s/\b$((REACT * 1000))\b/none/g"; }

printf '# politeness: %d PUs, %d repeats, fixed work %.2f s alone, p99 alone %s us, reaction alone %s ms; load average before %s, after %s\n' \
	"$npu" "$done_reps" "${alone_wall:-0}" "${alone_p99:--}" "${alone_react:--}" "$start_load" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '# %d runs discarded (others used > %s of the machine during them), %d given up, %d s waited for quiet\n' \
	"$discarded" "$MAXBUSY" "$lost" "$waited"
printf '| %-17s | %-20s | %-20s | %-18s | %-18s | %-20s | %-11s |\n' scenario slowdown "p99 latency ratio" "harvest (fg busy)" "harvest (fg idle)" "reaction ms" "others/left"
printf '|%s|%s|%s|%s|%s|%s|%s|\n' ------------------- ---------------------- ---------------------- -------------------- -------------------- ---------------------- -------------
: >"$data/politeness.tsv"
for s in "${scenarios[@]}"; do
	printf '| %-17s | %-20s | %-20s | %-18s | %-18s | %-20s | %-11s |\n' "$s" "$(echo ${walls[$s]:-} | stat3)" \
		"$(echo ${p99s[$s]:-} | stat3)" "$(echo ${hbusys[$s]:-} | stat3)" "$(echo ${hidles[$s]:-} | stat3)" \
		"$(echo ${reacts[$s]:-} | react3)" "$(echo ${others[$s]:-} | med)/${lefts[$s]:-0}"
	# scenario, slowdown median min max, p99 median min max, harvest idle median
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" \
		"$(echo ${walls[$s]:-} | med)" "$(echo ${walls[$s]:-} | tr ' ' '\n' | grep . | sort -g | head -1)" \
		"$(echo ${walls[$s]:-} | tr ' ' '\n' | grep . | sort -g | tail -1)" \
		"$(echo ${p99s[$s]:-} | med)" "$(echo ${p99s[$s]:-} | tr ' ' '\n' | grep . | sort -g | head -1)" \
		"$(echo ${p99s[$s]:-} | tr ' ' '\n' | grep . | sort -g | tail -1)" "$(echo ${hidles[$s]:-} | med)" >>"$data/politeness.tsv"
done
# the goals of the default preset: slowdown <= 1.03, p99 <= 1.2x, harvest
# >= 90% of the idle CPU, reaction within two sampling intervals
if [ -n "${walls[nicely-normal]:-}" ]; then
	iv=$("$B/nicely" presets normal 2>/dev/null | awk '$1=="interval"{print $2}')
	ivms=$(echo "$iv" | awk '/ms$/{print $0+0; next} /s$/{print ($0+0)*1000; next} {print ""}')
	awk -v w="$(echo ${walls[nicely-normal]} | med)" -v p="$(echo ${p99s[nicely-normal]} | med)" \
		-v h="$(echo ${hidles[nicely-normal]} | med)" -v r="$(echo ${reacts[nicely-normal]} | med)" -v iv="$ivms" 'BEGIN{
		m="met"; n="NOT met"
		printf "goals of preset normal: slowdown %s <= 1.03: %s; p99 ratio %s <= 1.2: %s; harvest (fg idle) %s >= 0.90: %s; ", w, (w <= 1.03) ? m : n, p, (p <= 1.2) ? m : n, h, (h >= 0.9) ? m : n
		if (iv == "") print "reaction: sampling interval unknown"
		else printf "reaction %s ms <= 2 intervals (%d ms): %s\n", r, 2 * iv, (r <= 2 * iv) ? m : n}'
fi
echo "others/left: median share of the machine others used during the kept runs / processes nicely left running after SIGTERM (killed by the benchmark)."
[ ! -s "$scratch/batch.err" ] || { echo "batch stderr (last lines):"; tail -5 "$scratch/batch.err"; }
