#!/bin/bash
# nicely submit with nicely-agent keeping the batch, as users are: a
# throwaway user submits from inside their login session on this
# machine's v1 tree rebuilt in systemd's layout (tests/lib/systemd-tree.sh:
# R/user.slice/user-UID.slice/session-N.scope, the agent's base R/nicely),
# then every process of the session scope is killed as systemd does when
# the session ends: the agent-held batch finishes with its results whole
# and in order (one started without the agent dies with the session: the
# check can fail); its supervisor runs as the user, with the environment
# and cwd of the submit, in the agent's tree; SIGKILL of the supervisor
# mid-batch: the agent resumes it, no recorded task runs twice; after an
# agent restart the supervisor is found again and still kept; another
# user cannot make the agent start anything as the first; root's status
# --all lists every user's batches, finished ones included, from the
# agent's records and, without the agent, from each home's store (a link
# there is not followed).
PREFIX=nicelyhd
. "$(dirname "$0")/lib/nonroot-common.sh"
[ -e /sys/fs/cgroup/cpu/cpu.shares ] || { echo "1..0 # SKIP no v1 cpu hierarchy"; exit 0; }
[ -e /sys/fs/cgroup/unified/cgroup.procs ] || { echo "1..0 # SKIP no cgroup2 tree to track sessions"; exit 0; }
AGENT=$B/nicely-agent
[ -x "$AGENT" ] || { echo "Bail out! $AGENT not built"; exit 1; }
. "$(dirname "$0")/lib/systemd-tree.sh"
chmod 755 "$tmp"
userb=${PREFIX}b$$
useradd --system --no-create-home --shell /usr/sbin/nologin "$userb" ||
	{ echo "Bail out! useradd failed"; exit 1; }
uid=$(id -u "$user")
uidb=$(id -u "$userb")
st_v1_build "nicely-hd$$" || { echo "Bail out! cannot build the systemd-like tree"; exit 1; }
st_v1_user "$uid" 1 || { echo "Bail out! cannot make the user's scope"; exit 1; }
base=$ST_BASE
sock=$tmp/agent.sock
apid=
S=$tmp/hdslp$$
cp "$(command -v sleep)" "$S"
cp "$B/nicely" "$tmp/nicely"
mkdir -p "$tmp/etc" "$tmp/xdg" "$tmp/home" "$tmp/homeb" "$tmp/work" "$tmp/ran"
chown "$user" "$tmp/home" "$tmp/work" "$tmp/ran"
chown "$userb" "$tmp/homeb"
usermod -d "$tmp/home" "$user" && usermod -d "$tmp/homeb" "$userb" ||
	{ echo "Bail out! usermod failed"; exit 1; }
mkdir -m 700 "$tmp/state" "$tmp/rt" "$tmp/rtb"
chown "$user" "$tmp/state" "$tmp/rt"
chown "$userb" "$tmp/rtb"
cat >"$tmp/inscope" <<EOS
#!/bin/bash
. "$(cd "$(dirname "$0")" && pwd)/lib/systemd-tree.sh"
ST_R=$ST_R
st_v1_move \$\$ "\$1" "\$2" || exit 125
shift 2
exec "\$@"
EOS
chmod -R a+rX "$tmp"
chmod 700 "$tmp/state" "$tmp/rt" "$tmp/rtb"
chmod 755 "$tmp/inscope"
ENV=(env -u NICELY_CGROUP_ROOT -u NICELY_CGROUP_TRACE NICELY_AGENT_SOCKET="$sock"
	NICELY_RUNTIME_DIR="$tmp/rt" NICELY_SYSCONFDIR="$tmp/etc" XDG_CONFIG_HOME="$tmp/xdg"
	XDG_STATE_HOME="$tmp/state" HOME="$tmp/home")
# as the user: U outside any session, N in session-1.scope (their shell)
U=(runuser -u "$user" -- "${ENV[@]}")
N=("$tmp/inscope" "$uid" 1 runuser -u "$user" -- "${ENV[@]}")
scope=$ST_R/user.slice/user-$uid.slice/session-1.scope
st=$tmp/state/nicely/batches

