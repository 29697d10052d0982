#!/bin/bash
# nicely-agent against hostile peers: a 100 MB line (refused and closed at
# the line limit), half a line then silence (closed after the idle time
# while another client is served at once), 1000 connections from one uid
# (64 kept; another uid and root still served), too many requests a
# second (slowed, not dropped), a flood of garbage: the agent's CPU time
# stays small; then 257 batches of one uid (256 at most) and the agent
# still answers after all of it.
. "$(dirname "$0")/lib/agentd-common.sh"
PEER="$NICELY_BUILD/tests/helpers/ctl_peer"
[ -x "$PEER" ] || { echo "Bail out! no $PEER"; exit 1; }
# as UID (no passwd entry needed), no supplementary groups
as() { local u=$1; shift; setpriv --reuid "$u" --regid "$u" --clear-groups "$@"; }
cputicks() { local s f; s=$(cat "/proc/$1/stat") || return; s=${s##*) }; read -r -a f <<<"$s"; echo $((f[11] + f[12])); }
hello_ms() { local t0 t1 a; t0=$(ms); a=$("$CLIENT" "$SOCK" "$(req hello)"); t1=$(ms); [ "$(field "$a" ok)" = true ] && echo $((t1 - t0)); }

start_agent
c0=$(cputicks $agent_pid)

# --- a 100 MB line ---------------------------------------------------------
python3 - "$SOCK" >"$T/big" 2>&1 <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
chunk = b"x" * (1 << 20)
sent = 0
try:
    for i in range(100):
        s.sendall(chunk); sent += len(chunk)
except OSError as e:
    pass
s.settimeout(5)
try:
    data = s.recv(4096)
except OSError:
    data = b""
print("sent-mb", sent >> 20)
print(data.decode(errors="replace").strip())
PY
bigp=$!
t=$(hello_ms); [ -n "$t" ] && [ "$t" -lt 1000 ]; ok $? "during a 100 MB line another client is answered (${t:-no answer} ms)"
wait $bigp
grep -q '"error":"request longer than 65536 bytes"' "$T/big"; ok $? "the 100 MB line: refused at the line limit ($(tail -1 "$T/big" | cut -c1-80))"
[ "$(sed -n 's/sent-mb //p' "$T/big")" -lt 100 ]; ok $? "... and the connection closed before all of it was sent ($(head -1 "$T/big"))"

# --- half a line, a silent connection, 1000 connections from one uid -----
# (the three wait out the agent's 5 s idle time together)
"$CLIENT" "$SOCK" 'raw:{"v":1,"cmd":"hel' hold:6000 >"$T/half" &
halfp=$!
# a client that connects and sends nothing, holding no batch, goes too
"$CLIENT" "$SOCK" hold:6000 >"$T/silent" &
silentp=$!
sleep 0.5
t=$(hello_ms); [ -n "$t" ] && [ "$t" -lt 1000 ]; ok $? "a half line pending: another client is answered at once (${t:-no answer} ms)"

as 54321 "$PEER" --hold 1000 6 "$SOCK" >"$T/flood" 2>&1 &
floodp=$!
wait_for grep -q connected "$T/flood"
sleep 0.5
a=$(as 54322 "$CLIENT" "$SOCK" "$(req hello)")
is "$(field "$a" ok uid)" "true 54322" "1000 connections of uid 54321: uid 54322 is still served"
a=$(as 54321 "$CLIENT" "$SOCK" "$(req hello)")
grep -q "too many connections from uid 54321 (at most 64 at once)" <<<"$a"; ok $? "... uid 54321's next one is refused, saying why ($a)"
t=$(hello_ms); [ -n "$t" ] && [ "$t" -lt 1000 ]; ok $? "... root is served (${t:-no answer} ms)"
nfd=$(ls /proc/$agent_pid/fd | wc -l)
[ "$nfd" -lt 120 ]; ok $? "the agent holds $nfd descriptors (not 1000)"

wait $halfp
is "$(cat "$T/half")" closed "the half line's connection is closed after the idle time (5 s)"
grep -q "request not finished within 5000 ms" "$T/agent.log" || true
wait $silentp
is "$(cat "$T/silent")" closed "a silent connection without a batch is closed after the idle time"
wait $floodp
# every one of the 1000 was closed: 936 refused at once, 64 after the idle time
is "$(tail -1 "$T/flood")" "closed 1000" "the flood's connections were all closed (refused, or idle)"

# --- too many requests a second -------------------------------------------------
lines=()
for i in $(seq 150); do lines+=("$(req hello)"); done
t0=$(ms)
"$CLIENT" "$SOCK" "${lines[@]}" >"$T/many"
t1=$(ms)
is "$(grep -c '"ok":true' "$T/many")" 150 "150 requests on one connection: all answered"
[ $((t1 - t0)) -ge 400 ]; ok $? "... the ones over 100 a second waited ($((t1 - t0)) ms)"

# --- garbage from many peers -----------------------------------------------------
for i in $(seq 20); do
	head -c 3000 /dev/urandom | tr -d '\000\n' >"$T/g$i"
	"$CLIENT" "$SOCK" "$(cat "$T/g$i")" "$(req hello)" >"$T/ga$i" 2>/dev/null &
	gp="${gp:-} $!"
done
wait $gp
bad=0
for i in $(seq 20); do
	[ "$(sed -n 1p "$T/ga$i" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["ok"])' 2>/dev/null)" = False ] &&
		[ "$(field "$(sed -n 2p "$T/ga$i")" ok)" = true ] || bad=$((bad + 1))
done
is "$bad" 0 "20 peers sending random bytes: each refused in one JSON line, then served"

c1=$(cputicks $agent_pid)
hz=$(getconf CLK_TCK)
[ $((c1 - c0)) -lt $((hz * 4)) ]; ok $? "the hostile peers cost the agent $(((c1 - c0) * 1000 / hz)) ms of CPU in all"

# --- batches per uid: 256 live at most --------------------------------------------
as 54323 /usr/bin/python3 - "$SOCK" >"$T/many-batches" 2>&1 <<'PY'
import os, socket, sys, time
kids = []
for i in range(257):
    pid = os.fork()
    if pid == 0:
        time.sleep(60); os._exit(0)
    kids.append(pid)
answers = []
for pid in kids:
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
    fd = os.pidfd_open(pid)
    socket.send_fds(s, [b'{"v":1,"cmd":"open","weight":"idle"}\n'], [fd])
    os.close(fd)
    answers.append(s.makefile().readline())
    s.close()
print(sum('"ok":true' in a for a in answers), "opened")
print(answers[-1].strip())
for pid in kids:
    os.kill(pid, 9); os.waitpid(pid, 0)
PY
is "$(head -1 "$T/many-batches")" "256 opened" "one uid opens 256 batches"
grep -q "you have 256 batches already (at most 256 at once)" "$T/many-batches"; ok $? "... the 257th is refused ($(tail -1 "$T/many-batches" | cut -c1-100))"
wait_for_long() { local i; for i in $(seq 600); do "$@" && return 0; sleep 0.1; done; return 1; }
wait_for_long eval "[ ! -e '$CG/nicely/user-54323' ]"
[ ! -e "$CG/nicely/user-54323" ]; ok $? "their owners gone, all 256 batches are removed"

kill -0 $agent_pid; ok $? "the agent is still running"
t=$(hello_ms); [ -n "$t" ]; ok $? "and answers"
done_testing
