#!/bin/sh
# The README's first command ends here (`make demo` builds quietly first):
# show nicely at work on this machine. First the machine as nicely sees it,
# the default preset's thresholds and where the machine stands against them
# (the reason a batch may run one task at a time), then a real small batch:
# a dozen tasks of different lengths, each printing where it ran (CPU) and at
# which nice, written back in submission order, with GNU parallel's joblog.
# Usage: scripts/demo.sh [BUILD_DIR]
set -eu
b=${1:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== nicely top --once: the machine as nicely sees it"
echo "   (others%: share of the PU busy with work that is not this batch's, over"
echo "   the last 200 ms; ours%: the batch's own share, 0 in nicely top, which runs none)"
"$b/nicely" top --once >"$tmp/top"
cat "$tmp/top"

echo
echo "== nicely presets normal: what the default preset waits for (the knobs that gate starts)"
"$b/nicely" presets normal >"$tmp/preset"
awk '$1 ~ /^(idle_threshold|reserve_pus|reserve_min_pus|load_ceiling|pressure_ceiling|mem_floor|ramp_up|force_one|hysteresis)$/ {
	printf "   %-17s %s\n", $1, $2 }' "$tmp/preset"

# The machine against those thresholds, read from the two outputs above.
knob() { awk -v k="$1" '$1 == k { print $2 }' "$tmp/preset"; }
idle=$(knob idle_threshold) load_ceiling=$(knob load_ceiling) psi_ceiling=$(knob pressure_ceiling)
echo
echo "== the machine now, against them (before the batch: none of its tasks runs yet)"
awk -v idle="${idle%\%}" -v lc="$load_ceiling" -v pc="$psi_ceiling" '
	/^load average:/ { load = $3 + 0 }
	/ PUs? \([0-9]+ allowed\)/ { match($0, /\([0-9]+ allowed\)/); allowed = substr($0, RSTART + 1, RLENGTH - 10) + 0 }
	/^CPU pressure: some avg10/ { psi = $5; sub(/%,?$/, "", psi); psi += 0; has_psi = 1 }
	/^ *PU +CPU/ { table = 1; next }
	table && $7 == "yes" && $8 != "offline" { if ($8 + 0 < idle) free++; npu++ }
	function verdict(v, c) { return c == "off" ? "no ceiling" : v > c + 0 ? "above it, nothing new starts" : "below it" }
	END {
		per = allowed ? load / allowed : 0
		printf "   load average (1 min) %.2f over %d allowed PUs = %.2f per PU, load_ceiling %s: %s\n",
			load, allowed, per, lc, verdict(per, lc)
		if (has_psi)
			printf "   CPU pressure (some avg10) %.2f%%, pressure_ceiling %s: %s\n", psi, pc, verdict(psi, pc)
		printf "   PUs others use less than %s%% of (free for a task): %d of %d\n", idle, free, npu
	}' "$tmp/top"
echo "   A task starts only on a free PU, and none while a ceiling is passed; with"
echo "   force_one = yes one task still runs when none of the batch's does. On a busy"
echo "   machine (the 1-minute load average falls slowly after a build) the batch"
echo "   below therefore runs one task at a time."

echo
echo "== nicely run: 12 tasks (the normal preset), output in submission order"
echo "   \$ nicely run --joblog JOBLOG 'sleep 0.\$((13 - {})); echo task {}: ...' ::: \$(seq 12)"
rc=0
"$b/nicely" run --joblog "$tmp/joblog" \
	'sleep 0.$((13 - {})); printf "task %2d: CPU %s, nice %s\n" {} "$(cut -d" " -f39 /proc/self/stat)" "$(cut -d" " -f19 /proc/self/stat)"' \
	::: $(seq 12) || rc=$?
echo "   (exit status $rc: the number of failed tasks)"
echo
echo "== the joblog (GNU parallel's columns: when each task started, how long it ran)"
cut -f1,3,4,7,8 "$tmp/joblog"
echo
echo "== the same batch with -p nuclear -j2 -u: every CPU, others ignored, output as tasks finish"
"$b/nicely" run -p nuclear -j2 -u \
	'sleep 0.$((13 - {})); printf "task %2d: CPU %s, nice %s\n" {} "$(cut -d" " -f39 /proc/self/stat)" "$(cut -d" " -f19 /proc/self/stat)"' \
	::: $(seq 12)
echo
echo "== next: nicely is $b/nicely (not on the PATH; 'make install' puts it in /usr/local)."
echo "   $b/nicely --help, man man/nicely.1, and README.md's tour."
