#!/bin/bash
# Bad input never ends a batch quietly: a directory as -a / :::: / stdin,
# a stdin not open for reading are errors (255, nothing started, when
# known at start; 255 after what ran when met mid-stream); a NUL byte in
# an input line becomes \0 with GNU parallel's warning. Text that is not UTF-8 is escaped, never dropped and never
# a crash: check-config with bytes >= 0x80 in a value, key or section
# (text and --json), `nicely status` of a batch whose command line holds
# such bytes or is 100 KiB long, and run --json of such output (U+FFFD in
# KEY, the exact bytes in KEY_base64), and top --json of a topology file
# so named.
. "$(dirname "$0")/lib/run-common.sh"
killme=""
trap 'for p in $killme; do kill -KILL $p 2>/dev/null; done' EXIT
R() { "$NICELY" run -p nuclear -j1 "$@"; }
# b64 FILE KEY...: the bytes of a JSON document's o[K1][K2]..., as hex
# (from KEY_base64 at the last step when there, else the string's UTF-8)
jhex() {
	python3 -c '
import base64, json, sys
o = json.load(open(sys.argv[1]))
for k in sys.argv[2:-1]:
    o = o[int(k)] if isinstance(o, list) else o[k]
k = sys.argv[-1]
if k + "_base64" in o: print(base64.b64decode(o[k + "_base64"]).hex())
else: print(o[k].encode().hex())' "$@"
}

# --- input --------------------------------------------------------------
# a NUL byte in a line: GNU parallel's \0 in its place and its warning
printf 'a\nb\0c\nd\n' | R 'echo $$ >>"$PIDS"; echo {}' >"$T/out" 2>"$T/err"
is "$?" 0 "a NUL byte in a stdin line: the batch runs (exit 0)"
is "$(echo $(cat "$T/out"))" 'a b\0c d' "... the NUL written \\0, as GNU parallel"
grep -q "Warning: A NUL character in the input was replaced with \\\\0" "$T/err"
ok $? "... with GNU's warning ($(head -1 "$T/err"))"
printf 'a\nb\0c\nd\n' >"$T/nul.txt"
R -a "$T/nul.txt" 'echo $$ >>"$PIDS"; echo {}' >"$T/out" 2>"$T/err"
is "$?" 0 "-a FILE with a NUL byte: exit 0"
is "$(echo $(cat "$T/out"))" 'a b\0c d' "... all ran, the NUL written \\0"
grep -q "NUL cannot be passed through in the argument list" "$T/err"
ok $? "... warning ($(tail -1 "$T/err"))"
mkdir "$T/dir"
R -a "$T/dir" 'echo $$ >>"$PIDS"; echo {}' >"$T/out" 2>"$T/err"
is "$?:$(cat "$T/out")" "255:" "-a DIR: exit 255, nothing started"
grep -q "$T/dir is a directory" "$T/err"; ok $? "... saying so ($(cat "$T/err"))"
R 'echo $$ >>"$PIDS"; echo {}' :::: "$T/dir" >"$T/out" 2>"$T/err"
is "$?:$(cat "$T/out")" "255:" ":::: DIR: exit 255, nothing started"
R 'echo $$ >>"$PIDS"; echo {}' ::: x :::: "$T/dir" >"$T/out" 2>"$T/err"
is "$?:$(cat "$T/out")" "255:" "::: x :::: DIR: exit 255, nothing started"
R 'echo $$ >>"$PIDS"; echo {}' <"$T/dir" >"$T/out" 2>"$T/err"
is "$?:$(cat "$T/out")" "255:" "a directory on stdin: exit 255, nothing started"
grep -q "standard input is a directory" "$T/err"; ok $? "... saying so"
R 'echo $$ >>"$PIDS"; echo {}' 0<&- >"$T/out" 2>"$T/err"
is "$?:$(cat "$T/out")" "255:" "stdin closed: exit 255, nothing started"
grep -q "standard input is not open for reading" "$T/err"; ok $? "... saying so ($(cat "$T/err"))"
R 'echo $$ >>"$PIDS"; echo {}' 0>"$T/wo" >"$T/out" 2>"$T/err"
is "$?:$(cat "$T/out")" "255:" "stdin write-only: exit 255, nothing started"
printf 'a\nb\n' | R 'echo $$ >>"$PIDS"; echo {}' >"$T/out" 2>"$T/err"
is "$?:$(tr '\n' ' ' <"$T/out")" "0:a b " "plain stdin still reads to its end, exit 0"
R 'echo $$ >>"$PIDS"; echo {}' ::: x 0<&- >"$T/out" 2>"$T/err"
is "$?:$(cat "$T/out")" "0:x" "::: values with stdin closed are fine"

