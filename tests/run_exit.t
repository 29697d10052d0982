#!/bin/bash
# nicely run's exit status: 0 all ok, the number of failed tasks up to 100,
# 101 for more, 255 for usage or config errors (with a message naming the
# problem, and nothing started); a task that cannot exec is a failed task
# with a clear message and the batch goes on.
. "$(dirname "$0")/lib/run-common.sh"
R() { "$NICELY" run -p nuclear -j2 "$@"; }

R 'echo $$ >>"$PIDS"; exit {}' ::: 0 0 0 >/dev/null
is $? 0 "all succeed: 0"
R 'echo $$ >>"$PIDS"; exit {}' ::: 0 1 2 0 3 >/dev/null
is $? 3 "three fail: 3"
R 'echo $$ >>"$PIDS"; kill -9 $$' ::: 1 >/dev/null
is $? 1 "killed by a signal counts as failed"
R 'exit 1' ::: $(seq 100) >/dev/null
is $? 100 "100 failures: 100"
R 'exit 1' ::: $(seq 150) >/dev/null
is $? 101 "150 failures: 101"

# exec failures: clear message naming the task, batch goes on
out=$(R -j1 nicely-no-such-command-{} ::: 1 2 2>"$T/err"; echo "rc=$?")
is "$out" "rc=2" "missing commands: two failed tasks"
grep -q "^nicely: task 1: cannot run 'nicely-no-such-command-1': No such file or directory" "$T/err"
ok $? "message names the task and the command"
: >"$T/notexec"
chmod 644 "$T/notexec"
out=$(R "$T/notexec" ::: a 2>"$T/err"; echo "rc=$?")
is "$out" "rc=1" "a file that is not executable: failed task"
grep -q "task 1: cannot run .*Permission denied" "$T/err"
ok $? "message says why (permission denied)"
out=$(R -j1 'echo {}' ::: before 2>/dev/null; R -j1 nicely-no-such-command ::: x 2>/dev/null; R -j1 'echo {}' ::: after)
is "$(echo $out)" "before after" "the batch goes on after a failed exec"
out=$(R -j1 'nicely-no-such-cmd; echo {} $?' ::: shell 2>/dev/null)
is "$out" "shell 127" "through /bin/sh: 127 from the shell"

# usage and config errors: 255, a message, nothing started
check255() {
	local name=$1; shift
	rm -f "$T/started"
	"$NICELY" run "$@" 'touch '"$T"'/started' ::: 1 >/dev/null 2>"$T/err"
	local rc=$?
	is "$rc" 255 "$name: exit 255"
	[ -s "$T/err" ]
	ok $? "$name: a message ($(head -1 "$T/err"))"
	[ ! -e "$T/started" ]
	ok $? "$name: nothing started"
}
check255 "unknown option" --frobnicate
check255 "bad --jobs" -j many
check255 "bad --nice" --nice 40
check255 "bad --timeout" --timeout -3
check255 "bad --halt" --halt later,fail=1
check255 "bad --retries" --retries x
check255 "--resume without --joblog" --resume
check255 "unknown preset" -p no-such-preset
check255 "missing -a file" -a "$T/no-such-file"
printf '[preset normal]\nnice = lots\n' >"$T/bad.conf"
NICELY_CONFIG="$T/bad.conf" check255 "bad config value"
grep -q "bad.conf:2" "$T/err"
ok $? "config error names file:line ($(head -1 "$T/err"))"

"$NICELY" run --help | grep -q -- "--halt"
ok $? "--help lists the options"

no_survivors "exit"
finish
