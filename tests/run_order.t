#!/bin/bash
# nicely run: output in submission order by default (and with -k), as tasks
# finish with --group (and its older name --unordered); whole per task (a
# task's lines never interleave) except with -u (--ungroup, GNU's: as it
# comes).
. "$(dirname "$0")/lib/run-common.sh"

out=$("$NICELY" run -p nuclear -j4 'echo $$ >>"$PIDS"; sleep {}; echo {}' ::: 0.8 0.6 0.4 0.2 0)
ok $? "reverse sleeps: exit 0"
is "$(echo $out)" "0.8 0.6 0.4 0.2 0" "reverse sleeps print in submission order"

out=$("$NICELY" run -k -p nuclear -j4 'echo $$ >>"$PIDS"; sleep {}; echo {}' ::: 0.6 0.3 0)
is "$(echo $out)" "0.6 0.3 0" "-k: submission order"

# --group: as finished. Two at a time (nuclear, -j2): 2.5 and 0 start
# first, 0 ends at once, 0.4 starts and ends long before 2.5.
out=$("$NICELY" run --group -p nuclear -j2 'echo $$ >>"$PIDS"; sleep {}; echo {}' ::: 2.5 0 0.4)
ok $? "--group: exit 0"
is "$(echo $out)" "0 0.4 2.5" "--group: printed as they finish"
out=$("$NICELY" run --unordered -p nuclear -j2 'echo $$ >>"$PIDS"; sleep {}; echo {}' ::: 1 0)
is "$(echo $out)" "0 1" "--unordered (nicely's older name): the same"

# -u (--ungroup): bytes as they come, a partial line at once, lines mixed
out=$("$NICELY" run -u -p nuclear -j2 'echo $$ >>"$PIDS"; if [ {} = a ]; then printf a1; sleep 1.5; echo a2; else sleep 0.5; echo b; fi' ::: a b)
is "$(echo $out)" "a1b a2" "-u: a partial line written at once, tasks mixed"

# a task's output is written whole: lines of two tasks never mix
out=$("$NICELY" run -p nuclear -j2 'echo $$ >>"$PIDS"; for i in 1 2 3; do echo {}$i; sleep 0.1; done' ::: a b)
is "$(echo $out)" "a1 a2 a3 b1 b2 b3" "each task's output whole, in order"

# stderr is grouped per task too, on nicely's stderr
err=$("$NICELY" run -p nuclear -j2 'echo $$ >>"$PIDS"; sleep {}; echo e{} >&2' ::: 0.3 0 2>&1 >/dev/null)
is "$(echo $err)" "e0.3 e0" "stderr in submission order"

# big output (spills to a temp file) comes back whole and in order
out=$("$NICELY" run -p nuclear -j2 'echo $$ >>"$PIDS"; head -c {} /dev/zero | tr "\0" x; echo' ::: 3000000 10 | wc -c)
is "$out" "$((3000000 + 1 + 10 + 1))" "3 MB of output from one task, whole"

no_survivors "order"
finish
