#!/bin/bash
# The batch store of `nicely submit`: batches of 1,000, 5,000 and 10,000
# tasks (`echo {}`, preset nuclear, -j = PUs) submitted detached, against
# the same batch through `nicely run` with stdout to /dev/null. For each:
# wall seconds from submit to `nicely wait`'s return, the supervisor's peak
# RSS (VmHWM, read from /proc just before it exits: the goal is memory
# that stays flat as the batch grows), the store's size on disk and per
# task, and the cost per task of the durable store (three fsyncs a task:
# the output files, the tasks directory, the joblog line) against `run`.
# SIZES overrides the list; the store is made in a scratch XDG_STATE_HOME
# on the same filesystem as TMPDIR.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
B=${NICELY_BUILD:-$top/build}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
: >"$scratch/empty.conf"
mkdir -p "$scratch/etc" "$scratch/rt"
chmod 700 "$scratch/rt"
export NICELY_CONFIG=$scratch/empty.conf XDG_CONFIG_HOME=$scratch \
	NICELY_SYSCONFDIR=$scratch/etc XDG_STATE_HOME=$scratch/state \
	NICELY_RUNTIME_DIR=$scratch/rt
[ -x "$B/nicely" ] || { echo "submit_store: build first ($B/nicely missing)" >&2; exit 2; }
now() { date +%s.%N; }
echo "# submit_store: $(nproc) PUs, echo {} through nicely submit vs nicely run -p nuclear -j $(nproc); $(df -T "$scratch" | awk 'NR==2 {print $2}') under TMPDIR; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '| %-7s | %-8s | %-8s | %-14s | %-12s | %-14s | %-12s |\n' tasks "run s" "submit s" "ms/task extra" "peak RSS KiB" "store KiB" "bytes/task"
printf '|%s|%s|%s|%s|%s|%s|%s|\n' --------- ---------- ---------- ---------------- -------------- ---------------- --------------
fails=0
for n in ${SIZES:-1000 5000 10000}; do
	seq "$n" >"$scratch/in"
	t0=$(now)
	"$B/nicely" run -p nuclear -j "$(nproc)" -a "$scratch/in" echo >/dev/null 2>&1
	t1=$(now)
	id=$("$B/nicely" submit -p nuclear -j "$(nproc)" -a "$scratch/in" echo) ||
		{ echo "submit failed at $n tasks"; fails=$((fails + 1)); continue; }
	dir=$XDG_STATE_HOME/nicely/batches/$id
	pid=$(pgrep -f -- "--store $dir" | head -1)
	hwm=0
	# VmHWM only grows: the last reading before the process goes is its peak
	while [ -n "$pid" ] && h=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null) && [ -n "$h" ]; do
		hwm=$h
		sleep 0.05
	done
	"$B/nicely" wait "$id" || { echo "the batch of $n tasks failed"; fails=$((fails + 1)); }
	t2=$(now)
	kib=$(du -sk "$dir" | cut -f1)
	printf '| %-7s | %-8.2f | %-8.2f | %-14.3f | %-12s | %-14s | %-12s |\n' "$n" \
		"$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)" \
		"$(echo "(($t2 - $t1) - ($t1 - $t0)) * 1000 / $n" | bc -l)" "$hwm" "$kib" \
		"$(echo "$kib * 1024 / $n" | bc)"
	"$B/nicely" rm "$id" >/dev/null
done
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $fails
