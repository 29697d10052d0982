#!/bin/bash
# Placement through nicely-agent on this machine's real cgroup tree, as an
# ordinary user (made for the test, removed after), with the least agent
# that places for real (tests/helpers/agent_mini: root, the agent's cgroup
# code of sched/cgroup_agent.c, a test-only base): nicely run's tasks land
# in the user's batch group with the preset's class, nice and memory_max,
# one mode line says so; the batch's groups go when the run ends; SIGINT,
# SIGTERM, nicely kill and SIGKILL of nicely run leave no process,
# double-forked ones included; a libnicely pool's worker lands there too
# (the fork server placed); the agent SIGKILLed and restarted mid-batch
# loses no task and takes the batch up again (adopt).
PREFIX=nicelyp
. "$(dirname "$0")/lib/nonroot-common.sh"
[ -e /sys/fs/cgroup/cpu/cpu.shares ] || { echo "1..0 # SKIP no v1 cpu hierarchy"; exit 0; }
mini=$B/tests/helpers/agent_mini
[ -x "$mini" ] || { echo "Bail out! $mini not built"; exit 1; }
chmod 755 "$tmp"
base=nicely-acpl$$
uid=$(id -u "$user")
sock=$tmp/agent.sock
apid=
S=$tmp/apslp$$
cp "$(command -v sleep)" "$S"
cp "$B/nicely" "$tmp/nicely"
cp "$B/tests/helpers/agent_pool" "$tmp/agent_pool"
printf '[preset ap]\nbase = nuclear\ncpu_weight = idle\nnice = 12\nmemory_max = 64M\n' >"$tmp/ap.conf"
mkdir -p "$tmp/etc" "$tmp/xdg"
chmod -R a+rX "$tmp"
mkdir -m 700 "$tmp/rt"
chown "$user" "$tmp/rt"

N=(runuser -u "$user" -- env -u NICELY_CGROUP_ROOT -u NICELY_CGROUP_TRACE
   NICELY_AGENT_SOCKET="$sock" NICELY_RUNTIME_DIR="$tmp/rt"
   NICELY_CONFIG="$tmp/ap.conf" NICELY_SYSCONFDIR="$tmp/etc"
   XDG_CONFIG_HOME="$tmp/xdg")

agent_start() {
	"$mini" "$sock" "$base" 2 2>>"$tmp/agent.err" &
	apid=$!
	for _ in $(seq 100); do [ -S "$sock" ] && return; sleep 0.05; done
}
agent_stop() {
	[ -n "$apid" ] && { kill -TERM "$apid" 2>/dev/null; wait "$apid" 2>/dev/null; }
	apid=
}
cleanup_all() {
	sweep 2>/dev/null
	agent_stop
	for h in /sys/fs/cgroup/*/; do
		[ -d "$h$base" ] && find "$h$base" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
	cleanup
}
trap cleanup_all EXIT
agent_start

. "$(dirname "$0")/lib/agent-place-cases.sh"
agent_stop
out=$(cat "$tmp/agent.err")
check "the agent said nothing wrong" '[ ! -s "$tmp/agent.err" ]'
echo "1..$n"
