# A one-node Slurm cluster for the tests of `nicely run --on slurm`: munged,
# slurmctld and slurmd started by hand (no systemd) on loopback, on ports of
# their own, with every file in a private directory; stopped by PID.
# Source it after tests/lib/run-common.sh (it uses $T and the TAP helpers).
#   slurm_cluster_start     start the daemons, wait until the node is idle;
#                           returns 1 with the reason in $SLURM_WHY
#   slurm_cluster_stop      cancel what is left, stop the daemons by PID
#   slurm_jobs              job ids of ours in squeue (one per line)
# After start, SLURM_CONF points the clients (sbatch, squeue, ...) at it.
# Settings known to work on Debian 12's Slurm 22.05 on one machine:
# proctrack/linuxproc, task/none, select/cons_tres, no accounting.
SLURM_D=
SLURM_PIDS=
SLURM_WHY=

# slurm_have: the packages are there (else the caller skips)
slurm_have() {
	command -v slurmctld >/dev/null && command -v slurmd >/dev/null &&
		command -v sbatch >/dev/null && command -v munged >/dev/null
}

# slurm_free_port: a TCP port nothing listens on, from a range of our own
slurm_free_port() {
	local p tries=0
	while [ $tries -lt 50 ]; do
		p=$((20000 + (RANDOM % 20000)))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
		tries=$((tries + 1))
	done
	return 1
}

slurm_cluster_start() {
	local host cport dport i state
	SLURM_D="$T/slurm"
	mkdir -p "$SLURM_D/state" "$SLURM_D/spool" "$SLURM_D/munge"
	chmod 700 "$SLURM_D/munge"
	host=$(hostname -s)
	cport=$(slurm_free_port) && dport=$(slurm_free_port) || {
		SLURM_WHY="no free port"
		return 1
	}
	[ "$cport" != "$dport" ] || dport=$((cport + 1))
	dd if=/dev/urandom of="$SLURM_D/munge/munge.key" bs=1024 count=1 \
		status=none
	chmod 400 "$SLURM_D/munge/munge.key"
	cat >"$SLURM_D/slurm.conf" <<EOF
ClusterName=nicelytest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$cport
SlurmdPort=$dport
AuthType=auth/munge
AuthInfo=socket=$SLURM_D/munge/munge.sock
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$SLURM_D/state
SlurmdSpoolDir=$SLURM_D/spool
SlurmctldPidFile=$SLURM_D/slurmctld.pid
SlurmdPidFile=$SLURM_D/slurmd.pid
SlurmctldLogFile=$SLURM_D/slurmctld.log
SlurmdLogFile=$SLURM_D/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
SchedulerType=sched/builtin
MaxArraySize=21
MinJobAge=2
ReturnToService=2
SlurmdTimeout=30
SlurmdParameters=config_overrides
KillWait=2
SchedulerParameters=sched_interval=1
NodeName=nicelynode NodeHostname=$host NodeAddr=127.0.0.1 CPUs=8 State=UNKNOWN
PartitionName=nicely Nodes=nicelynode Default=YES MaxTime=INFINITE State=UP
EOF
	export SLURM_CONF="$SLURM_D/slurm.conf"
	# the daemons must not carry the tests' process mark
	env -u NICELY_TEST_MARK NICELY_SLURM_D="$SLURM_D" munged -F --force --num-threads=10 \
		--socket="$SLURM_D/munge/munge.sock" \
		--key-file="$SLURM_D/munge/munge.key" \
		--pid-file="$SLURM_D/munge/munged.pid" \
		--log-file="$SLURM_D/munge/munged.log" \
		--seed-file="$SLURM_D/munge/seed" </dev/null \
		>"$SLURM_D/munged.out" 2>&1 &
	SLURM_PIDS="$!"
	for i in $(seq 50); do
		[ -S "$SLURM_D/munge/munge.sock" ] && break
		sleep 0.1
	done
	[ -S "$SLURM_D/munge/munge.sock" ] || {
		SLURM_WHY="munged did not start: $(tail -3 "$SLURM_D/munged.out" "$SLURM_D/munge/munged.log" 2>/dev/null)"
		return 1
	}
	env -u NICELY_TEST_MARK NICELY_SLURM_D="$SLURM_D" slurmctld -D -i -f "$SLURM_CONF" </dev/null \
		>"$SLURM_D/slurmctld.out" 2>&1 &
	SLURM_PIDS="$SLURM_PIDS $!"
	env -u NICELY_TEST_MARK NICELY_SLURM_D="$SLURM_D" slurmd -D -N nicelynode -f "$SLURM_CONF" \
		</dev/null >"$SLURM_D/slurmd.out" 2>&1 &
	SLURM_PIDS="$SLURM_PIDS $!"
	# up when the node is idle
	for i in $(seq 150); do
		state=$(sinfo -h -n nicelynode -o %t 2>/dev/null)
		case "$state" in idle*) return 0 ;; esac
		sleep 0.2
	done
	SLURM_WHY="the node never became idle (state '$state'): $(tail -3 "$SLURM_D/slurmctld.log" "$SLURM_D/slurmd.log" 2>/dev/null | tr '\n' ' ')"
	return 1
}

# job ids (array job ids as %F) of everything in the queue
slurm_jobs() {
	squeue -h -o %F 2>/dev/null | sort -u
}

# PIDs of live processes started by our daemons (slurmstepd and what it
# runs) : they carry NICELY_SLURM_D=$SLURM_D in their environment
slurm_marked() {
	local f pid e want="NICELY_SLURM_D=$SLURM_D"
	for f in /proc/[0-9]*/environ; do
		pid=${f#/proc/}
		pid=${pid%/environ}
		{
			while IFS= read -r -d '' e; do
				[ "$e" = "$want" ] && { echo "$pid"; break; }
			done <"$f"
		} 2>/dev/null
	done
}

slurm_cluster_stop() {
	local p i
	[ -n "$SLURM_D" ] || return 0
	if [ -n "$SLURM_PIDS" ]; then
		scancel --quiet --user="$(id -u)" 2>/dev/null
		for i in $(seq 50); do
			[ -z "$(slurm_jobs)" ] && break
			sleep 0.2
		done
	fi
	for p in $SLURM_PIDS; do
		kill -TERM "$p" 2>/dev/null
	done
	for i in $(seq 50); do
		local alive=
		for p in $SLURM_PIDS; do
			kill -0 "$p" 2>/dev/null && alive=1
		done
		[ -z "$alive" ] && break
		sleep 0.1
	done
	for p in $SLURM_PIDS; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	# job steps the daemons left (slurmstepd outlives slurmd)
	for p in $(slurm_marked); do
		kill -KILL "$p" 2>/dev/null
	done
	SLURM_PIDS=
}
