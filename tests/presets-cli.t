#!/bin/bash
# `nicely presets` and `nicely check-config`: exit codes, output, where
# values come from, every problem as file:line, JSON, and the shipped etc/
# files passing. Config dirs are temp dirs removed at exit.
here=$(cd "$(dirname "$0")" && pwd)
B=${NICELY_BUILD:-$here/../build}
N=$B/nicely
src=$here/..
t=$(mktemp -d /tmp/nicely-presets-cli.XXXXXX)
trap 'rm -rf "$t"' EXIT
export NICELY_SYSCONFDIR=$t/sys XDG_CONFIG_HOME=$t/user
unset NICELY_CONFIG
mkdir -p "$t/sys/nicely/presets.d" "$t/user/nicely"

n=0 fail=0
check() { # check NAME CONDITION...
	local name=$1; shift
	n=$((n + 1))
	if "$@"; then echo "ok $n - $name"; else echo "not ok $n - $name"; fail=$((fail + 1)); fi
}
run() { # run ARGS...: sets out, err, rc
	out=$("$N" "$@" 2>"$t/err"); rc=$?; err=$(cat "$t/err")
}
json_ok() { # valid JSON on stdin
	perl -MJSON::PP -e 'local $/; decode_json(<STDIN>); 1' 2>/dev/null
}

[ -x "$N" ] || { echo "1..0 # SKIP $N not built"; exit 0; }

run presets
check "presets: exit 0" [ "$rc" = 0 ]
check "presets: lists the five built-ins" \
	bash -c '[ $(grep -cE "^(generous|normal|aggressive|extreme|nuclear) " <<<"$0") = 5 ]' "$out"
check "presets: marks normal the default" grep -qE '^normal +\*' <<<"$out"
check "presets: no limits" grep -q '^limits: none' <<<"$out"

out=$(NICELY_CONFIG=/dev/null "$N" presets 2>&1); rc=$?
check "NICELY_CONFIG=/dev/null means no extra config" [ "$rc" = 0 ]
out=$(NICELY_CONFIG=/dev/zero "$N" presets 2>&1); rc=$?
check "NICELY_CONFIG naming another device is an error naming it" \
	bash -c '[ "$1" != 0 ] && grep -q /dev/zero <<<"$0"' "$out" "$rc"

run presets normal
check "presets normal: exit 0" [ "$rc" = 0 ]
check "presets normal: nice 19 built-in" grep -qE '^nice +19 +built-in$' <<<"$out"
check "presets normal: every knob" \
	bash -c '[ $(grep -cE "built-in$" <<<"$0") -ge 18 ]' "$out"

printf '[preset normal]\n; kinder\nnice = 15\n[preset nightly]\nbase = aggressive\n' \
	>"$t/user/nicely/nicely.conf"
run presets normal
check "user file: value and file:line" \
	grep -qE "^nice +15 +$t/user/nicely/nicely.conf:3$" <<<"$out"
run presets
check "user preset listed" grep -qE '^nightly +based on aggressive' <<<"$out"
run presets nightly --json
check "presets NAME --json: an option after the name works" [ "$rc" = 0 ]
check "presets NAME --json: prints JSON" json_ok <<<"$out"
run presets --json nightly
check "presets --json NAME: exit 0" [ "$rc" = 0 ]
check "presets --json NAME: valid JSON" json_ok <<<"$out"
check "presets --json NAME: knob with origin" \
	perl -MJSON::PP -e 'local $/; my $d = decode_json(<STDIN>);
		exit !($d->{knobs}{idle_threshold}{value} eq "50%" &&
		       $d->{knobs}{idle_threshold}{from} eq "built-in")' <<<"$out"
run presets --json
check "presets --json: valid JSON with the default" \
	perl -MJSON::PP -e 'local $/; my $d = decode_json(<STDIN>);
		exit !($d->{default} eq "normal" && @{$d->{presets}} == 6)' <<<"$out"

run presets --knobs
check "presets --knobs: exit 0" [ "$rc" = 0 ]
check "presets --knobs: a knob, what it does, what it accepts, which way is politer" \
	bash -c 'grep -qE "^nice +the workers. nice value$" <<<"$0" &&
		grep -qE "^ +accepts: an integer 0..19; politer: higher$" <<<"$0"' "$out"
check "presets --knobs: every knob nicely presets NAME shows, in its order" \
	bash -c '[ "$(grep -oE "^[a-z_]+" <<<"$0" | tail -n +2)" = \
		"$(sed -n "/^KNOB/,\$p" <<<"$1" | tail -n +2 | grep -oE "^[a-z_]+")" ]' \
	"$out" "$("$N" presets normal)"
run presets --knobs --json
check "presets --knobs --json: the table with each knob's fields" \
	perl -MJSON::PP -e 'local $/; my $d = decode_json(<STDIN>); my @k = @{$d->{knobs}};
		my ($ramp) = grep { $_->{name} eq "ramp_up" } @k;
		exit !(@k == 19 && $k[0]{name} eq "description" &&
		       $ramp->{politer} eq "lower cap" && $ramp->{help} && $ramp->{accepts})' <<<"$out"
run presets --knobs normal
check "presets --knobs NAME: exit 2" [ "$rc" = 2 ]
printf '[preset normal]\nfoo = 1\n' >"$t/bad.conf"
out=$(NICELY_CONFIG=$t/bad.conf "$N" presets --knobs 2>&1); rc=$?
check "presets --knobs: a bad config does not matter (the table is built in)" [ "$rc" = 0 ]

