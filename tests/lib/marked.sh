# pids_marked NAME=VALUE: the PIDs of live processes (not zombies, not this
# shell) whose environment holds NAME=VALUE: anything a batch started,
# however it was detached. Pure bash, so the scan starts no process that
# would carry the mark itself. Sourced by tests/lib/run-common.sh and
# scripts/torture.sh.
pids_marked() {
	local f pid e st want=$1
	for f in /proc/[0-9]*/environ; do
		pid=${f#/proc/}
		pid=${pid%/environ}
		[ "$pid" = $$ ] || [ "$pid" = "$BASHPID" ] && continue
		{
			while IFS= read -r -d '' e; do
				[ "$e" = "$want" ] || continue
				# zombies waiting for their parent are not running
				read -r st <"/proc/$pid/stat" || st=
				st=${st##*) }
				[ "${st%% *}" = Z ] || echo "$pid"
				break
			done <"$f"
		} 2>/dev/null
	done
}
