#!/bin/bash
# RLIMIT_NPROC (per real uid; root ignores it, so as a throwaway user): a
# task whose fork is refused is put back, not failed; nicely backs off,
# says once that the process limit holds tasks back, and the batch ends
# with every task run. Under a limit that leaves no room for any task
# (ulimit -u 1: nicely itself), the tasks fail with the reason after a
# bounded wait instead of looping for ever.
PREFIX=nicelyu
. "$(dirname "$0")/lib/nonroot-common.sh"
chmod 755 "$tmp"
S=$tmp/npslp$$
cp "$(command -v sleep)" "$S"
cp "$B/nicely" "$tmp/nicely"
mkdir -p "$tmp/etc" "$tmp/xdg"
chmod -R a+rX "$tmp"
mkdir -m 700 "$tmp/rt"
chown "$user" "$tmp/rt"
# nproc N ARGS...: nicely run ARGS as the user under ulimit -u N, killed
# after 90 s; out, err, rc, secs
nproc() {
	local n=$1 t0
	shift
	t0=$(date +%s)
	( cd "$tmp" && timeout -s KILL 90 runuser -u "$user" -- env -u NICELY_CGROUP_ROOT \
		NICELY_RUNTIME_DIR="$tmp/rt" NICELY_CONFIG=/dev/null \
		ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
		NICELY_SYSCONFDIR="$tmp/etc" XDG_CONFIG_HOME="$tmp/xdg" \
		bash -c 'ulimit -u "$0" && exec "$@"' "$n" "$tmp/nicely" run -p nuclear "$@" \
		>"$tmp/out" 2>"$tmp/err" )
	rc=$?
	secs=$(( $(date +%s) - t0 ))
	out=$(cat "$tmp/out")
	err=$(grep -v '^nicely: no cgroups' "$tmp/err")
	[ -n "${V:-}" ] && cat "$tmp/err" >&2
}
# (LeakSanitizer needs a thread at exit, which the limit refuses: off)
# one process per task: the shell's echo is a builtin, then it becomes sleep
task="echo {}; exec $S 0.3"

for u in 2 3; do
	nproc $u -j4 "$task" ::: a b c d e f
	check "ulimit -u $u, -j4: every task ran, exit 0 (rc $rc)" '[ "$rc" = 0 ] && [ "$(echo $out)" = "a b c d e f" ]'
	check "  no task failed to start" '! grep -q "cannot start" <<<"$err"'
	[ $u = 2 ] && check "  the hold-back is said once" \
		'[ "$(grep -c "^nicely: the process limit holds tasks back (RLIMIT_NPROC, ulimit -u: 2 processes of your user at once): a fork was refused" <<<"$err")" = 1 ]'
done

# no room at all: every task fails with the reason, within bounds
nproc 1 -j2 "$task" ::: a b c
check "ulimit -u 1: the tasks fail (exit 3, rc $rc) in bounded time (${secs} s)" '[ "$rc" = 3 ] && [ "$secs" -lt 60 ]'
check "  each says why" '[ "$(grep -c "cannot start .*: no process can be made: fork refused for [0-9.]* s with no task of the batch running (RLIMIT_NPROC, ulimit -u: 1 processes" <<<"$err")" = 3 ]'

left=$(ps -u "$user" -o pid=,args= 2>/dev/null)
out=$left
check "no process of the user is left" '[ -z "$left" ]'
for p in $(ps -u "$user" -o pid= 2>/dev/null); do kill -KILL "$p"; done
echo "1..$n"
