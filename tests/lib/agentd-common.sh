# Shared by the tests/agentd_*.t tests of nicely-agent: a scratch
# directory $T with a fake cgroup2 tree ($CG), a private system config
# ($T/etc), the agent started in the foreground on $SOCK (start_agent,
# stop_agent), a stand-in for the kernel that drops exited processes from
# the fake tree's cgroup.procs files (the agent's kills wait for them to
# go), TAP helpers, and cleanup of every process the test started. Source
# it; it sets $AGENT, $CLIENT, $NICELY_BUILD.
set -u
NICELY_BUILD=${NICELY_BUILD:-"$(cd "$(dirname "$0")/.." && pwd)/build"}
AGENT="$NICELY_BUILD/nicely-agent"
CLIENT="$NICELY_BUILD/tests/helpers/agentd_client"
[ -x "$AGENT" ] && [ -x "$CLIENT" ] || { echo "Bail out! build nicely-agent and tests/helpers/agentd_client first"; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/nicely-agentd.XXXXXX")
chmod 755 "$T"
CG=$T/cg
SOCK=$T/run/agent.sock
mkdir -p "$T/etc/nicely" "$T/run" "$CG"
chmod 755 "$T/run"
export NICELY_SYSCONFDIR="$T/etc" NICELY_AGENT_SOCKET="$SOCK"
unset NICELY_CONFIG NICELY_TOPOLOGY NICELY_PROCFS NICELY_CGROUP_ROOT
# python3 is the system's (scripts/deps.sh installs it) where there is
# one: a version manager's shim first on PATH (pyenv's) costs about half a
# second of CPU a call, and the tests call it dozens of times.
# (a link in $T/bin, first on PATH: a shell function would leave a
# background python3's pid unknown to the test)
if [ -x /usr/bin/python3 ] && mkdir -p "$T/bin" &&
	ln -sf /usr/bin/python3 "$T/bin/python3"; then
	PATH=$T/bin:$PATH
fi
# a fake cgroup2 root as systemd leaves it
printf 'cpuset cpu io memory pids\n' >"$CG/cgroup.controllers"
printf 'cpu memory pids\n' >"$CG/cgroup.subtree_control"
for f in cgroup.procs cgroup.threads cgroup.kill cgroup.freeze cgroup.events \
	cpu.weight cpu.idle cpu.max cpu.stat cpuset.cpus cpuset.mems memory.max \
	memory.swap.max; do : >"$CG/$f"; done
agent_pid=""
kernel_pid=""
killme=""
tap_n=0
tap_fail=0
agentd_cleanup() {
	for p in $killme $agent_pid $kernel_pid; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${agentd_extra_cleanup:-}" ] && $agentd_extra_cleanup
	rm -rf "$T"
}
trap agentd_cleanup EXIT

ok() {
	tap_n=$((tap_n + 1))
	if [ "$1" = 0 ]; then echo "ok $tap_n - $2"; else echo "not ok $tap_n - $2"; tap_fail=$((tap_fail + 1)); fi
}
is() {
	tap_n=$((tap_n + 1))
	if [ "$1" = "$2" ]; then echo "ok $tap_n - $3"; else
		echo "not ok $tap_n - $3"
		printf '%s\n' "$1" | head -5 | sed 's/^/#   got:  /'
		printf '%s\n' "$2" | head -5 | sed 's/^/#   want: /'
		tap_fail=$((tap_fail + 1))
	fi
}
# the end: stop the agent cleanly; its log must hold no sanitizer report
done_testing() {
	stop_agent
	! grep -q "Sanitizer\|runtime error:" "$T/agent.log" 2>/dev/null
	ok $? "the agent's log holds no sanitizer report"
	grep -B2 -A20 "Sanitizer\|runtime error:" "$T/agent.log" 2>/dev/null | head -40 | sed 's/^/# /'
	echo "1..$tap_n"
	[ "$tap_fail" = 0 ]
}
wait_for() {
	local i
	for i in $(seq 100); do "$@" && return 0; sleep 0.1; done
	return 1
}
ms() { date +%s%3N; }

# The kernel's part on a fake tree: "1" in a group's cgroup.kill kills
# every process listed in it and below; exited processes leave
# cgroup.procs (and every list ends with a newline).
play_kernel() {
	exec python3 - "$CG" <<'PY'
import os, signal, sys, time
root = sys.argv[1]
def alive(p):
    try:
        with open("/proc/%s/stat" % p) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False
while True:
    for d, dirs, files in os.walk(root):
        if "cgroup.kill" in files:
            k = os.path.join(d, "cgroup.kill")
            try:
                if os.path.getsize(k):
                    open(k, "w").close()
                    for d2, _, f2 in os.walk(d):
                        if "cgroup.procs" in f2:
                            for p in open(os.path.join(d2, "cgroup.procs")).read().split():
                                try: os.kill(int(p), signal.SIGKILL)
                                except (OSError, ValueError): pass
            except OSError:
                pass
        if "cgroup.procs" in files:
            f = os.path.join(d, "cgroup.procs")
            try:
                text = open(f).read()
            except OSError:
                continue
            if not text:
                continue
            keep = [p for p in text.split() if alive(p)]
            new = "".join(p + "\n" for p in keep)
            if new != text:
                try:
                    with open(f, "w") as o: o.write(new)
                except OSError:
                    pass
    time.sleep(0.02)
PY
}
play_kernel &
kernel_pid=$!

# fake_procfs N: $T/proc, a /proc of N idle CPUs (their idle counters
# grow all the time) for the agent's --procfs, on a synthetic topology
# of N PUs (NICELY_TOPOLOGY for the agent only: start_agent passes it)
fake_procfs() {
	local n=$1 fx
	fx="$(dirname "$0")/fixtures/proc/basic/t0"
	mkdir -p "$T/proc/pressure"
	cp "$fx/loadavg" "$fx/meminfo" "$T/proc/"
	cp "$fx/pressure/cpu" "$T/proc/pressure/"
	agent_topology="synthetic:pack:1 core:$n pu:1"
	(
		i=1000
		while :; do
			i=$((i + 10))
			{
				echo "cpu  0 0 0 $((i * n)) 0 0 0 0 0 0"
				for c in $(seq 0 $((n - 1))); do echo "cpu$c 0 0 0 $i 0 0 0 0 0 0"; done
				echo "procs_running 1"
			} >"$T/proc/stat.new"
			cat "$T/proc/stat.new" >"$T/proc/stat"
			sleep 0.02
		done
	) &
	procfs_pid=$!
	killme="$killme $procfs_pid"
	wait_for test -s "$T/proc/stat"
}
agent_topology=""

# start_agent [ARGS]: the agent in the foreground, its log in $T/agent.log;
# waits until it answers (it accepts once the earlier batches are known).
agent_answers() { "$CLIENT" "$SOCK" "$(req hello)" 2>/dev/null | grep -q '"ok":true'; }
start_agent() {
	NICELY_TOPOLOGY=$agent_topology "$AGENT" --foreground --cgroup-root "$CG" --tick 100 "$@" >>"$T/agent.log" 2>&1 &
	agent_pid=$!
	wait_for agent_answers
}
# 0 when the process can never run again: gone, or a zombie
gone() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	s=${s##*) }
	[ "${s%% *}" = Z ] || [ "${s%% *}" = X ]
}
stop_agent() { [ -n "$agent_pid" ] && kill -TERM "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null; agent_pid=""; }

# field JSON-LINE KEY...: the keys' values, space-separated (lowercase
# booleans, "-" when missing)
field() {
	python3 -c '
import json, sys
try:
    o = json.loads(sys.argv[1])
except Exception:
    print("not-json"); sys.exit(0)
def val(v):
    return str(v).lower() if isinstance(v, bool) else str(v)
print(" ".join(val(o[k]) if k in o else "-" for k in sys.argv[2:]))' "$@"
}
req() { printf '{"v":1,"cmd":"%s"%s}' "$1" "${2:+,$2}"; }
