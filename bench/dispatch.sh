#!/bin/bash
# Dispatch speed: 2,000 tasks of `true` (one value appended each), run by
# `nicely run -p nuclear -j2` (with cgroups when it can make them, and
# without: NICELY_CGROUP_ROOT pointing nowhere), `xargs -P2 -n1`,
# `parallel -j2` and `parallel -j2 -k`, alternating, 5 rounds; prints each
# tool's median wall time and its ratio to nicely. Goal: nicely <= xargs,
# >= 10x parallel. NICELY_BEFORE=DIR adds the nicely of another build
# directory (say, before a change) to the same rounds.
# Usage: bench/dispatch.sh [TASKS] [ROUNDS]   (NICELY_BUILD: build dir)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
b=${NICELY_BUILD:-$top/build}
n=${1:-2000}
rounds=${2:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
seq "$n" >"$tmp/values"
# the machine's own config must not change what is measured
mkdir -p "$tmp/etc" "$tmp/xdg"
: >"$tmp/empty.conf"
export NICELY_SYSCONFDIR="$tmp/etc" XDG_CONFIG_HOME="$tmp/xdg" NICELY_CONFIG="$tmp/empty.conf"

tools=(nicely)
[ -n "${NICELY_BEFORE:-}" ] && tools+=(nicely-before)
tools+=(nicely-nocg xargs)
command -v parallel >/dev/null && tools+=(parallel parallel-k) ||
	echo "dispatch: GNU parallel missing (scripts/deps.sh bench); skipping it" >&2

# Run one tool once over the values; print its wall time in seconds.
one() {
	local t0 t1
	t0=$(date +%s.%N)
	case $1 in
	nicely) "$b/nicely" run -p nuclear -j2 true <"$tmp/values" ;;
	nicely-before) "$NICELY_BEFORE/nicely" run -p nuclear -j2 true <"$tmp/values" ;;
	nicely-nocg) NICELY_CGROUP_ROOT="$tmp/none" "$b/nicely" run -p nuclear -j2 true \
		<"$tmp/values" 2>/dev/null ;;
	xargs) xargs -P2 -n1 true <"$tmp/values" ;;
	parallel) parallel -j2 true <"$tmp/values" ;;
	parallel-k) parallel -j2 -k true <"$tmp/values" ;;
	esac
	local rc=$?
	t1=$(date +%s.%N)
	[ $rc = 0 ] || { echo "dispatch: $1 failed (exit $rc)" >&2; exit 1; }
	echo "$t1 - $t0" | bc
}

load0=$(cut -d' ' -f1 /proc/loadavg)
for r in $(seq "$rounds"); do
	for t in "${tools[@]}"; do
		one "$t" >>"$tmp/$t.times"
	done
done

median() { sort -n "$1" | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
base=$(median "$tmp/nicely.times")
printf '%d tasks of true, 2 at a time, median of %d alternating runs (load %s before, %s after)\n' \
	"$n" "$rounds" "$load0" "$(cut -d' ' -f1 /proc/loadavg)"
printf '%-28s %10s %15s %12s %14s\n' tool "wall (s)" "min-max" "tasks/s" "time / nicely"
for t in "${tools[@]}"; do
	m=$(median "$tmp/$t.times")
	case $t in
	nicely) name="nicely run -p nuclear -j2" ;;
	nicely-before) name="same, NICELY_BEFORE" ;;
	nicely-nocg) name="same, no cgroups" ;;
	xargs) name="xargs -P2 -n1" ;;
	parallel) name="parallel -j2" ;;
	parallel-k) name="parallel -j2 -k" ;;
	esac
	printf '%-28s %10.3f %15s %12.0f %14.2f\n' "$name" "$m" \
		"$(sort -n "$tmp/$t.times" | awk 'NR == 1 {a = $1} {b = $1} END {printf "%.2f-%.2f", a, b}')" \
		"$(echo "$n / $m" | bc -l)" "$(echo "$m / $base" | bc -l)"
done
