#!/bin/bash
# Politeness for an ordinary user on a server laid out as systemd lays out
# Debian 12 (issue 14's benchmark), rebuilt on this machine's cgroup v1
# hierarchies by tests/lib/systemd-tree.sh: R/user.slice/user-UID.slice/
# session-N.scope for two throwaway users, F (the foreground: another
# user's fixed work on every PU, bench/fgwork) and U (the batch: CPU-bound
# bench/fgwork burn tasks, started in U's session scope). Scenarios of U's
# batch, alternating, REPEATS rounds:
#   nice19-xargs    nice -n 19 xargs -P NPU (what a careful user does today)
#   nicely-noagent  nicely run -p PRESET as U, no agent: nice + autogroup
#                   only, its tasks in U's own slice
#   nicely-agent    nicely run -p PRESET as U placed by the agent's calls
#                   (tests/helpers/cga_driver: user group and batch with the
#                   preset's class in R/nicely, a sibling of user.slice, the
#                   process moved into the owner leaf), as nicely-agent
#                   places a batch
#   nicely-daemon   nicely run -p PRESET as U with the real nicely-agent
#                   running (started once, its base R/nicely): placement,
#                   leases and the snapshot all through the daemon
# Per scenario: slowdown = F's wall with the batch / alone; harvest = CPU
# the batch got / CPU the rest left idle over IDLEWIN s without foreground.
# Prints medians (min-max) and the goal: nicely-agent slowdown <= 1.05,
# harvest >= 0.90. Root only; everything made is removed at exit.
# Usage: bench/agent_politeness.sh [SCENARIO...]; REPEATS (3), PRESET
# (normal), SETTLE (8 s), IDLEWIN (3 s), NICELY_BUILD (build/).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
B=${NICELY_BUILD:-$top/build}
FG=$B/bench/fgwork
D=$B/tests/helpers/cga_driver
REPEATS=${REPEATS:-3}
PRESET=${PRESET:-normal}
SETTLE=${SETTLE:-8}	# the preset's smoothed load falls after F's run
IDLEWIN=${IDLEWIN:-3}
npu=$(nproc)
hz=$(getconf CLK_TCK)
[ "$(id -u)" = 0 ] || { echo "agent_politeness: run as root" >&2; exit 2; }
for x in "$FG" "$D" "$B/nicely" "$B/nicely-agent"; do
	[ -x "$x" ] || { echo "agent_politeness: build first ($x missing)" >&2; exit 2; }
done
. "$top/tests/lib/systemd-tree.sh"
[ -e "$ST_CG/cpu/cpu.shares" ] || { echo "agent_politeness: no cgroup v1 cpu hierarchy" >&2; exit 2; }

