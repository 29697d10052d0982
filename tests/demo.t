#!/bin/bash
# `make demo`'s script, scripts/demo.sh, on a machine whose /proc says it is
# loaded (a recorded tree: load average 6 on this machine's PUs, CPU
# pressure 50%): it shows nicely top, the normal preset's gating knobs and
# the machine against them ("above it, nothing new starts"), and the batch
# it explains runs one task at a time, output in submission order. On the
# plain build, as root, it runs as `make demo`, which prints no compiler line.
# Prints TAP.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
B=${NICELY_BUILD:-$top/build}
n=0 failed=0
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# Report one TAP result: $1 is 0 for success, $2 the description.
ok() { n=$((n+1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed+1)); fi; }
# Print a file as TAP diagnostics.
diag_file() { sed 's/^/# /' "$1"; }
# Stop the whole test with a reason.
bail() { echo "Bail out! $*"; exit 1; }

[ -x "$B/nicely" ] || bail "no $B/nicely (build first, or set NICELY_BUILD)"
# Built-in presets only, and a /proc that does not move: PUs idle, load 6.
mkdir -p "$T/etc" "$T/home" "$T/proc/pressure"
export NICELY_SYSCONFDIR=$T/etc HOME=$T/home
unset NICELY_CONFIG XDG_CONFIG_HOME NICELY_TOPOLOGY
ncpu=$(getconf _NPROCESSORS_CONF)
echo "6.00 5.00 4.00 3/150 1234" >"$T/proc/loadavg"
{
	echo "cpu  0 0 0 100000 0 0 0 0 0 0"
	for i in $(seq 0 $((ncpu - 1))); do echo "cpu$i 0 0 0 100000 0 0 0 0 0 0"; done
	echo "procs_running 3"
} >"$T/proc/stat"
printf 'some avg10=50.00 avg60=40.00 avg300=30.00 total=1000000\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n' \
	>"$T/proc/pressure/cpu"
printf 'MemTotal:       16384000 kB\nMemAvailable:   12000000 kB\n' >"$T/proc/meminfo"
export NICELY_PROCFS=$T/proc

# On the plain build, as root, through `make demo` itself (its build is then
# a no-op): quiet, no compiler line, its log kept. Else the script alone.
start=$(date +%s)
if [ "$(cd "$B" && pwd -P)" = "$(cd "$top/build" 2>/dev/null && pwd -P)" ] && [ "$(id -u)" = 0 ]; then
	what="make demo"
	(cd "$top" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory demo) >"$T/out" 2>"$T/err"
	rc=$?
else
	what="scripts/demo.sh"
	sh "$top/scripts/demo.sh" "$B" >"$T/out" 2>"$T/err"
	rc=$?
fi
ok $rc "$what runs ($(($(date +%s) - start)) s)"
[ $rc = 0 ] || { diag_file "$T/err"; diag_file "$T/out"; }
if [ "$what" = "make demo" ]; then
	cc_lines=$(cat "$T/out" "$T/err" | grep -cE '(^| )(cc|gcc|clang) .*-o |^ar |^ln ')
	[ "$cc_lines" = 0 ]; ok $? "make demo prints no compiler line ($cc_lines)"
	grep -q '^== building nicely' "$T/out" && [ -f "$top/build/demo-build.log" ]
	ok $? "make demo says it builds and keeps the log in build/demo-build.log"
else
	for i in 1 2; do n=$((n+1)); echo "ok $n # SKIP make demo: only for the plain build, as root"; done
fi
grep -q '^load average: 6.00 5.00 4.00' "$T/out"; ok $? "it shows nicely top --once"
allowed=$(sed -n 's/.* PUs\{0,1\} (\([0-9]*\) allowed).*/\1/p' "$T/out" | head -1)
[ -n "$allowed" ]; ok $? "nicely top says how many PUs are allowed ($allowed)"
for k in idle_threshold load_ceiling pressure_ceiling force_one; do
	want=$("$B/nicely" presets normal | awk -v k=$k '$1 == k { print $2 }')
	grep -Eq "^   $k +$want\$" "$T/out"; ok $? "it shows the normal preset's $k ($want)"
done
per=$(awk -v a="$allowed" 'BEGIN { printf "%.2f", 6 / a }')
grep -qx "   load average (1 min) 6.00 over $allowed allowed PUs = $per per PU, load_ceiling 1: above it, nothing new starts" "$T/out"
ok $? "it says the load average per PU is above the load ceiling"
grep -qx "   CPU pressure (some avg10) 50.00%, pressure_ceiling 25: above it, nothing new starts" "$T/out"
ok $? "it says the CPU pressure is above its ceiling"
grep -qx "   PUs others use less than 25% of (free for a task): $ncpu of $ncpu" "$T/out" ||
	grep -Eq "^   PUs others use less than 25% of \(free for a task\): [0-9]+ of [0-9]+$" "$T/out"
ok $? "it counts the PUs free for a task"
grep -q "runs one task at a time" "$T/out"; ok $? "it says why the batch runs one task at a time"

# The first batch: 12 tasks in order, one at a time (each starts when the
# one before has ended), as the text above it says.
awk '/^== nicely run: 12 tasks/ { on = 1; next } on && /^task / { print $2 } on && /exit status/ { exit }' \
	"$T/out" | tr -d ':' | xargs >"$T/order"
[ "$(cat "$T/order")" = "$(seq 12 | xargs)" ]; ok $? "the normal batch writes tasks 1-12 in order ($(cat "$T/order"))"
awk -F'\t' '/^== the joblog/ { on = 1; next } on && $1 == "Seq" { next } on && NF < 5 { exit }
	on { s = $2 + 0; if (prev_end && s < prev_end - 0.005) bad++; prev_end = s + $3; rows++ }
	END { exit !(rows == 12 && !bad) }' "$T/out"
ok $? "its joblog shows 12 tasks, each started after the one before ended"
grep -q '^   (exit status 0: ' "$T/out"; ok $? "it reports the batch's exit status"
[ "$(grep -c '^task ' "$T/out")" = 24 ]; ok $? "the nuclear batch runs the 12 tasks too"
grep -q "^== next: nicely is $B/nicely (not on the PATH" "$T/out"; ok $? "it says where nicely is and that it is not on the PATH"

echo "1..$n"
[ "$failed" = 0 ]
