#!/bin/bash
# nicely run against GNU parallel (Debian's 20221122): each row runs the
# same command line with both (tests/lib/gnucompat.sh) and compares stdout
# and exit status (and files a case shows), so a regression against the
# real tool fails make check. The rows are the forms a GNU parallel user
# types daily and the differences issue 18 found; the differences nicely
# keeps (nicely(1), "DIFFERENCES FROM GNU PARALLEL": ordered output by
# default, -j as an upper bound) are not rows, so rows that depend on them
# give -k or --group, and -j only where it cannot change the output.
# Tasks run in the shell this test runs in (bash), as a user's would.
. "$(dirname "$0")/lib/run-common.sh"
. "$(dirname "$0")/lib/gnucompat.sh"

printf 'f1\nf2\n' >"$T/vals"

# --- input and replacement strings ----------------------------------------
compat_case 'stdin lines' 'a\nb\nc\n' -k echo
compat_case ':::' '' -k echo ::: a b c
compat_case 'cross product' '' -k echo {1}-{2} ::: a b ::: 1 2
compat_case ':::: file' '' -k echo {1} {2} :::: "$T/vals" ::: x
compat_case '-a file' '' -k -a "$T/vals" echo
compat_case 'replacement strings' '' echo {} {.} {/} {//} {/.} ::: dir/sub/file.tar.gz
compat_case 'seq and slot' '' -j1 echo {#} {%} ::: a b
compat_case 'values are one word' '' -k printf '[%s]\n' ::: 'a b' "it's" '$HOME' '*'
compat_case 'a NUL byte becomes \0' 'a\0b\nc\n' -k echo

# --- the shell: the user's, as GNU parallel picks it -----------------------
compat_case 'bash process substitution' '' -k 'cat <(echo sub {})' ::: a b
compat_fn() { echo "fn $1"; }
export -f compat_fn
compat_case 'export -f function' '' -k compat_fn ::: a b
compat_case 'bash [[ ]]' '' -k '[[ {} == a* ]] && echo yes {} || echo no {}' ::: ab ba
PARALLEL_SHELL=/bin/sh compat_case '$PARALLEL_SHELL' '' 'echo "[$BASH_VERSION]" {}' ::: x
PARALLEL_SHELL=/nonexistent/sh compat_case 'a shell that is not there: 255' '' echo ::: x

# --- {} in the command word: values unquoted, run as commands --------------
compat_case '{} as the command' '' -k '{}' ::: 'echo a  b' 'printf %s\n c'
compat_case 'l{}' '' 'l{}' ::: 's -d /'
compat_case '{1} {2} unquoted' '' '{1} {2}' ::: echo ::: 'x  y'
compat_case '{} later: quoted' '' 'echo {}; echo [{}]' ::: 'a  b'

# --- option forms -----------------------------------------------------------
compat_case '--dryrun' '' --dryrun echo {} ::: 'a b' c
compat_case '--dry-run' '' -k --dry-run 'echo {} >{.}.out' ::: x.in
compat_case '-j 200%' '' -k -j 200% echo ::: a b c
compat_case '-j -1 (one slot here)' '' -j -1 echo {%} ::: a b
compat_case '-j 50%' '' -j 50% echo {%} ::: a b

# --- exit status and --halt -------------------------------------------------
compat_case 'three failures: 3' '' 'exit {}' ::: 0 1 2 0 3
compat_case '102 failures: 101' '' -j2 false ::: $(seq 102)
compat_case 'a missing command fails' '' nicely-no-such-cmd ::: a
compat_case '--halt now,fail=1: the task status' '' -j1 'echo {}; exit {}' ::: 0 3 0
compat_case '--halt 1' '' --halt 1 -j1 'echo {}; exit {}' ::: 0 4 5
compat_case '--halt 2' '' --halt 2 -j1 'echo {}; exit {}' ::: 0 6 0
compat_case '--halt -2' '' --halt -2 -j1 'echo {}; exit {}' ::: 2 0 3
compat_case '--halt now,fail=2: the count' '' --halt now,fail=2 -j1 'echo {}; exit {}' ::: 5 0 6 7
compat_case '--halt fail=1 by a signal: 128+N' '' --halt now,fail=1 -j1 'kill -9 $$' ::: 1
compat_case '--halt soon,fail=50%' '' --halt soon,fail=50% -j1 'echo {}; exit {}' ::: 1 1 0 1 1 0 0 0
compat_case '--halt 20%' '' --halt 20% -j1 'echo {}; exit {}' ::: 0 1 0 1 0 0 0 0 0 0
compat_case '--halt 10% of 10: the task status' '' --halt soon,fail=10% -j1 'exit {}' ::: 0 0 9 0 0 0 0 0 0 0
compat_case '--halt 50% never reached' '' --halt soon,fail=50% -j1 'exit {}' ::: 1 0 0 0
# (GNU exits 101 when done=N halts before any task failed: nicely says 0
# there, see nicely(1); the row has a failure before the halt)
compat_case '--halt soon,done=2' '' --halt soon,done=2 -j1 'echo {}; exit {}' ::: 0 1 0

# --- output modes -----------------------------------------------------------
compat_case '-k: input order' '' -k -j2 'sleep {}; echo {}' ::: 0.7 0.1
compat_case '--group: completion order' '' --group -j2 'sleep {}; echo {}' ::: 0.7 0.1
compat_case_sorted '-u: ungrouped' '' -u -j2 'echo {}; echo {}' ::: a b
compat_case '--tag' '' -k --tag echo ::: a b
compat_case '--tag with several inputs' '' -k --tag echo {2} ::: a b ::: 1 2

# --- joblog -----------------------------------------------------------------
COMPAT_AFTER='tail -n +2 jl | cut -f1,7-9 | tr "\0" @'
compat_case '--joblog columns' '' -j1 --joblog jl 'exit {}' ::: 0 3
compat_case '--joblog: a newline in the command' '' --joblog jl $'echo a\necho' ::: 1
compat_case '--joblog with -k: input order' '' -k -j2 --joblog jl 'sleep {}' ::: 0.7 0.1
compat_case '--joblog with --group: completion order' '' --group -j2 --joblog jl 'sleep {}' ::: 0.7 0.1
COMPAT_BEFORE='printf "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n9\t:\t1.0\t1.0\t0\t0\t0\t0\told\n" >jl'
COMPAT_AFTER='cut -f1,9 jl'
compat_case '--joblog +FILE appends' '' --joblog +jl echo ::: new
COMPAT_BEFORE=''

# --- --results: GNU's layout, output not printed ------------------------
COMPAT_AFTER='find r -type f ! -name exitval | sort; cat r/1/a/stdout r/1/a/seq; echo'
compat_case '--results' '' -k --results r 'echo out {}; echo err {} >&2' ::: a b
COMPAT_AFTER='find r -type f ! -name exitval | sort'
compat_case '--results: several inputs, / \ tab, empty' '' -k --results r echo ::: 'x/y' 'a\b' ::: "1	2" ''
COMPAT_AFTER=''

finish