R=nicely-bench-$$
uf=nbf$$
ub=nbu$$
scratch=$(mktemp -d)
chmod 0755 "$scratch"
apid=""
cleanup() {
	stop_group "$(scope_rel "$uidb")" 2>/dev/null
	[ -n "${uidb:-}" ] && stop_group "$ST_BASE/user-$uidb" 2>/dev/null
	[ -n "$apid" ] && { kill -TERM "$apid" 2>/dev/null; wait "$apid" 2>/dev/null; }
	[ -n "${bgroup:-}" ] && { stop_group "$bgroup"; $D remove "$ST_BASE" "$uidb" "$bname" >/dev/null 2>&1; }
	st_v1_teardown all
	userdel "$uf" 2>/dev/null; userdel "$ub" 2>/dev/null
	rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
useradd --system --no-create-home --shell /bin/sh "$uf" &&
	useradd --system --no-create-home --shell /bin/sh "$ub" || exit 2
uidf=$(id -u "$uf"); uidb=$(id -u "$ub"); gidb=$(id -g "$ub")
st_v1_build "$R" && st_v1_user "$uidf" 1 && st_v1_user "$uidb" 2 ||
	{ echo "agent_politeness: cannot build the layout" >&2; exit 2; }
# the machine's and users' config must not change what is measured
: >"$scratch/empty.conf"; mkdir -p "$scratch/etc"
envs="NICELY_CONFIG=$scratch/empty.conf XDG_CONFIG_HOME=$scratch NICELY_SYSCONFDIR=$scratch/etc"

scope_rel() { echo "$R/user.slice/user-$1.slice/session-$([ "$1" = "$uidf" ] && echo 1 || echo 2).scope"; }

# The hierarchy whose files give a group's CPU time: cgroup2 when mounted.
usage_ns() {
	if [ -e "$ST_CG/unified/$1/cpu.stat" ]; then
		awk '$1=="usage_usec"{printf "%.0f\n", $2 * 1000}' "$ST_CG/unified/$1/cpu.stat"
	else
		cat "$ST_CG/cpuacct/$1/cpuacct.usage"
	fi
}

# Run command $3.. as user $1 inside group $2 (moved there by root first).
in_group() {
	local u=$1 g=$2; shift 2
	local moves="" h
	for h in $(st_hiers); do
		[ -d "$ST_CG/$h/$g" ] && moves="$moves echo \$\$ >$ST_CG/$h/$g/cgroup.procs &&"
	done
	sh -c "$moves exec runuser -u $u -- env $envs $*"
}

# Kill every process under group $1 in every hierarchy until none is left.
stop_group() {
	local i p
	for ((i = 0; i < 50; i++)); do
		p=$(for h in $(st_hiers); do [ -d "$ST_CG/$h/$1" ] &&
			find "$ST_CG/$h/$1" -name cgroup.procs -exec cat {} +; done 2>/dev/null | sort -u)
		[ -z "$p" ] && return 0
		kill -9 $p 2>/dev/null
		sleep 0.1
	done
	echo "agent_politeness: group $1 still has processes" >&2
}

stat_jiffies() { awk '/^cpu /{t=0; for(k=2;k<=9;k++) t+=$k; print t-$5-$6, t; exit}' /proc/stat; }

rate=$("$FG" calibrate)
tasks=$((npu * 20))
burn="$FG burn 5"

# One measurement of scenario $1: sets wall (F's fixed work) and harvest.
measure() {
	local s=$1 g="" cmd b0 t0 b1 t1 c0 c1 out n acct="" bpid=""
	bgroup="" ; bname=""
	case $s in
	alone) ;;
	nice19-xargs) g=$(scope_rel "$uidb"); cmd="sh -c 'seq $tasks | nice -n 19 xargs -P $npu -I{} $burn'" ;;
	nicely-noagent) g=$(scope_rel "$uidb"); cmd="sh -c 'seq $tasks | $B/nicely run -p $PRESET -- $burn'" ;;
	nicely-daemon)
		g=$(scope_rel "$uidb")
		acct=$ST_BASE/user-$uidb	# the user's group: this batch only
		cmd="sh -c 'seq $tasks | env NICELY_AGENT_SOCKET=$scratch/agent.sock $B/nicely run -p $PRESET -- $burn'" ;;
	nicely-agent)
		bname=$ub-$$-$RANDOM
		w=$("$B/nicely" presets "$PRESET" 2>/dev/null | awk '$1=="cpu_weight"{print $2}')
		g=$($D make "$ST_BASE" "$uidb" "$gidb" "$bname" "${w:-idle}" 0) || return 1
		bgroup=$g
		g=$g/owner
		cmd="sh -c 'seq $tasks | $B/nicely run -p $PRESET -- $burn'" ;;
	*) echo "agent_politeness: unknown scenario $s" >&2; return 1 ;;
	esac
	if [ -n "$g" ]; then
		in_group "$ub" "$g" "$cmd" >/dev/null 2>>"$scratch/batch.err" &
		bpid=$!
		sleep "$SETTLE"
		acct=${acct:-${bgroup:-$g}}
		read -r b0 t0 < <(stat_jiffies); c0=$(usage_ns "$acct")
		sleep "$IDLEWIN"
		read -r b1 t1 < <(stat_jiffies); c1=$(usage_ns "$acct")
		harvest=$(awk -v c="$(( (c1 - c0) ))" -v b="$((b1 - b0))" -v t="$((t1 - t0))" -v hz="$hz" 'BEGIN{
			c/=1e9; cap=t/hz; others=b/hz-c; idle=cap-(others>0?others:0)
			printf "%.2f", (idle > 0 ? c / idle : 0)}')
	else
		harvest=-
	fi
	out=$(in_group "$uf" "$(scope_rel "$uidf")" "$FG work $rate $npu") || return 1
	wall=${out##*wall=}; wall=${wall%% *}
	if [ -n "$g" ]; then
		[ "$s" = nicely-daemon ] && stop_group "$acct"
		stop_group "${bgroup:-$g}"
		wait "$bpid" 2>/dev/null	# not the agent's
		[ -n "$bgroup" ] && $D remove "$ST_BASE" "$uidb" "$bname" >/dev/null
		bgroup=""
	fi
	return 0
}

scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(nice19-xargs nicely-noagent nicely-agent nicely-daemon)
if [[ " ${scenarios[*]} " == *" nicely-daemon "* ]]; then
	mkdir -p "$scratch/agent-etc"
	NICELY_SYSCONFDIR=$scratch/agent-etc "$B/nicely-agent" --foreground \
		--socket "$scratch/agent.sock" --base "$ST_BASE" --tick 200 \
		2>>"$scratch/agent.log" &
	apid=$!
	for _ in $(seq 100); do [ -S "$scratch/agent.sock" ] && break; sleep 0.05; done
	[ -S "$scratch/agent.sock" ] || { echo "agent_politeness: nicely-agent did not start:" >&2; cat "$scratch/agent.log" >&2; exit 2; }
fi
declare -A slows harvs
for ((r = 1; r <= REPEATS; r++)); do
	for s in alone "${scenarios[@]}"; do
		measure "$s" || { echo "agent_politeness: $s failed" >&2; continue; }
		[ -z "${DEBUG:-}" ] || echo "agent_politeness: $s wall $wall harvest $harvest" >&2
		if [ "$s" = alone ]; then alone=$wall; continue; fi
		slows[$s]+="$(awk -v w="$wall" -v a="$alone" 'BEGIN{printf "%.3f", w/a}') "
		harvs[$s]+="$harvest "
	done
done

stat3() { tr ' ' '\n' | grep -v '^-*$' | sort -g | awk '{v[NR]=$1} END{if(!NR){print "-";exit}
	printf "%s (%s-%s)", v[int((NR+1)/2)], v[1], v[NR]}'; }
med() { tr ' ' '\n' | grep -v '^-*$' | sort -g | awk '{v[NR]=$1} END{print NR ? v[int((NR+1)/2)] : "-"}'; }
printf '# agent politeness: %d PUs, %d repeats, preset %s, systemd-like layout on cgroup v1; F alone %.2f s\n' \
	"$npu" "$REPEATS" "$PRESET" "${alone:-0}"
printf '| %-15s | %-22s | %-22s |\n' scenario "F's slowdown" "harvest (F idle)"
printf '|%s|%s|%s|\n' ----------------- ------------------------ ------------------------
for s in "${scenarios[@]}"; do
	printf '| %-15s | %-22s | %-22s |\n' "$s" "$(echo ${slows[$s]:-} | stat3)" "$(echo ${harvs[$s]:-} | stat3)"
done
for s in nicely-agent nicely-daemon; do
	[ -n "${slows[$s]:-}" ] || continue
	awk -v s="$s" -v w="$(echo ${slows[$s]} | med)" -v h="$(echo ${harvs[$s]} | med)" 'BEGIN{
		printf "goal (%s): slowdown %s <= 1.05: %s; harvest %s >= 0.90: %s\n", s,
			w, (w <= 1.05) ? "met" : "NOT met", h, (h >= 0.9) ? "met" : "NOT met"}'
done
printf 'load average at the end: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
