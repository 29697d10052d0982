/* sched/agent_proto: the protocol between nicely-agent (sched/agentd/)
 * and its clients (sched/agent_client.c: `nicely run`, libnicely's pool,
 * `nicely status --all / kill --user / top`). The one place that defines
 * it.
 *
 * BUMP AGENT_PROTO_VERSION ON ANY CHANGE to what is sent or understood
 * that a peer of the version before could misread or must understand: a
 * peer speaking another version is refused with a message naming both
 * versions, and the client then runs without the agent (never half
 * understood). An optional member that an older peer ignores, and whose
 * absence the newer one takes as before, needs no bump (the lease's
 * "pus", "taken" and "yield", below).
 *
 * Transport: a Unix stream socket, AGENT_SOCK_DEFAULT or
 * $NICELY_AGENT_SOCKET (for the agent and its clients alike), mode 0666 in
 * a directory of root's (0755). Messages are JSON objects, one per line
 * ("\n"-terminated, at most AGENT_LINE_MAX bytes). A connection carries
 * any number of requests; each is answered in order before the next is
 * read. Every request has "v":AGENT_PROTO_VERSION and "cmd"; every answer
 * has "v" and "ok", and "error" (one line, what went wrong) when ok is
 * false. A request of another version is answered
 * {"v":AGENT_PROTO_VERSION,"ok":false,"error":"..."} naming both versions
 * and the connection is closed. The peer is who SO_PEERCRED says (uid,
 * gid, pid at connect); nothing else it sends is trusted: names, sizes and
 * PIDs are checked, and processes come as pidfds, never as bare PIDs.
 *
 * Requests and answers:
 *
 * "hello": {} -> {"agent":"VERSION","mode":"v1|v2|hybrid|fake",
 *     "root":"/sys/fs/cgroup","base":"nicely","uid":PEER_UID,
 *     "admin":BOOL, "tick_ms":N, "snapshot":"PATH"}
 *   The first request of a client; "admin" says whether this peer may act
 *   on every user's batches (root, or a member of a group named in the
 *   system config's [agent] admins).
 *
 * "open": {"preset":"NAME","weight":"idle|low|normal","nice":N,
 *     "memory_max":BYTES (0: none), "cpus":"LIST" (optional: the PUs the
 *     batch may use, Linux CPU list), "command":"TEXT" (optional, for the
 *     admin view, cut to AGENT_TEXT_MAX)}
 *   with SCM_RIGHTS carrying exactly one pidfd: the process to place (the
 *   batch's owner: `nicely run` itself, or a pool's fork server). It must
 *   be alive and belong to the peer's uid (root may place any). The agent
 *   makes <base>/user-<uid>/<batch> in every hierarchy with the class and
 *   limits the admin's [limits] allow (a more demanding weight is lowered
 *   to the cap, said in "note"), delegates it to the peer's user, and
 *   moves the process into its leaf <batch>/AGENT_OWNER_LEAF.
 *   -> {"batch":"NAME","group":"<base>/user-<uid>/NAME",
 *       "weight":"idle|low|normal" (what was set), "note":"..." (optional)}
 *   One open per connection. The batch lives as long as its owner
 *   process: when the owner exits the agent kills what is left in the
 *   batch's groups and removes them, whether or not the connection is
 *   still open. A connection closing does not end the batch (the client
 *   reconnects after an agent restart with "adopt").
 *
 * "adopt": {"batch":"NAME"} with SCM_RIGHTS carrying the owner's pidfd:
 *   after an agent restart, take up a batch the agent found again in the
 *   cgroup tree. -> as "open" (without "weight" when the agent does not
 *   know it: a batch found again after a restart).
 *
 * "lease": {"want":N (PUs the batch could use now: its running tasks plus
 *     those waiting), "holding":N (PUs it holds now), "done":N,
 *     "total":N (-1 while unknown), "running":N,
 *     "pus":[CPU,...] (optional: the Linux CPUs its tasks are placed on,
 *     each a CPU of this machine below AGENT_CPUS_MAX; missing: none),
 *     "reason":"TEXT" (optional: why its gate held tasks back at its
 *     last decision, with figures, e.g. "PU 1 busy (others 83%)"; ""
 *     when nothing did; at most AGENT_REASON_MAX bytes, no control
 *     characters; missing: "")}
 *   Only after "open"/"adopt" on the same connection. Every field is
 *   checked; a lease with a bad one is refused whole and changes nothing.
 *   -> {"grant":N (PUs the batch may hold until its next lease),
 *       "users":N (users with batches that want PUs),
 *       "killed":BOOL (an admin or the user ended the batch: stop
 *       starting, the tasks were killed),
 *       "taken":[CPU,...] (ascending: the CPUs other live batches, of any
 *       user, said in their last lease that they hold),
 *       "yield":[CPU,...] (ascending: those of this batch's "pus" that a
 *       batch the agent knew before this one holds too)}
 *   The snapshot leaves every batch's CPU use out (the grants split it),
 *   so without "taken" every batch would see the same PUs idle and place
 *   its tasks on the same first ones: a client places new tasks on idle
 *   PUs not in "taken" first (only a grant larger than those leads it to
 *   share one, and then it does not pin that task), and moves a task off
 *   a PU in "yield" to an idle one nobody holds when there is one (the
 *   newer batch yields, so two never swap). "pus", "taken" and "yield"
 *   came without a version bump, and so did "reason" (an agent before it
 *   ignores it; a client before it sends none, and its batches list
 *   ""): an agent before them ignores "pus" and
 *   sends neither list (the client then places as before), and a client
 *   before them sends no "pus" and ignores the lists (its tasks are then
 *   not avoided), so neither side misbehaves.
 *   The agent splits the PUs that others (everything outside its subtree)
 *   leave idle between users, not batches: each user wanting PUs gets an
 *   equal share (max-min: what one user does not want goes to the
 *   others), capped by [limits] max_pus, then split among that user's
 *   batches the same way. Grants are recomputed once per tick; a grant
 *   never drops below what the batch holds in the answer itself (tasks
 *   running are not taken back by a lease; the fence is the user group's
 *   weight and quota).
 *
 * "list": {"all":BOOL} -> {"batches":[{"user":"NAME","uid":N,
 *     "batch":"NAME","pid":OWNER_PID,"preset":"NAME","weight":"...",
 *     "grant":N,"holding":N,"cpu_share":FRACTION (of the machine, last
 *     tick),"done":N,"total":N,"running":N,"command":"TEXT",
 *     "pus":[CPU,...] (what its last lease said),
 *     "reason":"TEXT" (what its last lease said, "" when none)}, ...]}
 *   "all" is for admins; others get their own batches only (all:true from
 *   a non-admin is ok:false). When the answer would pass AGENT_LINE_MAX,
 *   commands are cut to 64 bytes, then left out ("" ), and beyond that
 *   the answer is ok:false.
 *
 * "kill": {"batch":"NAME"} or {"user":"NAME"}: kill the tasks of one batch
 *   or of all batches of a user (everything in their groups but the
 *   owner's leaf; the owner learns it from its next lease, "killed":true,
 *   and ends as `nicely kill` ends a batch). A user may kill their own
 *   batches; "user" naming another user needs an admin.
 *   -> {"killed":N (batches)}, once their tasks are gone (or after
 *   AGENTD_KILL_MS of trying, said in the agent's log). The agent kills
 *   in rounds between its loop rounds: it answers other peers meanwhile,
 *   and the killed batch's lease says "killed" at once. No other request
 *   of the same connection is read before the answer.
 *
 * "submit": {"dir":"PATH" (absolute: the batch's store directory),
 *     "id":"ID" (its STORE_ID_LEN hex digits), "resume":BOOL}
 *   optionally with SCM_RIGHTS carrying one fd, the write end of a pipe
 *   (anything else is refused) the supervisor says "ok" on once it runs.
 *   Hand a detached batch (`nicely submit`) to the agent: it starts its
 *   supervisor as the peer (SO_PEERCRED's uid and gid, the uid's groups;
 *   nothing in the message names a user) in a session of its own, in
 *   <base>/held until the supervisor opens its batch, and keeps it: a
 *   supervisor killed by a signal is started again on what is left
 *   (`nicely submit --held DIR --restarted N`), at most
 *   AGENT_HELD_RESTARTS times; one that exits is done. The agent never
 *   reads the store: everything in it is read by `nicely` running as the
 *   peer. It records the batch (uid, dir, id, pid) in its state
 *   directory, root's (0700): AGENT_STATE_DEFAULT, or "<socket path>"
 *   AGENT_STATE_SUFFIX when $NICELY_AGENT_SOCKET is set; one file per
 *   batch under AGENT_HELD_DIR named "<uid>-<id>", kept when the batch
 *   ends (root's `nicely status --all` reads them), found again by the
 *   next agent. At most AGENT_BATCHES_PER_UID held live per uid.
 *   -> {"pid":N (the supervisor)}. An agent before "submit" answers
 *   "unknown command": the client then starts the supervisor itself (no
 *   version bump: nothing else changed).
 *
 * "dashboard": {"new":BOOL (optional: a new token, the old one no longer
 *     valid)} -> {"url":"http://ADDRESS:PORT/?token=HEX","token":"HEX",
 *     "user":"NAME","all":BOOL (the token shows every user's batches:
 *     root and the [agent] admins)}
 *   The peer's link to the agent's web dashboard (sched/agentd/dash.h),
 *   ok:false when the system config does not turn it on ([agent]
 *   dashboard). One token per uid, random, kept in the agent's memory
 *   only: asked again, the same (until "new", or an agent restart). It
 *   shows that user's batches only. Added without a version bump: an
 *   agent before it answers "unknown command", which the client says.
 *
 * The snapshot: once per tick the agent samples the machine and writes
 * (write to a temporary name, then rename) AGENT_SNAPSHOT_DEFAULT, or the
 * file named beside the socket when $NICELY_AGENT_SOCKET is set
 * (<socket path>.snapshot), mode 0644, one JSON line:
 *   {"v":AGENT_PROTO_VERSION,"seq":N,"t_ms":CLOCK_MONOTONIC_MS,
 *    "tick_ms":N,"cpus":[{"cpu":LINUX_CPU,"busy":FRACTION,"online":BOOL},
 *    ...],"loadavg":[L1,L5,L15],"psi_some_avg10":PCT,"psi_recent":FRACTION,
 *    "mem_total_kb":N,"mem_available_kb":N}
 *   "busy" is the smoothed share of the CPU used by others: everything
 *   outside the agent's subtree (every user's nicely batches are left out:
 *   the grants split those). A client uses it while it is fresh (t_ms
 *   within 3 ticks of now) and samples by itself otherwise.
 *
 * Limits on peers (sched/connguard.h): at most AGENT_CONN_PER_UID
 * connections per uid (root's not counted), AGENT_CONN_MAX in all (at the
 * cap the connection silent the longest is closed to make room); a peer
 * over a cap gets one ok:false line at connect and is closed (a client
 * whose send fails should still read it). A connection that sends
 * nothing for AGENT_IDLE_MS while a line is half read, or while it holds
 * no batch, or that sends a line longer than AGENT_LINE_MAX, is closed;
 * one that holds a batch may stay silent for ever. At most
 * AGENT_REQ_PER_SEC requests a second per connection (more wait). A file
 * descriptor sent with a request other than open/adopt is closed. At most
 * AGENT_BATCHES_PER_UID live batches per uid (root's not counted). */
