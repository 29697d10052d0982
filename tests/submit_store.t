#!/bin/bash
# The batch store under pressure and against others (root): a full disk
# (a tiny tmpfs as XDG_STATE_HOME) pauses the batch with the reason in
# status, nothing recorded is lost, and after room is made `nicely resume`
# goes on to a whole result; another user (a throwaway one, removed after)
# can neither list, attach to, read nor control the batch. The tmpfs is
# unmounted after.
. "$(dirname "$0")/lib/run-common.sh"

killme=""
mnt=""
user=""
cleanup() {
	for p in $killme; do kill -KILL "$p" 2>/dev/null; done
	[ -n "$mnt" ] && umount "$mnt" 2>/dev/null
	[ -n "$user" ] && userdel "$user" 2>/dev/null
}
trap cleanup EXIT

wait_for() {
	local i
	for i in $(seq 300); do "$@" && return 0; sleep 0.1; done
	return 1
}
state_is() { "$NICELY" status "$1" --json 2>/dev/null | grep -q "\"state\":\"$2\""; }
sup_pid() { ls "$1" 2>/dev/null | sed -n 's/^run-\([0-9]*\)\.sock$/\1/p'; }

if [ "$(id -u)" != 0 ]; then
	skip "a full store pauses the batch" "needs root (mount, useradd)"
	finish
fi

# --- ENOSPC -----------------------------------------------------------------
mkdir "$T/small"
if mount -t tmpfs -o size=320k,mode=0700 tmpfs "$T/small"; then
	mnt="$T/small"
	# 8 tasks of 64 KiB each: more than the disk holds
	id=$(XDG_STATE_HOME="$mnt" "$NICELY" submit -p nuclear -j1 'echo $$ >>"$PIDS"; head -c 65536 /dev/zero | tr "\0" {}' ::: a b c d e f g h)
	B="$mnt/nicely/batches/$id"
	killme="$killme $(sup_pid "$B")"
	XDG_STATE_HOME="$mnt" wait_for state_is "$id" paused
	ok $? "a full store pauses the batch"
	XDG_STATE_HOME="$mnt" "$NICELY" status >"$T/st"
	grep -q "why: the batch store's disk is full (.*No space left on device); make room, then nicely resume" "$T/st"
	ok $? "status says why"
	n=$(grep -c '^[0-9]' "$B/joblog")
	[ "$n" -ge 1 ] && [ "$n" -lt 8 ]
	ok $? "some tasks were recorded before the disk was full ($n)"
	good=1
	for s in $(grep -o '^[0-9]*' "$B/joblog"); do
		[ "$(stat -c %s "$B/tasks/$s.out")" = 65536 ] || good=0
	done
	ok $((1 - good)) "every recorded task's output is whole"
	sleep 1
	XDG_STATE_HOME="$mnt" state_is "$id" paused
	ok $? "it stays paused while there is no room"
	mount -o remount,size=4m "$mnt"
	XDG_STATE_HOME="$mnt" "$NICELY" resume "$id" >/dev/null
	is "$?" 0 "nicely resume after room was made"
	XDG_STATE_HOME="$mnt" "$NICELY" wait "$id"
	is "$?" 0 "the batch goes on and ends well"
	want=$(for c in a b c d e f g h; do head -c 65536 /dev/zero | tr "\0" $c; done | md5sum)
	is "$(XDG_STATE_HOME="$mnt" "$NICELY" results --raw "$id" | md5sum)" "$want" "results: all 8 outputs whole and in order"
	no_survivors "ENOSPC"
	wait_for test -z "$(sup_pid "$B")"
	umount "$mnt" && mnt=""
	ok $? "the tmpfs is unmounted"
else
	skip "a full store pauses the batch" "cannot mount a tmpfs"
fi

# --- another user -------------------------------------------------------------
if command -v useradd >/dev/null && user=nicelys$$ &&
   useradd --system --no-create-home --shell /bin/bash "$user"; then
	# only the store's own modes keep them out: the rest is open
	chmod 755 "$T"
	mkdir -m 755 -p "$XDG_STATE_HOME"
	cp "$NICELY" "$T/nicely" && chmod 755 "$T/nicely"
	: >"$PIDS"
	chmod 666 "$PIDS"
	id=$("$T/nicely" submit -p nuclear -j1 'echo $$ >>"$PIDS"; echo secret {}; [ {} = 1 ] || sleep 60' ::: 1 2)
	B="$XDG_STATE_HOME/nicely/batches"
	wait_for grep -q '^1' "$B/$id/joblog"
	as() { setpriv --reuid "$user" --regid "$user" --clear-groups env HOME=/nonexistent XDG_STATE_HOME="$XDG_STATE_HOME" NICELY_RUNTIME_DIR="$T/rt-$user" "$@"; }
	mkdir -m 700 "$T/rt-$user" && chown "$user" "$T/rt-$user"
	out=$(as "$T/nicely" status 2>&1)
	! grep -q "${id:0:4}" <<<"$out"
	ok $? "another user's status does not list the batch ($out)"
	as "$T/nicely" results "$id" >"$T/o" 2>&1
	rc=$?
	[ $rc != 0 ] && ! grep -q secret "$T/o"
	ok $? "another user cannot read its results (exit $rc: $(head -1 "$T/o"))"
	as timeout 5 "$T/nicely" attach "$id" >"$T/o" 2>&1
	rc=$?
	[ $rc != 0 ] && [ $rc != 124 ] && ! grep -q secret "$T/o"
	ok $? "another user cannot attach (exit $rc)"
	as "$T/nicely" kill "$id" >"$T/o" 2>&1
	rc=$?
	[ $rc != 0 ] && state_is "$id" running
	ok $? "another user cannot kill it (exit $rc), it runs on"
	as cat "$B/$id/tasks/1.out" >/dev/null 2>&1
	[ $? != 0 ]
	ok $? "another user cannot read a store file directly"
	as "$T/nicely" kill 999999 >/dev/null 2>&1
	sock=$(ls "$B/$id"/run-*.sock)
	as "$NICELY_BUILD/tests/helpers/ctl_peer" "$sock" '{"v":1,"cmd":"kill"}' >/dev/null 2>&1
	state_is "$id" running
	ok $? "... not even through the socket's path"
	"$T/nicely" results --raw "$id" 1 | grep -q "secret 1"
	ok $? "its owner can read it"
	"$T/nicely" kill "$id" >/dev/null
	"$T/nicely" wait "$id"
	is "$?" 255 "its owner can kill it"
	userdel "$user" 2>/dev/null
	! id "$user" >/dev/null 2>&1
	ok $? "test user removed"
	user=""
else
	user=""
	skip "another user is kept out" "useradd failed"
fi
no_survivors "store"
finish
