#!/bin/bash
# The man pages against the code: every command and option the built
# `nicely` prints in its --help is described under that command in nicely(1)
# (and nothing there is gone from the code); every environment variable the
# sources read is in nicely(1); every key the config parser accepts, in every
# section, is described in nicely.conf(5), whose table of built-in presets
# matches `nicely presets NAME --json` and whose knobs and max_preset's
# directions match the knob table (`nicely presets --knobs`); every function include/nicely.h
# exports is in libnicely(3), whose example compiles and runs; and all three
# pages render without a groff warning. Prints TAP.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
B=${NICELY_BUILD:-$top/build}
NICELY=$B/nicely
MAN1=$top/man/nicely.1 MAN5=$top/man/nicely.conf.5 MAN3=$top/man/libnicely.3
n=0 failed=0
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# Report one TAP result: $1 is 0 for success, $2 the description.
ok() { n=$((n+1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed+1)); fi; }
# Print the arguments as a TAP diagnostic.
diag() { printf '%s\n' "$*" | sed 's/^/# /'; }
# Stop the whole test with a reason.
bail() { echo "Bail out! $*"; exit 1; }

[ -x "$NICELY" ] || bail "no $NICELY (build first, or set NICELY_BUILD)"
for f in "$MAN1" "$MAN5" "$MAN3"; do [ -f "$f" ] || bail "missing $f"; done
# nicely sees only an empty configuration: no /etc/nicely, no user file.
mkdir -p "$T/etc" "$T/home"
export NICELY_SYSCONFDIR=$T/etc HOME=$T/home
unset NICELY_CONFIG XDG_CONFIG_HOME

# The roff source of one section of a page: lines after the heading that
# matches $2 (a fixed string, e.g. '.SS "nicely run"') up to the next
# heading of the same or a higher level.
section() {
	awk -v h="$2" '
		$0 == h { on = 1; lvl = substr(h, 1, 3); next }
		on && /^\.SH/ { exit }
		on && lvl == ".SS" && /^\.SS/ { exit }
		on { print }' "$1"
}
# The option words (--long and -s) in text on stdin, one per line.
options_in_help() { grep -oE -- '(^|[][ ,|(])--?[A-Za-z][-A-Za-z]*' | sed 's/^[][ ,|(]*//' | sort -u; }
# The same from roff source, where a dash is written \-.
options_in_roff() { sed 's/\\-/-/g' | options_in_help; }
# The options roff source on stdin describes: those in .TP/.TQ item tags.
options_in_items() { awk 'prev == ".TP" || prev == ".TQ" { print } { prev = $1 }' | options_in_roff; }

# --- groff ---------------------------------------------------------------
for f in "$MAN1" "$MAN5" "$MAN3"; do
	w=$(groff -t -man -ww -z "$f" 2>&1; LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -l "$f" 2>&1 >/dev/null)
	[ -z "$w" ]; ok $? "$(basename "$f") renders without warnings"
	[ -z "$w" ] || diag "$w"
done

# --- nicely(1): commands and options -------------------------------------
commands=$("$NICELY" --help | awk '/^commands:/ { c = 1; next } c && /^  [a-z]/ { print $1 }')
[ -n "$commands" ]; ok $? "nicely --help lists commands ($(echo $commands))"
[ -n "$commands" ] || bail "no command list in 'nicely --help' output; the test cannot check anything"

