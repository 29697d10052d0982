# The GNU parallel compatibility runner: each case runs the same command
# line with Debian's GNU parallel and with `nicely run` and compares them.
# Source it after tests/lib/run-common.sh (it uses $T, $NICELY, ok, is).
#
#   compat_case NAME STDIN ARGS...
#       runs `parallel --will-cite ARGS` and `$NICELY run ARGS`, each with
#       STDIN on standard input (expanded by printf %b: '\n', '\t' and
#       '\0' work; '' is an empty input), and emits one TAP line for
#       stdout and one for the exit status, with a diff on failure.
#   compat_case_sorted NAME STDIN ARGS...
#       the same, comparing the sorted output (completion-order cases).
#   compat_case_stderr NAME STDIN ARGS...
#       compat_case plus a third line comparing stderr, where the message is
#       part of the behaviour: GNU's "parallel: " prefix is read as
#       nicely's "nicely run: ".
# The commands run in $COMPAT_DIR (a fresh directory, the same for both
# tools, emptied between them), so a case may write files there and show
# them with a trailing command of its own: set COMPAT_AFTER to a shell
# snippet run there after each tool (its output is compared too), and
# COMPAT_BEFORE to one run there before each tool (to seed files).
# GNU parallel runs with HOME in a temp dir (no ~/.parallel of the user's,
# no citation notice), nicely with the nuclear preset by default (a test
# on a loaded machine must not wait for idle CPUs) from a config file, so
# both see the same ARGS. Tasks run in the shell this test runs in: bash.
# Without GNU parallel every case is skipped (scripts/deps.sh check
# installs Debian's package).

COMPAT_HOME="$T/compat-home"
COMPAT_DIR="$T/compat-dir"
COMPAT_AFTER=${COMPAT_AFTER:-}
COMPAT_BEFORE=${COMPAT_BEFORE:-}
mkdir -p "$COMPAT_HOME" "$COMPAT_DIR"
printf '[defaults]\npreset = nuclear\n' >"$T/compat.conf"
compat_have=1
command -v parallel >/dev/null 2>&1 || compat_have=0

# compat_run TOOL STDIN ARGS...: run one tool in a fresh $COMPAT_DIR; its
# stdout (plus COMPAT_AFTER's) in $T/compat.TOOL.out, stderr in .err,
# status in .rc.
compat_run() {
	local tool=$1 in=$2 rc
	shift 2
	rm -rf "$COMPAT_DIR"
	mkdir -p "$COMPAT_DIR"
	(
		cd "$COMPAT_DIR" || exit 125
		[ -z "$COMPAT_BEFORE" ] || eval "$COMPAT_BEFORE" >/dev/null 2>&1
		if [ "$tool" = gnu ]; then
			printf '%b' "$in" | HOME="$COMPAT_HOME" parallel --will-cite "$@"
		else
			printf '%b' "$in" | NICELY_CONFIG="$T/compat.conf" "$NICELY" run "$@"
		fi
	) >"$T/compat.$tool.out" 2>"$T/compat.$tool.err"
	rc=$?
	echo "$rc" >"$T/compat.$tool.rc"
	if [ -n "$COMPAT_AFTER" ]; then
		(cd "$COMPAT_DIR" && eval "$COMPAT_AFTER") >>"$T/compat.$tool.out" 2>&1
	fi
}

# compat_cmp WHAT NAME FILE-SUFFIX [FILTER]: one TAP line comparing the
# two tools' FILE-SUFFIX files (through FILTER), with a diff on failure.
compat_cmp() {
	local what=$1 name=$2 suf=$3 filter=${4:-cat}
	tap_n=$((tap_n + 1))
	$filter <"$T/compat.gnu.$suf" >"$T/compat.want"
	$filter <"$T/compat.nicely.$suf" >"$T/compat.got"
	if cmp -s "$T/compat.want" "$T/compat.got"; then
		echo "ok $tap_n - $name: $what"
	else
		echo "not ok $tap_n - $name: $what"
		diff -u --label parallel --label "nicely run" \
			"$T/compat.want" "$T/compat.got" | head -30 | sed 's/^/#   /'
		tap_fail=$((tap_fail + 1))
	fi
}

compat_stderr_filter() { sed 's/^parallel: /nicely run: /'; }

# compat_do MODE NAME STDIN ARGS...
compat_do() {
	local mode=$1 name=$2 in=$3 n=2
	shift 3
	[ "$mode" = stderr ] && n=3
	if [ "$compat_have" = 0 ]; then
		for _ in $(seq "$n"); do
			skip "$name" "GNU parallel is not installed (scripts/deps.sh check)"
		done
		return
	fi
	compat_run gnu "$in" "$@"
	compat_run nicely "$in" "$@"
	if [ "$mode" = sorted ]; then
		compat_cmp "sorted stdout" "$name" out sort
	else
		compat_cmp stdout "$name" out
	fi
	compat_cmp "exit status" "$name" rc
	[ "$mode" = stderr ] && compat_cmp stderr "$name" err compat_stderr_filter
	return 0
}

compat_case() { compat_do plain "$@"; }
compat_case_sorted() { compat_do sorted "$@"; }
compat_case_stderr() { compat_do stderr "$@"; }
