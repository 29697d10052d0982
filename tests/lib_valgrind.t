#!/bin/bash
# libnicely under valgrind: run one library test program (kill_all, reset
# and pool_free paths) and require no leak and no error in the parent.
# Forked processes are silenced (--child-silent-after-fork): workers leave
# with _exit and are not the parent's memory.
build=${NICELY_BUILD:-$(dirname "$0")/../build}
case "$build" in
*asan*) echo "1..0 # SKIP valgrind runs on the plain build only"; exit 0 ;;
esac
command -v valgrind >/dev/null || { echo "1..0 # SKIP valgrind missing"; exit 0; }
prog=$build/tests/lib_control.t
[ -x "$prog" ] || { echo "1..0 # SKIP $prog not built"; exit 0; }
echo "1..2"
log=$(mktemp)
out=$(mktemp)
trap 'rm -f "$log" "$out"' EXIT
# hwloc's x86 CPUID backend does not work under valgrind (it says so);
# Linux sysfs gives the same topology here.
HWLOC_COMPONENTS=-x86 valgrind --suppressions="$(dirname "$0")/lib_valgrind.supp" --leak-check=full --show-leak-kinds=definite,indirect,possible \
	--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \
	--child-silent-after-fork=yes --log-file="$log" "$prog" >"$out" 2>&1
rc=$?
if [ $rc -eq 0 ] && ! grep -q '^not ok' "$out"; then
	echo "ok 1 - lib_control passes under valgrind"
else
	echo "not ok 1 - lib_control passes under valgrind (exit $rc)"
	sed 's/^/# /' "$out" | grep -v '^# ok' | head -20
fi
if grep -q 'ERROR SUMMARY: 0 errors' "$log" && ! grep -q 'definitely lost: [1-9]' "$log"; then
	echo "ok 2 - no leaks or memory errors in the parent"
else
	echo "not ok 2 - no leaks or memory errors in the parent"
	grep -E 'ERROR SUMMARY|lost:|Invalid|uninitialised' "$log" | head -20 | sed 's/^/# /'
fi
