#!/bin/bash
# nicely-agent between throwaway users A and B, an admin C (in a group
# named in [agent] admins) and root: a pidfd of another user's process is
# refused; A's batch is A's (B cannot list, kill or adopt it); C and root
# list every batch and kill by user; PUs split by user, not batch (A with
# 5 batches and B with 1 get the same grants in all).
PREFIX=nag
. "$(dirname "$0")/lib/agentd-common.sh"
. "$(dirname "$0")/lib/nonroot-common.sh"
A=$user B=${user}b C=${user}c G=${user}g
useradd --system --no-create-home --shell /usr/sbin/nologin "$B" &&
	useradd --system --no-create-home --shell /usr/sbin/nologin "$C" &&
	groupadd --system "$G" && usermod -a -G "$G" "$C" || { echo "Bail out! useradd"; exit 1; }
users_cleanup() { userdel "$B" 2>/dev/null; userdel "$C" 2>/dev/null; groupdel "$G" 2>/dev/null; userdel "$A" 2>/dev/null; }
agentd_extra_cleanup=users_cleanup
trap agentd_cleanup EXIT
uid() { id -u "$1"; }
# as USER CMD...: run as the user, with its groups
as() { local u=$1; shift; setpriv --reuid "$u" --regid "$(id -g "$u")" --init-groups "$@"; }
# the same in the background: $! is the user's process itself
as_bg() { local u=$1; shift; exec setpriv --reuid "$u" --regid "$(id -g "$u")" --init-groups "$@"; }

printf '[agent]\nadmins = nosuchgroup, %s\n' "$G" >"$T/etc/nicely/nicely.conf"
fake_procfs 8
start_agent --procfs "$T/proc"
grep -q "no group named 'nosuchgroup'" "$T/agent.log"; ok $? "an admins group that does not exist is said"

as_bg "$A" sleep 1000 & oa=$!
as_bg "$B" sleep 1000 & ob=$!
killme="$killme $oa $ob"
sleep 0.2
is "$(field "$(as "$A" "$CLIENT" "$SOCK" "$(req hello)")" uid admin)" "$(uid "$A") false" "A: hello says its uid, not admin"
is "$(field "$(as "$C" "$CLIENT" "$SOCK" "$(req hello)")" admin)" "true" "C (in the admins group): admin"
a=$(as "$B" "$CLIENT" --pidfd $oa "$SOCK" "$(req open '"weight":"idle"')")
grep -q "is not yours" <<<"$a"; ok $? "B placing A's process: refused ($(field "$a" error))"
[ ! -e "$CG/nicely/user-$(uid "$B")" ]; ok $? "... and no group was made for B"
a=$(as "$A" "$CLIENT" --pidfd $oa "$SOCK" "$(req open '"weight":"idle","preset":"normal"')")
ba=$(field "$a" batch)
is "$(field "$a" ok)" true "A places its own process ($ba)"
case $ba in "$A"-$oa-*) r=0 ;; *) r=1 ;; esac
ok $r "the batch is named after A and its owner"
grep -qx "$oa" "$CG/nicely/user-$(uid "$A")/$ba/owner/cgroup.procs"; ok $? "A's owner is in the owner leaf"

a=$(as "$B" "$CLIENT" "$SOCK" "$(req list)" "$(req list '"all":true')" "$(req kill "\"batch\":\"$ba\"")" "$(req kill "\"user\":\"$A\"")")
is "$(sed -n 1p <<<"$a")" '{"batches":[],"ok":true,"v":1}' "B's list: not A's batch"
grep -q "only root and the \[agent\] admins may list" <<<"$(sed -n 2p <<<"$a")"; ok $? "B's list of all: refused"
grep -q "no batch of yours named" <<<"$(sed -n 3p <<<"$a")"; ok $? "B's kill of A's batch: refused"
grep -q "only root and the \[agent\] admins may kill another user's" <<<"$(sed -n 4p <<<"$a")"; ok $? "B's kill of user A: refused"
a=$(as "$B" "$CLIENT" --pidfd $ob "$SOCK" "$(req adopt "\"batch\":\"$ba\"")")
grep -q "no batch of yours" <<<"$a"; ok $? "B adopting A's batch: refused"
[ -d "$CG/nicely/user-$(uid "$A")/$ba" ]; ok $? "A's batch is still there"

