#!/bin/bash
# nicely run --pipe (sched/cli/pipe.c): the chunks reach the tasks whole and
# in order, memory stays bounded (the input is streamed through one block,
# each chunk a file of its own; shown by growth: 8 MiB and 64 MiB of input
# in 1 MiB blocks, nicely's peak RSS (GNU time's %M) may grow by at most
# 1 MiB; measured 4.4 -> 4.3 MiB), the chunk files are gone afterwards,
# --joblog --resume-failed reruns only the failed chunk (the same input
# cuts the same chunks), and nicely submit --pipe keeps every chunk's
# result. Bad --block / -N / --colsep values and {= =} are refused with a
# message naming them.
. "$(dirname "$0")/lib/run-common.sh"

export TMPDIR="$T/tmp"
mkdir -p "$TMPDIR"
margin=1024 aopt=
case "$NICELY_BUILD" in */asan*)
	margin=4096 aopt="${ASAN_OPTIONS:-}:quarantine_size_mb=0" ;;
esac

# memory: the same pipe batch at two sizes
pipe_rss() {
	local mb=$1
	yes 0123456789abcdef | head -c "${mb}M" |
		ASAN_OPTIONS=$aopt /usr/bin/time -f "%M" -o "$T/rss" \
		"$NICELY" run -p nuclear -j2 --pipe --block 1M 'wc -c' >"$T/out" 2>"$T/err"
	is "$?" 0 "--pipe over $mb MiB: exit 0"
	is "$(awk '{s += $1} END {print s}' "$T/out")" $((mb * 1048576)) \
		"--pipe over $mb MiB: every byte reached a task"
	is "$(wc -l <"$T/out")" "$(( (mb * 1048576 + 1048559) / 1048560 ))" \
		"--pipe over $mb MiB: chunks cut at the last line end of each block"
	rss=$(tail -1 "$T/rss")
	diag "peak RSS of nicely for $mb MiB through --pipe: $rss KiB"
}
if [ -x /usr/bin/time ]; then
	pipe_rss 8
	rss_small=$rss
	pipe_rss 64
	rss_big=$rss
	[ "$rss_big" -le $((rss_small + margin)) ]
	ok $? "--pipe: peak RSS grows by at most $margin KiB from 8 to 64 MiB ($rss_small -> $rss_big KiB)"
else
	skip "--pipe memory" "needs GNU time (apt-get install time)"
fi
is "$(ls -A "$TMPDIR")" "" "--pipe: no chunk file or spool directory is left"

# the chunks in order, each on its task's stdin; {#} counts them
out=$(printf 'a\nb\nc\nd\n' | "$NICELY" run -p nuclear --pipe --block 4 'echo "{#}:$(tr "\n" +)"')
is "$out" "$(printf '1:a+b+\n2:c+d+')" "--pipe --block 4: two chunks of two lines"

# --resume-failed: only the failed chunk runs again, with the same bytes
printf '1\n2\n3\n' | "$NICELY" run -p nuclear --pipe --block 2 --joblog "$T/jl" \
	'read x; [ "$x" != 2 ]' >/dev/null 2>&1
is "$?" 1 "--pipe: one failed chunk: exit 1"
out=$(printf '1\n2\n3\n' | "$NICELY" run -p nuclear --pipe --block 2 --joblog "$T/jl" \
	--resume-failed 'echo "{#}:$(cat)"')
is "$out" "2:2" "--pipe --resume-failed: only chunk 2, with its line"

# nicely submit --pipe: detached, the store keeps each chunk's result
export XDG_RUNTIME_DIR="$T/run"
mkdir -p "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
seq 10 | "$NICELY" submit -p nuclear --name pipe --pipe --block 6 'wc -l' >/dev/null
is "$?" 0 "submit --pipe: accepted"
"$NICELY" wait pipe >/dev/null 2>&1
is "$("$NICELY" results pipe 2>/dev/null | grep -v '^==' | tr '\n' ' ')" "3 3 3 1 " \
	"submit --pipe: four chunks' results in order"
