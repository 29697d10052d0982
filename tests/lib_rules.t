#!/bin/bash
# nicely run's side of the rules libnicely states: -j N under a preset that
# ignores others runs N at once, also above the PU count (the rule of
# max_workers); the --help text prints a literal percent sign.
. "$(dirname "$0")/lib/run-common.sh"
echo "1..8"

npus=$(nproc)
j=$((npus + 2))
# each task marks itself in, then waits (up to 5 s) until all j are in
task='echo $$ >>"$PIDS"; : >"'$T'/in.{}"; for i in $(seq 50); do [ $(ls "'$T'" | grep -c "^in\.") -ge '$j' ] && break; sleep 0.1; done; ls "'$T'" | grep -c "^in\."'
out=$("$NICELY" run -p nuclear -j"$j" "$task" ::: $(seq "$j"))
ok $? "-p nuclear -j$j: exit 0"
is "$(echo "$out" | sort -n | head -1)" "$j" "-p nuclear -j$j on $npus PUs: all $j ran at once"

help=$("$NICELY" run --help 2>&1)
echo "$help" | grep -q 'fail=10%)'
ok $? "--help says fail=10%"
echo "$help" | grep -q '%%'
ok $((! $?)) "--help has no doubled percent sign"

# --insights: the summary on stderr (the face of nicely_insights)
err=$("$NICELY" run -p nuclear -j2 --insights 'echo $$ >>"$PIDS"; sleep {}' ::: 0.4 0.1 0.1 2>&1 >/dev/null)
echo "$err" | grep -q '^nicely: insights: 3 tasks (0 failed) in [0-9.]* s; run time [0-9.]* s in all, [0-9.]* s a task; 2 task slots [0-9.]*% busy$'
ok $? "--insights: tasks, run time, mean, busy slots"
is "$(echo "$err" | grep -c 'insights: longest')" 3 "--insights: the longest tasks"
echo "$err" | grep -q '^nicely: insights: longest 1: #1 0\.[45][0-9]* s: echo'
ok $? "--insights: the longest first, with its command"
"$NICELY" run -p nuclear -j2 'true' ::: 1 2>&1 | grep -q insights
ok $((! $?)) "no summary without --insights"

while read -r pid; do kill -0 "$pid" 2>/dev/null && echo "# left: $pid"; done <"$PIDS"
rm -rf "$T"
exit $((tap_fail > 0))
