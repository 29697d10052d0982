#!/bin/sh
# tests/lib/systemd-tree.sh builds systemd's layout on this machine's v1
# hierarchies and as a fake cgroup2 tree, a process moves into a user's
# session scope, nicely-agent's groups (tests/helpers/cga_driver) land in
# R/nicely beside user.slice, and teardown leaves nothing.
B=${NICELY_BUILD:-$(cd "$(dirname "$0")/../build" && pwd)}
D=$B/tests/helpers/cga_driver
. "$(dirname "$0")/lib/systemd-tree.sh"
if [ "$(id -u)" != 0 ]; then echo "1..0 # SKIP needs root"; exit 0; fi
if [ ! -e "$ST_CG/cpu/cpu.shares" ]; then echo "1..0 # SKIP no cgroup v1 cpu hierarchy"; exit 0; fi
[ -x "$D" ] || { echo "Bail out! no $D (make all)"; exit 1; }

R=nicely-st-$$
tmp=$(mktemp -d /tmp/nicely-st-XXXXXX)
sleeper=
cleanup() {
	[ -n "$sleeper" ] && kill "$sleeper" 2>/dev/null
	st_v1_teardown all
	st_v2_teardown
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

n=0
out=
check() { n=$((n + 1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; printf '# %s\n' "$out"; fi; }
echo "1..13"

st_v1_build "$R" && st_v1_user 4321 7
rc=$?
check "v1: R, its slices and a user's session scope built" "[ $rc = 0 ] && [ -d $ST_CG/cpu/$R/user.slice/user-4321.slice/session-7.scope ]"
out=$(for h in $(st_hiers); do [ -d "$ST_CG/$h/$R/system.slice" ] || echo "$h"; done)
check "v1: in every hierarchy ($(st_hiers | tr '\n' ' '))" "[ -z '$out' ]"
out="$(cat $ST_CG/cpu/$R/user.slice/user-4321.slice/cpu.shares) $(cat $ST_CG/cpuset/$R/user.slice/user-4321.slice/session-7.scope/cpuset.cpus)"
check "v1: default weight, cpuset given" "[ '$out' = '1024 $(cat $ST_CG/cpuset/cpuset.cpus)' ]"
sleep 60 &
sleeper=$!
st_v1_move $sleeper 4321 7
out=$(cat /proc/$sleeper/cgroup)
check "v1: a 'shell' moved into its session scope" \
	"echo '$out' | grep -q ':cpu:/$R/user.slice/user-4321.slice/session-7.scope\$'"
out=$($D make "$ST_BASE" 4321 4321 u-$sleeper-1 idle 0 2>&1)
check "v1: the agent's batch lands in R/nicely, beside user.slice" \
	"[ '$out' = '$R/nicely/user-4321/u-$sleeper-1' ] && [ -d $ST_CG/cpu/$R/nicely/user-4321/u-$sleeper-1/owner ]"
$D place "$ST_BASE" 4321 u-$sleeper-1 $sleeper
out=$(cat /proc/$sleeper/cgroup)
check "v1: the agent moves the 'shell' from its session into the batch" \
	"echo '$out' | grep -q ':cpu:/$R/nicely/user-4321/u-$sleeper-1/owner\$'"
check "v1: the base's class is the batch's (idle), user.slice's the default" \
	"[ \$(cat $ST_CG/cpu/$R/nicely/cpu.shares) = 3 ] && [ \$(cat $ST_CG/cpu/$R/user.slice/cpu.shares) = 1024 ]"
st_v1_teardown all
rc=$?
left=$(for h in $(st_hiers); do [ -d "$ST_CG/$h/$R" ] && echo "$h"; done)
out="rc $rc left $left"
check "v1: teardown removes everything under R" "[ $rc = 0 ] && [ -z '$left' ]"
out=$(cat /proc/$sleeper/cgroup)
check "v1: ... its processes back at the root" "echo '$out' | grep -q ':cpu:/\$' && kill -0 $sleeper"
kill $sleeper
sleeper=

st_v2_build "$tmp/v2" R && st_v2_user 4321 7 && st_v2_move 999999 4321 7
out=$(cat "$tmp/v2/R/user.slice/user-4321.slice/cgroup.subtree_control" "$tmp/v2/R/user.slice/user-4321.slice/session-7.scope/cgroup.procs" | tr '\n' ' ')
check "v2 fake: controllers enabled down to the user's slice, pid in the scope" \
	"[ '$out' = 'cpu memory pids 999999 ' ]"
out=$(NICELY_CGROUP_ROOT=$tmp/v2 $D make "$ST_BASE" 4321 4321 u-9-1 low 0 2>&1)
check "v2 fake: the agent's batch in R/nicely" "[ '$out' = 'R/nicely/user-4321/u-9-1' ]"
out="$(cat $tmp/v2/R/nicely/cgroup.controllers) / $(cat $tmp/v2/R/nicely/user-4321/u-9-1/cpu.weight) / $(stat -c %u $tmp/v2/R/nicely/user-4321/u-9-1/cgroup.procs)"
check "v2 fake: base offered what R enables; batch LOW and delegated" \
	"[ '$out' = 'cpu memory pids / 6 / 4321' ]"
st_v2_teardown
check "v2 fake: teardown" "[ ! -e $tmp/v2 ]"
