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
: >"$scratch/empty.conf"
mkdir -p "$scratch/etc"   # built-in presets only: no machine or user config
export NICELY_CONFIG=$scratch/empty.conf XDG_CONFIG_HOME=$scratch NICELY_SYSCONFDIR=$scratch/etc
[ -x "$B/nicely" ] || { echo "scale: build first ($B/nicely missing)" >&2; exit 2; }
echo "# scale: $(nproc) PUs, nicely run -p nuclear -j $(nproc) -a FILE true; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '| %-9s | %-10s | %-12s | %-14s | %-12s |\n' tasks "wall s" "tasks/s" "peak RSS KiB" "RSS / first"
printf '|%s|%s|%s|%s|%s|\n' -----------  ------------ -------------- ---------------- --------------
fails=0 rss0=""
for n in ${SIZES:-10000 100000 1000000}; do
	seq "$n" >"$scratch/in"
	/usr/bin/time -f '%e %M' -o "$scratch/t" "$B/nicely" run -p nuclear -j "$(nproc)" \
		-a "$scratch/in" true >/dev/null 2>"$scratch/err"
	rc=$?
	read -r wall rss <"$scratch/t"
	[ $rc = 0 ] || { echo "nicely run failed ($rc) at $n tasks: $(tail -1 "$scratch/err")"; fails=$((fails + 1)); continue; }
	[ -n "$rss0" ] || rss0=$rss
	printf '| %-9s | %-10s | %-12s | %-14s | %-12s |\n' "$n" "$wall" \
		"$(awk -v n="$n" -v w="$wall" 'BEGIN{printf "%.0f", (w > 0) ? n / w : 0}')" "$rss" \
		"$(awk -v a="$rss" -v b="$rss0" 'BEGIN{printf "%.2f", a / b}')"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
exit "$fails"