run presets nosuch
check "presets unknown: exit 1" [ "$rc" = 1 ]
check "presets unknown: says so, lists known" grep -q "unknown preset 'nosuch' (known: generous" <<<"$err"
run presets a b
check "presets two names: exit 2" [ "$rc" = 2 ]
run presets --bogus
check "presets bad option: exit 2" [ "$rc" = 2 ]
run presets --help
check "presets --help: exit 0, usage" bash -c '[ "$0" = 0 ] && grep -q "^usage: nicely presets" <<<"$1"' "$rc" "$out"

run check-config
check "check-config: exit 0" [ "$rc" = 0 ]
check "check-config: ok line" grep -q '^ok: 1 file, 6 presets, default preset normal' <<<"$out"

printf '[preset normal]\nnice = 15\nfoo = 1\nmax_pus = 150%%\n[limits]\nmin_nice = 3\n' \
	>"$t/user/nicely/nicely.conf"
run check-config
u=$t/user/nicely/nicely.conf
check "check-config bad: exit 1" [ "$rc" = 1 ]
check "check-config bad: unknown key at file:line" grep -q "^$u:3: unknown key 'foo'" <<<"$out"
check "check-config bad: percent over 100 at file:line" grep -q "^$u:4: .*percent over 100" <<<"$out"
check "check-config bad: [limits] in a user file" grep -q "^$u:5: \[limits\] is honoured only" <<<"$out"
check "check-config bad: counts 3 problems" grep -q '^3 problems' <<<"$out"
run check-config --json
check "check-config --json: exit 1, ok false, 3 problems" \
	bash -c '[ "$0" = 1 ] && perl -MJSON::PP -e '\''local $/; my $d = decode_json(<STDIN>);
		exit !(!$d->{ok} && @{$d->{problems}} == 3 && $d->{problems}[0]{line} == 3)'\'' <<<"$1"' "$rc" "$out"
run presets
check "presets with a bad config: exit 1" [ "$rc" = 1 ]
check "presets with a bad config: file:line on stderr" grep -q "^$u:3: unknown key" <<<"$err"
rm "$u"

printf '[limits]\nmax_preset = aggressive\n' >"$t/sys/nicely/nicely.conf"
printf '[defaults]\npreset = nuclear\n' >"$t/given.conf"
run check-config "$t/given.conf"
check "check-config FILE: exit 0 with a limit warning" \
	bash -c '[ "$0" = 0 ] && grep -q "^warning: preset .nuclear. is more aggressive" <<<"$1"' "$rc" "$out"
check "check-config FILE: reads system files first" \
	bash -c 'grep -q "^read $0/sys/nicely/nicely.conf" <<<"$1" && grep -q "^read $0/given.conf" <<<"$1"' "$t" "$out"
run check-config "$t/missing.conf"
check "check-config missing FILE: exit 1, named" \
	bash -c '[ "$0" = 1 ] && grep -q "^$2/missing.conf: cannot read" <<<"$1"' "$rc" "$out" "$t"
printf '[limits]\nmin_nice = 4\n' >"$t/lim.conf"
run check-config "$t/lim.conf"
check "check-config: [limits] in a non-system FILE is an error" [ "$rc" = 1 ]
run check-config --system "$t/lim.conf"
check "check-config --system: [limits] accepted" [ "$rc" = 0 ]
rm "$t/sys/nicely/nicely.conf"

run check-config --system "$src/etc/nicely.conf" "$src/etc/presets.d/"*.conf
check "shipped etc/ files pass" [ "$rc" = 0 ]
# the example with its comment marks removed must pass too
sed -E 's/^;(\[preset|base|description|idle_threshold|on_return|nice)/\1/' \
	"$src/etc/presets.d/50-example.conf" >"$t/sys/nicely/presets.d/50-example.conf"
sed -E 's/^;(\[limits\]|max_preset|max_pus|min_nice|\[preset normal\]|nice|reserve)/\1/' \
	"$src/etc/nicely.conf" >"$t/sys/nicely/nicely.conf"
run check-config
check "shipped examples, uncommented, pass" [ "$rc" = 0 ]
run presets nightly
check "  the example preset exists" grep -qE '^nice +15 ' <<<"$out"
# the table of built-in values in etc/nicely.conf matches the code
bad=0 cnt=0
for p in generous normal aggressive extreme nuclear; do
	col=$(awk -v p="$p" '/^;   knob +generous/ { for (i = 3; i <= NF; i++) if ($i == p) c = i }
		c && /^;   [a-z_]+ / && $2 != "knob" { print $2 "=" $c }
		/^;   memory_max/ { c = 0 }' "$src/etc/nicely.conf")
	for kv in $col; do
		k=${kv%%=*} v=${kv#*=} cnt=$((cnt + 1))
		NICELY_SYSCONFDIR=$t/none "$N" presets "$p" | grep -qE "^$k +$v +built-in$" ||
			{ echo "# etc/nicely.conf says $p $k = $v"; bad=1; }
	done
done
check "etc/nicely.conf's table of built-in values matches the code ($cnt)" \
	[ "$bad" = 0 -a "$cnt" = 90 ]

echo "1..$n"
exit $((fail > 254 ? 254 : fail))
