#!/bin/bash
# make fresh-check: what a new machine sees. Bootstraps a clean Debian 12
# root (debootstrap --variant=minbase, plus make), copies the tree into it
# (the tracked and new, not ignored, files as they are in the work tree),
# mounts what the tests need (proc, sys with the cgroup hierarchies, dev,
# /run as a tmpfs) and runs the README's two commands there as root:
# `make demo`, then `make check`. Then it unmounts everything and removes
# the root, whether the commands passed or not. Run as root on Debian; takes
# about half an hour on 2 cores. Not part of `make check`.
#
# The mounts live in a private mount namespace (unshare), so none can
# outlive the run even when it is killed. The packages debootstrap fetches
# are kept in build/fresh/bookworm-minbase.tgz for the next run (delete it
# to fetch them again). The mirror is the one this machine's apt uses.
# FRESH_CMD replaces the two commands (e.g. FRESH_CMD='make demo' for a
# quick look); FRESH_KEEP=1 keeps the root after the run (unmounted).
set -u
# one compound command: bash reads it whole before running it, so editing
# this file while a run goes on cannot change what that run does
{
top=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "fresh-check: needs root (debootstrap, chroot, mounts)" >&2; exit 1; }

# Inside the private mount namespace (the script runs itself again there).
if [ "${NICELY_FRESH_NS:-}" != 1 ]; then
	"$top/scripts/deps.sh" fresh || exit 1
	command -v unshare >/dev/null || { echo "fresh-check: needs unshare (util-linux)" >&2; exit 1; }
	NICELY_FRESH_NS=1 exec unshare --mount --propagation private "$0" "$@"
fi

# The Debian mirror of this machine's apt sources (deb822 or one-line).
mirror() {
	local f u
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		u=$(awk '/^URIs:/ {for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) {print $i; exit}}' "$f")
		[ -n "$u" ] && { echo "$u"; return; }
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		u=$(awk '$1 == "deb" && $3 == "bookworm" {for (i = 2; i <= NF; i++) if ($i ~ /^(https?|file):/) {print $i; exit}}' "$f")
		[ -n "$u" ] && { echo "$u"; return; }
	done
	echo http://deb.debian.org/debian
}

suite=bookworm
cache=$top/build/fresh/$suite-minbase.tgz
log=$top/build/fresh/fresh-check.log
mkdir -p "$top/build/fresh"
root=$(mktemp -d "$top/build/fresh/root.XXXXXX")
chmod 755 "$root"	# its / : the tests' throwaway users must get in
mounts=()
t_start=$(date +%s)

# Stop what still runs in the root, unmount in reverse order, remove it.
cleanup() {
	local p i left
	trap - EXIT INT TERM HUP
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && kill -KILL "${p#/proc/}" 2>/dev/null
	done
	for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
		umount -R "${mounts[i]}" 2>/dev/null || umount -R -l "${mounts[i]}" 2>/dev/null
	done
	left=$(awk -v r="$root/" 'index($5, r) == 1 {print $5}' /proc/self/mountinfo)
	if [ -n "$left" ]; then
		echo "fresh-check: still mounted, $root not removed:" $left >&2
	elif [ -n "${FRESH_KEEP:-}" ]; then
		echo "fresh-check: kept $root" >&2
	else
		rm -rf --one-file-system "$root"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# mnt ARGS... DIR: mount, and remember DIR for the cleanup
mnt() {
	mount "$@" || { echo "fresh-check: mount $* failed" >&2; exit 1; }
	mounts+=("${!#}")
}

say() { echo "fresh-check: $*" | tee -a "$log" >&2; }
: >"$log"
m=$(mirror)
if [ ! -s "$cache" ]; then
	say "fetching Debian 12 minbase from $m into ${cache#"$top"/}"
	debootstrap --variant=minbase --include=make --make-tarball="$cache.tmp" \
		"$suite" "$root/tarball" "$m" >>"$log" 2>&1 &&
		mv "$cache.tmp" "$cache" ||
		{ rm -f "$cache.tmp"; say "debootstrap --make-tarball failed (see ${log#"$top"/})"; exit 1; }
	rm -rf "$root/tarball"
fi
t0=$(date +%s)
say "bootstrapping a clean root in ${root#"$top"/}"
debootstrap --variant=minbase --include=make --unpack-tarball="$cache" \
	"$suite" "$root" "$m" >>"$log" 2>&1 ||
	{ say "debootstrap failed (see ${log#"$top"/})"; exit 1; }
say "bootstrapped in $(($(date +%s) - t0)) s"

# the tree: tracked and new files as they are in the work tree
mkdir -p "$root/root/nicely"
(cd "$top" && git ls-files -co --exclude-standard -z |
	while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
	tar --null -T - -cf -) | tar -xf - -C "$root/root/nicely" ||
	{ say "cannot copy the tree"; exit 1; }
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null

mnt -t proc proc "$root/proc"
mnt --rbind /sys "$root/sys"
mount --make-rslave "$root/sys"
mnt --rbind /dev "$root/dev"
mount --make-rslave "$root/dev"
mnt -t tmpfs -o mode=755 tmpfs "$root/run"

cmd=${FRESH_CMD:-make demo && make check}
say "running '$cmd' in the clean root as root (output in ${log#"$top"/})"
t0=$(date +%s)
chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	/bin/sh -c "cd /root/nicely && $cmd" </dev/null >>"$log" 2>&1
rc=$?
tail -n 25 "$log" | sed 's/^/  | /' >&2
if [ "$rc" = 0 ]; then
	say "PASS: '$cmd' in a fresh Debian 12 root ($(($(date +%s) - t0)) s; $(($(date +%s) - t_start)) s in all)"
else
	say "FAIL: '$cmd' exited $rc in a fresh Debian 12 root ($(($(date +%s) - t0)) s); log: ${log#"$top"/}"
fi
exit "$rc"
}
