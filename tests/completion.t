#!/bin/bash
# The bash completion in etc/bash-completion/nicely, driven against the
# built nicely: commands, each command's options, preset names after -p and
# for `nicely presets`, files where a file is expected. bash-completion's
# own helpers are replaced by minimal ones so the test needs only bash.
# Prints TAP.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
B=${NICELY_BUILD:-$top/build}
n=0 failed=0
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# Report one TAP result: $1 is 0 for success, $2 the description.
ok() { n=$((n+1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed+1)); fi; }
# Compare $1 (got) with $2 (expected) and report under $3.
is() { [ "$1" = "$2" ]; ok $? "$3"; [ "$1" = "$2" ] || printf '#   got:      %s\n#   expected: %s\n' "$1" "$2"; }

[ -x "$B/nicely" ] || { echo "Bail out! no $B/nicely (build first, or set NICELY_BUILD)"; exit 1; }
export LC_ALL=C PATH="$B:$PATH" NICELY_SYSCONFDIR=$T/etc HOME=$T/home
unset NICELY_CONFIG XDG_CONFIG_HOME
mkdir -p "$T/etc" "$T/home"

# bash-completion's helpers, reduced to what the completion uses.
_init_completion() { words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]:-}; }
# Stands for file name completion: one marker word (with -d: directories).
_filedir() { COMPREPLY=("<${1:-file}>"); }
# shellcheck source=../etc/bash-completion/nicely
. "$top/etc/bash-completion/nicely"
complete -p nicely 2>/dev/null | grep -q -- '-F _nicely nicely$'; ok $? "the completion registers _nicely for nicely"

# Complete the words given (the last one is being typed); prints the
# candidates sorted, space-separated.
comp() { COMP_WORDS=(nicely "$@"); COMP_CWORD=${#COMP_WORDS[@]}; COMP_CWORD=$((COMP_CWORD-1)); COMPREPLY=(); _nicely; printf '%s\n' "${COMPREPLY[@]}" | sort | xargs; }

cmds=$(nicely --help | awk '/^commands:/ { c = 1; next } c && /^  [a-z]/ { print $1 }' | sort | xargs)
[ -n "$cmds" ]; ok $? "nicely --help lists commands"
is "$(comp '')" "$cmds" "commands at the first word"
is "$(comp ru)" "run" "a command from its first letters"
is "$(comp re)" "reset results resume" "commands sharing a prefix"
is "$(comp run --pre)" "--preset" "a long option of run"
is "$(comp run --res)" "--results --resume --resume-failed" "long options sharing a prefix"
is "$(comp top --)" "--delay --help --interval --json --once --topology" "every long option of top"
presets=$(nicely presets --json | perl -MJSON::PP -0777 -ne 'print "$_->{name}\n" for @{decode_json($_)->{presets}}' | sort | xargs)
[ -n "$presets" ]; ok $? "nicely presets --json names the presets"
is "$(comp run -p '')" "$presets" "preset names after -p, and nothing else"
is "$(comp run --preset n)" "normal nuclear" "preset names after --preset, by prefix"
is "$(comp presets '')" "$presets" "preset names for nicely presets"
is "$(comp run -a '')" "<file>" "a file after -a"
is "$(comp run --joblog '')" "<file>" "a file after --joblog"
is "$(comp run --results '')" "<-d>" "a directory after --results"
is "$(comp run --pi)" "--pipe" "--pipe from the help (issue 18)"
is "$(comp run --rec)" "--recend --recstart" "--recend and --recstart from the help"
for o in -C -N -X -m --block --env; do
	comp run - | tr ' ' '\n' | grep -qx -- "$o"
	ok $? "$o among run's options"
done
export NICELY_COMPL_VAR=1
is "$(comp run --env NICELY_COMPL_V)" "NICELY_COMPL_VAR" "exported variables after --env"
is "$(comp run --colsep '')" "" "nothing offered after --colsep"
is "$(comp check-config '')" "<file>" "files for check-config"
is "$(comp kill --)" "--all --help --user" "every long option of kill"
# the ids of running batches for status, kill, reset, pause, resume
export NICELY_RUNTIME_DIR=$T/rt NICELY_CONFIG=/dev/null
mkdir -m 700 "$T/rt"
is "$(comp pause '')" "" "no batch id while none runs"
nicely run -p nuclear sleep 60 ::: 1 >/dev/null 2>&1 &
bpid=$!
for i in $(seq 100); do [ -S "$T/rt/run-$bpid.sock" ] && break; sleep 0.1; done
for c in status kill reset pause resume; do
	is "$(comp $c '')" "$bpid" "the running batch's id for $c"
done
kill -INT $bpid
wait $bpid 2>/dev/null
# detached batches (nicely submit): short id and name, for their commands
export XDG_STATE_HOME=$T/state
sid=$(nicely submit --name compl -p nuclear true ::: 1)
nicely wait "$sid"
for c in attach wait results rm status; do
	is "$(comp $c '')" "$(printf '%s\n' "${sid:0:4}" compl | sort | xargs)" "a detached batch's short id and name for $c"
done
is "$(comp submit --na)" "--name" "submit's own option --name"

echo "1..$n"
[ $failed = 0 ]