agent_start() {
	"$AGENT" --foreground --socket "$sock" --base "$base" --tick 200 \
		--nicely "$tmp/nicely" 2>>"$tmp/agent.log" &
	apid=$!
	for _ in $(seq 100); do [ -S "$sock" ] && return; sleep 0.05; done
}
agent_stop() {
	[ -n "$apid" ] && { kill -TERM "$apid" 2>/dev/null; wait "$apid" 2>/dev/null; }
	apid=
}
cleanup_all() {
	local p
	agent_stop
	for p in $(pgrep -u "$user") $(pgrep -u "$userb"); do kill -9 "$p" 2>/dev/null; done
	sleep 0.2
	st_v1_teardown all
	userdel "$userb" 2>/dev/null
	cleanup
}
trap cleanup_all EXIT
wait_until() {
	local end=$(( $(date +%s%N) / 1000000 + $1 * 1000 )); shift
	until "$@"; do
		[ $(( $(date +%s%N) / 1000000 )) -ge $end ] && return 1
		sleep 0.1
	done
}
# the live supervisor of batch ID (a SIGKILLed one leaves its socket file)
sup() { local p; for p in $(ls "$st/$1" 2>/dev/null | sed -n 's/^run-\([0-9]*\)\.sock$/\1/p'); do kill -0 "$p" 2>/dev/null && echo "$p"; done | tail -1; }
finished() { grep -q '"state":"finished"' <<<"$("${U[@]}" "$tmp/nicely" status "$1" --json 2>/dev/null)"; }
recs() { awk 'NR > 1 { print $1 }' "$st/$1/joblog" 2>/dev/null | sort -n; }
# every process of the session scope, as systemd stops it: TERM, then KILL
end_session() {
	local p f
	for f in /sys/fs/cgroup/*/"$scope"/cgroup.procs; do cat "$f"; done 2>/dev/null | sort -u >"$tmp/inscope.pids"
	for p in $(cat "$tmp/inscope.pids"); do kill -TERM "$p" 2>/dev/null; done
	sleep 0.5
	for p in $(cat "$tmp/inscope.pids"); do kill -KILL "$p" 2>/dev/null; done
}
in_scope() { for f in /sys/fs/cgroup/*/"$scope"/cgroup.procs; do cat "$f"; done 2>/dev/null | grep -qx "$1"; }

agent_start
[ -S "$sock" ] || { echo "Bail out! the agent did not start: $(cat "$tmp/agent.log")"; exit 1; }

# --- the session ends: the held batch finishes ------------------------------
( "${N[@]}" "$S" 300 </dev/null >/dev/null 2>&1 & )	# the login shell
wait_until 5 bash -c "pgrep -u $user -f '$S 300' >/dev/null"
id=$(cd "$tmp/work" && "${N[@]}" MYVAR=hello "$tmp/nicely" submit --name held -j2 "$S 0.5; echo out {} \$MYVAR \$(pwd)" ::: 1 2 3 4 5 6 7 8 </dev/null 2>"$tmp/err")
out="id '$id', err: $(cat "$tmp/err"); agent: $(tail -3 "$tmp/agent.log")"
check "the user submits from their session; the agent takes the batch" '[[ "$id" =~ ^[0-9a-f]{12}$ ]] && grep -q "batch $id of $user: supervisor pid" "$tmp/agent.log"'
spid=$(sup "$id")
out="supervisor '$spid': $(ps -o user=,pid=,sid=,args= -p "$spid" 2>&1); $(cat /proc/$spid/cgroup 2>&1 | tr '\n' ' ')"
check "its supervisor runs as the user, in a session of its own, outside the login session" \
	'[ -n "$spid" ] && [ "$(ps -o user= -p "$spid")" = "$user" ] && [ "$(ps -o sid= -p "$spid" | tr -d " ")" = "$spid" ] && ! in_scope "$spid"'
check "... in the agent's tree (its group in every hierarchy is under $base)" \
	'grep -Eq "^[0-9]+:([a-z_]+,)*cpu(,[a-z_]+)*:/$base/" /proc/$spid/cgroup && grep -q "^0::/$base/" /proc/$spid/cgroup'
