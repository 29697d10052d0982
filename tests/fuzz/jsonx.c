/* libFuzzer target for sched/jsonx: any bytes put into JSON (jsonx_set, the
 * fd writer in chunks of a size the input picks) give a document jansson
 * parses back, whose KEY or KEY_base64 holds exactly the input bytes; the
 * base64 decoder takes any text without crashing. Seeds in
 * tests/fuzz/seeds-jsonx/. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "sched/jsonx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The bytes of o[key], from key_base64 when there; NULL when malformed. */
static char *fuzz_bytes(const json_t *o, const char *key, size_t *n)
{
	char k64[64];
	const json_t *b, *t = json_object_get(o, key);

	snprintf(k64, sizeof k64, "%s_base64", key);
	b = json_object_get(o, k64);
	if (b)
		return jsonx_unbase64(json_string_value(b),
				      json_string_length(b), n);
	if (!json_is_string(t))
		return NULL;
	*n = json_string_length(t);
	char *c = malloc(*n + 1);
	if (c)
		memcpy(c, json_string_value(t), *n + 1);
	return c;
}

struct fuzz_src {
	const char *s;
	size_t n, step;
};

/* Hand the bytes over in chunks of step. */
static int fuzz_each(const void *src, jsonx_chunk_fn fn, void *ctx)
{
	const struct fuzz_src *f = src;

	for (size_t i = 0; i < f->n; i += f->step) {
		int r = fn(ctx, f->s + i, f->n - i < f->step ? f->n - i : f->step);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Round trip through jsonx_set + json_dumps, and through the fd writer. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	json_t *o = json_object(), *back;
	char *text, *got, buf[1 << 16];
	size_t n = 0;
	int p[2];

	if (size > 8192)
		return 0;
	if (jsonx_set(o, "k", s, size) < 0)
		abort();
	text = json_dumps(o, JSON_COMPACT);
	back = text ? json_loads(text, JSON_ALLOW_NUL, NULL) : NULL;
	got = back ? fuzz_bytes(back, "k", &n) : NULL;
	if (!got || n != size || memcmp(got, s, size))
		abort();
	free(got);
	free(text);
	json_decref(back);
	json_decref(o);

	struct fuzz_src f = { s, size, size ? (size_t)data[0] % 7 + 1 : 1 };
	if (pipe(p) < 0)
		return 0;
	if (write(p[1], "{", 1) != 1 || jsonx_fd_field(p[1], "k", fuzz_each, &f) ||
	    write(p[1], "}", 1) != 1)
		abort();
	close(p[1]);
	ssize_t r, len = 0;
	while ((r = read(p[0], buf + len, sizeof buf - 1 - (size_t)len)) > 0)
		len += r;
	close(p[0]);
	buf[len] = 0;
	back = json_loads(buf, JSON_ALLOW_NUL, NULL);
	got = back ? fuzz_bytes(back, "k", &n) : NULL;
	if (!got || n != size || memcmp(got, s, size))
		abort();
	free(got);
	json_decref(back);

	got = jsonx_unbase64(s, size, &n);	/* any text: no crash */
	free(got);
	return 0;
}