seq 4 | "$NICELY" submit -p nuclear --name grp --colsep , -N2 echo >/dev/null
"$NICELY" wait grp >/dev/null 2>&1
is "$("$NICELY" results grp 2>/dev/null | grep -v '^==' | tr '\n' ' ')" "1 2 3 4 " \
	"submit -N2: two values per task"

# nicely submit --pipe survives its supervisor's SIGKILL: --resume cuts
# the stored input into the same chunks and runs only those without a
# recorded result
B="$XDG_STATE_HOME/nicely/batches"
wait_for() {
	local i
	for i in $(seq 300); do "$@" && return 0; sleep 0.1; done
	return 1
}
recorded() { [ "$(grep -c '^[0-9]' "$B/$1/joblog" 2>/dev/null)" -ge "$2" ]; }
gone() { ! kill -0 "$1" 2>/dev/null; }
id=$(seq 20 | "$NICELY" submit -p nuclear -j2 --pipe --block 3 \
	'x=$(cat); echo $$ >>"$PIDS"; echo "$x" >>'"$T"'/ran; sleep 0.3; echo "out $x"')
wait_for recorded "$id" 6
sp=$(ls "$B/$id" 2>/dev/null | sed -n 's/^run-\([0-9]*\)\.sock$/\1/p')
[ -n "$sp" ] && kill -KILL "$sp"
wait_for gone "$sp"
before=$(grep '^[0-9]' "$B/$id/joblog" | cut -f1 | sort -n | tr '\n' ' ')
mv "$T/ran" "$T/ran1"
"$NICELY" submit --resume "$id" >/dev/null
"$NICELY" wait "$id"
is "$?" 0 "submit --pipe after SIGKILL and --resume: ends well"
is "$(comm -12 <(printf '%s\n' $before | sort) <(sort "$T/ran"))" "" \
	"submit --pipe --resume: no chunk with a recorded result ran again ($before)"
is "$(sort -n "$T/ran" | uniq -d)" "" "submit --pipe --resume: the others ran once"
is "$("$NICELY" results --raw "$id")" "$(seq 20 | sed 's/^/out /')" \
	"submit --pipe --resume: each chunk's result, in order"
is "$(ls -A "$TMPDIR")" "" "submit --pipe --resume: no chunk file left"

# bad input: a clear message naming it, nothing runs, exit 255
bad() {
	local name=$1 want=$2
	shift 2
	"$NICELY" run -p nuclear "$@" </dev/null >"$T/out" 2>"$T/err"
	is "$?" 255 "$name: exit 255"
	grep -qF -- "$want" "$T/err"
	ok $? "$name: the message says '$want'"
	is "$(cat "$T/out")" "" "$name: nothing ran"
}
bad "--block garbage" "--block: 'garbage' is not a size" --pipe --block garbage wc -l
bad "--block 0" "--block: '0' is not a size" --pipe --block 0 wc -l
bad "--block without --pipe" "go with --pipe" --block 1M echo ::: a
bad "-N -1" "-N: '-1' is not a number" -N -1 echo ::: a
bad "-N x" "-N: 'x' is not a number" -N x echo ::: a
bad "bad --colsep regex" "--colsep: '[' is not a regular expression" --colsep '[' echo ::: a
bad "--pipe with :::" "--pipe reads standard input" --pipe wc -l ::: a
bad "-X with -m" "-X and -m exclude each other" -X -m echo ::: a
bad "--env _" "--env _ needs GNU parallel's --record-env" --env _ echo ::: a
bad "{= =}" "{= \$_ .= 1 =} is a perl expression" echo '{= $_ .= 1 =}' ::: a
grep -qF "in the command 'echo {= \$_ .= 1 =}'" "$T/err"
ok $? "{= =}: the message names the command"
grep -qF "out of scope" "$T/err"
ok $? "{= =}: the message says it is out of scope"
"$NICELY" submit -p nuclear --pipe --block x wc -l </dev/null >"$T/out" 2>"$T/err"
is "$?" 255 "submit --block x: exit 255"
grep -qF "nicely submit: --block: 'x' is not a size" "$T/err"
ok $? "submit --block x: the message names it"
no_survivors "pipe batches"
finish
