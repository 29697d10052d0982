#!/bin/bash
# The quick cases of the attack run (scripts/torture.sh; `make torture`
# runs it whole): one kill trial per signal as root and as a throwaway
# user (killed after a tick recorded the tasks), the whole bad-input
# list, RLIMIT_NOFILE 9/12/15/48/64, RLIMIT_NPROC 2/3, a small RLIMIT_AS,
# and the garbage and half-line peers on the control socket. One TAP line
# per kind of the table: ok when it has no survivor, hang, lost output or
# crash. (The fuzz targets' quick run is make check's fuzz-smoke.)
B=${NICELY_BUILD:-$(cd "$(dirname "$0")/../build" && pwd)}
if [ "$(id -u)" != 0 ]; then echo "1..0 # SKIP needs root (users, tmpfs, cgroups)"; exit 0; fi
out=$(NICELY_BUILD=$B TORTURE_QUICK=1 TORTURE_KILL_AFTER=1.5 \
	TORTURE_KINDS="kill badinput rlimit peers" \
	"$(dirname "$0")/../scripts/torture.sh" 2>/dev/null)
rc=$?
n=0
fail=0
while IFS='|' read -r kind rest; do
	kind=$(echo $kind)
	case $rest in
	*skipped:*) n=$((n + 1)); echo "ok $n - $kind # SKIP ${rest#*skipped: }"; continue ;;
	esac
	set -- $(echo "$rest" | tr -d ' ' | tr '|' ' ')
	[ $# = 5 ] || continue
	n=$((n + 1))
	if [ "$2$3$4$5" = 0000 ]; then
		echo "ok $n - $kind: $1 trials, no survivor, hang, lost output or crash"
	else
		echo "not ok $n - $kind: $1 trials: $2 survivors, $3 hangs, $4 lost outputs, $5 crashes"
		fail=1
	fi
done < <(sed -n '/^kind /,/^load average/p' <<<"$out" | sed '1,2d;$d')
n=$((n + 1))
if [ $rc = 0 ] && [ $fail = 0 ]; then
	echo "ok $n - torture.sh exits 0"
else
	echo "not ok $n - torture.sh exits 0 (rc $rc)"
	printf '%s\n' "$out" | sed -n '/^what went wrong/,$p' | head -40 | sed 's/^/# /'
fi
echo "1..$n"