# --- check-config with bytes >= 0x80 --------------------------------------
printf '[preset normal]\nnice = \377\n' >"$T/v.conf"
"$NICELY" check-config "$T/v.conf" >"$T/out" 2>&1
is "$?" 1 "check-config, 0xFF in a value: exit 1 (was a crash)"
grep -qF "$T/v.conf:2: bad value '\\xFF' for nice" "$T/out"
ok $? "... the problem with the byte as \\xFF ($(head -1 "$T/out"))"
printf '[preset normal]\nni\377ce = 3\n' >"$T/k.conf"
"$NICELY" check-config "$T/k.conf" >"$T/out" 2>&1
is "$?" 1 "check-config, 0xFF in a key: exit 1"
grep -qF "unknown key 'ni\\xFFce'" "$T/out"; ok $? "... named with \\xFF"
printf '[preset n\351]\nnice = 3\n' >"$T/s.conf"
"$NICELY" check-config "$T/s.conf" >"$T/out" 2>&1
is "$?" 1 "check-config, 0xE9 in a section name: exit 1"
grep -qF "$T/s.conf:1: bad preset name 'n\\xE9'" "$T/out"; ok $? "... named with \\xE9"
"$NICELY" check-config --json "$T/v.conf" >"$T/j" 2>"$T/err"
is "$?" 1 "check-config --json, 0xFF in a value: exit 1"
is "$(python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); print(o["ok"], len(o["problems"]), o["problems"][0]["line"], "\ufffd" in o["problems"][0]["message"])' "$T/j")" \
	"False 1 2 True" "... ok false, one problem at line 2, U+FFFD in message"
jhex "$T/j" problems 0 message | grep -q "27ff27"
ok $? "... message_base64 holds the byte itself ('\\xff')"
"$NICELY" check-config --json "$T/s.conf" >"$T/j" 2>"$T/err"
is "$?:$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ok"])' "$T/j")" "1:False" \
	"check-config --json, 0xE9 in a section: ok false"

# --- status: a command line with 0xFF, and one of 100 KiB -----------------
"$NICELY" run -j1 'echo $$ >>"$PIDS"; sleep 60; : {}' ::: "$(printf 'x\377y')" >/dev/null 2>&1 &
p1=$!
killme="$killme $p1"
big=$(head -c 102400 /dev/zero | tr '\0' a)
"$NICELY" run -j1 'echo $$ >>"$PIDS"; sleep 60; : '"$big" ::: 1 >/dev/null 2>&1 &
p2=$!
killme="$killme $p2"
for i in $(seq 100); do
	[ -S "$NICELY_RUNTIME_DIR/run-$p1.sock" ] && [ -S "$NICELY_RUNTIME_DIR/run-$p2.sock" ] &&
		[ "$(sort -u "$PIDS" | wc -l)" -ge 2 ] && break
	sleep 0.1
