#!/bin/bash
# The cgroup module (sched/cgroup.h) run by a user without cgroup permission (a user made for
# this test and removed after): the batch open fails with one message that
# says what is missing and how to get it, nothing is left in the cgroup
# tree, and the fallback task runs in its own session at autogroup nice 19.
PREFIX=nicelyt
. "$(dirname "$0")/lib/nonroot-common.sh"
drv=$B/tests/helpers/cgroup_driver
[ -x "$drv" ] || { echo "Bail out! no driver at $drv"; exit 1; }
# the build tree may not be readable by others: run a copy
cp "$drv" "$tmp/driver" && chmod 755 "$tmp" "$tmp/driver"


out=$(cd "$tmp" && runuser -u "$user" -- env -u NICELY_CGROUP_ROOT -u NICELY_CGROUP_TRACE ./driver 2>&1)
rc=$?
check "driver exits 0 as $user" '[ $rc = 0 ]'
check "open refused with -EACCES or -EPERM" 'grep -Eq "^open: -(13|1)$" <<<"$out"'
check "message names the cgroup it could not create" 'grep -q "cannot create cgroup /sys/fs/cgroup/.*nicely/$user-[0-9]*-1" <<<"$out"'
check "message says tasks run with nice and pinning only" 'grep -q "nice and CPU pinning only" <<<"$out"'
check "message says how to get cgroups" 'grep -q "start nicely-agent" <<<"$out" && grep -q "systemd-run --user --scope" <<<"$out"'
check "exactly one message line" '[ "$(grep -c "cannot create cgroup" <<<"$out")" = 1 ]'
if [ $autogroup = 1 ]; then
	check "fallback task runs at autogroup nice 19" 'grep -Eq "^/autogroup-[0-9]+ nice 19$" <<<"$out"'
else
	n=$((n + 1)); echo "ok $n # SKIP kernel without autogroup"
fi
# `nicely run` as that user: the batch runs with nice and pinning, and
# says once what is missing
if [ -x "$B/nicely" ]; then
	cp "$B/nicely" "$tmp/nicely"
	mkdir -p "$tmp/etc" "$tmp/xdg"
	printf '[preset cgtest]\nbase = nuclear\ncpu_weight = idle\nnice = 19\n' >"$tmp/cg.conf"
	chmod -R a+rX "$tmp"
	# its control socket goes to a runtime directory of its own
	mkdir -m 700 "$tmp/rt" && chown "$user" "$tmp/rt"
	probe='cat /proc/self/autogroup; cut -d" " -f19 /proc/self/stat; grep Cpus_allowed_list /proc/self/status | cut -f2; echo {}'
	# in a session of its own (setsid): the fallback renices the session
	out=$(cd "$tmp" && runuser -u "$user" -- env -u NICELY_CGROUP_ROOT -u NICELY_CGROUP_TRACE \
		NICELY_SYSCONFDIR="$tmp/etc" XDG_CONFIG_HOME="$tmp/xdg" NICELY_CONFIG="$tmp/cg.conf" \
		NICELY_RUNTIME_DIR="$tmp/rt" \
		P="$probe" setsid -w sh -c './nicely run -p cgtest -j1 "$P" ::: 1; echo "rc $?"; cat /proc/self/autogroup' 2>"$tmp/err")
	rc=$(sed -n 's/^rc //p' <<<"$out")
	after=$(tail -n 1 <<<"$out")
	out=$(sed -n '1,/^rc /p' <<<"$out" | sed '$d')
	err=$(cat "$tmp/err")
	check "nicely run as $user exits 0" '[ $rc = 0 ]'
	check "the task ran" '[ "$(tail -n 1 <<<"$out")" = 1 ]'
	check "the task runs at nice 19" '[ "$(sed -n 2p <<<"$out")" = 19 ]'
	check "the task is pinned to one CPU" 'grep -Eqx "[0-9]+" <<<"$(sed -n 3p <<<"$out")"'
	if [ $autogroup = 1 ]; then
		check "the task's session has autogroup nice 19" 'grep -Eq "^/autogroup-[0-9]+ nice 19$" <<<"$out"'
		check "the session's autogroup nice is put back afterwards ($after)" 'grep -Eq "^/autogroup-[0-9]+ nice 0$" <<<"$after"'
	fi
	out=$err
	check "nicely run says once what is missing" '[ "$(grep -c "cannot create cgroup.*start nicely-agent" <<<"$err")" = 1 ]'
else
	n=$((n + 1)); echo "ok $n # SKIP no nicely binary"
fi

left=$(ls -d /sys/fs/cgroup/*/nicely/"$user"-* /sys/fs/cgroup/nicely/"$user"-* 2>/dev/null)
check "no group of $user left in the tree" '[ -z "$left" ]'
userdel "$user" 2>/dev/null
check "test user removed" '! id "$user" >/dev/null 2>&1'
echo "1..$n"
