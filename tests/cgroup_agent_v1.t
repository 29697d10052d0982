#!/bin/sh
# nicely-agent's groups on this machine's real cgroup tree (v1 controllers,
# with cgroup2 beside them when mounted) with two throwaway users: root
# (tests/helpers/cga_driver, the agent's calls) makes a user group and a
# batch for each; user A's client, placed in its batch's owner leaf by
# root, opens the batch delegated (opts.group), makes a task group and
# runs a task there with the preset's class; user A can NOT raise its
# batch's or its user group's cpu.shares, cpu.idle, quota, cpuset or
# memory limit, nor mkdir in, list or join user B's batch, and user B's
# delegated open of A's batch fails naming it; root's kill and remove
# leave no process and no group. Everything lives under a test-only base
# (nicely-test-PID), removed at exit even on failure.
B=${NICELY_BUILD:-$(cd "$(dirname "$0")/../build" && pwd)}
D=$B/tests/helpers/cga_driver
CG=/sys/fs/cgroup
if [ "$(id -u)" != 0 ]; then echo "1..0 # SKIP needs root"; exit 0; fi
if [ ! -e $CG/cpu/cpu.shares ] || [ ! -e $CG/memory/memory.limit_in_bytes ]; then
	echo "1..0 # SKIP no cgroup v1 cpu and memory hierarchies"; exit 0
fi
for c in useradd userdel runuser mkfifo; do
	command -v $c >/dev/null || { echo "1..0 # SKIP no $c"; exit 0; }
done
[ -x "$D" ] || { echo "Bail out! no $D (make all)"; exit 1; }

base=nicely-test-$$
ua=ncga$$a
ub=ncga$$b
tmp=$(mktemp -d /tmp/nicely-cga-XXXXXX)
chmod 0755 "$tmp"

