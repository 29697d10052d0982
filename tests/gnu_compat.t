#!/bin/bash
# nicely run against GNU parallel (Debian's 20221122): each row runs the
# same command line with both (tests/lib/gnucompat.sh) and compares stdout
# and exit status, so a regression against the real tool fails make check.
# The rows are the forms a GNU parallel user types daily and the
# differences issue 18 found; nicely's kept differences (nicely(1),
# "Differences from GNU parallel") are not rows.
. "$(dirname "$0")/lib/run-common.sh"
. "$(dirname "$0")/lib/gnucompat.sh"

# input and replacement strings
compat_case 'stdin lines' 'a\nb\nc\n' echo
compat_case ':::' '' echo ::: a b c
compat_case 'cross product' '' echo {1}-{2} ::: a b ::: 1 2
compat_case 'replacement strings' '' echo {} {.} {/} {//} {/.} ::: dir/sub/file.tar.gz
compat_case 'seq and slot' '' -j1 echo {#} {%} ::: a b
compat_case 'values are one word' '' printf '[%s]\n' ::: 'a b' "it's"

finish
