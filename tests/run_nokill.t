#!/bin/bash
# Without cgroups (as root, the cgroup root pointed at a directory that
# does not exist), nothing of a batch outlives it: SIGINT, SIGTERM and
# `nicely kill` reach double-forked (setsid) descendants, a task whose
# setsid child holds its stdout ends within a bound (timeout, kill, the
# batch's end), and what a SIGKILLed run left is killed by the next run,
# only where pid and start time still match (tests/lib/nokill-cases.sh).
B=${NICELY_BUILD:-$(cd "$(dirname "$0")/../build" && pwd)}
if [ "$(id -u)" != 0 ]; then echo "1..0 # SKIP needs root (a run without cgroups as root)"; exit 0; fi
tmp=$(mktemp -d /tmp/nicely-nokill-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
n=0
check() { n=$((n + 1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; printf '# %s\n' "$out"; fi; }
runas=()
who=root
nkenv=(NICELY_CGROUP_ROOT="$tmp/no-cgroups")
. "$(dirname "$0")/lib/nokill-cases.sh"
# the mode line, once, in nicely run and in nicely top --once
out=$("${N[@]}" run -p nk true ::: 1 2>&1 >/dev/null)
check "nicely run says the mode in one line" '[ "$(grep -c "^nicely: no cgroups (" <<<"$out")" = 1 ] && [ "$(wc -l <<<"$out")" = 1 ] && grep -q "subreaper" <<<"$out"'
out=$("${N[@]}" top --once 2>&1)
check "nicely top --once shows the same mode line" 'grep -q "^mode: no cgroups (no cgroup file system at $tmp/no-cgroups" <<<"$out"'
out=$("${N[@]}" top --once --json 2>&1)
check "nicely top --once --json has the mode" 'grep -q "\"mode\": \"no cgroups (no cgroup file system at $tmp/no-cgroups" <<<"$out"'
echo "1..$n"
