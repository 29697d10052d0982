#!/bin/bash
# `nicely top` on a terminal: the full-screen view in a detached tmux
# session of fixed size (a tmux server of its own, on a socket in this
# test's temporary directory; its session is killed at the end). A real batch of sleeping tasks shows
# with its progress and the gate's reason; the layout follows a resize;
# the view's p and r keys pause and resume the batch (nicely status says
# so); q, and SIGTERM, SIGHUP or Ctrl-C instead, give the shell's prompt
# back with the terminal sane (stty: echo, icanon); with TERM=dumb the
# lines come instead. Also the --json rows and nicely status's reason.
b=${NICELY_BUILD:-$(dirname "$0")/../build}
nicely=$b/nicely
tmp=$(mktemp -d)
sock=$tmp/tmux.sock
sess=top$$
batch=
cleanup() {
	tmux -S "$sock" kill-session -t "$sess" 2>/dev/null
	if [ -n "$batch" ]; then
		kill -TERM "$batch" 2>/dev/null
		wait "$batch" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
unset NICELY_TOPOLOGY NICELY_PROCFS

n=0 failed=0
t() { # t NAME CONDITION...
	local name=$1; shift
	n=$((n + 1))
	if "$@"; then echo "ok $n - $name"; else echo "not ok $n - $name"; failed=$((failed + 1)); fi
}

[ -x "$nicely" ] || { echo "Bail out! $nicely not built"; exit 1; }
command -v tmux >/dev/null || { echo "1..0 # SKIP tmux is not installed (scripts/deps.sh check)"; exit 0; }

# The batch's socket in a directory of this test's; no agent.
export NICELY_RUNTIME_DIR=$tmp/run NICELY_AGENT_SOCKET=$tmp/no-agent.sock
mkdir -m 700 "$tmp/run"
# a duration no one else sleeps, to find the tasks by
long=59.$$
# nuclear: the tasks start whatever the machine's load; -j 2 holds the
# rest back (the reason the view shows)
"$nicely" run -j 2 --preset nuclear -- sleep {} ::: 0.1 0.1 $long $long $long $long \
	>"$tmp/batch.out" 2>"$tmp/batch.err" &
batch=$!

tm() { tmux -S "$sock" "$@"; }
pane() { tm capture-pane -p -t "$sess"; }
# until PATTERN (grep -E) shows in the pane, at most $2 tenths (100:
# however loaded the machine, under the sanitizers too)
wait_pane() {
	for _ in $(seq "${2:-100}"); do
		pane >"$tmp/pane" 2>/dev/null
		grep -Eq -- "$1" "$tmp/pane" && return 0
		sleep 0.1
	done
	return 1
}
# until FILE exists and is not empty, at most 10 s
wait_file() {
	for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.1; done
	return 1
}
# the pane's alternate screen and cursor: "0 1" once the view has
# restored the terminal (rmcup, cursor shown again)
screen() { tm display -p -t "$sess" '#{alternate_on} #{cursor_flag}'; }
# stty -a's flags (a word of its own, no '-' before it)
sane() {
	grep -Eq '(^|[ ;])echo([ ;]|$)' "$1" && grep -Eq '(^|[ ;])icanon([ ;]|$)' "$1"
}

for _ in $(seq 100); do
	"$nicely" status --json >"$tmp/st" 2>/dev/null
	grep -q '"done":2' "$tmp/st" && break
	sleep 0.1
done
t "the batch runs: 2 done" grep -q '"done":2' "$tmp/st"
id=$(sed -n 's/^\[{"id":"\([0-9]*\)".*/\1/p' "$tmp/st")

# --json: the batch's row with its progress and reason
"$nicely" top --once --json >"$tmp/j" 2>"$tmp/err"
t "--json rows: the batch, 2/6 done, 2 running, -j 2 holds the rest" \
	perl -MJSON::PP -e 'local $/; open my $f, "<", $ARGV[0] or die;
		my $j = decode_json(<$f>); my ($r) = grep { $_->{id} eq $ARGV[1] } @{$j->{rows}};
		exit !($r && $r->{done} == 2 && $r->{total} == 6 && $r->{running} == 2
			&& $r->{queued} == 2 && $r->{reason} eq "-j 2 reached"
			&& $r->{held} == 2 && $r->{user} ne "" && $r->{control})' "$tmp/j" "$id"

"$nicely" status "$id" >"$tmp/st1" 2>&1
t "nicely status BATCH says why the rest waits" grep -q '^waiting: *-j 2 reached$' "$tmp/st1"

tm new-session -d -s "$sess" -x 100 -y 30 \
	"env PS1='tui-prompt\$ ' NICELY_RUNTIME_DIR=$NICELY_RUNTIME_DIR NICELY_AGENT_SOCKET=$NICELY_AGENT_SOCKET TERM=xterm-256color bash --norc --noprofile" ||
	{ echo "Bail out! tmux cannot start a session"; exit 1; }
wait_pane 'tui-prompt\$' || { echo "Bail out! no shell prompt in tmux"; exit 1; }
tm send-keys -t "$sess" "$nicely top -d 2; echo top-exit=\$?" Enter
wait_pane "^>.* $id +nuclear .* 2/6 .*-j 2 reached"
t "the view shows the batch: done 2/6, why the rest waits" \
	grep -Eq "^>.* $id +nuclear +2 +2 +2 +2/6 +0 .*-j 2 reached" "$tmp/pane"
t "a bar per PU" grep -Eq '^PU +0 \[' "$tmp/pane"
t "load average, CPU pressure, memory" \
	grep -Eq '^nicely top .* load [0-9.]+ [0-9.]+ [0-9.]+ +CPU pressure .* memory ' "$tmp/pane"
t "the keys on the last line" bash -c "tail -n 1 $tmp/pane | grep -q '^q quit  h help'"
# the bar closes 8 columns before the right edge (awk counts from 1)
col() { awk '/^PU +0 \[/ { print index($0, "]"); exit }' "$tmp/pane"; }
t "the bar fits 100 columns ($(col))" [ "$(col)" = 93 ]

tm resize-window -t "$sess" -x 140 -y 20
wait_pane '^PU +0 \[.{120,}\]'
t "resized to 140 columns: the bar follows ($(col))" [ "$(col)" = 133 ]
t "resized to 20 lines: the keys on the last line" \
	bash -c "[ \$(wc -l <$tmp/pane) = 20 ] && tail -n 1 $tmp/pane | grep -q '^q quit'"

# p: the selected batch (the only one) pauses
tm send-keys -t "$sess" p
wait_pane "batch $id paused|\\[paused\\]"
st=$("$nicely" status --json 2>/dev/null)
t "p paused the batch (nicely status: paused)" grep -q '"paused":true' <<<"$st"
wait_pane "^>.*\\[paused\\]"
t "the row says paused" grep -Eq "^>.*\\[paused\\]" "$tmp/pane"
tm send-keys -t "$sess" r
wait_pane "batch $id resumed"
st=$("$nicely" status --json 2>/dev/null)
t "r resumed it" grep -q '"paused":false' <<<"$st"

# q: the prompt back, the terminal sane
tm send-keys -t "$sess" q
wait_pane 'tui-prompt\$ *$'
t "q: the shell's prompt is back" grep -q 'tui-prompt\$' "$tmp/pane"
t "q: exit status 0" grep -q '^top-exit=0$' "$tmp/pane"
t "q: the alternate screen is left, the cursor shown ($(screen))" [ "$(screen)" = "0 1" ]
tm send-keys -t "$sess" "stty -a >$tmp/stty1" Enter
wait_file "$tmp/stty1"
t "after q: echo and icanon are on" sane "$tmp/stty1"

# a terminal ncurses cannot drive: the lines instead
tm send-keys -t "$sess" clear Enter
tm send-keys -t "$sess" "TERM=dumb $nicely top -d 2" Enter
wait_pane '^topology: '
t "TERM=dumb: the line output" grep -q '^topology: ' "$tmp/pane"
tm send-keys -t "$sess" C-c
wait_pane 'tui-prompt\$ *$'

# SIGTERM, SIGHUP and SIGINT instead of q (Ctrl-C: the terminal's)
for sig in TERM HUP INT; do
	rm -f "$tmp/top.pid" "$tmp/stty-$sig"
	tm send-keys -t "$sess" clear Enter
	tm send-keys -t "$sess" "sh -c 'echo \$\$ >$tmp/top.pid; exec $nicely top -d 2'; echo top-exit=\$?" Enter
	wait_pane 'q quit  h help'
	wait_file "$tmp/top.pid"
	if [ $sig = INT ]; then tm send-keys -t "$sess" C-c
	else kill -$sig "$(cat "$tmp/top.pid")"; fi
	wait_pane 'tui-prompt\$ *$'
	t "SIG$sig: the shell's prompt is back" grep -q 'tui-prompt\$ *$' "$tmp/pane"
	# handled, not killed by it (the shell would mend the terminal of a
	# program a signal killed: the status and the screen tell them apart)
	t "SIG$sig: exit status 0" grep -q '^top-exit=0$' "$tmp/pane"
	t "SIG$sig: the alternate screen is left, the cursor shown ($(screen))" [ "$(screen)" = "0 1" ]
	tm send-keys -t "$sess" "stty -a >$tmp/stty-$sig" Enter
	wait_file "$tmp/stty-$sig"
	t "after SIG$sig: echo and icanon are on" sane "$tmp/stty-$sig"
	t "SIG$sig: the view is gone" bash -c "! kill -0 $(cat "$tmp/top.pid") 2>/dev/null"
done

"$nicely" kill "$id" >/dev/null 2>&1
wait "$batch" 2>/dev/null
batch=
t "the batch ended, none of its tasks is left" bash -c "! pgrep -fx 'sleep $long' >/dev/null"

echo "1..$n"
exit $((failed > 254 ? 254 : failed))