out=$(tr '\0' '\n' <"/proc/$spid/environ" 2>&1 | grep -c "^NICELY_\|^MYVAR" )
check "... with the environment of the submit" 'tr "\0" "\n" <"/proc/$spid/environ" | grep -qx MYVAR=hello'
# a batch started without the agent, from the same session, for contrast
idc=$(cd "$tmp/work" && "${N[@]}" NICELY_AGENT_SOCKET="$tmp/none.sock" "$tmp/nicely" submit -j1 "$S 0.5; echo c {}" ::: 1 2 3 4 5 6 7 8 9 10 </dev/null 2>>"$tmp/err")
wait_until 5 bash -c "ls '$st/$idc' | grep -q '^run-'"
cpid=$(sup "$idc")
check "(a batch submitted without the agent has its supervisor in the session)" '[ -n "$cpid" ] && in_scope "$cpid"'
sleep 0.5
end_session
out="killed: $(cat "$tmp/inscope.pids" | tr '\n' ' ')"
check "the session's processes are killed (its shell among them)" '! pgrep -u "$user" -f "$S 300" >/dev/null'
wait_until 30 finished "$id"
out=$("${U[@]}" "$tmp/nicely" results --raw "$id" 2>&1)
want=$(for i in 1 2 3 4 5 6 7 8; do echo "out $i hello $tmp/work"; done)
check "the held batch finishes: results whole, in order, with the submit's environment and cwd" '[ "$out" = "$want" ]'
"${U[@]}" "$tmp/nicely" wait "$id"; rc=$?
out="wait: $rc"
check "wait exits 0" '[ $rc = 0 ]'
out=$("${U[@]}" "$tmp/nicely" status "$idc" --json 2>&1)
check "(the batch without the agent died with the session: not all done)" 'grep -q "\"id\":\"$idc\"" <<<"$out" && ! grep -q "\"done\":10," <<<"$out"'

# --- SIGKILL of the held supervisor: the agent resumes it -------------------
id2=$("${N[@]}" "$tmp/nicely" submit --name kept -j2 "echo {} >>$tmp/ran/r; $S 0.4; echo k {}" ::: $(seq 12) </dev/null 2>"$tmp/err")
wait_until 20 bash -c "[ \$(awk 'NR > 1' '$st/$id2/joblog' 2>/dev/null | wc -l) -ge 4 ]"
spid=$(sup "$id2")
kill -KILL "$spid"
sleep 0.3
recs "$id2" >"$tmp/recorded"
out="killed supervisor $spid with $(wc -l <"$tmp/recorded") tasks recorded; agent: $(tail -3 "$tmp/agent.log")"
check "the agent says it resumes the supervisor killed by SIGKILL" 'wait_until 10 grep -q "batch $id2 of $user: its supervisor ended (signal 9); resuming it (restart 1 of 3)" "$tmp/agent.log"'
newsup2() { p=$(sup "$id2"); [ -n "$p" ] && [ "$p" != "$spid" ]; }
wait_until 10 newsup2
npid=$(sup "$id2")
check "a new supervisor runs the batch" '[ -n "$npid" ] && [ "$npid" != "$spid" ] && ! in_scope "$npid"'
wait_until 40 finished "$id2"
out=$("${U[@]}" "$tmp/nicely" results --raw "$id2" 2>&1)
check "the resumed batch finishes with every result, in order" '[ "$out" = "$(for i in $(seq 12); do echo "k $i"; done)" ]'
dups=$(for s in $(cat "$tmp/recorded"); do [ "$(grep -cx "$s" "$tmp/ran/r")" = 1 ] || echo "$s"; done)
out="recorded before the kill: $(tr '\n' ' ' <"$tmp/recorded"); ran: $(tr '\n' ' ' <"$tmp/ran/r"); twice: $dups"
check "no task recorded before the kill ran again; every task ran" '[ -s "$tmp/recorded" ] && [ -z "$dups" ] && [ "$(sort -un "$tmp/ran/r" | wc -l)" = 12 ]'
out=$(cat "$st/$id2/log")
check "the store's log says the agent resumed it" 'grep -q "nicely-agent: the supervisor ended (signal 9); resuming the batch (restart 1 of 3)" <<<"$out"'
out=$("${U[@]}" "$tmp/nicely" status 2>&1)
check "status shows the restart" 'grep -q "nicely-agent restarted its supervisor 1 time (last: signal 9)" <<<"$out"'

