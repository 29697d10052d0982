#!/bin/bash
# Removes the throwaway users (and groups) that tests left behind when they
# were interrupted. Run at the start of `make check` and `make soak`, and by
# tests/sweep_users.t. A test's user is named PREFIX, maybe one letter, the
# pid of the test's shell, maybe one letter (tests/lib/nonroot-common.sh:
# PREFIX$$; agent_run.t: ${PREFIX}b$$; agentd_users.t: $user followed by
# b, c or g). Only such names with a prefix of SWEEP_PREFIXES are touched,
# only system users (uid SYS_UID_MIN..SYS_UID_MAX), and only when the test
# shell of that pid is gone and the user owns no process: a test that runs
# meanwhile keeps its users. Prints one line per user or group removed or
# kept. A test that makes users with a new prefix adds it here
# (tests/sweep_users.t checks that every test's prefix is listed).
# Usage: sweep-users.sh [-n]   (-n: say what would go, remove nothing)
SWEEP_PREFIXES="nag napu ndb nicelyc nicelyhd nicelyk nicelyl nicelyp
nicelyra nicelyrp nicelyrv nicelys nicelysa nicelyt nicelyu nlost ntort"

dry=
[ "${1:-}" = -n ] && dry=1
if [ "$(id -u)" != 0 ]; then
	[ -n "$dry" ] || exit 0	# only root makes and removes users
fi
# the system uid range, as useradd --system picks from it
sysmin=$(awk '$1 == "SYS_UID_MIN" {print $2}' /etc/login.defs 2>/dev/null)
sysmax=$(awk '$1 == "SYS_UID_MAX" {print $2}' /etc/login.defs 2>/dev/null)
sysmin=${sysmin:-100} sysmax=${sysmax:-999}
alts=$(echo $SWEEP_PREFIXES | tr ' ' '|')
re="^($alts)[a-z]?([0-9]+)[a-z]?$"

# ours NAME: NAME is a test's name whose test shell is gone; sets $pid
ours() {
	[[ $1 =~ $re ]] || return 1
	pid=${BASH_REMATCH[2]}
	! [ -d "/proc/$pid" ]
}

getent passwd | while IFS=: read -r name _ uid _ _ home _; do
	[[ $name =~ $re ]] || continue
	if [ "$uid" -lt "$sysmin" ] || [ "$uid" -gt "$sysmax" ]; then
		echo "sweep-users: kept $name (uid $uid is not a system uid)"
		continue
	fi
	if ! ours "$name"; then
		echo "sweep-users: kept $name (its test, pid $pid, still runs)"
		continue
	fi
	if pgrep -u "$uid" >/dev/null; then
		echo "sweep-users: kept $name (it has running processes: $(pgrep -u "$uid" | head -5 | tr '\n' ' '))"
		continue
	fi
	if [ -n "$dry" ]; then
		echo "sweep-users: would remove user $name (uid $uid)"
		continue
	fi
	# its home only when it is its own (tests make none: useradd
	# --no-create-home), never a shared place
	rmhome=
	if [ -d "$home" ] && [ ! -L "$home" ] && [ "$home" = "/home/$name" ] &&
	   [ "$(stat -c %u "$home")" = "$uid" ]; then
		rmhome=$home
	fi
	if userdel "$name" 2>/dev/null; then
		[ -n "$rmhome" ] && rm -rf -- "$rmhome"
		echo "sweep-users: removed user $name (uid $uid${rmhome:+, home $rmhome})"
	else
		echo "sweep-users: could not remove user $name (uid $uid)" >&2
	fi
done
# groups of such names that no user has as its own (agentd_users.t's
# ${user}g; a user's own group goes with userdel)
getent group | while IFS=: read -r name _ gid _; do
	ours "$name" || continue
	getent passwd "$name" >/dev/null && continue
	[ -n "$(getent passwd | awk -F: -v g="$gid" '$4 == g')" ] && continue
	if [ -n "$dry" ]; then
		echo "sweep-users: would remove group $name (gid $gid)"
	elif groupdel "$name" 2>/dev/null; then
		echo "sweep-users: removed group $name (gid $gid)"
	else
		echo "sweep-users: could not remove group $name (gid $gid)" >&2
	fi
done
exit 0
