# Shared by the tests that run nicely as a user without cgroup permission:
# skips where that cannot be tested (not root, no cgroup tree, no useradd),
# makes a throwaway system user $user and a scratch directory $tmp, both
# removed at exit, and the TAP check function. Source it with PREFIX, the
# user name's prefix (the user is PREFIX followed by this shell's pid).
B=${NICELY_BUILD:-$(cd "$(dirname "$0")/../build" && pwd)}
if [ "$(id -u)" != 0 ]; then echo "1..0 # SKIP needs root to create a user"; exit 0; fi
if [ ! -e /sys/fs/cgroup/cpu/cpu.shares ] && [ ! -e /sys/fs/cgroup/cgroup.controllers ]; then
	echo "1..0 # SKIP no cgroup tree"; exit 0
fi
for c in useradd userdel runuser; do
	command -v $c >/dev/null || { echo "1..0 # SKIP no $c"; exit 0; }
done
[ -e /proc/self/autogroup ] && autogroup=1 || autogroup=0

user=$PREFIX$$
tmp=$(mktemp -d "/tmp/nicely-$PREFIX-XXXXXX")
cleanup() { userdel "$user" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
useradd --system --no-create-home --shell /usr/sbin/nologin "$user" ||
	{ echo "Bail out! useradd failed"; exit 1; }

# check NAME SHELL-CONDITION: TAP line; on failure shows $out.
n=0
check() { n=$((n + 1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; printf '# %s\n' "$out"; fi; }