done
"$NICELY" status >"$T/out" 2>"$T/err"
is "$?" 0 "status with both batches: exit 0"
grep -q "^$p1 .* x\\\\xFFy$" "$T/out"; ok $? "... lists the 0xFF batch, the byte as \\xFF"
grep -q "^$p2 .*aaaa \[cut\]$" "$T/out"; ok $? "... lists the 100 KiB batch, marked cut"
is "$(cat "$T/err")" "" "... and says nothing on stderr"
"$NICELY" status "$p1" >"$T/out" 2>"$T/err"
is "$?" 0 "status PID of the 0xFF batch: exit 0"
grep -q "^pid: *$p1$" "$T/out"; ok $? "... its pid (was -1)"
grep -q "^command: .*::: x\\\\xFFy$" "$T/out"; ok $? "... its command with \\xFF"
"$NICELY" status --json "$p1" >"$T/j"
jhex "$T/j" command | grep -q "$(printf '::: x\377y' | od -An -tx1 | tr -d ' \n')$"
ok $? "status --json: command_base64 is the exact command line"
"$NICELY" status "$p2" >"$T/out" 2>"$T/err"
is "$?" 0 "status PID of the 100 KiB batch: exit 0 (was: answer is not JSON)"
grep -q "^pid: *$p2$" "$T/out"; ok $? "... its pid"
grep -q "^command: *nicely run .*aaaa \[cut: longer than 4096 bytes\]$" "$T/out"
ok $? "... its command cut, saying so"
"$NICELY" status --json "$p2" >"$T/j"
is "$(python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); print(o["command_cut"], len(o["command"]) <= 4096)' "$T/j")" \
	"True True" "status --json: command_cut true, at most 4096 bytes"
"$NICELY" kill "$p1" >/dev/null 2>&1
"$NICELY" kill "$p2" >/dev/null 2>&1
wait "$p1" "$p2" 2>/dev/null
no_survivors "status batches"

# --- run --json with output that is not UTF-8 -----------------------------
R --json 'echo $$ >>"$PIDS"; printf "caf\351 \303\251\n"; printf "\377" >&2; : {}' ::: "$(printf 'v\376')" ok >"$T/j" 2>"$T/err"
is "$?" 0 "run --json with such output: exit 0"
head -1 "$T/j" >"$T/j1"
is "$(jhex "$T/j1" stdout)" "$(printf 'caf\351 \303\251\n' | od -An -tx1 | tr -d ' \n')" \
	"stdout_base64 holds the exact bytes"
is "$(python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); print(ascii(o["stdout"]), ascii(o["stderr"]), ascii(o["values"]), o["values_base64"], "command_base64" in o)' "$T/j1")" \
	"'caf\\ufffd \\xe9\\n' '\\ufffd' ['v\\ufffd'] ['dv4='] True" \
	"stdout, stderr, values: U+FFFD in the text, the bytes in _base64 (not a Latin-1 reading)"
is "$(jhex "$T/j1" stderr)" "ff" "stderr_base64 is the byte"
sed -n 2p "$T/j" >"$T/j2"
is "$(python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); print(sorted(k for k in o if k.endswith("_base64")))' "$T/j2")" \
	"['stderr_base64', 'stdout_base64']" "a valid value and command get no twin"
head -c 300000 /dev/urandom >"$T/rand"
R --json 'echo $$ >>"$PIDS"; cat {}' ::: "$T/rand" >"$T/j" 2>"$T/err"
is "$(jhex "$T/j" stdout)" "$(od -An -tx1 -v "$T/rand" | tr -d ' \n')" \
	"300 KB of random bytes (spilled to a file) come back exactly"
no_survivors "run --json"

# --- top --json: a topology file whose name is not UTF-8 -------------------
xml=$(ls "$(dirname "$0")"/fixtures/topology/*.xml | head -1)
cp "$xml" "$T/t$(printf '\377').xml"
"$NICELY" top --once --json --topology "xml:$T/t$(printf '\377').xml" >"$T/j" 2>"$T/err"
is "$?" 0 "top --json with a file name holding 0xFF: exit 0"
is "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["topology"]["source"])' "$T/j" >/dev/null 2>&1; echo $?):$(jhex "$T/j" topology source)" \
	"0:$(printf "xml:$T/t\377.xml" | od -An -tx1 | tr -d ' \n')" "... topology.source_base64 names it exactly (it was dropped)"
finish
