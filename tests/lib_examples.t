#!/bin/bash
# The libnicely examples run and print what they promise: favourite numbers
# 6 4 2 in call order, the map's two chunkings agree, and the prime table
# is loaded once per worker (not per task); the MPIRE-style imap counts the
# primes below 100000 with each number tested once, and prints insights.
build=${NICELY_BUILD:-$(dirname "$0")/../build}
ex=$build/examples
[ -x "$ex/favourite_numbers" ] || { echo "1..0 # SKIP examples not built"; exit 0; }
echo "1..6"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/etc" "$tmp/xdg"
export NICELY_SYSCONFDIR=$tmp/etc XDG_CONFIG_HOME=$tmp/xdg NICELY_CONFIG=

out=$(timeout 60 "$ex/favourite_numbers" 2>&1)
if echo "$out" | grep -q '^returns in call order: 6 4 2$'; then
	echo "ok 1 - favourite numbers: 6 4 2"
else
	echo "not ok 1 - favourite numbers: 6 4 2"; echo "$out" | sed 's/^/# /'
fi
out=$(timeout 120 "$ex/map_chunks" 30000 2>&1)
a=$(echo "$out" | sed -n 's/^chunk 0 *: //p')
b=$(echo "$out" | sed -n 's/^chunk 1000 *: //p')
if [ -n "$a" ] && [ "$a" = "$b" ] && echo "$a" | grep -q '30000 numbers'; then
	echo "ok 2 - map: automatic and fixed chunks agree ($a)"
else
	echo "not ok 2 - map: automatic and fixed chunks agree"; echo "$out" | sed 's/^/# /'
fi
out=$(timeout 120 "$ex/worker_table" 2>&1)
if echo "$out" | grep -q '^295947 primes below 4194304'; then
	echo "ok 3 - worker table: right prime count"
else
	echo "not ok 3 - worker table: right prime count"; echo "$out" | sed 's/^/# /'
fi
loads=$(echo "$out" | grep -c 'table loaded')
if [ "$loads" -ge 1 ] && [ "$loads" -le "$(nproc)" ]; then
	echo "ok 4 - the table was loaded $loads times for 64 tasks"
else
	echo "not ok 4 - the table was loaded $loads times for 64 tasks"
fi
out=$(timeout 120 "$ex/mpire_style" 100000 2>&1)
if echo "$out" | grep -q '^9592 primes below 100000$' &&
   echo "$out" | grep -q '^[0-9]* workers tested 99998 numbers$'; then
	echo "ok 5 - mpire style: 9592 primes, each of the 99998 numbers tested once"
else
	echo "not ok 5 - mpire style: 9592 primes, each number tested once"; echo "$out" | sed 's/^/# /'
fi
if echo "$out" | grep -q '^99998 tasks on [0-9]* workers' && echo "$out" | grep -q 'longest 1: task'; then
	echo "ok 6 - mpire style: insights printed"
else
	echo "not ok 6 - mpire style: insights printed"; echo "$out" | sed 's/^/# /'
fi