# --- an agent restart: the supervisor is found again, and still kept --------
id3=$("${N[@]}" "$tmp/nicely" submit --name again -j1 "$S 0.5; echo a {}" ::: $(seq 10) </dev/null 2>"$tmp/err")
wait_until 10 bash -c "ls '$st/$id3' | grep -q '^run-'"
spid=$(sup "$id3")
agent_stop
sleep 0.3
check "the supervisor outlives the agent" 'kill -0 "$spid"'
agent_start
out=$(tail -5 "$tmp/agent.log")
check "the new agent finds it again" 'wait_until 5 grep -q "batch $id3 of $user: supervisor pid $spid found again" "$tmp/agent.log"'
kill -KILL "$spid"
check "... and resumes it when it is killed" 'wait_until 10 grep -q "batch $id3 of $user: its supervisor ended (signal 0\|batch $id3 of $user: its supervisor ended (not a child" "$tmp/agent.log"'
wait_until 40 finished "$id3"
out=$("${U[@]}" "$tmp/nicely" results --raw "$id3" 2>&1)
check "... and it finishes with every result, in order" '[ "$out" = "$(for i in $(seq 10); do echo "a $i"; done)" ]'

# --- restarts are bounded: after the third, the agent gives up, saying so ----
id5=$("${N[@]}" "$tmp/nicely" submit --name bounded -j1 "$S 30; echo b {}" ::: 1 2 </dev/null 2>"$tmp/err")
last=
for i in 1 2 3 4; do
	newsup() { p=$(sup "$id5"); [ -n "$p" ] && [ "$p" != "$last" ]; }
	wait_until 10 newsup
	last=$(sup "$id5")
	[ -n "$last" ] && kill -KILL "$last"
	sleep 0.3
done
out=$(grep "$id5" "$tmp/agent.log")
check "the fourth SIGKILL: the agent gives up after 3 restarts, in its log" 'wait_until 10 grep -q "batch $id5 of $user: its supervisor ended (signal 9) after 3 restarts; not starting it again" "$tmp/agent.log"'
out=$(cat "$st/$id5/log")
check "... and in the batch's log" 'wait_until 5 grep -q "nicely-agent: the supervisor ended again (signal 9) after 3 restarts; not starting it again" "$st/$id5/log"'
sleep 1
out=$("${U[@]}" "$tmp/nicely" status 2>&1)
check "... status: died, restarted 3 times, resume by hand" 'grep -q "^${id5:0:4}[0-9a-f]*  *bounded .* died " <<<"$out" && grep -q "nicely-agent restarted its supervisor 3 times (last: signal 9)" <<<"$out" && grep -q "its supervisor died: nicely submit --resume ${id5:0:4}" <<<"$out"'
check "... no supervisor runs it" '[ -z "$(sup "$id5")" ] || ! kill -0 "$(sup "$id5")" 2>/dev/null'
"${U[@]}" "$tmp/nicely" rm "$id5" >/dev/null 2>&1

# --- another user cannot make the agent start anything as the user ----------
before=$(cat "$st/$id/log" | md5sum)
pbefore=$(pgrep -u "$user" | sort | tr '\n' ' ')
ans=$(runuser -u "$userb" -- python3 - "$sock" "$st/$id" "$id" "$uid" <<'PY' 2>&1
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
f = s.makefile("rwb")
f.write((json.dumps({"v": 1, "cmd": "hello"}) + "\n").encode()); f.flush(); f.readline()
# the victim's store, and a uid claimed in the message
f.write((json.dumps({"v": 1, "cmd": "submit", "dir": sys.argv[2], "id": sys.argv[3],
                     "uid": int(sys.argv[4]), "user": "root", "resume": True}) + "\n").encode()); f.flush()
print(f.readline().decode().strip())
PY
)
sleep 1
bpid=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' <<<"$ans")
out="answer: $ans; agent: $(grep "of $userb" "$tmp/agent.log" | tail -2)"
check "B's submit naming A's store starts nothing as A: the agent ran B's own nicely" \
	'grep -q "batch $id of $userb: supervisor pid" "$tmp/agent.log" && grep -q "batch $id of $userb: its supervisor exited (2)" "$tmp/agent.log"'
