#!/bin/bash
# As an ordinary user (one made for this test, removed after) that may
# not make cgroups: the kill cases of tests/lib/nokill-cases.sh (SIGINT,
# SIGTERM, SIGKILL of nicely run and nicely kill leave no process,
# double-forked ones included; a setsid child holding stdout does not
# make nicely wait for ever; a dead run's leftovers are killed by the
# next run, only where pid and start time match).
PREFIX=nicelyk
. "$(dirname "$0")/lib/nonroot-common.sh"
chmod 755 "$tmp"
runas=(runuser -u "$user" --)
who=$user
nkenv=(-u NICELY_CGROUP_ROOT -u NICELY_CGROUP_TRACE)
. "$(dirname "$0")/lib/nokill-cases.sh"
out=$("${N[@]}" run -p nk true ::: 1 2>&1 >/dev/null)
check "nicely run says the mode in one line" '[ "$(grep -c "^nicely: no cgroups (cannot create cgroup" <<<"$out")" = 1 ] && [ "$(wc -l <<<"$out")" = 1 ]'
out=$("${N[@]}" top --once 2>&1)
check "nicely top --once shows the same mode line" 'grep -q "^mode: no cgroups (cannot create cgroup" <<<"$out"'
echo "1..$n"
