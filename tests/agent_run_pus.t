#!/bin/bash
# nicely-agent end to end on this machine's v1 tree in systemd's layout
# (tests/lib/systemd-tree.sh), two ordinary users made for the test: A's
# `nicely run` and then B's, one task each, with a preset that ignores
# others. Under the agent such a preset pins its tasks again, and B's task
# is pinned to another CPU than A's: the agent's lease answer names the
# CPUs other batches hold (before, both were left unpinned, since every
# batch would have pinned to the same first CPU). Needs 2 allowed CPUs.
PREFIX=nicelyrp
. "$(dirname "$0")/lib/nonroot-common.sh"
[ -e /sys/fs/cgroup/cpu/cpu.shares ] || { echo "1..0 # SKIP no v1 cpu hierarchy"; exit 0; }
[ "$(nproc)" -ge 2 ] || { echo "1..0 # SKIP fewer than 2 allowed CPUs"; exit 0; }
AGENT=$B/nicely-agent
[ -x "$AGENT" ] || { echo "Bail out! $AGENT not built"; exit 1; }
. "$(dirname "$0")/lib/systemd-tree.sh"
chmod 755 "$tmp"
userb=${PREFIX}b$$
useradd --system --no-create-home --shell /usr/sbin/nologin "$userb" ||
	{ echo "Bail out! useradd failed"; exit 1; }
uid=$(id -u "$user")
uidb=$(id -u "$userb")
st_v1_build "nicely-rp$$" || { echo "Bail out! cannot build the systemd-like tree"; exit 1; }
st_v1_user "$uid" 1 && st_v1_user "$uidb" 2 || { echo "Bail out! cannot make the users' scopes"; exit 1; }
base=$ST_BASE
sock=$tmp/agent.sock
apid=
S=$tmp/rpslp$$
cp "$(command -v sleep)" "$S"
cp "$B/nicely" "$tmp/nicely"
printf '[preset rp]\nbase = nuclear\ncpu_weight = idle\nnice = 12\n' >"$tmp/rp.conf"
mkdir -p "$tmp/etc" "$tmp/xdg" "$tmp/agent-etc"
cat >"$tmp/inscope" <<EOS
#!/bin/bash
. "$(cd "$(dirname "$0")" && pwd)/lib/systemd-tree.sh"
ST_R=$ST_R
st_v1_move \$\$ "\$1" "\$2" || exit 125
shift 2
exec "\$@"
EOS
chmod -R a+rX "$tmp"
chmod 755 "$tmp/inscope"
mkdir -m 700 "$tmp/rt" "$tmp/rtb"
chown "$user" "$tmp/rt"
chown "$userb" "$tmp/rtb"
envs() {
	echo env -u NICELY_CGROUP_ROOT -u NICELY_CGROUP_TRACE -u NICELY_TOPOLOGY -u NICELY_PROCFS \
		NICELY_AGENT_SOCKET="$sock" NICELY_RUNTIME_DIR="$1" NICELY_CONFIG="$tmp/rp.conf" \
		NICELY_SYSCONFDIR="$tmp/etc" XDG_CONFIG_HOME="$tmp/xdg"
}
N=("$tmp/inscope" "$uid" 1 runuser -u "$user" -- $(envs "$tmp/rt"))
NB=("$tmp/inscope" "$uidb" 2 runuser -u "$userb" -- $(envs "$tmp/rtb"))
runs=
cleanup_all() {
	local p
	for p in $runs; do kill -KILL "$p" 2>/dev/null; done
	for p in $(tasks); do kill -KILL "$p" 2>/dev/null; done
	[ -n "$apid" ] && { kill -TERM "$apid" 2>/dev/null; wait "$apid" 2>/dev/null; }
	st_v1_teardown all
	userdel "$userb" 2>/dev/null
	cleanup
}
trap cleanup_all EXIT
# the PIDs of the test's sleep copy
tasks() {
	local p
	for p in /proc/[0-9]*; do [ "$(readlink "$p/exe" 2>/dev/null)" = "$S" ] && echo "${p#/proc/}"; done
}
ntasks() { [ "$(tasks | wc -l)" = "$1" ]; }
wait_until() { # wait_until SECONDS CMD...
	local end=$((SECONDS + $1))
	shift
	until "$@"; do [ $SECONDS -ge $end ] && return 1; sleep 0.1; done
}
NICELY_SYSCONFDIR="$tmp/agent-etc" "$AGENT" --foreground --socket "$sock" \
	--base "$base" --tick 200 2>>"$tmp/agent.log" &
apid=$!
wait_until 5 test -S "$sock"

"${N[@]}" "$tmp/nicely" run -p rp -j1 "$S 60" ::: 1 >"$tmp/outa" 2>"$tmp/erra" </dev/null &
runs="$runs $!"
wait_until 10 ntasks 1
ta=$(tasks)
# B starts once A's lease said where its task is (its next lease, a tick)
sleep 0.5
"${NB[@]}" "$tmp/nicely" run -p rp -j1 "$S 60" ::: 1 >"$tmp/outb" 2>"$tmp/errb" </dev/null &
runs="$runs $!"
wait_until 10 ntasks 2
tb=$(tasks | grep -vx "$ta")
ca=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "/proc/$ta/status" 2>/dev/null)
cb=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "/proc/$tb/status" 2>/dev/null)
out="A: $(cat "$tmp/erra"); B: $(cat "$tmp/errb")"
check "both runs are placed by the agent" 'grep -q "agent (nicely-agent" "$tmp/erra" && grep -q "agent (nicely-agent" "$tmp/errb"'
out="A's task on $ca, B's on $cb"
check "a preset that ignores others pins under the agent ($out)" '[[ $ca =~ ^[0-9]+$ ]] && [[ $cb =~ ^[0-9]+$ ]]'
check "B's task is on another CPU than A's ($out)" '[ -n "$ca" ] && [ "$ca" != "$cb" ]'
for p in $runs; do kill -TERM "$p" 2>/dev/null; done
for p in $runs; do wait "$p" 2>/dev/null; done
runs=
wait_until 10 ntasks 0
out=$(tasks)
check "no task is left" '[ -z "$out" ]'
echo "1..$n"
