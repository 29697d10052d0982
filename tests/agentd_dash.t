#!/bin/bash
# nicely-agent's web dashboard ([agent] dashboard = 127.0.0.1:PORT)
# between throwaway users A and B and root, on a fake cgroup tree:
# `nicely dashboard` prints each user's link (the same again, another
# with --new); HTTP details with curl (401 without a token, the link's
# token becomes a cookie, 404, 405, 400, a huge request refused, a
# connection silent too long closed); A never sees B's batch, root sees
# both; then headless Chromium runs the page's script and shows A's batch
# progress moving between two loads, its user text as text, not markup.
PREFIX=ndb
. "$(dirname "$0")/lib/agentd-common.sh"
. "$(dirname "$0")/lib/nonroot-common.sh"
for c in curl python3; do
	command -v $c >/dev/null || { echo "1..0 # SKIP no $c (scripts/deps.sh check installs it)"; exit 0; }
done
A=$user B=${user}b C=${user}c G=${user}g
useradd --system --no-create-home --shell /usr/sbin/nologin "$B" &&
	useradd --system --no-create-home --shell /usr/sbin/nologin "$C" &&
	groupadd --system "$G" && usermod -a -G "$G" "$C" || { echo "Bail out! useradd"; exit 1; }
users_cleanup() { userdel "$B" 2>/dev/null; userdel "$C" 2>/dev/null; groupdel "$G" 2>/dev/null; userdel "$A" 2>/dev/null; rm -rf "$tmp"; }
agentd_extra_cleanup=users_cleanup
trap agentd_cleanup EXIT
as() { local u=$1; shift; setpriv --reuid "$u" --regid "$(id -g "$u")" --init-groups "$@"; }
as_bg() { local u=$1; shift; exec setpriv --reuid "$u" --regid "$(id -g "$u")" --init-groups "$@"; }
NICELY=$NICELY_BUILD/nicely

# a free loopback port (a race with another program is possible, rare)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE=http://127.0.0.1:$PORT

# off by default: the request says how to turn it on
fake_procfs 4
start_agent --procfs "$T/proc"
a=$("$NICELY" dashboard 2>&1); rc=$?
[ $rc = 1 ] && grep -q "the dashboard is off (the system config's \[agent\] dashboard" <<<"$a"
ok $? "off by default: nicely dashboard says how to turn it on (exit $rc)"
stop_agent

printf '[agent]\ndashboard = 127.0.0.1:%s\nadmins = %s\n[limits]\nmax_pus = 2\n' "$PORT" "$G" >"$T/etc/nicely/nicely.conf"
start_agent --procfs "$T/proc"
grep -q "dashboard on 127.0.0.1:$PORT" "$T/agent.log"; ok $? "the agent says where it serves the dashboard"

ua=$(as "$A" "$NICELY" dashboard)
ub=$(as "$B" "$NICELY" dashboard)
ur=$("$NICELY" dashboard)
grep -Eqx "$BASE/\?token=[0-9a-f]{64}" <<<"$ua"; ok $? "A's link: $BASE/?token=<64 hex digits>"
[ "$ua" != "$ub" ] && [ "$ua" != "$ur" ]; ok $? "A, B and root get different tokens"
is "$(as "$A" "$NICELY" dashboard --json)" "{\"url\":\"$ua\"}" "asked again: the same link (--json)"
tok() { printf '%s' "${1##*token=}"; }
ta=$(tok "$ua") tb=$(tok "$ub") tr=$(tok "$ur")
! grep -q "$ta\|$tb\|$tr" "$T/agent.log"; ok $? "no token in the agent's log"

# code [CURL ARGS] PATH: the HTTP status
code() { curl -s -o /dev/null -w '%{http_code}' "${@:1:$#-1}" "$BASE${!#}"; }
is "$(code /)" 401 "/ without a token: 401"
is "$(code /api/overview)" 401 "/api/overview without a token: 401"
is "$(code -b "nicely_dash=$(printf '%064d' 0)" /api/overview)" 401 "a cookie with a token nobody got: 401"
is "$(code "/?token=abc")" 401 "a link with a bad token: 401"
h=$(curl -s -D - -o /dev/null "$BASE/batch/x?token=$ta")
grep -q "^HTTP/1.1 303" <<<"$h" && grep -qi "^Location: /batch/x"$'\r' <<<"$h" &&
	grep -qi "^Set-Cookie: nicely_dash=$ta; Path=/; HttpOnly; SameSite=Strict" <<<"$h"
