#!/bin/bash
# nicely run --retries N: a failing task runs up to N times in all; only the
# last attempt's output is written and the joblog has one line per task.
. "$(dirname "$0")/lib/run-common.sh"

# each task fails until it has been tried {} times (counted in a file)
cmd='echo $$ >>"$PIDS"; echo x >>"'"$T"'/count.{}"; n=$(wc -l <"'"$T"'/count.{}"); echo try $n; [ $n -ge {} ]'
out=$("$NICELY" run -p nuclear -j2 --retries 3 --joblog "$T/jl" "$cmd" ::: 1 3 2)
rc=$?
is "$rc" 0 "--retries 3: tasks needing 1, 3 and 2 tries all succeed"
is "$(echo $out)" "try 1 try 3 try 2" "only the last attempt's output, in order"
is "$(wc -l <"$T/count.3")" 3 "the third task ran three times"
is "$(tail -n +2 "$T/jl" | wc -l)" 3 "joblog: one line per task"

rm -f "$T"/count.*
out=$("$NICELY" run -p nuclear -j2 --retries 2 "$cmd" ::: 3 1)
rc=$?
is "$rc" 1 "--retries 2: the task needing 3 tries fails"
is "$(wc -l <"$T/count.3")" 2 "it ran twice"
is "$(echo $out)" "try 2 try 1" "its last attempt's output"

rm -f "$T"/count.*
"$NICELY" run -p nuclear "$cmd" ::: 2 >/dev/null
is "$?" 1 "without --retries: one attempt"
is "$(wc -l <"$T/count.2")" 1 "ran once"
no_survivors "retries"
finish
