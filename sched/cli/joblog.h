/* sched/joblog: the --joblog file in GNU parallel's column format (Seq Host
 * Starttime JobRuntime Send Receive Exitval Signal Command), one line per
 * finished task, flushed per line; and the reverse: reading an existing
 * joblog into a set of task numbers to skip for --resume / --resume-failed.
 * Owned by the CLI's `run` loop; nothing here is called from a child. */
#ifndef SCHED_JOBLOG_H
#define SCHED_JOBLOG_H

#include <stddef.h>
#include <stdint.h>

/* One finished task, as written to the joblog. command is the expanded
 * command line (newlines and backslashes in it are written as \n and \\ so
 * that one task is one line; tabs are kept, the command is the last field).
 * host is normally ":" (this machine); NULL means ":". */
struct joblog_entry {
	uint64_t seq;		/* task number from 1 */
	const char *host;
	double start;		/* seconds since the epoch */
	double runtime;		/* seconds */
	uint64_t send;		/* bytes sent to the task (0: no stdin) */
	uint64_t receive;	/* bytes of output received from it */
	int exitval;		/* exit status, 0 when killed by a signal */
	int signal;		/* the signal that killed it, else 0 */
	const char *command;
	/* 1: a newline in command is written as a NUL byte, the rest as it
	 * is (GNU parallel's joblog, `nicely run --joblog`); 0: as "\n",
	 * a backslash as "\\" (the batch store's joblog, read back by
	 * store_rec_parse) */
	int gnu;
};

struct joblog;

/* Open path for writing. append != 0 (for --resume / --resume-failed) keeps
 * what is there, cuts a partial last line a crash left (that task was not
 * logged, so it reruns), and adds the header only when the file is new or
 * empty;
 * append == 0 truncates and writes the header. path "-" is stdout (not
 * closed by joblog_close). Returns 0 or -errno with err naming the file.
 * The caller frees the handle with joblog_close, even after a write error. */
int joblog_open(struct joblog **out, const char *path, int append,
		char *err, size_t errlen);
/* Append one line and flush it (a crash keeps every finished task).
 * Returns 0 or -errno (err names the file). */
int joblog_write(struct joblog *jl, const struct joblog_entry *e,
		 char *err, size_t errlen);
/* Flush, close and free. Returns 0 or -errno of the first failed write or
 * close (err names the file). jl may be NULL. */
int joblog_close(struct joblog *jl, char *err, size_t errlen);

/* Format e as one joblog line with its "\n" into a malloc'd string (*line,
 * length *len, which counts a NUL byte of e->gnu's too); the caller frees
 * it. Returns 0 or -ENOMEM. Pure. */
int joblog_format(char **line, size_t *len, const struct joblog_entry *e);
/* The header line, with its "\n". */
const char *joblog_header(void);

/* A set of task numbers, a bitmap grown by pages: 10^6 seqs cost 125 KB.
 * Made by joblog_load, asked by the engine, freed with joblog_set_free. */
struct joblog_set;

struct joblog_set *joblog_set_new(void);
void joblog_set_free(struct joblog_set *s);
/* The largest seq a set holds (its page table stays <= 512 KB). */
#define JOBLOG_SEQ_MAX ((uint64_t)1 << 32)
/* Add seq (1 .. JOBLOG_SEQ_MAX). Returns 0, -ERANGE or -ENOMEM. */
int joblog_set_add(struct joblog_set *s, uint64_t seq);
/* 1 when seq is in the set, else 0 (NULL set: 0). */
int joblog_set_has(const struct joblog_set *s, uint64_t seq);
/* How many distinct seqs the set holds, and the largest (0 when empty). */
uint64_t joblog_set_count(const struct joblog_set *s);
uint64_t joblog_set_max(const struct joblog_set *s);

enum joblog_resume {
	JOBLOG_RESUME,		/* --resume: skip every seq present */
	JOBLOG_RESUME_FAILED,	/* --resume-failed: skip seqs that ended with
				 * Exitval 0 and Signal 0, rerun the others */
};

/* Read the joblog at path into a new set of seqs to skip (*skip, freed by
 * the caller). A missing file is an empty set (nothing ran yet). A
 * truncated last line (no "\n", as a crash leaves it) is ignored, header
 * lines are skipped wherever they are (joined logs); any other malformed
 * line is an error "FILE:LINE: what" and *skip is NULL.
 * Returns 0 or -errno / -EINVAL. */
int joblog_load(const char *path, enum joblog_resume mode,
		struct joblog_set **skip, char *err, size_t errlen);

#endif