ok $? "a link: 303 to the same path without the token, which becomes an HttpOnly cookie"
ca="nicely_dash=$ta" cb="nicely_dash=$tb" cr="nicely_dash=$tr"
h=$(curl -s -D - -b "$ca" "$BASE/")
grep -q "^HTTP/1.1 200" <<<"$h" && grep -qi "^Content-Security-Policy: default-src 'none'" <<<"$h" &&
	grep -q '<script src="/dash.js"' <<<"$h"
ok $? "/ with A's cookie: the page (200), with a CSP that allows nothing from elsewhere"
is "$(code /dash.js)" 200 "the script needs no token (it holds no data)"
is "$(code -b "$ca" /no/such/page)" 404 "an unknown page: 404"
is "$(code -b "$ca" -X POST /api/overview)" 405 "POST: 405"
is "$(code -b "$ca" -I /)" 405 "HEAD: 405 (GET only)"
raw() { python3 - "$PORT" "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
try:
    s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
except OSError:
    pass
d = b""
while True:
    try:
        b = s.recv(65536)
    except OSError:
        break
    if not b:
        break
    d += b
print(d.split(b"\r\n")[0].decode("latin-1") if d else "nothing")
PY
}
is "$(raw 'GARBAGE\r\n\r\n')" "HTTP/1.1 400 Bad Request" "a request line that is not METHOD TARGET VERSION: 400"
is "$(raw 'GET / HTTP/2.0\r\n\r\n')" "HTTP/1.1 400 Bad Request" "HTTP/2.0 as text: 400"
is "$(raw 'GET / HTTP/1.1\r\nno colon here\r\n\r\n')" "HTTP/1.1 400 Bad Request" "a header without a colon: 400"
is "$(raw 'GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello')" "HTTP/1.1 400 Bad Request" "a GET with a body: 400"
is "$(code -b "$ca" -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' a)" /)" 431 "a 20 kB request: 431, not read"
is "$(code -b "$ca" "/$(head -c 400 /dev/zero | tr '\0' a)")" 414 "a 400-byte path: 414"
is "$(python3 - "$PORT" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(70)]
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(b"GET /dash.js HTTP/1.1\r\nHost: x\r\n\r\n")
first = s.recv(100).split(b"\r\n")[0].decode()
time.sleep(0.3)
closed = 0
for c in idle:
    c.setblocking(False)
    try:
        closed += c.recv(1) == b""
    except BlockingIOError:
        pass
    except OSError:
        closed += 1
print(first, "closed:", closed)
PY
)" "HTTP/1.1 200 OK closed: 7" "71 connections at once: the 7 oldest closed to make room, the newest answered"
is "$(python3 - "$PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
sent = 0
try:
    while sent < 8 << 20:
        s.sendall(b"a" * 65536)
        sent += 65536
except OSError:
    pass
print("stopped" if sent < 8 << 20 else "all 8 MiB taken")
PY
)" stopped "8 MiB sent without a newline: the agent stops reading"
# a connection that says nothing is closed after 5 s (checked at the end)
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
idle_from=$(ms)

# --- batches: A's and B's, seen by their owners only --------------------
as_bg "$A" sleep 1000 & oa=$!
as_bg "$B" sleep 1000 & ob=$!
killme="$killme $oa $ob"
sleep 0.2
cmd='"command":"./sim <b>bold</b> <img src=x onerror=alert(1)>"'
l1=$(as "$A" "$CLIENT" --pidfd $oa "$SOCK" "$(req open "\"weight\":\"idle\",\"preset\":\"normal\",$cmd")" \
	"$(req lease '"want":6,"holding":2,"done":3,"total":40,"running":2,"pus":[0,1]')")