# Kill what runs in the test's groups (only this test's processes are
# there), then remove them, deepest first, in every hierarchy.
teardown() {
	for h in $CG/*/; do
		[ -d "$h$base" ] || continue
		find "$h$base" -name cgroup.procs -exec cat {} + 2>/dev/null |
			while read -r p; do kill -9 "$p" 2>/dev/null; done
	done
	for try in 1 2 3 4 5; do
		left=0
		for h in $CG/*/; do
			[ -d "$h$base" ] || continue
			find "$h$base" -depth -type d -exec rmdir {} \; 2>/dev/null
			[ -d "$h$base" ] && left=1
		done
		[ $left = 0 ] && break
		sleep 0.2
	done
}
cleanup() { teardown; userdel "$ua" 2>/dev/null; userdel "$ub" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

useradd --system --no-create-home --shell /usr/sbin/nologin "$ua" &&
	useradd --system --no-create-home --shell /usr/sbin/nologin "$ub" ||
	{ echo "Bail out! useradd failed"; exit 1; }
uida=$(id -u "$ua"); gida=$(id -g "$ua")
uidb=$(id -u "$ub"); gidb=$(id -g "$ub")

n=0
out=
check() { n=$((n + 1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; printf '# %s\n' "$out"; fi; }
# as USER, run a shell command; true when it succeeded
as() { u=$1; shift; runuser -u "$u" -- sh -c "$*" >/dev/null 2>&1; }
# stat's owner name and octal mode of a path
own() { stat -c '%U %a' "$1" 2>/dev/null; }
val() { cat "$1" 2>/dev/null | head -1; }

# Run the client as USER in batch BATCH (group G) after root placed it in
# the owner leaf, as the agent does: the user's process waits on a fifo
# until root has moved it. Output in $tmp/out.
client() {
	u=$1; uid=$2; batch=$3; g=$4; shift 4
	rm -f "$tmp/pid" "$tmp/go"
	mkfifo "$tmp/go" && chmod 0666 "$tmp/go"
	: >"$tmp/pid"; chmod 0666 "$tmp/pid"
	runuser -u "$u" -- sh -c "echo \$\$ >$tmp/pid; read x <$tmp/go; exec $D client $g $*" \
		>"$tmp/out" 2>&1 &
	cpid=$!
	i=0
	while [ ! -s "$tmp/pid" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	$D place $base "$uid" "$batch" "$(cat "$tmp/pid")" >>"$tmp/out" 2>&1
	placed=$?
	echo go >"$tmp/go"
	wait $cpid
	crc=$?
}

echo "1..35"

ba=$ua-111-1
bb=$ub-222-1
ga=$($D make $base "$uida" "$gida" "$ba" idle 67108864 2>"$tmp/err")
out=$(cat "$tmp/err")
check "root makes user A's group and batch" "[ '$ga' = '$base/user-$uida/$ba' ]"
gb=$($D make $base "$uidb" "$gidb" "$bb" low 0 2>"$tmp/err")
out=$(cat "$tmp/err")
check "root makes user B's group and batch" "[ '$gb' = '$base/user-$uidb/$bb' ]"

out="$(own $CG/cpu/$base/user-$uida) $(own $CG/cpu/$ga) $(own $CG/cpu/$ga/cgroup.procs) $(own $CG/cpu/$ga/tasks)"
check "user group root's 0711; batch dir A's 0700; its cgroup.procs and tasks A's" \
	"[ '$out' = 'root 711 $ua 700 $ua 644 $ua 644' ]"
out="$(own $CG/memory/$ga) $(own $CG/memory/$ga/owner) $(own $CG/memory/$ga/owner/cgroup.procs) $(own $CG/cpuset/$ga/tasks)"
check "delegated in the other hierarchies too, owner leaf included" \
	"[ '$out' = '$ua 700 $ua 700 $ua 644 $ua 644' ]"
out="$(own $CG/cpu/$ga/cpu.shares) $(val $CG/cpu/$ga/cpu.shares) $(val $CG/cpu/$ga/cpu.idle) $(own $CG/memory/$ga/memory.limit_in_bytes) $(val $CG/memory/$ga/memory.limit_in_bytes)"
check "A's batch: class IDLE and 64 MiB written and kept by root" \
	"[ '$out' = 'root 644 3 1 root 644 67108864' ]"
out="$(val $CG/cpuset/$ga/cpuset.cpus) $(val $CG/cpuset/$ga/owner/cpuset.mems)"
check "v1 cpuset: the batch and owner leaf have cpus and mems" \
	"[ '$out' = '$(val $CG/cpuset/cpuset.cpus) $(val $CG/cpuset/cpuset.mems)' ]"
out="$(val $CG/cpu/$base/cpu.shares) $(val $CG/cpu/$base/cpu.idle)"
check "the base takes the most demanding class (B's LOW)" "[ '$out' = '64 0' ]"

# user A's client in its batch
client "$ua" "$uida" "$ba" "$ga" idle
out=$(cat "$tmp/out")
check "root places A's client in the owner leaf" "[ $placed = 0 ]"
check "A's client opens the batch delegated and runs a task" "[ $crc = 0 ]"
t=task-$(cat "$tmp/pid")
check "the task ran in the task group, cpu hierarchy" "grep -q ':cpu:/$ga/$t\$' $tmp/out"
check "... and memory and cpuset" \
	"grep -q ':memory:/$ga/$t\$' $tmp/out && grep -q ':cpuset:/$ga/$t\$' $tmp/out"
if [ -e $CG/unified/cgroup.controllers ]; then
	check "... and the cgroup2 tree" "grep -q '^0::/$ga/$t\$' $tmp/out"
else
	check "# SKIP no cgroup2 tree here" true
fi
check "the client's close removed its task group, the owner leaf stays" \
	"[ ! -d $CG/cpu/$ga/$t ] && [ -d $CG/cpu/$ga/owner ]"

# a client that leaves its task running (as if SIGKILLed)
client "$ua" "$uida" "$ba" "$ga" idle leave
out=$(cat "$tmp/out")
spid=$(sed -n 's/^left //p' "$tmp/out")
t=task-$(cat "$tmp/pid")
check "a task left running" "[ $crc = 0 ] && [ -n '$spid' ] && kill -0 $spid"
out="$(val $CG/cpu/$ga/$t/cpu.shares) $(val $CG/cpu/$ga/$t/cpu.idle) $(own $CG/cpu/$ga/$t/cpu.shares)"
check "its task group has the preset's class, written by the user" \
	"[ '$out' = '3 1 $ua 644' ]"
out=$(cat /proc/$spid/cgroup 2>&1)
check "the task is in it" "echo '$out' | grep -q ':cpu:/$ga/$t\$'"

# what user A may not do
check "A cannot raise its batch's cpu.shares" \
	"! as $ua 'echo 1024 >$CG/cpu/$ga/cpu.shares' && [ \$(val $CG/cpu/$ga/cpu.shares) = 3 ]"
check "A cannot clear its batch's cpu.idle" "! as $ua 'echo 0 >$CG/cpu/$ga/cpu.idle'"
check "A cannot raise its batch's memory limit" \
	"! as $ua 'echo 1073741824 >$CG/memory/$ga/memory.limit_in_bytes'"
check "A cannot write its batch's cpuset.cpus" \
	"! as $ua 'echo 0 >$CG/cpuset/$ga/cpuset.cpus'"
check "A cannot write its user group's cpu.shares or quota" \
	"! as $ua 'echo 4096 >$CG/cpu/$base/user-$uida/cpu.shares' && ! as $ua 'echo -1 >$CG/cpu/$base/user-$uida/cpu.cfs_quota_us'"
check "A cannot make groups in its user group or the base" \
	"! as $ua 'mkdir $CG/cpu/$base/user-$uida/x' && ! as $ua 'mkdir $CG/cpu/$base/x'"
check "A can make a group in its own batch (the control)" \
	"as $ua 'mkdir $CG/cpu/$ga/x && rmdir $CG/cpu/$ga/x'"
check "A cannot list B's user group or batch" \
	"! as $ua 'ls $CG/cpu/$base/user-$uidb' && ! as $ua 'ls $CG/cpu/$gb'"
check "A cannot mkdir in B's batch" "! as $ua 'mkdir $CG/cpu/$gb/x' && ! as $ua 'mkdir $CG/unified/$gb/x'"
check "A cannot move itself into B's batch" \
	"! as $ua 'echo \$\$ >$CG/cpu/$gb/cgroup.procs' && ! as $ua 'echo \$\$ >$CG/cpu/$gb/owner/cgroup.procs'"
runuser -u "$ub" -- $D client "$ga" idle >"$tmp/out" 2>&1
crc=$?
out=$(cat "$tmp/out")
check "B's delegated open of A's batch fails, naming it" \
	"[ $crc != 0 ] && grep -q '$ga.*not writable' $tmp/out"

out=$($D remove $base "$uidb" "$bb" 2>&1)
check "root removes B's batch" "[ -z '$out' ] && [ ! -d $CG/cpu/$base/user-$uidb ]"
out="$(val $CG/cpu/$base/cpu.shares) $(val $CG/cpu/$base/cpu.idle)"
check "the base's class goes down to A's IDLE" "[ '$out' = '3 1' ]"

# root's kill and remove
out=$($D kill $base "$uida" "$ba" 1 2>&1)
check "root's kill (owner kept) signals the task left" "[ '$out' = 1 ]"
i=0
while kill -0 "$spid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "... and it is gone" "! kill -0 $spid 2>/dev/null"
client "$ua" "$uida" "$ba" "$ga" idle leave
spid=$(sed -n 's/^left //p' "$tmp/out")
out=$($D remove $base "$uida" "$ba" 2>&1)
check "root removes A's batch with a task running" "[ -z '$out' ]"
i=0
while kill -0 "$spid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "... the task is dead" "! kill -0 $spid 2>/dev/null"
left=
for h in $CG/*/; do [ -d "$h$base/user-$uida" ] && left="$left $h"; done
out=$left
check "... A's batch and user group are gone in every hierarchy" "[ -z '$left' ]"
teardown
left=
for h in $CG/*/; do [ -d "$h$base" ] && left="$left $h"; done
out=$left
check "teardown leaves nothing of the test's tree" "[ -z '$left' ]"
