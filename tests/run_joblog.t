#!/bin/bash
# nicely run --joblog: GNU parallel's columns, parsed field by field;
# --resume skips every task in the log, --resume-failed reruns the failed
# ones; both append to the log.
. "$(dirname "$0")/lib/run-common.sh"
R() { "$NICELY" run -p nuclear -j2 "$@"; }

now=$(date +%s)
R --joblog "$T/jl" 'echo $$ >>"$PIDS"; sleep 0.{}; echo out{}; exit {}' ::: 3 0 2 >/dev/null
is "$?" 2 "two of three failed"
is "$(head -1 "$T/jl")" "$(printf 'Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand')" "header"
is "$(tail -n +2 "$T/jl" | wc -l)" 3 "one line per task"
bad=$(tail -n +2 "$T/jl" | awk -F'\t' -v now="$now" '
	NF != 9 { print "NF=" NF; next }
	$1 !~ /^[0-9]+$/ { print "seq " $1 }
	$2 != ":" { print "host " $2 }
	$3 !~ /^[0-9]+\.[0-9]+$/ || $3 < now - 5 || $3 > now + 60 { print "start " $3 }
	$4 !~ /^ *[0-9]+\.[0-9]+$/ || $4 + 0 < 0.1 * ($1 == 1 ? 3 : $1 == 3 ? 2 : 0) - 0.01 { print "runtime " $4 " for " $1 }
	$5 != 0 { print "send " $5 }
	$6 != 5 { print "receive " $6 }
	$8 != 0 { print "signal " $8 }
	{ want = ($1 == 1 ? 3 : $1 == 2 ? 0 : 2); if ($7 != want) print "exitval " $7 " for " $1 }
	{ v = ($1 == 1 ? 3 : $1 == 2 ? 0 : 2); c = "echo $$ >>\"$PIDS\"; sleep 0." v "; echo out" v "; exit " v; if ($9 != c) print "command [" $9 "]" }')
is "$bad" "" "every column parses: Seq Host Starttime JobRuntime Send Receive Exitval Signal Command"
is "$(tail -n +2 "$T/jl" | cut -f1 | sort -n | tr '\n' ' ')" "1 2 3 " "each seq once"

# --resume: tasks in the log are skipped, new ones run, the log grows
out=$(R --resume --joblog "$T/jl" 'echo ran{}; exit {}' ::: 3 0 2 0 1)
rc=$?
is "$(echo $out)" "ran0 ran1" "--resume: only tasks 4 and 5 run"
is "$rc" 1 "--resume: exit counts what ran"
is "$(tail -n +2 "$T/jl" | cut -f1 | sort -n | tr '\n' ' ')" "1 2 3 4 5 " "log appended, header once"
is "$(grep -c '^Seq' "$T/jl")" 1 "one header"

# --resume-failed: rerun 1, 3 and 5 (failed), skip 2 and 4 (succeeded)
out=$(R --resume-failed --joblog "$T/jl" 'echo again{#}; exit 0' ::: a b c d e)
rc=$?
is "$(echo $out)" "again1 again3 again5" "--resume-failed: only the failed tasks rerun"
is "$rc" 0 "--resume-failed: all reruns succeeded"
out=$(R --resume-failed --joblog "$T/jl" 'echo again{#}' ::: a b c d e)
is "$out" "" "a second --resume-failed: nothing left to do"

# a fresh --joblog (no --resume) truncates
R --joblog "$T/jl" true ::: 1 >/dev/null
is "$(wc -l <"$T/jl")" 2 "without --resume the log starts over"
no_survivors "joblog"
finish
