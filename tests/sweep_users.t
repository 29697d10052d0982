#!/bin/bash
# tests/lib/sweep-users.sh, which make check and make soak run first:
# it removes a user (with its home) and a group named like a test's whose
# test shell is gone, and keeps a user of another name, a test's user
# whose test still runs and one that has a running process. Every prefix
# the tests give their users is in its list.
case "${NICELY_BUILD:-}" in */asan*)
	echo "1..0 # SKIP no C here: the plain pass runs it"; exit 0 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
sweep=$here/lib/sweep-users.sh
n=0
check() { n=$((n + 1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; printf '# %s\n' "$out"; fi; }

# the guard runs everywhere: each user-name prefix in the tests is listed
. <(grep '^SWEEP_PREFIXES=' -A1 "$sweep" | sed -n '1,/"$/p')
used=$(cd "$here/.." && { sed -n 's/^PREFIX=\([a-z]*\)$/\1/p' tests/*.t
	grep -ho '\buser[a-z]*=[a-z]*\$\$' tests/*.t tests/lib/*.sh scripts/*.sh 2>/dev/null |
		sed 's/^[a-z]*=\([a-z]*\)\$\$$/\1/'; } | sort -u)
missing=
for p in $used; do
	case " $(echo $SWEEP_PREFIXES) " in *" $p "*) ;; *) missing="$missing $p" ;; esac
done
out="used: $(echo $used); not in SWEEP_PREFIXES of tests/lib/sweep-users.sh:$missing"
check "every prefix the tests name users with is swept ($(echo $used | wc -w) prefixes)" '[ -n "$used" ] && [ -z "$missing" ]'

if [ "$(id -u)" != 0 ]; then
	echo "ok 2 # SKIP needs root to make users"; echo "1..2"; exit 0
fi
for c in useradd userdel groupadd runuser; do
	command -v $c >/dev/null || { echo "ok 2 # SKIP no $c"; echo "1..2"; exit 0; }
done
# pids of shells that have ended (as an interrupted test's would have)
dead=$(sh -c 'echo $$')
dead2=$(sh -c 'echo $$')
gone=nicelyk$dead		# a test's user, its test gone: removed
gonegrp=nag${dead}g		# a test's extra group, its test gone: removed
other=nsweep$$x			# another name: kept
live=nicelyk$$			# a test's user whose test runs (this one): kept
busy=nicelyu$dead2		# its test gone but a process of it runs: kept
bpid=
cleanup() {
	[ -n "$bpid" ] && kill -9 "$bpid" 2>/dev/null
	for u in $gone $other $live $busy; do userdel "$u" 2>/dev/null; done
	groupdel "$gonegrp" 2>/dev/null
	rm -rf "/home/$gone"
}
trap cleanup EXIT
mk() { useradd --system --no-create-home --shell /usr/sbin/nologin "$1"; }
if ! { mk "$gone" && mk "$other" && mk "$live" && mk "$busy" && groupadd --system "$gonegrp"; }; then
	echo "Bail out! useradd or groupadd failed"; exit 1
fi
mkdir -m 700 "/home/$gone" && chown "$gone" "/home/$gone" && touch "/home/$gone/f"
setsid runuser -u "$busy" -- sleep 120 </dev/null >/dev/null 2>&1 &
for _ in $(seq 50); do bpid=$(pgrep -u "$busy" sleep) && break; sleep 0.1; done
out=$("$sweep" -n 2>&1)
check "-n says what would go and removes nothing" 'grep -q "would remove user $gone " <<<"$out" && getent passwd "$gone" >/dev/null'
out=$("$sweep" 2>&1); rc=$?
check "the sweep exits 0" '[ $rc = 0 ]'
check "a test's user whose test is gone is removed, and said" '! getent passwd "$gone" >/dev/null && grep -q "removed user $gone (uid [0-9]*, home /home/$gone)" <<<"$out"'
check "... with its home directory" '[ ! -e "/home/$gone" ]'
check "a test's group whose test is gone is removed, and said" '! getent group "$gonegrp" >/dev/null && grep -q "removed group $gonegrp " <<<"$out"'
check "a user of another name is kept, and not named" 'getent passwd "$other" >/dev/null && ! grep -q "$other" <<<"$out"'
check "a test's user whose test still runs is kept, saying so" 'getent passwd "$live" >/dev/null && grep -q "kept $live (its test, pid $$, still runs)" <<<"$out"'
check "a user with a running process is kept, saying so" '[ -n "$bpid" ] && getent passwd "$busy" >/dev/null && grep -q "kept $busy (it has running processes: $bpid" <<<"$out"'
kill -9 "$bpid" 2>/dev/null
for _ in $(seq 50); do pgrep -u "$busy" >/dev/null || break; sleep 0.1; done
bpid=
out=$("$sweep" 2>&1)
check "once its process ended, the next sweep removes it" '! getent passwd "$busy" >/dev/null && grep -q "removed user $busy " <<<"$out"'
echo "1..$n"
