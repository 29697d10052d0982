# Shared by the tests of nicely-agent end to end on a FAKE cgroup v2 tree
# in systemd's layout (tests/agent_run_v2fake.t, tests/submit_agent.t):
# an ordinary user made for the test (nonroot-common.sh; removed after),
# the fake tree (systemd-tree.sh st_v2_*: R/user.slice/user-UID.slice/
# session-N.scope, the agent's base R/nicely beside user.slice), the real
# nicely-agent --foreground on the fake root (agent_start, agent_stop; its
# trace in $tmp/atrace, the client's in $tmp/ctrace), "${N[@]}" to run a
# command as the user in their session scope with nicely's environment,
# a small loop playing the kernel's part the plain files cannot (exited
# processes leave cgroup.procs; "1" in cgroup.kill kills), and the
# helpers ug, batches, nobatch, left, wait_until, pidlines. Set PREFIX
# first, then source it.
. "$(dirname "$0")/lib/nonroot-common.sh"
AGENT=$B/nicely-agent
[ -x "$AGENT" ] || { echo "Bail out! $AGENT not built"; exit 1; }
. "$(dirname "$0")/lib/systemd-tree.sh"
chmod 755 "$tmp"
uid=$(id -u "$user")
CG=$tmp/cg
st_v2_build "$CG" "nicely-st$$" || { echo "Bail out! cannot build the fake systemd-like tree"; exit 1; }
st_v2_user "$uid" 1 || { echo "Bail out! cannot make the user's scope"; exit 1; }
base=$ST_BASE
sock=$tmp/agent.sock
apid=
kpid=
S=$tmp/rvslp$$
cp "$(command -v sleep)" "$S"
cp "$B/nicely" "$tmp/nicely"
cp "$B/tests/helpers/agent_pool" "$tmp/agent_pool"
printf '[preset ap]\nbase = nuclear\ncpu_weight = idle\nnice = 12\nmemory_max = 64M\n' >"$tmp/ap.conf"
mkdir -p "$tmp/etc" "$tmp/xdg" "$tmp/agent-etc"
mkdir -m 700 "$tmp/rt"
chown "$user" "$tmp/rt"
: >"$tmp/atrace"
: >"$tmp/ctrace"
chown "$user" "$tmp/ctrace"
# inscope CMD...: CMD in the user's session scope (recorded there, as
# systemd would have put their login shell)
cat >"$tmp/inscope" <<EOS
#!/bin/bash
. "$(cd "$(dirname "$0")" && pwd)/lib/systemd-tree.sh"
ST_V2=$CG ST_R=$ST_R
st_v2_move \$\$ "$uid" 1 || exit 125
exec "\$@"
EOS
chmod -R a+rX "$tmp"
chmod 755 "$tmp/inscope"
chmod 700 "$tmp/agent-etc" "$tmp/rt"
N=("$tmp/inscope" runuser -u "$user" -- env NICELY_CGROUP_ROOT="$CG"
	NICELY_CGROUP_TRACE="$tmp/ctrace" NICELY_AGENT_SOCKET="$sock"
	NICELY_RUNTIME_DIR="$tmp/rt" NICELY_CONFIG="$tmp/ap.conf"
	NICELY_SYSCONFDIR="$tmp/etc" XDG_CONFIG_HOME="$tmp/xdg")

# The kernel's part on the fake tree: "1" in a group's cgroup.kill kills
# what is listed in it and below; exited processes leave cgroup.procs.
play_kernel() {
	while [ -e "$tmp/kernel.on" ]; do
		find "$CG" -name cgroup.kill -size +0 2>/dev/null | while read -r k; do
			: >"$k"
			find "${k%/cgroup.kill}" -name cgroup.procs -exec cat {} + 2>/dev/null |
				while read -r p; do kill -KILL "$p" 2>/dev/null; done
		done
		find "$CG" -name cgroup.procs -size +0 2>/dev/null | while read -r f; do
			[ -z "$(tail -c1 "$f")" ] || continue	# a join half done
			keep=$(while read -r p; do [ -d "/proc/$p" ] && echo "$p"; done <"$f")
			[ "$keep" = "$(cat "$f")" ] || printf '%s' "${keep:+$keep
}" >"$f"
		done
		sleep 0.05
	done
}
agent_start() {
	NICELY_SYSCONFDIR="$tmp/agent-etc" NICELY_CGROUP_TRACE="$tmp/atrace" \
		"$AGENT" --foreground --cgroup-root "$CG" --socket "$sock" \
		--base "$base" --tick 200 2>>"$tmp/agent.log" &
	apid=$!
	for _ in $(seq 100); do [ -S "$sock" ] && return; sleep 0.05; done
}
agent_stop() {
	[ -n "$apid" ] && { kill -TERM "$apid" 2>/dev/null; wait "$apid" 2>/dev/null; }
	apid=
}
cleanup_all() {
	local p
	for p in $(pgrep -u "$user"); do kill -9 "$p" 2>/dev/null; done
	agent_stop
	rm -f "$tmp/kernel.on"	# the stand-in kernel ends its round and stops
	[ -n "$kpid" ] && wait "$kpid" 2>/dev/null
	st_v2_teardown
	cleanup
}
trap cleanup_all EXIT
: >"$tmp/kernel.on"
play_kernel &
kpid=$!
agent_start
[ -S "$sock" ] || { echo "Bail out! the agent did not start: $(cat "$tmp/agent.log")"; exit 1; }

ug=$CG/$base/user-$uid
batches() { ls "$ug" 2>/dev/null | grep -c "^$user-"; }
nobatch() { [ "$(batches)" = 0 ]; }
left() { pgrep -u "$user" -f "$S" | wc -l; }
wait_until() {
	local end=$(( $(date +%s%N) / 1000000 + $1 * 1000 )); shift
	until "$@"; do
		[ $(( $(date +%s%N) / 1000000 )) -ge $end ] && return 1
		sleep 0.1
	done
}
# pidlines FILE: 0 when FILE lists pids one a line (or nothing), as the
# kernel's cgroup.procs does
pidlines() { [ ! -s "$1" ] || { [ -z "$(tail -c1 "$1")" ] && ! grep -qv '^[1-9][0-9]*$' "$1"; }; }

