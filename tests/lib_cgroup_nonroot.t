#!/bin/bash
# libnicely run by a user without cgroup permission (a user made for this
# test and removed after): with cgroups = required the pool is refused with
# NICELY_ECGROUP and a log line that says why; with auto it is made, one
# log line says what is missing and how to get it, and the task runs in a
# session of the workers' own at autogroup nice 19 (the caller's session is
# left alone); nothing of that user is left in the cgroup tree.
PREFIX=nicelyl
. "$(dirname "$0")/lib/nonroot-common.sh"
probe=$B/tests/helpers/lib_probe
[ -x "$probe" ] || { echo "Bail out! no helper at $probe"; exit 1; }
cp "$probe" "$tmp/probe"
mkdir -p "$tmp/etc" "$tmp/xdg"
printf '[preset cgtest]\nbase = nuclear\ncpu_weight = idle\n' >"$tmp/cg.conf"
chmod -R a+rX "$tmp"

as_user() {
	(cd "$tmp" && runuser -u "$user" -- env -u NICELY_CGROUP_ROOT -u NICELY_CGROUP_TRACE \
		NICELY_SYSCONFDIR="$tmp/etc" XDG_CONFIG_HOME="$tmp/xdg" NICELY_CONFIG="$tmp/cg.conf" \
		setsid -w sh -c './probe "$@"; cat /proc/self/autogroup' probe "$@" 2>&1)
}

out=$(as_user required cgtest)
check "required as $user: NICELY_ECGROUP" 'grep -qx "new NICELY_ECGROUP" <<<"$out"'
check "one log line says cgroups are required and why" \
	'[ "$(grep -c "^log cgroups are required.*cannot create cgroup" <<<"$out")" = 1 ]'

out=$(as_user auto cgtest)
check "auto as $user: the pool is made" 'grep -qx "new 0" <<<"$out"'
grep "^log " <<<"$out" | sed 's/^/# /'
check "without cgroups" 'grep -qx "cgroups 0" <<<"$out"'
check "exactly one log line" '[ "$(grep -c "^log " <<<"$out")" = 1 ]'
check "it names the cgroup it could not create" 'grep -q "^log .*cannot create cgroup /sys/fs/cgroup/.*nicely/$user-[0-9]*-1" <<<"$out"'
check "it says how to get cgroups" 'grep -q "^log .*start nicely-agent" <<<"$out"'
check "it says workers run with nice and pinning" 'grep -q "^log .*nice and CPU pinning only" <<<"$out"'
if [ $autogroup = 1 ]; then
	check "the task runs in a session of its own at autogroup nice 19" \
		'grep -Eq "^task /autogroup-[0-9]+ nice 19\|sid-own$" <<<"$out"'
	check "the caller's session keeps autogroup nice 0" \
		'grep -Eq "^/autogroup-[0-9]+ nice 0$" <<<"$(tail -n 1 <<<"$out")"'
else
	n=$((n + 1)); echo "ok $n # SKIP kernel without autogroup"
fi

out=$(as_user off cgtest)
check "off as $user: made, nothing logged" 'grep -qx "new 0" <<<"$out" && ! grep -q "^log " <<<"$out"'

left=$(ls -d /sys/fs/cgroup/*/nicely/"$user"-* /sys/fs/cgroup/nicely/"$user"-* 2>/dev/null)
check "no group of $user left in the tree" '[ -z "$left" ]'
userdel "$user" 2>/dev/null
check "test user removed" '! id "$user" >/dev/null 2>&1'
echo "1..$n"
