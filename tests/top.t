#!/bin/bash
# `nicely top`: --once and --json on this machine and on fixtures (XML
# topology with an allowed cpuset, recorded /proc), the refresh loop ending
# cleanly on SIGINT, and clear errors for bad options, topologies and /proc.
b=${NICELY_BUILD:-$(dirname "$0")/../build}
src=$(cd "$(dirname "$0")/.." && pwd)
nicely=$b/nicely
fix=$src/tests/fixtures
xml=$fix/topology/pack2-numa-l3-allowed.xml
tmp=$(mktemp -d)
bg=
cleanup() {
	if [ -n "$bg" ]; then kill -KILL "$bg" 2>/dev/null; wait "$bg" 2>/dev/null; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
unset NICELY_TOPOLOGY NICELY_PROCFS

n=0 failed=0
t() { # t NAME CONDITION...
	local name=$1; shift
	n=$((n + 1))
	if "$@"; then echo "ok $n - $name"; else echo "not ok $n - $name"; failed=$((failed + 1)); fi
}
json() { # json FILE PERL-EXPR: evaluates EXPR with $j the decoded document
	perl -MJSON::PP -e 'local $/; open my $f, "<", $ARGV[0] or die; my $j = decode_json(<$f>);
		exit(eval($ARGV[1]) ? 0 : 1)' "$1" "$2"
}

[ -x "$nicely" ] || { echo "Bail out! $nicely not built"; exit 1; }

# The real machine.
"$nicely" top --once >"$tmp/out" 2>"$tmp/err"; rc=$?
t "top --once exits 0" [ $rc = 0 ]
t "names the topology source" grep -q '^topology: real machine$' "$tmp/out"
t "prints load average, pressure and memory" \
	bash -c "grep -q '^load average: ' $tmp/out && grep -q '^CPU pressure: ' $tmp/out && grep -q '^memory: .* GiB available' $tmp/out"
npu=$(getconf _NPROCESSORS_ONLN)
rows=$(awk '/^ +PU +CPU/{on=1; next} on && NF' "$tmp/out" | wc -l)
t "one row per PU ($rows of at least $npu)" [ "$rows" -ge "$npu" ]
t "nothing on stderr" [ ! -s "$tmp/err" ]

"$nicely" top --once --json >"$tmp/j" 2>"$tmp/err"; rc=$?
t "top --once --json exits 0" [ $rc = 0 ]
t "JSON: real machine, PUs listed, fractions in [0,1]" json "$tmp/j" '
	$j->{topology}{source} eq "real machine" && $j->{topology}{thissystem}
	&& @{$j->{pus}} == $j->{topology}{pus} && $j->{memory}{total_kb} > 0
	&& !grep { $_->{busy_others} < 0 || $_->{busy_others} > 1 } @{$j->{pus}}'
t "JSON: two samples ~200 ms apart" json "$tmp/j" '$j->{interval_ms} >= 150 && $j->{interval_ms} < 5000'

# Fixtures: XML topology of 16 PUs (8 allowed), /proc of 4 CPUs.
NICELY_TOPOLOGY=xml:$xml NICELY_PROCFS=$fix/proc/basic/t0 "$nicely" top --once >"$tmp/out" 2>"$tmp/err"; rc=$?
t "fixture: exits 0" [ $rc = 0 ]
t "fixture: counts" grep -q '^2 packages, 8 cores, 16 PUs (8 allowed), 2 NUMA nodes, 2 L3 caches$' "$tmp/out"
t "fixture: SMT siblings" grep -q '^SMT siblings (CPU numbers): 0+1 2+3 4+5 6+7 8+9 10+11 12+13 14+15$' "$tmp/out"
t "fixture: load average from the file" grep -q '^load average: 0.50 0.40 0.30, 2 running$' "$tmp/out"
t "fixture: PSI avg10" grep -q '^CPU pressure: some avg10 1.50%' "$tmp/out"
t "fixture: PU 4 disallowed, CPUs beyond /proc/stat offline" \
	grep -Eq '^ +4 +4 +2 +0 +0 +0 +no +offline$' "$tmp/out"
t "fixture: PU 1 row" grep -Eq '^ +1 +1 +0 +0 +0 +0 +yes +0\.0 +0\.0$' "$tmp/out"

NICELY_PROCFS=$fix/proc/basic/t0 "$nicely" top --once --json --topology "xml:$xml" >"$tmp/j"; rc=$?
t "fixture JSON via --topology: exits 0" [ $rc = 0 ]
t "fixture JSON: 16 PUs, 8 allowed, 8 sibling pairs, 2 NUMA nodes" json "$tmp/j" '
	@{$j->{pus}} == 16 && $j->{topology}{allowed} == 8
	&& @{$j->{topology}{smt_siblings}} == 8 && $j->{topology}{numa_nodes} == 2
	&& !$j->{topology}{thissystem}'
t "fixture JSON: allowed, online, L3 per PU" json "$tmp/j" '
	my @p = @{$j->{pus}};
	$p[3]{allowed} && !$p[4]{allowed} && $p[8]{allowed} && $p[1]{online} && !$p[4]{online}
	&& $p[9]{l3} == 1 && $p[9]{numa} == 1 && $p[9]{siblings}[0] == 8'
t "fixture JSON: load, pressure, memory" json "$tmp/j" '
	$j->{loadavg}[0] == 0.5 && $j->{cpu_pressure}{some_avg10} == 1.5
	&& $j->{memory}{available_kb} == 12000000 && $j->{procs_running} == 2'
NICELY_PROCFS=$fix/proc/nopsi/t0 "$nicely" top --once --json >"$tmp/j"
t "no PSI: cpu_pressure is null" json "$tmp/j" '!defined $j->{cpu_pressure}'

# wait_for N PATTERN FILE: until FILE has N lines matching PATTERN (at
# most 20 s, however loaded the machine is).
wait_for() {
	for _ in $(seq 200); do
		[ "$(grep -c -- "$2" "$3" 2>/dev/null)" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# The refresh loop: frames until SIGINT, then exit 0.
"$nicely" top --interval 100 >"$tmp/loop" 2>"$tmp/err" &
bg=$!
wait_for 3 '^topology: ' "$tmp/loop"
kill -INT "$bg"
wait "$bg"; rc=$?
bg=
t "refresh loop ends with 0 on SIGINT (got $rc)" [ $rc = 0 ]
frames=$(grep -c '^topology: ' "$tmp/loop")
t "refresh loop printed several frames ($frames)" [ "$frames" -ge 3 ]
"$nicely" top --json --interval 100 >"$tmp/loopj" &
bg=$!
wait_for 2 '^{' "$tmp/loopj"
kill -TERM "$bg"
wait "$bg"; rc=$?
bg=
t "JSON loop ends with 0 on SIGTERM" [ $rc = 0 ]
t "JSON loop: one valid document per line" perl -MJSON::PP -ne 'decode_json($_); $n++; END { exit($n >= 2 ? 0 : 1) }' "$tmp/loopj"

# Errors.
"$nicely" top --help >"$tmp/out"; rc=$?
t "--help exits 0 and documents --once" bash -c "[ $rc = 0 ] && grep -q -- --once $tmp/out"
"$nicely" top --bogus >/dev/null 2>"$tmp/err"; rc=$?
t "unknown option: exit 2, named" bash -c "[ $rc = 2 ] && grep -q -- --bogus $tmp/err"
"$nicely" top --interval 5 >/dev/null 2>"$tmp/err"; rc=$?
t "--interval 5: exit 2, says the range" bash -c "[ $rc = 2 ] && grep -q 'between 10 and' $tmp/err"
NICELY_TOPOLOGY=nonsense "$nicely" top --once >/dev/null 2>"$tmp/err"; rc=$?
t "bad NICELY_TOPOLOGY: exit 1, named" bash -c "[ $rc = 1 ] && grep -q NICELY_TOPOLOGY $tmp/err"
NICELY_PROCFS=$fix/proc/garbage/letters "$nicely" top --once >/dev/null 2>"$tmp/err"; rc=$?
t "garbage /proc/stat: exit 1, file and line named" \
	bash -c "[ $rc = 1 ] && grep -q 'garbage/letters/stat line 3: ' $tmp/err"

echo "1..$n"
exit $((failed > 254 ? 254 : failed))
