#!/bin/bash
# libnicely against Python's multiprocessing, in the same run: 100,000 calls
# of x*x through build/bench/lib_throughput (chunked nicely_map and
# nicely_map_into, one message per task, lifespan 1 next to a bare
# fork+waitpid loop) and through multiprocessing.Pool(2).map with the
# default chunksize and chunksize=1.
# Usage: bench/lib_vs_python.sh [N [NFORK [REPEATS]]]  (NFORK: calls for the
# fork-per-task pair; default 10,000 to keep the run short). Every map is
# timed REPEATS times (default 5) and the medians compared, two ways on
# both sides:
#   warm: one pool, after a first map of the same size (throughput of a
#         pool a program keeps: the goal is judged on this one);
#   cold: a fresh pool each time, after a 1,000-call warm-up (the first
#         use of the pool's memory and processes is in the figure).
# What each timer covers: nicely_map + nicely_wait_all + nicely_result_get
# of every result; malloc of a fresh array + nicely_map_into +
# nicely_wait_all + summing the array; Pool.map returning its list. Same n,
# same x*x, on every side. Pool creation is outside all of them. The
# caller's own CPU time per call (median of the warm maps; workers
# excluded) is printed for both: it is the serial part, and it is less
# disturbed by other load than wall time.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${NICELY_BUILD:-$top/build}
n=${1:-100000}
nf=${2:-10000}
reps=${3:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/etc" "$tmp/xdg"
export NICELY_SYSCONFDIR=$tmp/etc XDG_CONFIG_HOME=$tmp/xdg NICELY_CONFIG=

load0=$(cut -d' ' -f1 /proc/loadavg)
"$build/bench/lib_throughput" "$n" "$nf" 0 "$reps" >"$tmp/c.out"
python3 - "$n" "$reps" >"$tmp/py.out" <<'PY'
import multiprocessing as mp, sys, time
def sq(x):
    return x * x
if __name__ == '__main__':
    n, reps = int(sys.argv[1]), int(sys.argv[2])
    ds, cs, colds = [], [], []
    with mp.Pool(2) as p:
        p.map(sq, range(n))
        for _ in range(reps):
            c = time.process_time(); t = time.perf_counter()
            r = p.map(sq, range(n))
            ds.append(time.perf_counter() - t); cs.append(time.process_time() - c)
            assert r[-1] == (n - 1) ** 2
    for _ in range(reps):
        with mp.Pool(2) as p:
            p.map(sq, range(1000))
            t = time.perf_counter()
            r = p.map(sq, range(n))
            colds.append(time.perf_counter() - t)
            assert r[-1] == (n - 1) ** 2
    with mp.Pool(2) as p:
        p.map(sq, range(1000))
        t = time.perf_counter(); r = p.map(sq, range(n), chunksize=1); c1 = time.perf_counter() - t
        assert r[-1] == (n - 1) ** 2
    ds.sort(); cs.sort(); colds.sort()
    print("py_map_default_cold_us %.4f" % (colds[len(colds) // 2] / n * 1e6))
    print("py_map_caller_cpu_us %.4f" % (cs[len(cs) // 2] / n * 1e6))
    print("py_map_default_us %.4f" % (ds[len(ds) // 2] / n * 1e6))
    print("py_map_default_min_us %.4f" % (ds[0] / n * 1e6))
    print("py_map_default_max_us %.4f" % (ds[-1] / n * 1e6))
    print("py_map_chunksize1_us %.4f" % (c1 / n * 1e6))
PY
val() { awk -v k="$1" '$1 == k { print $2 }' "$tmp/c.out" "$tmp/py.out"; }
chunked=$(val chunked_map_us); into=$(val map_into_us); single=$(val one_message_per_task_us)
life1=$(val lifespan1_us); bare=$(val bare_fork_waitpid_us)
pyd=$(val py_map_default_us); py1=$(val py_map_chunksize1_us)
echo "x*x, $n calls (fork-per-task pair: $nf calls), 2 workers, load average $load0 before, $(cut -d' ' -f1 /proc/loadavg) after"
echo "maps: median of $reps (min-max); warm: one pool, after a map of the same size; cold: a fresh pool each"
printf '%-44s %10s\n' "what" "us/call"
printf '%-44s %10.4f  (%s-%s)\n' "libnicely nicely_map, chunk 0, warm" "$chunked" "$(val chunked_map_min_us)" "$(val chunked_map_max_us)"
printf '%-44s %10.4f  (%s-%s)\n' "libnicely nicely_map_into, chunk 0, warm" "$into" "$(val map_into_min_us)" "$(val map_into_max_us)"
printf '%-44s %10.4f\n' "libnicely nicely_map, chunk 0, cold" "$(val chunked_map_cold_us)"
printf '%-44s %10.4f\n' "libnicely nicely_map_into, chunk 0, cold" "$(val map_into_cold_us)"
printf '%-44s %10.4f\n' "libnicely nicely_run, one message per task" "$single"
printf '%-44s %10.2f\n' "libnicely lifespan 1 (a process per task)" "$life1"
printf '%-44s %10.2f\n' "bare fork+waitpid loop" "$bare"
printf '%-44s %10.4f  (%s-%s)\n' "python Pool(2).map, default chunksize, warm" "$pyd" "$(val py_map_default_min_us)" "$(val py_map_default_max_us)"
printf '%-44s %10.4f\n' "python Pool(2).map, default chunksize, cold" "$(val py_map_default_cold_us)"
printf '%-44s %10.4f\n' "python Pool(2).map, chunksize=1" "$py1"
printf '%-44s %10.4f\n' "caller's CPU per call, nicely_map" "$(val chunked_map_caller_cpu_us)"
printf '%-44s %10.4f\n' "caller's CPU per call, nicely_map_into" "$(val map_into_caller_cpu_us)"
printf '%-44s %10.4f\n' "caller's CPU per call, Pool.map (default)" "$(val py_map_caller_cpu_us)"
echo
awk -v a="$pyd" -v b="$into" 'BEGIN { printf "map_into vs Pool.map (default), warm:   %.1fx faster (goal >= 10x)\n", a / b }'
awk -v a="$pyd" -v b="$chunked" 'BEGIN { printf "nicely_map vs Pool.map (default), warm: %.1fx faster\n", a / b }'
awk -v a="$(val py_map_default_cold_us)" -v b="$(val map_into_cold_us)" 'BEGIN { printf "map_into vs Pool.map (default), cold:   %.1fx faster\n", a / b }'
awk -v a="$(val py_map_default_cold_us)" -v b="$(val chunked_map_cold_us)" 'BEGIN { printf "nicely_map vs Pool.map (default), cold: %.1fx faster\n", a / b }'
awk -v a="$py1" -v b="$single" 'BEGIN { printf "one message per task vs chunksize=1:    %.1fx faster\n", a / b }'
awk -v b="$single" 'BEGIN { printf "one message per task:                   %.2f us (goal <= 10 us)\n", b }'
echo "lifespan 1 / bare fork+waitpid:         $(val lifespan1_over_bare_fork) ($(val lifespan1_over_bare_fork_min)-$(val lifespan1_over_bare_fork_max) over 10 alternating blocks; goal <= 1.5)"
echo "wrong results: $(val wrong_results)"
