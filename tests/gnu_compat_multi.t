#!/bin/bash
# nicely run against GNU parallel (Debian's 20221122) for the options that
# put several values into one command or split the input: --colsep, -N,
# -X, -m, --pipe with --block / --recend / --recstart, --env (issue 18).
# Each row runs the same command line with both (tests/lib/gnucompat.sh)
# and compares stdout and exit status. -k where GNU would print in
# completion order (nicely's default order is the input's).
. "$(dirname "$0")/lib/run-common.sh"
. "$(dirname "$0")/lib/gnucompat.sh"

# --colsep: columns as {1} {2}, {} all of them, trimmed, a regex
compat_case 'colsep columns' 'a,b,c\nd,e,f\n' -k --colsep , echo {2} {1}
compat_case 'colsep {}' 'a,b,c\nd,e,f\n' -k --colsep , echo {}
compat_case 'colsep appended' 'a,b,c\n' --colsep , --dry-run echo
compat_case 'colsep trims blanks' ' a , b \n' --colsep , echo '[{1}]' '[{2}]'
compat_case 'colsep empty and missing columns' 'a,,b,\n' --colsep , --dry-run echo {1} {2} {3} {4} {5}
compat_case 'colsep \t' 'a\tb c\n' --colsep '\t' --dry-run echo {2}
compat_case 'colsep \s+' 'a  b c\n' --colsep '\s+' --dry-run echo {2} {3}
compat_case 'colsep regex alternation' 'a;b,c\n' --colsep '[;,]' echo {3}{2}{1}
compat_case 'colsep {n.}' 'a.b,c\n' -C , --dry-run echo {1.}

# -N: records per command, {n} positional over them, missing ones empty
compat_case '-N2 appended' '' -k -N2 echo ::: a b c d e
compat_case '-N2 two sources' '' -k -N2 echo {1}-{2}-{3}-{4} ::: a b c d ::: x y
compat_case '-N2 context word' '' -k -N2 --dry-run echo pre{}post ::: a b c
compat_case '-N2 -m context word' '' -k -N2 -m --dry-run echo pre{}post ::: a b c
compat_case '-N0 inserts none' '' -k -N0 echo x {} ::: a b
compat_case '-N2 {3} is empty' '' -k -N2 --dry-run echo {3} ::: a b c
compat_case '-N2 quoting' '' -k -N2 --dry-run echo {1} {2} ::: 'a b' c
compat_case '-N3 stdin' '1\n2\n3\n4\n5\n6\n7\n' -k -N3 echo
compat_case '-n2 no context' '' -k -n2 echo pre{}post ::: a b c
compat_case '-n2 positional' '' -k -n2 echo {1}-{2} ::: a b c
compat_case 'colsep -N2' 'a,b,c\nd,e,f\n' -k --colsep , -N2 echo {1} {4} {}

# -X / -m: fill the line, spread over the slots, context replacement
compat_case '-X context' '' -k -X echo pre{}post ::: a b c
compat_case '-m no context' '' -k -m echo pre{}post ::: a b c
compat_case '-X -j2 spreads' '' -k -j2 -X echo pre{}post ::: a b c
compat_case '-m -j2 spreads' '' -k -j2 -m echo pre{}post ::: a b c
compat_case '-X {#}' '' -j2 -k -X echo {#} {} ::: a b c
compat_case '-X {1} {2} positional' '' -k -j2 -X echo {1}x{2} ::: a b c
compat_case '-X {.} {/}' '' -k -X echo pre{.}post {/} ::: a/x.b c/y.d
compat_case '-X quoting' '' -k -X --dry-run echo {} ::: 'a b' c
compat_case '-X two sources' '' -k -X echo {1}={2} {} ::: a b ::: 1 2
# 15000 lines are 78893 bytes: more than one line of GNU's 63664
long=$(head -c 70000 /dev/zero | tr '\0' a)
compat_case '-X a value longer than a line: exit 255' '' -X -j1 echo ::: a "$long"
big=$(seq 1 15000 | tr '\n' ' ' | sed 's/ /\\n/g')
small=$(seq 1 3000 | tr '\n' ' ' | sed 's/ /\\n/g')
compat_case '-X -j1 fills 63664-byte lines' "$big" -X -j1 echo
compat_case '-m -j2 fills then spreads the rest' "$big" -k -m -j2 echo pre{}post

# --pipe: chunks at record ends on the tasks' stdin
compat_case '--pipe --block 4' '1\n2\n3\n4\n5\n' -k --pipe --block 4 'echo {#}; cat'
compat_case '--pipe whole input' "$big" -k --pipe wc -l
compat_case '--pipe --block 3k' "$small" -k --pipe --block 3k wc -c
compat_case '--pipe --block 2K binary units' "$small" -k --pipe --block 2K wc -l
compat_case '--pipe empty input' '' -k --pipe wc -l
compat_case '--pipe --dry-run' '1\n2\n3\n' -k --pipe --dry-run wc -l
compat_case '--pipe --recend' 'a;b;c;d;' -k --pipe --block 3 --recend ';' 'cat; echo'
compat_case '--pipe --recstart' '>a\nx\n>b\ny\n>c\n' -k --pipe --block 6 --recstart '>' --recend '' 'cat; echo ==='
compat_case '--pipe record longer than block' 'aaaaaaaaaa\nb\n' -k --pipe --block 3 'wc -c'
compat_case '--pipe --tag' '1\n2\n3\n' -k --pipe --tag cat
compat_case '--pipe failing task' '1\n2\n' -k --pipe --block 2 'cat; exit 3'

# --env: locally the exported environment is inherited
export COMPAT_ENV_VAR=seen
compat_case '--env VAR' '' --env COMPAT_ENV_VAR 'echo $COMPAT_ENV_VAR {}' ::: a

finish
