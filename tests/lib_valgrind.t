#!/bin/bash
# libnicely under valgrind: run five library test programs (kill_all, reset
# and pool_free paths; map results of every size, chunks broken by odd
# elements, reset with unsent tasks; map_into with failures, kill_all and
# reset in the middle; the map arena's in-place results, fallback and
# reuse; workers that die on their own and pool_free from a callback; its
# RLIMIT_NPROC case is left out: it changes uid and waits 8 s) and require
# no leak and no error in the parent.
# Forked processes are silenced (--child-silent-after-fork): workers leave
# with _exit and are not the parent's memory.
build=${NICELY_BUILD:-$(dirname "$0")/../build}
case "$build" in
*asan*) echo "1..0 # SKIP valgrind runs on the plain build only"; exit 0 ;;
esac
command -v valgrind >/dev/null || { echo "1..0 # SKIP valgrind missing"; exit 0; }
progs="lib_control lib_mapchunks lib_mapinto lib_arena lib_death"
# arguments of a program, where it takes some
args_lib_death="run_closefds map_chunks timeout_chunk map_into init_crash die_at_start free_in_callback"
for p in $progs; do
	[ -x "$build/tests/$p.t" ] || { echo "1..0 # SKIP $build/tests/$p.t not built"; exit 0; }
done
echo "1..10"
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
# Two programs at a time (valgrind is CPU-bound and single-threaded; the
# programs use the nuclear preset, which does not judge load, and no other
# test file runs meanwhile), lib_death first: it waits longest.
for p in lib_death lib_control lib_mapchunks lib_mapinto lib_arena; do
	while [ "$(jobs -rp | wc -l)" -ge 2 ]; do wait -n; done
	# hwloc's x86 CPUID backend does not work under valgrind (it says so);
	# Linux sysfs gives the same topology here.
	( HWLOC_COMPONENTS=-x86 valgrind --suppressions="$(dirname "$0")/lib_valgrind.supp" --leak-check=full --show-leak-kinds=definite,indirect,possible \
		--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \
		--child-silent-after-fork=yes --log-file="$d/$p.log" "$build/tests/$p.t" $(eval echo "\$args_$p") >"$d/$p.out" 2>&1
	  echo $? >"$d/$p.rc" ) &
done
wait
n=0
for p in $progs; do
	log=$d/$p.log out=$d/$p.out
	rc=$(cat "$d/$p.rc" 2>/dev/null || echo none)
	n=$((n + 1))
	if [ "$rc" = 0 ] && ! grep -q '^not ok' "$out"; then
		echo "ok $n - $p passes under valgrind"
	else
		echo "not ok $n - $p passes under valgrind (exit $rc)"
		sed 's/^/# /' "$out" | grep -v '^# ok' | head -20
	fi
	n=$((n + 1))
	if grep -q 'ERROR SUMMARY: 0 errors' "$log" && ! grep -q 'definitely lost: [1-9]' "$log"; then
		echo "ok $n - $p: no leaks or memory errors in the parent"
	else
		echo "not ok $n - $p: no leaks or memory errors in the parent"
		grep -E 'ERROR SUMMARY|lost:|Invalid|uninitialised' "$log" | head -20 | sed 's/^/# /'
	fi
done
