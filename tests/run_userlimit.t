#!/bin/bash
# [limits] max_pus is per user: two `nicely run` batches of one user under
# max_pus = 1 never run tasks at the same time (checked from their joblogs'
# own start and run times), both finish with every result, the one that
# waits says so once; a SIGKILLed batch's lease does not block the next.
. "$(dirname "$0")/lib/run-common.sh"
export NICELY_RUNTIME_DIR="$T/run"
mkdir -p "$T/etc/nicely"
printf '[limits]\n# per user\nmax_pus = 1\n' >"$T/etc/nicely/nicely.conf"
# nuclear ignores others' load: a busy shared machine changes nothing
R() { "$NICELY" run -p nuclear "$@"; }
TASK='echo $$ >>"$PIDS"; sleep 0.2; echo {}'

R --joblog "$T/a.jl" "$TASK" ::: a1 a2 a3 a4 >"$T/a.out" 2>"$T/a.err" &
pa=$!
R --joblog "$T/b.jl" "$TASK" ::: b1 b2 b3 b4 >"$T/b.out" 2>"$T/b.err" &
pb=$!
wait $pa
is "$?" 0 "batch a succeeded"
wait $pb
is "$?" 0 "batch b succeeded"
is "$(cat "$T/a.out" | tr '\n' ' ')" "a1 a2 a3 a4 " "batch a: every result, in order"
is "$(cat "$T/b.out" | tr '\n' ' ')" "b1 b2 b3 b4 " "batch b: every result, in order"
is "$(tail -n +2 "$T/a.jl" | wc -l) $(tail -n +2 "$T/b.jl" | wc -l)" "4 4" \
	"both joblogs hold every task"

# intervals [start, start + runtime] from the joblogs; the joblog has
# millisecond resolution, so two tasks may touch within 2 ms
overlaps=$(awk -F'\t' 'FNR == 1 { f++; next }
	{ s[f, FNR] = $3; e[f, FNR] = $3 + $4; n[f] = FNR }
	END { for (i = 2; i <= n[1]; i++) for (j = 2; j <= n[2]; j++)
		if (s[1, i] < e[2, j] - 0.002 && s[2, j] < e[1, i] - 0.002)
			printf "a%d[%s,%s] b%d[%s,%s] ", i - 1, s[1, i], e[1, i],
				j - 1, s[2, j], e[2, j] }' "$T/a.jl" "$T/b.jl")
is "$overlaps" "" "no task of one batch overlaps a task of the other (max_pus = 1 per user)"
diag "a: $(tail -n +2 "$T/a.jl" | cut -f3,4 | tr '\t\n' '+ ')"
diag "b: $(tail -n +2 "$T/b.jl" | cut -f3,4 | tr '\t\n' '+ ')"
said=$(cat "$T/a.err" "$T/b.err" | grep -c 'per-user limit: your other nicely batches hold 1 of the 1 PUs')
is "$said" 1 "the batch that waited said so once"
grep -q "nicely.conf:3" "$T/a.err" "$T/b.err"
ok $? "  naming where the limit is set"
other=$(cat "$T/a.err" "$T/b.err" | grep -v 'per-user limit: your other' | grep -v '^nicely: no cgroups\|cgroup\|autogroup')
is "$other" "" "nothing else on stderr"
is "$(grep -c '^[0-9]' "$T/run/pus.lease")" 0 "both gone: no entry left in the lease file"
is "$(stat -c %a "$T/run/pus.lease")" 600 "the lease file is private"

# a batch killed with SIGKILL leaves its entry; the next batch ignores it
"$NICELY" run -p nuclear 'echo $$ >>"$PIDS"; exec sleep {}' ::: 30 >/dev/null 2>"$T/k.err" &
pk=$!
for i in $(seq 100); do
	grep -q "^$pk " "$T/run/pus.lease" 2>/dev/null && break
	sleep 0.05
done
grep -q "^$pk " "$T/run/pus.lease"
ok $? "a running batch has its entry"
kill -KILL $pk
wait $pk 2>/dev/null
# its task dies with it (PR_SET_PDEATHSIG); make sure before going on
for p in $(cat "$PIDS"); do
	for i in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
done
grep -q "^$pk " "$T/run/pus.lease"
ok $? "after SIGKILL its entry is still in the file"
out=$(timeout 20 "$NICELY" run -p nuclear 'echo $$ >>"$PIDS"; echo {}' ::: next 2>"$T/n.err")
is "$?:$out" "0:next" "the next batch runs at once: the dead batch's lease is ignored"
grep -q 'per-user limit: your other' "$T/n.err"
is "$?" 1 "  and it does not say it waits"
grep -q "^$pk " "$T/run/pus.lease"
is "$?" 1 "  the dead entry was dropped from the file"

# a reset reads the limit again: a batch fed through a pipe holds 1 PU
# under max_pus = 1, and 2 after the admin raised it to 2 and `nicely reset`
held_by() { awk -v p="$1" '$1 == p { print $4 }' "$T/run/pus.lease"; }
wait_held() {
	for i in $(seq 100); do
		[ "$(held_by "$1")" = "$2" ] && break
		sleep 0.1
	done
	held_by "$1"
}
mkfifo "$T/fifo"
"$NICELY" run -p nuclear 'echo $$ >>"$PIDS"; exec sleep {}' <"$T/fifo" >/dev/null 2>"$T/r.err" &
pr=$!
exec 7>"$T/fifo"
printf '30\n30\n' >&7
is "$(wait_held $pr 1)" 1 "under max_pus = 1 the fed batch holds 1 PU"
printf '[limits]\n# per user\nmax_pus = 2\n' >"$T/etc/nicely/nicely.conf"
"$NICELY" reset $pr >"$T/reset.out" 2>&1
is "$?" 0 "reset after the admin raised the limit"
printf '30\n30\n' >&7
is "$(wait_held $pr 2)" 2 "after the reset the batch holds 2 PUs (the new limit)"
exec 7>&-
"$NICELY" kill $pr >/dev/null 2>&1
wait $pr 2>/dev/null
is "$(grep -c "^$pr " "$T/run/pus.lease")" 0 "the killed batch left no entry"

# without a per-user limit nothing is written
rm -f "$T/run/pus.lease"
: >"$T/etc/nicely/nicely.conf"
R 'echo $$ >>"$PIDS"; echo {}' ::: x >/dev/null 2>&1
[ ! -e "$T/run/pus.lease" ]
ok $? "without [limits] max_pus no lease file is made"

no_survivors "per-user limit"
finish
