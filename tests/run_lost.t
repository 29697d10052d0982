#!/bin/bash
# Nothing lost silently: output that cannot be kept whole (TMPDIR on a full
# tmpfs, or missing) makes the task fail in the exit status, the joblog and
# --json, with a message naming the bytes lost; --results into a directory
# that cannot be made or written is a usage error before anything starts,
# and results that cannot be written later fail the task; --results and
# --joblog never follow another user's symlink nor write into another
# user's directory, and create 0600 files in 0700 directories; a timeout
# below 1 ms is refused; a "cannot run" message cuts a long command with
# its length and ends in a newline.
. "$(dirname "$0")/lib/run-common.sh"
R() { "$NICELY" run -p nuclear -j1 "$@"; }

mnts=()
user=
cleanup() {
	for m in "${mnts[@]}"; do umount "$m" 2>/dev/null; done
	[ -n "$user" ] && userdel "$user" 2>/dev/null
}
trap cleanup EXIT

# small_tmpfs DIR SIZE: mount a tmpfs of SIZE on DIR (made); 1 when not
# possible here (not root, no mount).
small_tmpfs() {
	mkdir -p "$1"
	[ "$(id -u)" = 0 ] || return 1
	mount -t tmpfs -o "size=$2,mode=0700" tmpfs "$1" 2>/dev/null || return 1
	mnts+=("$1")
}

# --- output that cannot be kept: TMPDIR full ------------------------------
if small_tmpfs "$T/full" 1m; then
	dd if=/dev/zero of="$T/full/fill" bs=1k count=1000 2>/dev/null
	TMPDIR="$T/full" R --joblog "$T/jl" 'head -c 10000000 /dev/zero; : {}' \
		::: 1 >"$T/out" 2>"$T/err"
	is "$?" 1 "full TMPDIR: the task that lost output counts as failed"
	kept=$(wc -c <"$T/out")
	grep -q "task 1: stdout lost: $((10000000 - kept)) of 10000000 bytes not kept (kept the first $kept; spill file in $T/full: No space left on device)" "$T/err"
	ok $? "full TMPDIR: the message says which task, stream and bytes were lost, and why"
	is "$(tail -n +2 "$T/jl" | cut -f6,7)" "10000000	-1" "full TMPDIR: joblog Exitval -1 (Receive counts all received)"
	TMPDIR="$T/full" R --json 'head -c 200000 /dev/zero; : {}' ::: 1 >"$T/json" 2>/dev/null
	is "$?" 1 "full TMPDIR, --json: exit status counts the loss"
	grep -q '"status":"lost","exit":-1,' "$T/json" &&
		grep -q '"error":"task 1: stdout lost: ' "$T/json"
	ok $? "full TMPDIR, --json: status lost, the reason in error"
	# a retry gets another chance, and output that fits is not a loss
	TMPDIR="$T/full" R 'head -c 1000 /dev/zero; : {}' ::: 1 2 | wc -c >"$T/n"
	is "$(cat "$T/n") ${PIPESTATUS[0]}" "2000 0" "full TMPDIR: output that fits in memory is whole, exit 0"
	rm -f "$T/full/fill"
else
	for i in 1 2 3 4 5 6; do skip "full TMPDIR case $i" "cannot mount a tmpfs here (needs root)"; done
fi

# --- output that cannot be kept: TMPDIR missing ---------------------------
TMPDIR=/nonexistent/nicely-test R 'head -c 100000 /dev/zero; : {}' ::: 1 >"$T/out" 2>"$T/err"
is "$?" 1 "missing TMPDIR: a task printing 100 kB fails"
grep -q "task 1: stdout lost: [0-9]* of 100000 bytes not kept (kept the first [0-9]*; spill file in /nonexistent/nicely-test: No such file or directory)" "$T/err"
ok $? "missing TMPDIR: the message names the bytes and the directory"
TMPDIR=/nonexistent/nicely-test R 'echo small {}' ::: 1 >"$T/out" 2>"$T/err"
is "$? $(cat "$T/out")" "0 small 1" "missing TMPDIR: small output is whole, exit 0"

# --- --results that cannot be made or written: nothing starts -------------
: >"$T/afile"
R --results "$T/afile/res" 'echo ran >>"'"$T/ran"'"; : {}' ::: 1 2>"$T/err"
is "$? $([ -e "$T/ran" ] && echo ran)" "255 " "--results under a file: usage error, nothing ran"
grep -q "nicely run: --results: cannot create $T/afile/res: Not a directory" "$T/err"
ok $? "--results under a file: the message names the path"
if small_tmpfs "$T/ro" 64k && mount -o remount,ro "$T/ro"; then
	R --results "$T/ro" 'echo ran >>"'"$T/ran"'"; : {}' ::: 1 2>"$T/err"
	is "$? $([ -e "$T/ran" ] && echo ran)" "255 " "--results on a read-only file system: usage error, nothing ran"
	grep -q "cannot write in $T/ro: Read-only file system" "$T/err"
	ok $? "--results read-only: the message says why"
else
	skip "--results read-only" "cannot mount a tmpfs here (needs root)"
	skip "--results read-only message" "cannot mount a tmpfs here (needs root)"
fi

# --- --results that cannot be written later: the task fails --------------
if small_tmpfs "$T/small" 256k; then
	R --results "$T/small/r" 'head -c {} /dev/zero' ::: 1000 1000000 >/dev/null 2>"$T/err"
	is "$?" 1 "--results full mid-run: the task whose results were cut fails"
	grep -q "task 2: --results: cannot write $T/small/r/1/1000000/stdout: No space left on device" "$T/err"
	ok $? "--results full mid-run: the message names the file"
	is "$(cat "$T/small/r/1/1000/exitval" 2>/dev/null)" 0 "--results full mid-run: the task that fit succeeded"
