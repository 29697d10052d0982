/* sched/jsonx: user and peer text (command lines, input values, task
 * output, config file names and values, messages) into JSON, never
 * dropped and never ambiguous. The rule, documented in nicely(1) under
 * "JSON OUTPUT": valid UTF-8 is kept as it is; each byte that is not part
 * of a valid UTF-8 sequence becomes U+FFFD in the string, and then, only
 * then, a sibling field KEY_base64 holds the exact bytes (RFC 4648 base64,
 * padded). For text meant for people (messages, `nicely status`), such a
 * byte is written as the four characters \xHH instead. Used by the CLI's
 * --json writers, `nicely status` and the control socket's answers. */
#ifndef SCHED_JSONX_H
#define SCHED_JSONX_H

#include <stddef.h>

#include <jansson.h>

/* 1 when the n bytes at s are all valid UTF-8 (NUL bytes included). */
int jsonx_valid(const char *s, size_t n);
/* A JSON string of the n bytes at s, invalid bytes as U+FFFD; NULL only
 * when out of memory. */
json_t *jsonx_string(const char *s, size_t n);
/* The n bytes at s as a base64 JSON string; NULL when out of memory. */
json_t *jsonx_base64(const char *s, size_t n);
/* obj[key] = jsonx_string(s) and, when s is not valid UTF-8,
 * obj[key "_base64"] = its bytes; s NULL sets null. 0 or -ENOMEM. */
int jsonx_set(json_t *obj, const char *key, const char *s, size_t n);
/* Same with a NUL-terminated s (or NULL). */
int jsonx_sets(json_t *obj, const char *key, const char *s);
/* obj[key] = array of the n strings v, and when one of them is not valid
 * UTF-8, obj[key "_base64"] = an array holding, for each, null or its
 * bytes. 0 or -ENOMEM. */
int jsonx_set_array(json_t *obj, const char *key, const char *const *v,
		    size_t n);
/* The n bytes at s for a person to read: valid UTF-8 kept, every invalid
 * byte and every control byte but tab and newline as \xHH (malloc'd, NUL-terminated; NULL when out of memory). */
char *jsonx_visible(const char *s, size_t n);

/* An answer of a line protocol (the control socket's, the agent's) as
 * the text of one line, without its "\n": obj (taken) with "ok":true
 * added when it has no "ok" and "v":version; when obj is NULL (it could
 * not be built) or its text would not fit in line_max bytes with the
 * newline, an {"v":version,"ok":false,"error":...} that says which.
 * malloc'd; NULL only when out of memory. */
char *jsonx_answer(json_t *obj, int version, size_t line_max);

/* Decode base64 text (RFC 4648, padding optional, no whitespace) into a
 * malloc'd buffer with a NUL after it, *n its length. NULL for text that
 * is not base64 (or out of memory). */
char *jsonx_unbase64(const char *s, size_t len, size_t *n);
/* obj[key] for a person to read (malloc'd): the exact bytes from
 * obj[key "_base64"] when that is there, every byte that is not UTF-8 as
 * \xHH; "" when key is missing; NULL when out of memory. */
char *jsonx_get_visible(const json_t *obj, const char *key);

/* Writing long byte streams (task output) straight to a fd. A source is
 * walked by an each function that hands its bytes to fn in chunks, and may
 * be walked twice. It returns 0 or the first negative fn returned. */
typedef int (*jsonx_chunk_fn)(void *ctx, const char *p, size_t n);
typedef int (*jsonx_each_fn)(const void *src, jsonx_chunk_fn fn, void *ctx);
/* Write "key":"text" and, when the bytes are not valid UTF-8,
 * ,"key_base64":"bytes" to fd. 0 or -errno. */
int jsonx_fd_field(int fd, const char *key, jsonx_each_fn each,
		   const void *src);
/* The same for n bytes in memory. */
int jsonx_fd_field_mem(int fd, const char *key, const char *s, size_t n);
/* Write one JSON string of the n bytes (U+FFFD for invalid ones). Returns
 * 0 when they were valid UTF-8, 1 when not, or -errno. */
int jsonx_fd_string(int fd, const char *s, size_t n);
/* Write the n bytes as one base64 JSON string. 0 or -errno. */
int jsonx_fd_base64(int fd, const char *s, size_t n);

#endif