# the global options
help=$("$NICELY" --help)
opts=$(printf '%s\n' "$help" | options_in_help; echo --version)
doc=$(section "$MAN1" ".SH OPTIONS" | options_in_roff)
missing=$(comm -23 <(printf '%s\n' "$opts" | sort -u) <(printf '%s\n' "$doc"))
[ -z "$missing" ]; ok $? "nicely(1) OPTIONS has the global options${missing:+ (missing: $(echo $missing))}"
"$NICELY" --version | grep -qx "nicely $(sed -n 's/^\.TH NICELY 1 [^ ]* "nicely \([^"]*\)".*/\1/p' "$MAN1")"
ok $? "nicely(1) names the version nicely --version prints"

for c in $commands; do
	heading=".SS \"nicely ${c//-/\\-}\""
	sec=$(section "$MAN1" "$heading")
	[ -n "$sec" ]; ok $? "nicely(1) has a section $heading"
	help=$("$NICELY" "$c" --help 2>&1)
	opts=$(printf '%s\n' "$help" | options_in_help)
	[ -n "$opts" ]; ok $? "nicely $c --help prints its options"
	doc=$(printf '%s\n' "$sec" | options_in_roff)
	missing=$(comm -23 <(printf '%s\n' "$opts") <(printf '%s\n' "$doc"))
	[ -z "$missing" ]; ok $? "every option of nicely $c is in its nicely(1) section${missing:+ (missing: $(echo $missing))}"
	gone=$(comm -13 <(printf '%s\n' "$opts") <(printf '%s\n' "$sec" | options_in_items))
	[ -z "$gone" ]; ok $? "every option nicely(1) gives nicely $c exists${gone:+ (not in --help: $(echo $gone))}"
done
# and no section for a command that does not exist
for h in $(grep -E '^\.SS "nicely [a-z\\-]+"$' "$MAN1" | sed 's/^\.SS "nicely \(.*\)"$/\1/; s/\\-/-/g'); do
	printf '%s\n' $commands | grep -qx -- "$h"; ok $? "nicely(1) section 'nicely $h' is a real command"
done

# every environment variable the sources read
envs=$(cd "$top" && ls agent/*.c policy/*.c sched/*.c sched/*/*.c | grep -v '^sched/agentd/' | xargs cat 2>/dev/null | grep -oE 'getenv\("[A-Z_]+"\)' | sed 's/getenv("\(.*\)")/\1/' | sort -u)
[ -n "$envs" ]; ok $? "the sources read environment variables ($(echo $envs))"
doc=$(section "$MAN1" ".SH ENVIRONMENT" | awk 'prev == ".TP" { print $2 } { prev = $1 }' | sort -u)
missing=$(comm -23 <(printf '%s\n' "$envs") <(printf '%s\n' "$doc"))
[ -z "$missing" ]; ok $? "nicely(1) ENVIRONMENT describes each of them${missing:+ (missing: $(echo $missing))}"
# and the agent's (sched/agentd/) in nicely-agent(8)
MAN8=$top/man/nicely-agent.8
aenvs=$(cd "$top" && cat sched/agentd/*.c 2>/dev/null | grep -oE 'getenv\("[A-Z_]+"\)' | sed 's/getenv("\(.*\)")/\1/' | sort -u)
adoc=$(section "$MAN8" ".SH ENVIRONMENT" | awk 'prev == ".TP" || prev == ".TQ" { print $2 } { prev = $1 }' | sort -u)
missing=$(comm -23 <(printf '%s\n' "$aenvs") <(printf '%s\n' "$adoc"))
[ -n "$aenvs" ] && [ -z "$missing" ]; ok $? "nicely-agent(8) ENVIRONMENT describes what the agent reads${missing:+ (missing: $(echo $missing))}"

# --- nicely.conf(5): keys, sections, built-in presets --------------------
# The parser names what it accepts when it meets an unknown key: ask it,
# in a system file (where every section is allowed).
mkdir -p "$T/etc/nicely"
cat >"$T/etc/nicely/nicely.conf" <<'EOF'
nicely_no_such_key = 1
[defaults]
nicely_no_such_key = 1
[limits]
nicely_no_such_key = 1
[agent]
nicely_no_such_key = 1
[preset manpages]
nicely_no_such_key = 1
EOF
"$NICELY" check-config >"$T/keys.out" 2>&1
rc=$?
[ $rc != 0 ]; ok $? "check-config rejects unknown keys (exit $rc)"
rm -f "$T/etc/nicely/nicely.conf"
sections=$(sed -n 's/.*(accepted sections: \(.*\)).*/\1/p' "$T/keys.out" | tr ',' '\n' | sed 's/^ *//')
[ -n "$sections" ]; ok $? "the parser names its sections ($(echo $sections))"
[ -n "$sections" ] || diag "$(cat "$T/keys.out")"
# the item names (the word after .B/.BI/.BR on the line after .TP or .TQ)
items=$(awk '(prev == ".TP" || prev == ".TQ") && /^\.B[IR]? / { print $2 } { prev = $1 }' "$MAN5" | tr -d '"' | sort -u)
while IFS= read -r s; do
	[ -n "$s" ] || continue
	grep -qxF ".SS $s" "$MAN5" || grep -qxF ".SS \"$s\"" "$MAN5"
	ok $? "nicely.conf(5) has a section $s"
	name=${s#[}; name=${name%%[] ]*}
	keys=$(grep -F "in [$name" "$T/keys.out" | sed -n 's/.*(accepted: \(.*\))$/\1/p' | head -1 | tr ',' '\n' | sed 's/^ *//')
	[ -n "$keys" ]; ok $? "the parser names the keys of [$name] ($(echo $keys | wc -w) keys)"
	missing=$(comm -23 <(printf '%s\n' "$keys" | sort -u) <(printf '%s\n' "$items"))
	[ -z "$missing" ]; ok $? "nicely.conf(5) describes every key of [$name]${missing:+ (missing: $(echo $missing))}"
	[ "$name" = preset ] && preset_keys=$keys
done <<<"$sections"

# the built-in presets' knobs: the table's header row names the presets
builtins=$("$NICELY" presets --json | perl -MJSON::PP -0777 -ne 'print "$_->{name}\n" for @{decode_json($_)->{presets}}')
[ -n "$builtins" ]; ok $? "nicely presets lists the built-in presets ($(echo $builtins))"
table=$(awk '/^\.TS/ { on = 1; next } /^\.TE/ { on = 0 } on' "$MAN5" | sed 's/\\-/-/g; s/\\&//g' | grep -v -e '^_$' -e '\.$')
header=$(printf '%s\n' "$table" | head -1)
[ "$header" = "knob	$(echo $builtins | tr ' ' '\t')" ]
ok $? "nicely.conf(5)'s preset table has a column for each built-in preset, in order"
for p in $builtins; do
	grep -qx "\.B $p" "$MAN5"; ok $? "nicely.conf(5) describes preset $p"
	"$NICELY" presets --json "$p" | perl -MJSON::PP -0777 -ne '
		my $k = decode_json($_)->{knobs};
		print "$_\t$k->{$_}{value}\n" for grep { $_ ne "description" } sort keys %$k' >"$T/$p.knobs"
done
first=$(echo $builtins | cut -d' ' -f1)
knobs=$(cut -f1 "$T/$first.knobs")
[ -n "$knobs" ]; ok $? "nicely presets $first --json gives its knobs ($(echo $knobs | wc -w))"
rows=$(printf '%s\n' "$table" | tail -n +2 | cut -f1 | sort)
[ "$rows" = "$(printf '%s\n' "$knobs" | sort)" ]
rc=$?; ok $rc "the preset table has one row per knob"
[ $rc = 0 ] || diag "rows: $(echo $rows)" "knobs: $(echo $knobs)"
bad=""
col=2
for p in $builtins; do
	want=$(sort "$T/$p.knobs")
	have=$(printf '%s\n' "$table" | tail -n +2 | cut -f1,$col | sort)
	[ "$want" = "$have" ] || bad="$bad $p"
	[ "$want" = "$have" ] || diag "$p:" "$(diff <(echo "$want") <(echo "$have"))"
	col=$((col+1))
done
[ -z "$bad" ]; ok $? "the preset table's values are the built-in ones${bad:+ (differ:$bad)}"
# the knob names of presets --json are the keys [preset] accepts, less base
[ "$(printf '%s\n' "$knobs" description | sort)" = "$(printf '%s\n' "${preset_keys:-}" | grep -vx base | sort)" ]
ok $? "the parser's [preset] keys are exactly the knobs nicely presets shows, and base"

# the knob table (policy/presets.c, listed by nicely presets --knobs) against
# the page: each knob described, nothing described that is not a knob, and
# [limits] max_preset's account of which way each knob is clamped
"$NICELY" presets --knobs --json >"$T/knobs.json"
ok $? "nicely presets --knobs --json"
perl -MJSON::PP -0777 -ne 'print "$_->{name}\t$_->{politer}\n" for @{decode_json($_)->{knobs}}' \
	"$T/knobs.json" >"$T/knobs.tsv"
table_knobs=$(cut -f1 "$T/knobs.tsv")
[ "$(printf '%s\n' "$table_knobs" | sort)" = "$(printf '%s\n' "$knobs" description | sort)" ]
ok $? "the knob table has the knobs nicely presets NAME shows ($(echo $table_knobs | wc -w))"
knob_items=$(section "$MAN5" ".SH KNOBS" | awk '(prev == ".TP" || prev == ".TQ") && /^\.B[IR]? / { print $2 } { prev = $1 }' | tr -d '"' | sort -u)
preset_items=$(section "$MAN5" '.SS "[preset NAME]"' | awk '(prev == ".TP" || prev == ".TQ") && /^\.B[IR]? / { print $2 } { prev = $1 }' | tr -d '"' | sort -u)
missing=$(comm -23 <(printf '%s\n' "$table_knobs" | sort) <(printf '%s\n' "$knob_items" "$preset_items" | sort -u))
[ -z "$missing" ]; ok $? "nicely.conf(5) describes every knob of the table${missing:+ (missing: $(echo $missing))}"
gone=$(comm -13 <(printf '%s\n' "$table_knobs" | sort) <(printf '%s\n' "$knob_items"))
[ -z "$gone" ]; ok $? "every knob nicely.conf(5) describes is in the table${gone:+ (not knobs: $(echo $gone))}"
# max_preset's paragraph as plain text, without its parentheses, cut at
# "no higher", "no lower", "no bolder" and "are free"
section "$MAN5" ".SS [limits]" | awk '/^\.BI max_preset/ { on = 1; next } on && /^\.(TP|PP)/ { exit } on' |
	sed -E 's/^\.(B|I|BR|IR|RB|RI|BI|IB) //; s/" "//g; s/"//g; s/\\-/-/g' | tr '\n' ' ' |
	sed -E 's/ ([,.;:)])/\1/g; s/\([^)]*\)//g' >"$T/max_preset.txt"
bad=$(perl -e '
	my %pol = map { chomp; split /\t/ } do { open my $f, "<", $ARGV[0] or die; <$f> };
	local $/; open my $t, "<", $ARGV[1] or die; my $text = <$t>;
	my (%said, @bad);
	while ($text =~ /(.*?)\b(no higher|no lower|no bolder|are free)\b/gs) {
		my ($part, $how) = ($1, $2);
		for my $w ($part =~ /([a-z_]+)/g) {
			next unless exists $pol{$w};
			$said{$w} = exists $said{$w} && $said{$w} ne $how ? "both $said{$w} and $how" : $how;
		}
	}
	for my $k (sort keys %pol) {
		next if $k eq "description";
		my ($p, $s) = ($pol{$k}, $said{$k} // "nothing");
		push @bad, "$k ($p): $s" unless
			($s eq "are free" && $p eq "free") ||
			($s eq "no higher" && $p =~ /^lower/) ||
			($s eq "no lower" && $p eq "higher") ||
			($s eq "no bolder" && $p ne "free");
	}
	print join(", ", @bad);' "$T/knobs.tsv" "$T/max_preset.txt")
[ -z "$bad" ]; ok $? "nicely.conf(5)'s max_preset says which way each knob is clamped, as the table does${bad:+ (differ: $bad)}"

# --- libnicely(3) ----------------------------------------------------------
funcs=$(perl -0777 -ne 'print "$1\n" while /NICELY_EXTERN\b[^;(]*?\b(nicely_\w+)\s*\(/g' "$top/include/nicely.h" 2>/dev/null | sort -u)
[ -n "$funcs" ]; ok $? "include/nicely.h exports functions ($(echo $funcs | wc -w))"
syn=$(section "$MAN3" ".SH SYNOPSIS")
desc=$(section "$MAN3" ".SH DESCRIPTION")
missing="" undescribed=""
for f in $funcs; do
	printf '%s\n' "$syn" | grep -qE "(^|[ *\"])$f\(" || missing="$missing $f"
	printf '%s\n' "$desc" | grep -qE "^\.BR $f \(\)" || undescribed="$undescribed $f"
done
[ -z "$missing" ]; ok $? "libnicely(3) SYNOPSIS has every exported function${missing:+ (missing:$missing)}"
[ -z "$undescribed" ]; ok $? "libnicely(3) describes every exported function${undescribed:+ (missing:$undescribed)}"
extra=$(printf '%s\n' "$syn" | grep -oE 'nicely_[a-z_]+\(' | tr -d '(' | sort -u | comm -23 - <(printf '%s\n' "$funcs"))
[ -z "$extra" ]; ok $? "every function libnicely(3) SYNOPSIS shows exists${extra:+ (not exported: $(echo $extra))}"
# the names the header's comments and the page use exist: every nicely_x()
# is an exported function; every NICELY_X of the page is a constant of
# nicely.h (a #define, an enum member, a NICELY_ERRNO_MAP row) or an
# environment variable the sources read
called=$( { grep -oE 'nicely_[a-z_]+\(\)' "$top/include/nicely.h"
	    sed -n 's/^\.BR* \(nicely_[a-z_]*\) ().*/\1()/p' "$MAN3"; } | tr -d '()' | sort -u)
unknown=$(comm -23 <(printf '%s\n' "$called") <(printf '%s\n' "$funcs"))
[ -z "$unknown" ]; ok $? "every nicely_*() that nicely.h and libnicely(3) name exists${unknown:+ (not exported: $(echo $unknown))}"
consts=$( { perl -0777 -ne 'print "$1\n" while /^#define (NICELY_\w+)/mg;
		print "$1\n" while /^\s+(NICELY_\w+)\s*[=,]/mg;
		print "NICELY_$1\n" while /^\s*X\((\w+),/mg' "$top/include/nicely.h"
	    grep -rhoE 'getenv\("NICELY_[A-Z0-9_]+"' "$top/agent" "$top/policy" "$top/sched" |
		grep -oE 'NICELY_[A-Z0-9_]+'; } | sort -u)
used=$(grep -oE 'NICELY_[A-Z0-9_]+\*?' "$MAN3" | grep -v '\*$' | sort -u)
unknown=$(comm -23 <(printf '%s\n' "$used") <(printf '%s\n' "$consts"))
[ -z "$unknown" ]; ok $? "every NICELY_* libnicely(3) names is in nicely.h or read from the environment${unknown:+ (unknown: $(echo $unknown))}"

# the example: extract, compile against the built library, run
section "$MAN3" ".SH EXAMPLES" | awk '/^\.EX/ { on = 1; next } /^\.EE/ { if (on) exit } on' |
	sed 's/\\e/\\/g; s/\\-/-/g; s/\\&//g' >"$T/example.c"
grep -q 'int main' "$T/example.c"; ok $? "libnicely(3) has an example program"
san=""
nm -D "$B/libnicely.so" 2>/dev/null | grep -q __asan_ && san="-fsanitize=address,undefined"
# shellcheck disable=SC2086
cc -std=gnu11 -Wall -Wextra -Werror $san -I"$top/include" -o "$T/example" "$T/example.c" \
	-L"$B" -lnicely 2>"$T/cc.log"
rc=$?; ok $rc "the example compiles without warnings against the shared library"
[ $rc = 0 ] || diag "$(cat "$T/cc.log")"
out=$(LD_LIBRARY_PATH=$B timeout 60 "$T/example" 2>&1)
[ "$out" = $'task 0 returned 6\ntask 1 returned 4\ntask 2 returned 2' ]
ok $? "the example prints its results in call order"
[ "$out" = $'task 0 returned 6\ntask 1 returned 4\ntask 2 returned 2' ] || diag "$out"

echo "1..$n"
[ $failed = 0 ]