a=$(as "$A" "$CLIENT" "$SOCK" "$(req list)")
is "$(python3 -c 'import json,sys; print(" ".join(b["batch"] for b in json.loads(sys.argv[1])["batches"]))' "$a")" "$ba" "A lists its own batch"
a=$(as "$C" "$CLIENT" "$SOCK" "$(req list '"all":true')")
python3 -c 'import json,sys; b=json.loads(sys.argv[1])["batches"]; assert [x["user"] for x in b] == [sys.argv[2]]' "$a" "$A" 2>/dev/null
ok $? "C (admin) lists every user's batches"
a=$("$CLIENT" "$SOCK" "$(req list '"all":true')")
python3 -c 'import json,sys; b=json.loads(sys.argv[1])["batches"]; assert len(b) == 1' "$a" 2>/dev/null
ok $? "root lists every user's batches"
a=$(as "$C" "$CLIENT" "$SOCK" "$(req kill "\"user\":\"$A\"")")
is "$(field "$a" ok killed)" "true 1" "C (admin) kills user A's batches"
a=$(as "$A" "$CLIENT" "$SOCK" "$(req kill "\"user\":\"$A\"")")
is "$(field "$a" ok killed)" "true 1" "A kills its own batches by user name"
a=$("$CLIENT" "$SOCK" "$(req kill '"user":"no-such-user-x"')")
grep -q "no user named" <<<"$a"; ok $? "kill of an unknown user: refused"

# --- PUs split by user, not batch ------------------------------------------------
owners=""
for i in 1 2 3 4 5; do as_bg "$A" sleep 1000 & owners="$owners $!"; done
killme="$killme $owners"
sleep 0.2
lease='{"v":1,"cmd":"lease","want":8,"holding":0,"done":0,"total":-1,"running":0}'
i=0
for o in $owners; do
	i=$((i + 1))
	as "$A" "$CLIENT" --pidfd $o "$SOCK" "$(req open '"weight":"idle"')" "$lease" sleep:600 "$lease" >"$T/la$i" &
	clients="${clients:-} $!"
done
as "$B" "$CLIENT" --pidfd $ob "$SOCK" "$(req open '"weight":"idle"')" "$lease" sleep:600 "$lease" >"$T/lb" &
wait $clients $!
ga=0
for i in 1 2 3 4 5; do ga=$((ga + $(field "$(sed -n 3p "$T/la$i")" grant))); done
gb=$(field "$(sed -n 3p "$T/lb")" grant)
users=$(field "$(sed -n 3p "$T/lb")" users)
is "$users" 2 "two users want PUs"
d=$((ga - gb)); d=${d#-}
[ "$d" -le 1 ] && [ "$gb" -ge 3 ]; ok $? "A with 5 batches is granted $ga PUs in all, B with 1 batch $gb: the same (within the odd PU)"
kill $owners $oa $ob 2>/dev/null
# B leaves: A's one batch grows to every free PU at the next ticks
as_bg "$A" sleep 1000 & oa2=$!
as_bg "$B" sleep 1000 & ob2=$!
killme="$killme $oa2 $ob2"
sleep 0.3
as "$A" "$CLIENT" --pidfd $oa2 "$SOCK" "$(req open '"weight":"idle"')" "$lease" sleep:700 "$lease" sleep:1500 "$lease" >"$T/grow" &
ca=$!
as "$B" "$CLIENT" --pidfd $ob2 "$SOCK" "$(req open '"weight":"idle"')" "$lease" >/dev/null
sleep 1.2
kill $ob2
wait $ca
is "$(field "$(sed -n 3p "$T/grow")" grant)" 4 "A and B each with one batch wanting 8 of 8 free: A gets 4"
is "$(field "$(sed -n 4p "$T/grow")" grant users)" "8 1" "B's owner exits: A's batch is granted all 8, one user wants"
kill $oa $ob $oa2 2>/dev/null
wait_for eval "[ -z \"\$(ls -d $CG/nicely/user-* 2>/dev/null)\" ]"
[ -z "$(ls -d "$CG"/nicely/user-* 2>/dev/null)" ]; ok $? "every owner gone: every user's group removed"
done_testing
