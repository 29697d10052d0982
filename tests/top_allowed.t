#!/bin/bash
# The allowed PUs on the real machine: a v1 cpuset cgroup that allows only
# CPU 1 leaves CPU 0 in the table but not allowed, and an affinity mask
# (taskset) restricts the same way. Needs root, cgroup v1 cpuset and two
# CPUs; the cgroup is removed on every path.
b=${NICELY_BUILD:-$(dirname "$0")/../build}
nicely=$b/nicely
cs=/sys/fs/cgroup/cpuset
cg=$cs/nicely-test-$$
tmp=$(mktemp -d)
cleanup() { [ -d "$cg" ] && rmdir "$cg"; rm -rf "$tmp"; }
trap cleanup EXIT
unset NICELY_TOPOLOGY NICELY_PROCFS

n=0 failed=0
t() {
	local name=$1; shift
	n=$((n + 1))
	if "$@"; then echo "ok $n - $name"; else echo "not ok $n - $name"; failed=$((failed + 1)); fi
}
json() {
	perl -MJSON::PP -e 'local $/; open my $f, "<", $ARGV[0] or die; my $j = decode_json(<$f>);
		exit(eval($ARGV[1]) ? 0 : 1)' "$1" "$2"
}

[ -x "$nicely" ] || { echo "Bail out! $nicely not built"; exit 1; }
command -v taskset >/dev/null || { echo "1..0 # SKIP no taskset"; exit 0; }
taskset -c 0,1 true 2>/dev/null || { echo "1..0 # SKIP needs CPUs 0 and 1"; exit 0; }

# An affinity mask: only CPU 0.
taskset -c 0 "$nicely" top --once --json >"$tmp/aff"; rc=$?
t "taskset -c 0: exits 0" [ $rc = 0 ]
t "taskset -c 0: every PU listed, only CPU 0 allowed" json "$tmp/aff" '
	my @a = grep { $_->{allowed} } @{$j->{pus}};
	@{$j->{pus}} >= 2 && @a == 1 && $a[0]{os_index} == 0 && $j->{topology}{allowed} == 1'

# A cpuset cgroup: only CPU 1.
if [ "$(id -u)" = 0 ] && [ -w "$cs/cgroup.procs" ] && mkdir "$cg" 2>/dev/null; then
	echo 1 >"$cg/cpuset.cpus"
	cat "$cs/cpuset.mems" >"$cg/cpuset.mems"
	sh -c 'echo $$ >"$1/cgroup.procs" && exec "$2" top --once --json' sh "$cg" "$nicely" >"$tmp/cs"; rc=$?
	t "cpuset cgroup: exits 0" [ $rc = 0 ]
	t "cpuset cgroup: CPU 0 listed but not allowed, CPU 1 allowed" json "$tmp/cs" '
		my %p = map { $_->{os_index} => $_ } @{$j->{pus}};
		exists $p{0} && !$p{0}{allowed} && $p{1}{allowed} && $j->{topology}{allowed} == 1'
	t "cpuset cgroup removed" rmdir "$cg"
else
	n=$((n + 1)); echo "ok $n - cpuset cgroup # SKIP needs root and cgroup v1 cpuset"
fi

echo "1..$n"
exit $((failed > 254 ? 254 : failed))
