#!/bin/bash
# Scale: batches of 10^4, 10^5 and 10^6 `true` tasks through `nicely run`
# (preset nuclear, -j = PUs): tasks per second and nicely's peak RSS. The
# goal is memory that stays flat as the batch grows (input is streamed and
# finished tasks keep only what ordered output and the joblog need).
# SIZES overrides the list.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
B=${NICELY_BUILD:-$top/build}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export NICELY_CONFIG=/dev/null XDG_CONFIG_HOME=$scratch
printf '| %-9s | %-10s | %-12s | %-14s |\n' tasks "wall s" "tasks/s" "peak RSS KiB"
printf '|%s|%s|%s|%s|\n' -----------  ------------ -------------- ----------------
for n in ${SIZES:-10000 100000 1000000}; do
	seq "$n" >"$scratch/in"
	/usr/bin/time -f '%e %M' -o "$scratch/t" "$B/nicely" run -p nuclear -j "$(nproc)" \
		-a "$scratch/in" true >/dev/null 2>"$scratch/err"
	rc=$?
	read -r wall rss <"$scratch/t"
	[ $rc = 0 ] || { echo "nicely run failed ($rc) at $n tasks: $(tail -1 "$scratch/err")"; continue; }
	printf '| %-9s | %-10s | %-12s | %-14s |\n' "$n" "$wall" \
		"$(awk -v n="$n" -v w="$wall" 'BEGIN{printf "%.0f", w>0?n/w:0}')" "$rss"
done
