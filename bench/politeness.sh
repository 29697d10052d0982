#!/bin/bash
# The politeness benchmark: how much a batch slows another user's work.
# A foreground job (bench/fgwork) runs in its own session, as another user's
# would, beside a CPU-bound batch run by: nothing, xargs -P, nice -n 19,
# GNU parallel --nice 19 and --load 100%, chrt --idle 0, and nicely with
# each preset. Prints, per scenario, the median and min-max over REPEATS of:
# the foreground's slowdown (wall / wall alone), its p99 latency ratio, and
# the batch's harvest (CPU the batch got / CPU the foreground left idle).
# Runs whose machine was busy before the start (others' load) are discarded
# and counted (MAXBUSY, default 0.10, is the threshold). The fg-idle harvest
# is the machine's busy share while only the batch runs. Usage: bench/politeness.sh [SCENARIO...]; REPEATS (5),
# SETTLE (3 s before the foreground starts), NICELY_BUILD (build/).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
B=${NICELY_BUILD:-$top/build}
FG=$B/bench/fgwork
REPEATS=${REPEATS:-5}
SETTLE=${SETTLE:-3}
npu=$(nproc)
[ -x "$FG" ] || { echo "politeness: build first ($FG missing)" >&2; exit 2; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export NICELY_CONFIG=/dev/null XDG_CONFIG_HOME=$scratch

rate=$("$FG" calibrate)
work_iters=$rate                      # about 1 s alone on each PU
lat_iters=$((rate / 5000))            # about 200 us alone
batch_tasks=$((npu * 6))              # 6 x 5 s per PU: 30 s of work per PU
burn="$FG burn 5"

# Busy share of the whole machine over `sleep $1`, from /proc/stat.
busy_over() {
	local a b
	a=($(head -1 /proc/stat)); sleep "$1"; b=($(head -1 /proc/stat))
	awk -v a="${a[*]}" -v b="${b[*]}" 'BEGIN{split(a,x," ");split(b,y," ");
		t=0;i=0;for(k=2;k<=9;k++){d=y[k]-x[k];t+=d;if(k==5||k==6)i+=d}
		printf "%.3f\n", t?1-i/t:0}'
}

# Start the batch of one scenario in its own session; echo its session id.
start_batch() {
	local s=$1 cmd
	case $s in
	alone) return ;;
	xargs) cmd="seq $batch_tasks | xargs -P $npu -I{} $burn" ;;
	nice19) cmd="seq $batch_tasks | nice -n 19 xargs -P $npu -I{} $burn" ;;
	chrt-idle) cmd="seq $batch_tasks | chrt --idle 0 xargs -P $npu -I{} $burn" ;;
	parallel-nice19) cmd="seq $batch_tasks | parallel --will-cite --nice 19 -j $npu $burn" ;;
	parallel-load) cmd="seq $batch_tasks | parallel --will-cite --load 100% -j $npu $burn" ;;
	nicely-*) cmd="seq $batch_tasks | $B/nicely run -p ${s#nicely-} -- $burn" ;;
	*) echo "politeness: unknown scenario $s" >&2; exit 2 ;;
	esac
	setsid bash -c "exec >/dev/null 2>&1; $cmd" &
	echo $!
}

# End a scenario's batch: TERM its session (nicely kills its own tree on
# TERM), then KILL what is left of that session.
stop_batch() {
	local sid=$1 p
	[ -n "$sid" ] || return 0
	kill -TERM -- -"$sid" 2>/dev/null
	sleep 1
	for p in $(ps -eo pid=,sid= | awk -v s="$sid" '$2==s{print $1}'); do kill -KILL "$p" 2>/dev/null; done
	wait "$sid" 2>/dev/null
}

# One measurement: prints "wall p99 harvest" for scenario $1.
measure() {
	local s=$1 sid a b wall lat p99 idle_cpu
	sid=$(start_batch "$s")
	sleep "$SETTLE"
	idle_h=$(busy_over 2)
	a=($(head -1 /proc/stat))
	wall=$(setsid -w "$FG" work "$work_iters" | sed 's/wall=//')
	b=($(head -1 /proc/stat))
	lat=$(setsid -w "$FG" latency "$lat_iters")
	stop_batch "$sid"
	p99=${lat##*p99_us=}
	# harvest: CPU the batch used / CPU the foreground left idle, while
	# the fixed-work job ran (its own use is npu * work alone).
	harvest=$(awk -v a="${a[*]}" -v b="${b[*]}" -v n="$npu" -v w="$wall" -v w1="${alone_wall:-$wall}" 'BEGIN{
		split(a,x," ");split(b,y," ");t=0;i=0
		for(k=2;k<=9;k++){d=y[k]-x[k];t+=d;if(k==5||k==6)i+=d}
		busy=(t-i)/100; fg=n*w1; idle=n*w-fg; if (idle<=0.01) {print "-"; exit}
		h=(busy-fg)/idle; if(h<0)h=0; printf "%.2f", h}')
	echo "$wall $p99 $harvest $idle_h"
}

scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(xargs nice19 chrt-idle parallel-nice19 parallel-load
	nicely-generous nicely-normal nicely-aggressive nicely-extreme nicely-nuclear)
command -v parallel >/dev/null || scenarios=($(printf '%s\n' "${scenarios[@]}" | grep -v '^parallel'))

discarded=0
declare -A walls p99s harvests idles
for r in $(seq "$REPEATS"); do
	for s in alone "${scenarios[@]}"; do
		tries=0
		while [ "$(busy_over 0.5)" \> "${MAXBUSY:-0.10}" ] && [ $tries -lt 10 ]; do
			discarded=$((discarded + 1)); tries=$((tries + 1)); sleep 2
		done
		read -r wall p99 harvest idle_h < <(measure "$s")
		[ "$s" = alone ] && { alone_wall=$wall; alone_p99=$p99; }
		walls[$s]+="$(awk -v w="$wall" -v a="$alone_wall" 'BEGIN{printf "%.3f", w/a}') "
		p99s[$s]+="$(awk -v w="$p99" -v a="$alone_p99" 'BEGIN{printf "%.2f", w/a}') "
		harvests[$s]+="$harvest "
		idles[$s]+="$idle_h "
	done
done

# median (min-max) of a list of numbers
stat3() { tr ' ' '\n' | grep -v '^-*$' | sort -g | awk '{v[NR]=$1} END{if(!NR){print "-";exit}
	printf "%s (%s-%s)", v[int((NR+1)/2)], v[1], v[NR]}'; }

printf '# politeness: %d PUs, %d repeats, fixed work %.2fs alone; %d samples skipped for others load\n' \
	"$npu" "$REPEATS" "${alone_wall:-0}" "$discarded"
printf '| %-18s | %-22s | %-22s | %-20s | %-20s |\n' scenario "slowdown" "p99 latency ratio" "harvest (fg busy)" "harvest (fg idle)"
printf '|%s|%s|%s|%s|%s|\n' "--------------------" "------------------------" "------------------------" "----------------------" "----------------------"
for s in "${scenarios[@]}"; do
	printf '| %-18s | %-22s | %-22s | %-20s | %-20s |\n' "$s" "$(echo ${walls[$s]} | stat3)" \
		"$(echo ${p99s[$s]} | stat3)" "$(echo ${harvests[$s]} | stat3)" "$(echo ${idles[$s]} | stat3)"
done
