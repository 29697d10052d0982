#!/bin/bash
# PNG plots of the benchmark data the pieces left in BENCH_DATA: the
# foreground's slowdown and p99 latency ratio per politeness scenario (median
# with min-max bars), and dispatch throughput per tool. Called by
# bench/run-all after the pieces; writes OUTDIR/bench-*.png (OUTDIR: build/).
# Needs gnuplot (Debian: gnuplot-nox, installed by scripts/deps.sh bench).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
data=${BENCH_DATA:-$top/build/bench-data}
outdir=${OUTDIR:-$top/build}
command -v gnuplot >/dev/null || { echo "plot: gnuplot missing (scripts/deps.sh bench)" >&2; exit 1; }
rc=0
if [ -s "$data/politeness.tsv" ]; then
	grep -v -P '\t-\t' "$data/politeness.tsv" >"$data/politeness.plot"
	gnuplot <<EOF || rc=1
set terminal pngcairo size 1000,520 font ",10"
set output "$outdir/bench-politeness.png"
set title "Another user's job beside a CPU-bound batch: slowdown and p99 latency ratio (median, min-max)"
set style data histogram
set style histogram errorbars gap 2 lw 1
set style fill solid 0.8 border -1
set ylabel "with batch / alone (1 = not disturbed)"
set yrange [0:*]
set xtics rotate by -30 scale 0
set grid ytics
set key top right
set datafile separator "\t"
plot "$data/politeness.plot" using 2:3:4:xtic(1) title "fixed-work slowdown", \
     "" using 5:6:7 title "p99 latency ratio", \
     1 with lines lc rgb "black" dt 2 notitle
EOF
	[ $rc = 0 ] && echo "plot: $outdir/bench-politeness.png" >&2
fi
if [ -s "$data/dispatch.tsv" ]; then
	# one row per tool, one column per (tasks, variant)
	awk -F'\t' '{k=$1" "$2; if(!(k in seen)){seen[k]=1; cols[++nc]=k}
		if(!($3 in rs)){rs[$3]=1; rows[++nr]=$3} v[$3,k]=$4}
		END{printf "tool"; for(c=1;c<=nc;c++) printf "\t%s", cols[c]; print ""
		for(r=1;r<=nr;r++){printf "%s", rows[r]; for(c=1;c<=nc;c++){x=v[rows[r],cols[c]]; printf "\t%s", x==""?"0":x} print ""}}' \
		"$data/dispatch.tsv" >"$data/dispatch.plot"
	ncol=$(head -1 "$data/dispatch.plot" | awk -F'\t' '{print NF}')
	gnuplot <<EOF || rc=1
set terminal pngcairo size 1000,520 font ",10"
set output "$outdir/bench-dispatch.png"
set title "Dispatch throughput, jobs per second (median; higher is better)"
set style data histogram
set style histogram clustered gap 2
set style fill solid 0.8 border -1
set logscale y
set ylabel "jobs/s (log scale)"
set grid ytics
set key top right
set datafile separator "\t"
plot for [c=2:$ncol] "$data/dispatch.plot" using c:xtic(1) title columnheader(c)
EOF
	[ $rc = 0 ] && echo "plot: $outdir/bench-dispatch.png" >&2
fi
exit $rc
