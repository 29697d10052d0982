#!/bin/sh
# The README's first command ends here: show nicely at work on this machine.
# First the machine as nicely sees it, then a real small batch: a dozen
# tasks of different lengths, each printing where it ran (CPU) and at which
# nice, written back in submission order, with GNU parallel's joblog.
set -eu
b=${1:-build}
echo "== nicely top --once: the machine as nicely sees it"
"$b/nicely" top --once

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo
echo "== nicely run: 12 tasks (the normal preset), output in submission order"
echo "   \$ nicely run --joblog JOBLOG 'sleep 0.\$((13 - {})); echo task {}: ...' ::: \$(seq 12)"
"$b/nicely" run --joblog "$tmp/joblog" \
	'sleep 0.$((13 - {})); printf "task %2d: CPU %s, nice %s\n" {} "$(cut -d" " -f39 /proc/self/stat)" "$(cut -d" " -f19 /proc/self/stat)"' \
	::: $(seq 12)
echo "   (exit status $?: the number of failed tasks)"
echo
echo "== the joblog (GNU parallel's columns)"
cut -f1,3,4,7,8 "$tmp/joblog"
echo
echo "== the same batch with -p nuclear -j2 -u: every CPU, output as tasks finish"
"$b/nicely" run -p nuclear -j2 -u \
	'sleep 0.$((13 - {})); printf "task %2d: CPU %s, nice %s\n" {} "$(cut -d" " -f39 /proc/self/stat)" "$(cut -d" " -f19 /proc/self/stat)"' \
	::: $(seq 12)
