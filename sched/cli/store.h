/* sched/cli/store: the per-user store of detached batches (`nicely
 * submit`): $XDG_STATE_HOME/nicely/batches/ID (default ~/.local/state), one
 * private directory per batch holding its command line (meta), inputs
 * (input-K), supervisor messages (log), the joblog (one line per recorded
 * task), each task's output (tasks/SEQ.out, tasks/SEQ.err, made on the
 * first byte), a fixed-size state record (state) and, once nicely-agent
 * restarted the supervisor, its count and signal (held). A lock file held by
 * the supervisor tells a running batch from a finished or dead one.
 * Used by the CLI front ends (cli_submit.c, cli_batch.c, cli_ctl.c) and the
 * engine's store sink (run_store.c); plain file-system calls, no state. */
#ifndef SCHED_CLI_STORE_H
#define SCHED_CLI_STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_ID_LEN 12		/* hex digits of a batch id */
#define STORE_ID_SHORT 4	/* the shortest prefix shown */
#define STORE_NAME_MAX 63
#define STORE_STATE_SIZE 512	/* the state record, overwritten in place */

/* One batch of the store. */
struct store_batch {
	char id[STORE_ID_LEN + 1];
	char name[STORE_NAME_MAX + 1];	/* "" when none */
	char dir[4096];			/* its directory */
};

/* The state record: what the supervisor says of the batch. */
struct store_state {
	char state[16];		/* starting, running, paused, finished */
	int exit;		/* run's exit status once finished, else -1 */
	double finished;	/* epoch seconds, 0 before */
	char reason[400];	/* why it is paused by itself, else "" */
};

/* One recorded task (a joblog line). command is malloc'd. */
struct store_rec {
	uint64_t seq;
	double start, runtime;
	uint64_t receive;
	int exitval, signal;
	char *command;
};

/* The batches directory into buf ($XDG_STATE_HOME/nicely/batches, made
 * 0700 with its parents when make is set). It must be a directory of ours
 * (or we are root) open to nobody else. 0 or -errno with err set. */
int store_root(char *buf, size_t len, int make, char *err, size_t errlen);
/* 1 when name is a usable batch name: 1-63 of [A-Za-z0-9_.-], not
 * starting with '-' or '.'. */
int store_name_ok(const char *name);
/* Make a new batch directory under root (0700) with a fresh id and, when
 * name is set, that name (refused when another batch has it). 0 or
 * -errno with err set. */
int store_create(const char *root, const char *name, struct store_batch *b,
		 char *err, size_t errlen);
/* The batches in root, sorted by creation (*out malloc'd; the caller
 * frees). Returns the count or -errno with err set. */
int store_list(const char *root, struct store_batch **out, char *err,
	       size_t errlen);
/* The batch key names: a name, a whole id or a unique id prefix. 0, or
 * -ENOENT / -EINVAL (ambiguous) with err saying which. */
int store_find(const char *root, const char *key, struct store_batch *b,
	       char *err, size_t errlen);
/* The shortest prefix of id (at least STORE_ID_SHORT) that no other batch
 * in v[0..n) shares, into out (STORE_ID_LEN + 1 bytes). */
void store_short_id(const struct store_batch *v, int n, const char *id,
		    char *out);
/* 1 when a supervisor holds the batch's lock, 0 when none does. */
int store_running(const char *dir);
/* The supervisor: take the batch's lock (waits up to 2 s for a reader's
 * probe). Returns the fd that holds it (close-on-exec) or -errno (-EBUSY:
 * another supervisor runs the batch) with err set. */
int store_lock(const char *dir, char *err, size_t errlen);
/* Block until no supervisor holds the lock (nicely wait). 0 or -errno. */
int store_wait_unlocked(const char *dir);
/* Open a file of the batch (never through a symlink; 0600 when made). */
int store_open(const char *dir, const char *name, int flags);
/* Read / write the state record (write: in place, into the space made at
 * creation, so it works on a full disk; then fdatasync). 0 or -errno. */
int store_state_read(const char *dir, struct store_state *s);
int store_state_write(int fd, const struct store_state *s);
/* Make the state record file with its space (state "starting"). The fd,
 * or -errno. */
int store_state_create(const char *dir);
/* The recorded tasks, sorted by seq, one per seq (*out malloc'd; free
 * with store_recs_free). A last line without its "\n" (a crash) is left
 * out. Returns the count or -errno with err set. */
long store_recs(const char *dir, struct store_rec **out, char *err,
		size_t errlen);
void store_recs_free(struct store_rec *v, long n);
/* Parse one joblog line (without its "\n") into r (command malloc'd).
 * 0, 1 for a header line, -EINVAL for a malformed one. */
int store_rec_parse(const char *line, struct store_rec *r);
/* Bytes the batch's directory takes on disk. */
long long store_size(const char *dir);
/* Delete a batch's directory and everything in it. 0 or -errno. */
int store_rm(const char *dir, char *err, size_t errlen);
/* Delete the batches in root no supervisor holds whose state record is
 * older than keep_s seconds (<= 0: keep all). Returns how many went. */
int store_expire(const char *root, double keep_s);

#endif