#ifndef SCHED_AGENT_PROTO_H
#define SCHED_AGENT_PROTO_H

#define AGENT_PROTO_VERSION 1

#define AGENT_SOCK_DEFAULT "/run/nicely/agent.sock"
#define AGENT_SOCK_ENV "NICELY_AGENT_SOCKET"
#define AGENT_SNAPSHOT_DEFAULT "/run/nicely/snapshot"
#define AGENT_SNAPSHOT_SUFFIX ".snapshot"

/* Linux CPU numbers in a lease's "pus", "taken" and "yield" are below
 * this (Debian's kernels: CONFIG_NR_CPUS 8192). */
#define AGENT_CPUS_MAX 8192
#define AGENT_CPU_WORDS (AGENT_CPUS_MAX / 64)

/* Longest line either side sends or accepts, "\n" included. */
#define AGENT_LINE_MAX 65536
/* Most bytes of a lease's "reason". */
#define AGENT_REASON_MAX 200
/* Most bytes of user text (a command line) the agent keeps per batch. */
#define AGENT_TEXT_MAX 1024

/* The leaf of a batch group its owner process is moved into. */
#define AGENT_OWNER_LEAF "owner"
/* Per-user group under the base: AGENT_USER_PREFIX <uid>. */
#define AGENT_USER_PREFIX "user-"

#define AGENT_CONN_PER_UID 64
#define AGENT_CONN_MAX 1024
#define AGENT_IDLE_MS 5000
#define AGENT_REQ_PER_SEC 100
/* Live batches per uid (root's not counted): an open beyond is refused. */
#define AGENT_BATCHES_PER_UID 256

#define AGENT_CMD_HELLO "hello"
#define AGENT_CMD_OPEN "open"
#define AGENT_CMD_ADOPT "adopt"
#define AGENT_CMD_LEASE "lease"
#define AGENT_CMD_LIST "list"
#define AGENT_CMD_KILL "kill"
#define AGENT_CMD_SUBMIT "submit"
#define AGENT_CMD_DASHBOARD "dashboard"

/* The agent's state directory (the held batches' records). */
#define AGENT_STATE_DEFAULT "/var/lib/nicely"
#define AGENT_STATE_SUFFIX ".state"
#define AGENT_HELD_DIR "held"
/* Restarts of a held batch's supervisor killed by a signal. */
#define AGENT_HELD_RESTARTS 3

#endif
