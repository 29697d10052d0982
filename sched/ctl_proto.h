/* sched/ctl_proto: the control protocol between `nicely status / kill /
 * reset / pause / resume` (sched/cli/cli_ctl.c, sched/cli/ctl_client.c) and a
 * running `nicely run` (sched/ctl.c, served by the run's loop). The one
 * place that defines it.
 *
 * BUMP CTL_PROTO_VERSION ON ANY CHANGE to what is sent or understood
 * (a new command, field or meaning): a peer speaking another version is
 * refused with a message naming both versions, never half understood.
 *
 * Transport: a Unix stream socket <rundir>/run-<pid>.sock (sched/rundir.h),
 * one per running batch, whose batch id is <pid>. Messages are JSON objects,
 * one per line ("\n"-terminated, at most CTL_LINE_MAX bytes). The client
 * sends one request and reads one reply; the server closes after the reply.
 *
 * Request:  {"v":VERSION,"cmd":"status"|"pause"|"resume"|"kill"|"reset"}
 * Reply:    {"v":VERSION,"ok":true,...} or
 *           {"v":VERSION,"ok":false,"error":"what went wrong"}
 * A reply to "status" carries "batch": {
 *   "id":"PID", "pid":PID, "start":EPOCH_SECONDS, "command":"...",
 *   ["command_cut":true,] ["command_base64":"...",]
 *   "preset":"NAME", "total":N (-1 while unknown), "queued":N,
 *   "running":N, "done":N, "failed":N, "cancelled":N, "paused":BOOL,
 *   "resets":N, "reason":"...", "pus":[CPU,...] }
 * "reason" (version 4) says why queued tasks wait right now, with figures
 * (sched/gate.h gate_reason: "PU 1 busy (others 83%)", "load ceiling 1.00
 * reached (...)", "user limit 4 PUs (...)"; "paused"; "-j N reached"), ""
 * when none waits or nothing holds them back; "pus" (version 4) lists the
 * Linux CPUs its running tasks are placed on, ascending (unpinned tasks
 * hold none).
 * and for a batch run with --on slurm (sched/cli/slurm_ctl.c) also
 *   "on":"slurm", "slurm": { "arrays":["JOBID",...], "pending":N,
 *   "running":N, "done":N (array elements, from squeue), "dir":"..." },
 * its "running"/"queued" counting tasks in running/pending elements.
 * User text (the command line, preset names, messages) follows
 * sched/jsonx.h: valid UTF-8 as it is, each other byte as U+FFFD, and then
 * KEY_base64 beside KEY with the exact bytes. The command line is cut to
 * its first CTL_COMMAND_MAX bytes (at a character boundary), and then
 * "command_cut":true, so that a reply always fits in CTL_LINE_MAX.
 * "pause"/"resume" reply once every task is frozen/thawed, with "tasks":N
 * and "changed":BOOL; a Slurm batch instead holds/releases its pending
 * elements (running ones go on) and adds "slurm":{"held"|"released":N,
 * "running":N}. A Slurm batch refuses "reset".
 * "kill" replies once nothing of the batch runs any more: "killed":N.
 * "reset" reloads the config first; on a config error it replies ok:false
 * with the file:line error and changes nothing. Otherwise it replies once
 * the killed tasks are gone: "killed":N, "cancelled":N, "preset":"NAME".
 * Peers are identified by SO_PEERCRED: the batch's uid or root; anyone
 * else gets ok:false and the connection closed. */
#ifndef SCHED_CTL_PROTO_H
#define SCHED_CTL_PROTO_H

#define CTL_PROTO_VERSION 4

/* Longest line either side sends or accepts, "\n" included. */
#define CTL_LINE_MAX 65536
/* Most bytes of the command line a status reply carries: escaped (up to 6
 * bytes a byte) and in base64 it stays well inside CTL_LINE_MAX. */
#define CTL_COMMAND_MAX 4096

/* Socket file name of a batch: CTL_SOCK_PREFIX <pid> CTL_SOCK_SUFFIX. */
#define CTL_SOCK_PREFIX "run-"
#define CTL_SOCK_SUFFIX ".sock"

/* The commands. */
#define CTL_CMD_STATUS "status"
#define CTL_CMD_PAUSE "pause"
#define CTL_CMD_RESUME "resume"
#define CTL_CMD_KILL "kill"
#define CTL_CMD_RESET "reset"

#endif