ba=$(field "$(head -1 <<<"$l1")" batch)
bb=$(field "$(as "$B" "$CLIENT" --pidfd $ob "$SOCK" "$(req open '"weight":"idle"')")" batch)
[ -n "$ba" ] && [ "$ba" != - ] && [ -n "$bb" ] && [ "$bb" != - ]; ok $? "A's batch $ba and B's $bb placed"
ov() { curl -s -b "$1" "$BASE/api/overview"; }
names() { python3 -c 'import json,sys; print(" ".join(sorted(b["batch"] for b in json.load(sys.stdin)["batches"])))'; }
is "$(ov "$ca" | names)" "$ba" "A's overview: A's batch only"
is "$(ov "$cb" | names)" "$bb" "B's overview: B's batch only"
is "$(ov "$cr" | names)" "$(printf '%s\n' "$ba" "$bb" | sort | tr '\n' ' ' | sed 's/ $//')" "root's overview: both"
uc=$(as "$C" "$NICELY" dashboard) cc="nicely_dash=$(tok "$uc")"
is "$(ov "$cc" | names)" "$(ov "$cr" | names)" "C (an [agent] admin): both too"
is "$(code -b "$cb" "/api/batch/$ba")" 404 "B asking for A's batch: 404"
is "$(code -b "$cb" "/batch/$ba")" 404 "B's page of A's batch: 404"
is "$(code -b "$cr" "/api/batch/$ba")" 200 "root asking for A's batch: 200"
is "$(code -b "$ca" "/api/batch/..%2f$bb")" 404 "a batch name with other bytes: 404"
j=$(curl -s -b "$ca" "$BASE/api/batch/$ba")
is "$(python3 -c 'import json,sys; b=json.load(sys.stdin); print(b["user"], b["preset"], b["done"], b["total"], b["running"], b["queued"], b["pus"], b["reason"], b["command"])' <<<"$j")" \
	"$A normal 3 40 2 35 [0, 1] user limit 2 PUs ./sim <b>bold</b> <img src=x onerror=alert(1)>" \
	"A's batch: user, preset, counts, PUs, why it is held back ([limits] max_pus), its command"
python3 -c 'import json,sys; o=json.load(sys.stdin); c=[x for x in o["cpus"]]; assert [x["ours"] for x in c] == [True, True, False, False], c; assert all(0 <= x["others"] <= 1 for x in c); assert o["mem_total_kb"] > 0 and len(o["loadavg"]) == 3' <<<"$(ov "$ca")" 2>/dev/null
ok $? "the overview: per PU others' load and which ones A's batch holds; load, memory"

# --- the page in headless Chromium: its script runs and polls ------------
# (not in the sanitizer pass: the page asks the agent nothing that curl
# did not above, and Chromium's start is most of this test's time)
CHROMIUM=$(command -v chromium || command -v chromium-browser)
if [ -z "$CHROMIUM" ]; then
	echo "ok $((tap_n + 1)) # SKIP no chromium (scripts/deps.sh check installs it)"; tap_n=$((tap_n + 1))
elif [ "${NICELY_BUILD%/asan}" != "$NICELY_BUILD" ]; then
	echo "ok $((tap_n + 1)) # SKIP Chromium in the plain pass only"; tap_n=$((tap_n + 1))
