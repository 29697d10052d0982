/* sched/wire: the messages between libnicely's parent, fork server and
 * workers, and the byte buffers they are built in. All three processes are
 * forks of one program, so there is no versioning or byte-order concern:
 * every frame is a wire_hdr followed by `len` bytes of body. If a frame
 * layout changes, change both the encoder and the decoder here. */
#ifndef SCHED_WIRE_H
#define SCHED_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Frames on a worker's task pipe (parent -> worker) and result pipe. */
enum wire_type {
	WIRE_TASK = 1,	/* parent->worker: wire_task + count*elem_size bytes */
	WIRE_RES,	/* worker->parent: wire_res + count entries */
	WIRE_DATA,	/* worker->parent: int64 id + a piece of return bytes */
	WIRE_LOG,	/* worker->parent: wire_log + message */
	WIRE_INITFAIL,	/* worker->parent: error text; the worker then exits */
	WIRE_EXITRES,	/* worker->parent: what worker_exit handed back
			 * (nicely_exit_write); the worker then exits */
};
/* Most bytes worker_exit may hand back. */
#define WIRE_EXITRES_MAX (16u << 20)

struct wire_hdr {
	uint32_t type;
	uint32_t len;	/* body bytes after this header */
};

/* A run of `count` tasks with consecutive ids and one function. The
 * arguments follow at WIRE_TASK_DATA bytes from the frame start, and the
 * frame is padded to a multiple of WIRE_ALIGN bytes, so that arguments keep
 * malloc alignment in the reader's buffer (which starts aligned and is only
 * ever consumed a whole frame at a time).
 * With WIRE_TASK_ARENA no argument bytes follow: they are in the pool's
 * shared arena (worker_cfg.arena) at arg_off, count * elem_size of them.
 * With WIRE_TASK_INPLACE (only with ARENA) a task that returns 0, sets no
 * error text and writes exactly res_size bytes has them written straight
 * to the arena at res_off + i * res_size (i: its place in the run) and is
 * reported in a WIRE_RES_INPLACE frame; any other outcome is reported as
 * usual. */
struct wire_task {
	uint64_t fn;	/* nicely_task_fn, same address in every process */
	int64_t first_id;
	uint32_t count;
	uint32_t flags;	/* WIRE_TASK_ARENA, WIRE_TASK_INPLACE */
	uint64_t elem_size;	/* bytes per task argument */
	uint64_t arg_off;	/* ARENA: where the arguments are */
	uint64_t res_off;	/* INPLACE: where the first result goes */
	uint64_t res_size;	/* INPLACE: bytes of each result */
};
#define WIRE_TASK_ARENA 1u
#define WIRE_TASK_INPLACE 2u
#define WIRE_ALIGN 16
#define WIRE_TASK_DATA (sizeof(struct wire_hdr) + sizeof(struct wire_task))
_Static_assert(WIRE_TASK_DATA % WIRE_ALIGN == 0,
	       "task arguments must start WIRE_ALIGN-aligned");

/* Results of `count` consecutive tasks. Without WIRE_RES_SAME, each entry
 * is a wire_entry followed by datalen return bytes and then errlen error
 * bytes. With WIRE_RES_SAME every task returned 0 with no error text and
 * `same_len` return bytes, and the entries are just those bytes, back to
 * back (count * same_len of them): a chunk of small equal-sized returns
 * costs its data and nothing per task. With WIRE_RES_INPLACE (always with
 * WIRE_RES_SAME, from one WIRE_TASK_INPLACE run) no bytes follow: the
 * count results of same_len bytes each are in the arena where that run
 * said. */
struct wire_res {
	int64_t first_id;
	uint32_t count;
	int32_t pid;	/* the worker */
	uint64_t cpu_ns;	/* for all count tasks together */
	uint64_t wall_ns;
	uint32_t flags;	/* WIRE_RES_SAME */
	uint32_t same_len;
};
#define WIRE_RES_SAME 1u
#define WIRE_RES_INPLACE 2u
/* Largest same_len a worker uses (longer returns gain nothing from it). */
#define WIRE_SAME_MAX 64u

struct wire_entry {
	uint32_t datalen;
	uint16_t errlen;
	uint8_t status;	/* NICELY_OK or NICELY_FAILED */
	uint8_t pad;
	int32_t code;
};

struct wire_log {
	int64_t id;
	int32_t level;
	int32_t pid;	/* the worker (the parent may not know it yet) */
};

/* Largest frame body anyone sends: arguments are capped below it. */
#define WIRE_MAX_BODY (1u << 30)
/* Return bytes beyond this are streamed in WIRE_DATA frames of this size. */
#define WIRE_STREAM_CHUNK (256u * 1024)

/* A growable byte buffer with a read position (for input) . */
struct wire_buf {
	char *p;
	size_t len;	/* bytes held */
	size_t off;	/* bytes already consumed from the front */
	size_t cap;
};

/* Make room for n more bytes; 0 or -ENOMEM. */
int wire_buf_reserve(struct wire_buf *b, size_t n);
/* Append n bytes; 0 or -ENOMEM. */
int wire_buf_put(struct wire_buf *b, const void *p, size_t n);
/* Append a frame header then the body pieces; 0 or -ENOMEM. */
int wire_buf_frame(struct wire_buf *b, uint32_t type, const void *a,
		   size_t alen, const void *c, size_t clen);
/* Drop consumed bytes from the front (moves the rest down). */
void wire_buf_compact(struct wire_buf *b);
void wire_buf_free(struct wire_buf *b);

/* Read what is available from fd into b (at most `max` bytes at once).
 * Returns bytes read, 0 at EOF, -EAGAIN when nothing is there, -errno. */
ssize_t wire_buf_read(struct wire_buf *b, int fd, size_t max);
/* Write unconsumed bytes of b to fd without blocking (or blocking, if fd
 * is blocking). Returns 0 when all are out, 1 when some remain, -errno. */
int wire_buf_flush(struct wire_buf *b, int fd);

/* The next complete frame in b: 1 and hdr/body set (b->off advanced past
 * it), 0 when incomplete, -EBADMSG when the header is impossible. */
int wire_next(struct wire_buf *b, struct wire_hdr *hdr, const char **body);

/* Write all n bytes to a blocking fd, retrying on EINTR; 0 or -errno. */
int wire_write_all(int fd, const void *p, size_t n);

#endif