out="A's processes before: $pbefore; after: $(pgrep -u "$user" | sort | tr '\n' ' ')"
newa() { for p in $(pgrep -u "$user"); do grep -qw "$p" <<<"$pbefore" || echo "$p"; done; }
check "... no process of A was started, A's store is untouched" '[ -z "$(newa)" ] && [ "$(md5sum <"$st/$id/log")" = "$before" ]'

# --- root's status --all: every user's batches, finished ones too -----------
out=$(NICELY_AGENT_SOCKET=$sock "$tmp/nicely" status --all 2>&1); rc=$?
check "root's status --all lists A's held batches, finished, with owner, name and size ($rc)" \
	'[ $rc = 0 ] && grep -q "^OWNER  *DETACHED  *NAME" <<<"$out" && grep -q "^$user  *${id:0:4}[0-9a-f]*  *held  .* finished(0) .*  [0-9.]*[BKMG] " <<<"$out" && grep -q "^$user  *${id2:0:4}[0-9a-f]*  *kept " <<<"$out" && grep -q "^$user  *${id3:0:4}[0-9a-f]*  *again " <<<"$out"'
check "... and none of them as B's" '! grep -q "^$userb " <<<"$out"'
out=$(NICELY_AGENT_SOCKET=$sock "$tmp/nicely" status --all --json 2>&1)
# juser JSON ID: the user and uid of batch ID in a status --all --json
juser() { python3 -c 'import json,sys; print(" ".join("%s:%s" % (o["user"], o["uid"]) for o in json.loads(sys.argv[1]) if o.get("id") == sys.argv[2]))' "$1" "$2" 2>&1; }
check "... --json: with user and uid" '[ "$(juser "$out" "$id")" = "$user:$uid" ]'
out=$("${U[@]}" "$tmp/nicely" status --all 2>&1); rc=$?
check "A's status --all is refused (exit 1)" '[ $rc = 1 ]'
out=$(ls -ld "$sock.state" "$sock.state/held" "$sock.state/held"/* 2>&1)
check "the agent's records are root's, private" '[ "$(stat -c %a:%U "$sock.state" "$sock.state/held" | sort -u)" = "700:root" ] && [ "$(stat -c %a:%U "$sock.state/held"/* | sort -u)" = "600:root" ]'

# --- without the agent: each home's store ------------------------------------
agent_stop
NE=(runuser -u "$user" -- env NICELY_AGENT_SOCKET="$tmp/none.sock" NICELY_RUNTIME_DIR="$tmp/rt" NICELY_SYSCONFDIR="$tmp/etc" XDG_CONFIG_HOME="$tmp/xdg" HOME="$tmp/home")
id4=$(cd "$tmp/work" && "${NE[@]}" "$tmp/nicely" submit --name homed "echo h {}" ::: 1 2 </dev/null 2>"$tmp/err")
"${NE[@]}" "$tmp/nicely" wait "$id4" >/dev/null 2>&1
mkdir -p "$tmp/homeb/.local/state/nicely"
ln -s "$tmp/home/.local/state/nicely/batches" "$tmp/homeb/.local/state/nicely/batches"
chown -R -h "$userb" "$tmp/homeb/.local"
out=$(NICELY_AGENT_SOCKET=$tmp/none.sock "$tmp/nicely" status --all 2>&1); rc=$?
check "without the agent root's status --all lists A's batch from A's home store ($rc)" \
	'[ $rc = 0 ] && grep -q "^$user  *${id4:0:4}[0-9a-f]*  *homed .* finished(0) " <<<"$out" && grep -q "are not listed, detached ones are" <<<"$out"'
check "... B's link to A's store is not followed" '! grep -q "^$userb " <<<"$out"'
check "... nor A's store read as root: its files are A's" '[ "$(find "$tmp/home/.local" ! -user "$user" | wc -l)" = 0 ]'
out=$(NICELY_AGENT_SOCKET=$tmp/none.sock "$tmp/nicely" status --all --json 2>&1)
check "... --json too" '[ "$(juser "$(tail -1 <<<"$out")" "$id4")" = "$user:$uid" ]'
out=$(grep -i "sanitizer\|runtime error" "$tmp/agent.log" | head -3)
check "the agent's log has no sanitizer report" '[ -z "$out" ]'
echo "1..$n"