else
	for i in 1 2 3; do skip "--results full case $i" "cannot mount a tmpfs here (needs root)"; done
fi

# --- modes: files 0600, directories 0700 ---------------------------------
(umask 022; R --results "$T/modes/r" --joblog "$T/modes/jl" 'echo {}' ::: 1 >/dev/null 2>&1)
m=$T/modes/r/1/1
is "$(stat -c %a "$T/modes" "$T/modes/r" "$T/modes/r/1" "$m" "$m/stdout" \
	"$m/stderr" "$m/exitval" "$m/seq" "$T/modes/jl" | tr '\n' ' ')" \
	"700 700 700 700 600 600 600 600 600 " "--results and --joblog: directories 0700, files 0600 under umask 022"

# --- another user's symlinks and directories in a shared place ------------
if [ "$(id -u)" = 0 ] && command -v useradd >/dev/null && command -v runuser >/dev/null; then
	user=nlost$$
	useradd --system --no-create-home --shell /usr/sbin/nologin "$user" ||
		{ echo "Bail out! useradd failed"; exit 1; }
	shared="$T/shared"
	mkdir -m 1777 "$shared"
	echo precious >"$T/victim"
	mkdir "$T/victimdir"
	echo keep >"$T/victimdir/1"
	chmod 755 "$T"
	# the other user plants a symlink named like our joblog
	runuser -u "$user" -- ln -s "$T/victim" "$shared/jl"
	R --joblog "$shared/jl" 'echo {}' ::: 1 >/dev/null 2>"$T/err"
	is "$? $(cat "$T/victim")" "255 precious" "--joblog on another user's symlink: refused, the file it names untouched"
	grep -q "cannot open joblog $shared/jl: it is a symlink (not followed)" "$T/err"
	ok $? "--joblog symlink: the message names it"
	# a regular file the other user left there, world-writable
	runuser -u "$user" -- sh -c "umask 0; echo theirs >'$shared/jl2'"
	R --joblog "$shared/jl2" 'echo {}' ::: 1 >/dev/null 2>"$T/err"
	is "$? $(cat "$shared/jl2")" "255 theirs" "--joblog on another user's file: refused, untouched"
	# --results through their symlink to our directory
	runuser -u "$user" -- ln -s "$T/victimdir" "$shared/res"
	R --results "$shared/res" 'echo ran >>"'"$T/ran"'"; echo {}' ::: 1 >/dev/null 2>"$T/err"
	is "$? $(cat "$T/victimdir/1") $([ -e "$T/ran" ] && echo ran)" "255 keep " "--results through another user's symlink: refused, nothing ran"
	grep -q "$shared/res is a symlink owned by another user" "$T/err"
	ok $? "--results symlink: the message names it"
	# their directory, and a directory open to everyone without sticky bit
	runuser -u "$user" -- mkdir -m 777 "$shared/theirs"
	R --results "$shared/theirs" 'echo {}' ::: 1 >/dev/null 2>"$T/err"
	is "$?" 255 "--results into another user's directory: refused"
	grep -q "$shared/theirs is owned by another user" "$T/err"
	ok $? "--results another user's directory: the message names it"
	mkdir -m 777 "$T/open"
	R --results "$T/open" 'echo {}' ::: 1 >/dev/null 2>"$T/err"
	is "$?" 255 "--results into a world-writable directory without sticky bit: refused"
	grep -q "$T/open is writable by others (mode 0777, no sticky bit)" "$T/err"
	ok $? "--results world-writable: the message says the mode"
	# a sticky shared directory is fine, but not a task directory they made
	mkdir -m 1777 "$shared/1"
	runuser -u "$user" -- mkdir -m 777 "$shared/1/2"
	R --results "$shared" 'echo {}' ::: 1 2 >/dev/null 2>"$T/err"
	is "$? $(cat "$shared/1/1/stdout")" "1 1" "--results in a sticky shared directory: works; their task directory fails that task"
	grep -q "task 2: --results: $shared/1/2 is owned by another user" "$T/err"
	ok $? "--results: another user's task directory named"
	chmod 700 "$T"
else
	for i in $(seq 12); do skip "symlink case $i" "needs root, useradd and runuser"; done
fi

# --- --timeout that would round to nothing --------------------------------
R --timeout 1e-10 'echo {}' ::: 1 >/dev/null 2>"$T/err"
is "$?" 255 "--timeout 1e-10: refused"
grep -q "below the smallest timeout, 0.001 s" "$T/err"
ok $? "--timeout 1e-10: the message gives the smallest"
is "$(R --timeout 0.001 'sleep 2; echo {}' ::: 1 2>/dev/null; echo $?)" 1 "--timeout 0.001: the task is killed"

# --- a long command in a message ------------------------------------------
{ head -c 1000000 /dev/zero | tr '\0' a; echo; } | R echo >/dev/null 2>"$T/err"
is "$?" 1 "1 MB argument: the task fails"
grep -q "^nicely: task 1: cannot run 'echo a*'\.\.\. (1000005 bytes): Argument list too long$" "$T/err" &&
	[ "$(wc -c <"$T/err")" -lt 1000 ] && [ "$(tail -c 1 "$T/err" | od -An -c | tr -d ' ')" = '\n' ]
ok $? "1 MB argument: the message cuts the command with its length, says why, ends in a newline"

no_survivors "lost output"
cleanup
mnts=()
user=
finish
