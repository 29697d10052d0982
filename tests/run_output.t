#!/bin/bash
# nicely run's output options: --tag, --line-buffer, --json (one object per
# task, parsed), --results DIR, --dry-run, --bar off a terminal, and a
# closed stdout (EPIPE) ending the batch without leftovers.
. "$(dirname "$0")/lib/run-common.sh"
R() { "$NICELY" run -p nuclear -j2 "$@"; }

is "$(R --tag 'echo a; printf b' ::: x 'y z')" "x	a
x	b
y z	a
y z	b" "--tag: every line prefixed with the value and a tab"
is "$(R --tag echo {2} ::: p ::: 1 2 | head -1)" "p 1	1" "--tag with two inputs: values joined by a space (GNU parallel's)"

# --line-buffer: the fast task's lines come out while the slow one still
# runs (so before its first line is complete), lines never cut
out=$(R --line-buffer 'echo $$ >>"$PIDS"; printf "{}-"; sleep {}; echo end{}' ::: 3 0)
is "$out" "0-end0
3-end3" "--line-buffer: whole lines as they complete"
out=$(R --line-buffer --tag 'echo $$ >>"$PIDS"; echo one; sleep {}; echo two' ::: 3 0.1)
is "$(echo "$out" | tail -1)" "3	two" "--line-buffer --tag: the slow task's last line comes last"
is "$(echo "$out" | sort | tr '\n\t' '|:')" "0.1:one|0.1:two|3:one|3:two|" "--line-buffer --tag: every line once, tagged"
is "$(echo "$out" | grep '^0.1' | tr '\n\t' '|:')" "0.1:one|0.1:two|" "--line-buffer --tag: a task's own lines in order"

# --json: one object per finished task, fields as documented
# (under /bin/sh, whose message for exit a"b is below; nicely runs tasks
# under the shell it was started from, as GNU parallel, else)
PARALLEL_SHELL=/bin/sh R --json 'echo out {}; echo err >&2; exit {}' ::: 0 3 'a"b' >"$T/json" 2>/dev/null
is "$?" 2 "--json: exit status still counts failures"
is "$(wc -l <"$T/json")" 3 "--json: one line per task"
if command -v python3 >/dev/null; then
	got=$(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    keys = ["seq", "command", "values", "exit", "signal", "start", "runtime", "stdout", "stderr", "pu"]
    missing = [k for k in keys if k not in o]
    print(o["seq"], o["values"], o["exit"], o["signal"], repr(o["stdout"]), repr(o["stderr"]),
          o["start"] > 1e9, o["runtime"] >= 0, o["pu"] in (0, 1), missing)
' "$T/json")
	is "$got" "1 ['0'] 0 0 'out 0\\n' 'err\\n' True True True []
2 ['3'] 3 0 'out 3\\n' 'err\\n' True True True []
3 ['a\"b'] 2 0 'out a\"b\\n' 'err\\n/bin/sh: 1: exit: Illegal number: a\"b\\n' True True True []" "--json objects parse with every field"
else
	ok 0 "# SKIP python3 missing"
fi

if command -v python3 >/dev/null; then
	got=$(R --json nicely-no-such-{} ::: 1 2>/dev/null | python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["exit"], o["error"])')
	is "$got" "127 task 1: cannot run 'nicely-no-such-1': No such file or directory" "--json: why a task could not run"
fi

# --results DIR: GNU parallel's DIR/1/VALUE/{seq,stdout,stderr} (plus
# exitval), and no output printed
out=$(R --results "$T/res/sub" 'echo o{}; echo e{} >&2; exit {}' ::: 0 4 2>&1)
is "$out" "" "--results: the output goes to the files only"
is "$(cat "$T/res/sub/1/0/stdout" "$T/res/sub/1/0/stderr" "$T/res/sub/1/0/exitval")" "o0
e0
0" "--results: task 1's stdout, stderr and exit value"
is "$(cat "$T/res/sub/1/4/exitval") $(cat "$T/res/sub/1/4/seq")" "4 2" "--results: task 2's exit value and seq"
R --results "$T/res2" 'echo {1}{2}' ::: 'a/b' ::: 'c	d' '' >/dev/null 2>&1
is "$(cd "$T/res2" && find . -name stdout | sort | tr '\n' ' ')" './1/a\_b/2/c\td/stdout ./1/a\_b/2/stdout ' \
	"--results: / written \\_, a tab \\t, an empty value no level"

# --dry-run prints the commands and runs nothing
out=$(R --dry-run -j1 'touch '"$T"'/ran-{#}; echo {%} {}' ::: 'a b' c)
is "$out" "touch $T/ran-1; echo 1 'a b'
touch $T/ran-2; echo 1 c" "--dry-run: the commands, quoted"
ls "$T"/ran-* >/dev/null 2>&1
is "$?" 2 "--dry-run: nothing ran"

# --bar when stderr is not a terminal: no bar, no harm
is "$(R --bar echo ::: 1 2 2>&1)" "1
2" "--bar off a terminal draws nothing"

# stdout closed early: nicely stops, kills the rest, nothing is left
: >"$PIDS"
R 'echo $$ >>"$PIDS"; yes {} | head -c 200000; sleep 0.{}' ::: $(seq 9 -1 1) | head -c 10 >/dev/null
is "$?" 0 "reader went away"
no_survivors "closed stdout"
finish