else
	# dom URL: the page after its script ran (each run a fresh profile:
	# the link's token becomes the cookie on the way)
	dom() {
		timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
			--user-data-dir="$T/chr$RANDOM" --virtual-time-budget=2000 --dump-dom "$1" 2>/dev/null
	}
	cell() { python3 -c '
import re, sys
m = re.search(r"<tr id=\"b-%s\">(.*?)</tr>" % re.escape(sys.argv[1]), sys.stdin.read())
print(" ".join(re.findall(r"<td class=\"%s\">([^<]*)</td>" % sys.argv[2], m.group(1))) if m else "no row")' "$@"; }
	d1=$(dom "$ua")
	is "$(cell "$ba" done <<<"$d1")" 3 "Chromium: A's page shows A's batch, 3 done"
	! grep -q "b-$bb" <<<"$d1"; ok $? "... and not B's batch"
	grep -q '<td class="t command">./sim &lt;b&gt;bold&lt;/b&gt; &lt;img src=x onerror=alert(1)&gt;</td>' <<<"$d1" &&
		! grep -q '<b>bold' <<<"$d1"
	ok $? "... its command as text, never as markup"
	l2=$(as "$A" "$CLIENT" --pidfd $oa "$SOCK" "$(req adopt "\"batch\":\"$ba\"")" \
		"$(req lease '"want":6,"holding":2,"done":17,"total":40,"running":2,"pus":[0,1]')")
	is "$(field "$(sed -n 2p <<<"$l2")" ok)" true "A's batch reports 17 done"
	wait_for sh -c "curl -s -b '$ca' '$BASE/api/batch/$ba' | grep -Eq '\"rate\":(0\.0*[1-9]|[1-9])'"
	ok $? "the agent measures a rate"
	# the second load: the batch's own page (its link's token from the
	# user's link, as a user would follow it)
	d2=$(dom "$BASE/batch/$ba?token=$ta")
	dd() { sed -n "s|.*<dd id=\"f-$1\">\([^<]*\)</dd>.*|\1|p" <<<"$d2"; }
	is "$(dd progress)" "17 of 40" "Chromium, loaded again (the batch's page): the progress moved, 17 of 40"
	[ -n "$(dd rate)" ] && [ -n "$(dd ETA)" ]; ok $? "... with a rate and an ETA ($(dd rate), $(dd ETA))"
	is "$(dd held-back)" "user limit 2 PUs" "... and why it is held back"
	grep -q '<dd id="f-command">./sim &lt;b&gt;bold&lt;/b&gt; &lt;img src=x onerror=alert(1)&gt;</dd>' <<<"$d2" &&
		! grep -q '<b>bold' <<<"$d2"
	ok $? "... its command as text, never as markup"
fi

# --- tokens: a new one retires the old one; the silent connection -------
un=$(as "$A" "$NICELY" dashboard --new)
[ "$un" != "$ua" ]; ok $? "--new: another link"
is "$(code -b "$ca" /api/overview)" 401 "... and the old token no longer works"
is "$(code -b "nicely_dash=$(tok "$un")" /api/overview)" 200 "... the new one does"
while [ $(($(ms) - idle_from)) -lt 5600 ]; do sleep 0.2; done
if read -r -t 2 x <&3; then r=data; else r=$?; fi
[ "$r" = 1 ]; ok $? "a connection silent for 5 s is closed (read: $r)"
exec 3<&-

# SIGHUP: the same address keeps the tokens; without the key, off
hups() { grep -c "config read again" "$T/agent.log"; }
kill -HUP "$agent_pid"
wait_for test "$(hups)" = 1
is "$(code -b "nicely_dash=$(tok "$un")" /api/overview)" 200 "SIGHUP, the same address: the token still works"
is "$(ov "$cc" | names)" "" "... but an admin's shows its own batches only (the admins may have changed)"
as "$C" "$NICELY" dashboard >/dev/null
is "$(ov "$cc" | names)" "$(ov "$cr" | names)" "... until the admin asks for the link again"
if [ -e /proc/net/if_inet6 ] && grep -q "^0*1 " /proc/net/if_inet6; then
	printf '[agent]\ndashboard = [::1]:%s\n' "$PORT" >"$T/etc/nicely/nicely.conf"
	kill -HUP "$agent_pid"
	wait_for test "$(hups)" = 2
	u6=$(as "$A" "$NICELY" dashboard)
	grep -Eqx "http://\[::1\]:$PORT/\?token=[0-9a-f]{64}" <<<"$u6"; ok $? "SIGHUP to [::1]:PORT: the link names [::1] ($u6)"
	is "$(curl -s -o /dev/null -w '%{http_code}' -g -b "nicely_dash=$(tok "$u6")" "http://[::1]:$PORT/api/overview")" 200 "... served there"
	is "$(code /dash.js)" 000 "... and no longer on 127.0.0.1"
else
	for i in 1 2 3; do echo "ok $((tap_n + 1)) # SKIP no IPv6 loopback"; tap_n=$((tap_n + 1)); done
	kill -HUP "$agent_pid"
	wait_for test "$(hups)" = 2
fi
printf '[agent]\n' >"$T/etc/nicely/nicely.conf"
kill -HUP "$agent_pid"
wait_for test "$(hups)" = 3
is "$(curl -s -o /dev/null -w '%{http_code}' -g "http://[::1]:$PORT/dash.js")$(code /dash.js)" 000000 "SIGHUP without [agent] dashboard: no longer served"
grep -q "dashboard off" "$T/agent.log"; ok $? "... and the agent says so"

# a non-loopback address: the agent does not start, naming the line
printf '[agent]\ntick_ms = 100\ndashboard = 0.0.0.0:%s\n' "$PORT" >"$T/etc/nicely/nicely.conf"
a=$(NICELY_TOPOLOGY= timeout 10 "$AGENT" --foreground --cgroup-root "$CG" --socket "$T/run/other.sock" 2>&1); rc=$?
[ $rc = 1 ] && grep -q "nicely.conf:3: dashboard address '0.0.0.0:$PORT' is not a loopback address" <<<"$a"
ok $? "dashboard = 0.0.0.0:PORT: the agent refuses to start, naming file:line (exit $rc)"
done_testing
