#!/bin/bash
# nicely run end to end: every replacement string, several ::: groups (the
# cross product), :::: and -a files, standard input, whole-line commands,
# and values with spaces, quotes, $, ; and newlines reaching the task as one
# literal argument each.
. "$(dirname "$0")/lib/run-common.sh"
R() { "$NICELY" run -p nuclear -j2 "$@"; }

is "$(R echo {} {.} {/} {//} {/.} ::: /a/b/c.tar.gz)" \
	"/a/b/c.tar.gz /a/b/c.tar c.tar.gz /a/b c.tar" "{} {.} {/} {//} {/.}"
is "$(R echo {} {.} {/} {//} {/.} ::: plain)" "plain plain plain . plain" \
	"replacement strings on a value without dir or extension"
is "$(R -j1 echo {#}-{%}-{} ::: a b c)" "1-1-a
2-1-b
3-1-c" "{#} task number, {%} slot with -j1"
slots=$(R -j2 'sleep 0.3; echo {%}' ::: a b | sort | tr '\n' ' ')
is "$slots" "1 2 " "{%}: two slots with -j2"
is "$(R echo ::: x y)" "x
y" "no replacement string: the value is appended"
is "$(R echo {2}{1} ::: a b ::: 1 2)" "1a
2a
1b
2b" "{1} {2}: cross product of two ::: groups, last varying fastest"
is "$(R echo ::: a b ::: 1 2 | tr '\n' ' ')" "a 1 a 2 b 1 b 2 " "two groups appended"

printf 'f1\nf2\n' >"$T/f"
printf 'g1\n' >"$T/g"
is "$(R -a "$T/f" echo {} | tr '\n' ' ')" "f1 f2 " "-a FILE"
is "$(R -a "$T/f" -a "$T/g" echo {1}+{2} | tr '\n' ' ')" "f1+g1 f2+g1 " "two -a files: cross product"
is "$(R echo {1}+{2} :::: "$T/f" "$T/g" | tr '\n' ' ')" "f1+g1 f2+g1 " ":::: FILES"
is "$(R --arg-file "$T/f" echo | tr '\n' ' ')" "f1 f2 " "--arg-file"
is "$(printf 's1\ns2\n' | R echo in:{} | tr '\n' ' ')" "in:s1 in:s2 " "values from stdin"
is "$(printf 'echo w1\necho w2; echo w3\n' | R | tr '\n' ' ')" "w1 w2 w3 " \
	"no command: each line is a whole command"

# values that the shell would otherwise interpret arrive literally, each as
# exactly one argument
nasty=('a b' "it's" 'say "hi"' '$HOME' 'x;echo pwned' 'two
lines' '*' '`id`' '$(id)' '\back' '-n' '' 'tab	in')
R -j1 'printf "%s\0" {}' ::: "${nasty[@]}" >"$T/got0"
ok $? "nasty values: exit 0"
cmp -s "$T/got0" <(for v in "${nasty[@]}"; do printf '%s\0' "$v"; done) ||
	R -j1 'printf "[%s]" {}' ::: "${nasty[@]}" | head -c 600 | sed 's/^/# /'
ok $? "spaces, quotes, \$, ;, newline, globs, backquotes: one literal word each"
# same through a program that counts its arguments (direct exec path)
is "$(R -j1 "sh -c 'echo \$#' sh {}" ::: 'a b' "q'q" '')" "1
1
1" "each value is one argument to a program"
is "$(R -j1 echo {} {} ::: 'x y')" "x y x y" "a value used twice"

no_survivors "replace"
finish
