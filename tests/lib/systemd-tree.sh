# Rebuild the cgroup layout systemd gives a Debian 12 server, for tests of
# nicely-agent's placement. Source it (root only for the v1 part), then:
#
# On this machine's v1 hierarchies (cpu, cpuacct, cpuset, memory, freezer,
# pids, and the cgroup2 tree when mounted): a test-named top group R
# stands in for the root, with
#   R/system.slice  R/user.slice/user-UID.slice/session-N.scope
# all at the default weight (cpu.shares 1024, what systemd's CPUWeight=100
# maps to), and nicely-agent's base is R/nicely, a sibling of user.slice
# and system.slice as on a real server (cga_opts.base / the agent's base
# = $ST_BASE; the root stays /sys/fs/cgroup).
#   st_v1_build R            make R, R/system.slice, R/user.slice
#   st_v1_user UID N         make user-UID.slice/session-N.scope
#   st_v1_move PID UID N     move PID (a user's shell) into that scope
#   st_v1_teardown [all]     move every process under R back to the
#                            hierarchy's root, rmdir what st_v1_* made
#                            (all: everything under R, the agent's groups
#                            too); 1 if something is left
#
# As a fake cgroup2 tree in a directory (plain files; the module treats it
# as a cgroup2 file system): root with cpu memory pids enabled, R, and the
# same slices, cpu memory pids enabled in R, user.slice and user-UID.slice:
#   st_v2_build DIR R        root DIR (NICELY_CGROUP_ROOT=DIR), base R/nicely
#   st_v2_user UID N         as st_v1_user
#   st_v2_move PID UID N     append PID to the scope's cgroup.procs
#   st_v2_teardown           rm -rf DIR
# Every function returns nonzero on failure. Needs: ST_CG (default
# /sys/fs/cgroup).

ST_CG=${ST_CG:-/sys/fs/cgroup}
ST_R=
ST_BASE=
ST_MADE=	# directories made, in order (removed in reverse)
ST_V2=

# The hierarchies to build in: the v1 controllers the cgroup module uses
# (and pids) that are mounted, and the cgroup2 tree when it is.
st_hiers() {
	for h in cpu cpuacct cpuset memory freezer pids unified; do
		if [ $h = unified ]; then
			[ -e "$ST_CG/unified/cgroup.controllers" ] && echo unified
		elif [ -e "$ST_CG/$h/cgroup.procs" ] && [ -e "$ST_CG/$h/tasks" ]; then
			echo $h
		fi
	done
}

# mkdir REL in every hierarchy, with what a v1 cpuset group needs before
# a process may join and systemd's default weight.
st_v1_mkdir() {
	for h in $(st_hiers); do
		d=$ST_CG/$h/$1
		mkdir "$d" || return 1
		ST_MADE="$ST_MADE $d"
		case $h in
		cpuset)
			p=$(dirname "$d")
			cat "$p/cpuset.cpus" >"$d/cpuset.cpus" &&
				cat "$p/cpuset.mems" >"$d/cpuset.mems" || return 1 ;;
		cpu)
			echo 1024 >"$d/cpu.shares" || return 1 ;;
		esac
	done
}

# R, R/system.slice, R/user.slice on the machine's hierarchies.
st_v1_build() {
	ST_R=$1
	ST_BASE=$1/nicely
	st_v1_mkdir "$ST_R" && st_v1_mkdir "$ST_R/system.slice" &&
		st_v1_mkdir "$ST_R/user.slice"
}

# The slice of user UID and its session N.
st_v1_user() {
	s=$ST_R/user.slice/user-$1.slice
	[ -d "$ST_CG/cpu/$s" ] || st_v1_mkdir "$s" || return 1
	st_v1_mkdir "$s/session-$2.scope"
}

# Move PID into user UID's session N in every hierarchy.
st_v1_move() {
	for h in $(st_hiers); do
		echo "$1" >"$ST_CG/$h/$ST_R/user.slice/user-$2.slice/session-$3.scope/cgroup.procs" ||
			return 1
	done
}

# Move the processes under R back to the root; rmdir what was made (with
# all: every group under R first).
st_v1_teardown() {
	[ -n "$ST_R" ] || return 0
	for h in $(st_hiers); do
		[ -d "$ST_CG/$h/$ST_R" ] || continue
		find "$ST_CG/$h/$ST_R" -name cgroup.procs | while read -r f; do
			for p in $(cat "$f" 2>/dev/null); do
				echo "$p" >"$ST_CG/$h/cgroup.procs" 2>/dev/null
			done
		done
		if [ "$1" = all ]; then
			find "$ST_CG/$h/$ST_R" -mindepth 1 -depth -type d \
				-exec rmdir {} \; 2>/dev/null
		fi
	done
	left=0
	for d in $(echo $ST_MADE | tr ' ' '\n' | sed -n '1!G;h;$p'); do
		[ -d "$d" ] || continue
		i=0
		while ! rmdir "$d" 2>/dev/null && [ $i -lt 20 ]; do
			sleep 0.1; i=$((i + 1))
		done
		[ -d "$d" ] && left=1
	done
	ST_MADE=
	return $left
}

# The files a fake cgroup2 group gets; controllers: the parent's
# subtree_control; enable: this group's subtree_control.
st_v2_group() {
	d=$ST_V2/$1
	mkdir -p "$d" || return 1
	echo "$2" >"$d/cgroup.controllers"
	echo "$3" >"$d/cgroup.subtree_control"
	for f in cgroup.procs cgroup.threads cgroup.kill cgroup.freeze \
		cgroup.events cpu.idle cpu.max cpu.stat memory.max \
		memory.swap.max cpuset.cpus cpuset.mems; do
		: >"$d/$f"
	done
	echo 100 >"$d/cpu.weight"
}

# A fake cgroup2 root at DIR with R and its slices.
st_v2_build() {
	ST_V2=$1
	ST_R=$2
	ST_BASE=$2/nicely
	mkdir -p "$ST_V2" || return 1
	echo "cpuset cpu io memory pids" >"$ST_V2/cgroup.controllers"
	echo "cpu memory pids" >"$ST_V2/cgroup.subtree_control"
	: >"$ST_V2/cgroup.procs"
	: >"$ST_V2/cgroup.threads"
	echo 100 >"$ST_V2/cpu.weight"
	: >"$ST_V2/cpu.idle"
	: >"$ST_V2/cpu.stat"
	st_v2_group "$ST_R" "cpu memory pids" "cpu memory pids" &&
		st_v2_group "$ST_R/system.slice" "cpu memory pids" "" &&
		st_v2_group "$ST_R/user.slice" "cpu memory pids" "cpu memory pids"
}

# User UID's slice (cpu memory pids enabled) and session N.
st_v2_user() {
	s=$ST_R/user.slice/user-$1.slice
	[ -d "$ST_V2/$s" ] || st_v2_group "$s" "cpu memory pids" "cpu memory pids" ||
		return 1
	st_v2_group "$s/session-$2.scope" "cpu memory pids" ""
}

# Record PID in user UID's session N.
st_v2_move() {
	echo "$1" >>"$ST_V2/$ST_R/user.slice/user-$2.slice/session-$3.scope/cgroup.procs"
}

# Remove the fake tree.
st_v2_teardown() {
	[ -n "$ST_V2" ] && rm -rf "$ST_V2"
	ST_V2=
}
