/* Tests for sched/jsonx: valid UTF-8 kept as it is; each invalid byte
 * (stray continuation, overlong form, surrogate, above U+10FFFF, a
 * sequence cut by the end) as U+FFFD with the exact bytes in KEY_base64;
 * jansson accepts every string made; base64 round trips; the fd writers
 * give the same bytes across chunk boundaries (a sequence split between
 * two chunks stays one character); \xHH for people. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "sched/jsonx.h"
#include "tests/tap.h"

/* The text a fd writer produced, read back from a pipe. */
static char *capture(int (*fn)(int fd, const void *arg), const void *arg)
{
	static char buf[1 << 16];
	int p[2];
	ssize_t n, got = 0;

	if (pipe(p) < 0)
		tap_bail("pipe");
	if (fn(p[1], arg) < 0)
		tap_bail("writer failed");
	close(p[1]);
	while ((n = read(p[0], buf + got, sizeof buf - 1 - (size_t)got)) > 0)
		got += n;
	close(p[0]);
	buf[got] = 0;
	return buf;
}

struct chunks {
	const char *s;
	size_t n, step;
};

/* Hand the bytes over step bytes at a time. */
static int each_chunks(const void *src, jsonx_chunk_fn fn, void *ctx)
{
	const struct chunks *c = src;

	for (size_t i = 0; i < c->n; i += c->step) {
		size_t k = c->n - i < c->step ? c->n - i : c->step;
		int r = fn(ctx, c->s + i, k);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Write {"x": ...} through jsonx_fd_field. */
static int write_field(int fd, const void *arg)
{
	int r = (int)write(fd, "{", 1) == 1 ? 0 : -1;

	if (!r)
		r = jsonx_fd_field(fd, "x", each_chunks, arg);
	if (!r)
		r = (int)write(fd, "}", 1) == 1 ? 0 : -1;
	return r;
}

/* The bytes back from a KEY/KEY_base64 pair, for comparing. */
static int same_bytes(const json_t *o, const char *key, const char *s,
		      size_t n)
{
	char k64[64];
	const json_t *b;
	size_t m;
	char *raw;
	int same;

	snprintf(k64, sizeof k64, "%s_base64", key);
	b = json_object_get(o, k64);
	if (!b) {
		const json_t *t = json_object_get(o, key);
		return json_is_string(t) && json_string_length(t) == n &&
		       !memcmp(json_string_value(t), s, n);
	}
	raw = jsonx_unbase64(json_string_value(b), json_string_length(b), &m);
	same = raw && m == n && !memcmp(raw, s, n);
	free(raw);
	return same;
}

static const struct {
	const char *name, *in;
	size_t n;
	const char *text;	/* what jsonx_string gives */
	int valid;
} cases[] = {
	{ "ascii", "plain", 5, "plain", 1 },
	{ "two-byte", "caf\xc3\xa9", 5, "caf\xc3\xa9", 1 },
	{ "four-byte", "\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80", 1 },
	{ "latin-1 e-acute", "caf\xe9", 4, "caf\xef\xbf\xbd", 0 },
	{ "0xff", "\xff", 1, "\xef\xbf\xbd", 0 },
	{ "stray continuation", "a\x80z", 3, "a\xef\xbf\xbdz", 0 },
	{ "overlong slash", "\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd", 0 },
	{ "surrogate", "\xed\xa0\x80", 3,
	  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 0 },
	{ "above U+10FFFF", "\xf4\x90\x80\x80", 4,
	  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 0 },
	{ "cut at the end", "ab\xe2\x82", 4, "ab\xef\xbf\xbd\xef\xbf\xbd", 0 },
	{ "literal U+FFFD stays valid", "\xef\xbf\xbd", 3, "\xef\xbf\xbd", 1 },
};

/* jsonx_string, jsonx_set and the fd writer on each case. */
static void test_cases(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *in = cases[i].in;
		size_t n = cases[i].n;
		json_t *s = jsonx_string(in, n), *o = json_object();

		is_int(jsonx_valid(in, n), cases[i].valid, "%s: valid %d",
		       cases[i].name, cases[i].valid);
		ok(s && json_string_length(s) == strlen(cases[i].text) &&
		   !memcmp(json_string_value(s), cases[i].text,
			   strlen(cases[i].text)),
		   "%s: the string", cases[i].name);
		json_decref(s);
		is_int(jsonx_set(o, "k", in, n), 0, "%s: set", cases[i].name);
		is_int(json_object_get(o, "k_base64") != NULL, !cases[i].valid,
		       "%s: k_base64 %s", cases[i].name,
		       cases[i].valid ? "absent" : "present");
		ok(same_bytes(o, "k", in, n), "%s: exact bytes back",
		   cases[i].name);
		/* the fd writer, one byte a chunk: the same document */
		struct chunks c = { in, n, 1 };
		json_error_t je;
		json_t *d = json_loads(capture(write_field, &c), 0, &je);
		ok(d && same_bytes(d, "x", in, n), "%s: fd writer, 1-byte "
		   "chunks: parses, exact bytes back", cases[i].name);
		ok(d && json_equal(json_object_get(d, "x"),
				   json_object_get(o, "k")),
		   "%s: ... same text as jsonx_string", cases[i].name);
		json_decref(d);
		json_decref(o);
	}
}

/* Every byte value, in chunks of every size from 1 to 7. */
static void test_all_bytes(void)
{
	char all[512];
	int good = 1;

	for (int i = 0; i < 512; i++)
		all[i] = (char)(i < 256 ? i : 511 - i);
	for (size_t step = 1; step <= 7; step++) {
		struct chunks c = { all, sizeof all, step };
		json_error_t je;
		json_t *d = json_loads(capture(write_field, &c),
				       JSON_ALLOW_NUL, &je);

		good &= d && same_bytes(d, "x", all, sizeof all);
		json_decref(d);
	}
	ok(good, "all 256 byte values, chunks of 1..7: jansson parses the "
	   "line and the bytes come back exactly");
}

/* Arrays, NULL, visible text, base64 edge cases. */
static void test_misc(void)
{
	const char *v[] = { "ok", "b\xfe", "" };
	json_t *o = json_object();
	char *t;
	size_t n;

	is_int(jsonx_set_array(o, "v", v, 3), 0, "set_array");
	t = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	is_str(t, "{\"v\":[\"ok\",\"b\xef\xbf\xbd\",\"\"],"
	       "\"v_base64\":[null,\"Yv4=\",null]}",
	       "an array gets a twin of nulls and base64");
	free(t);
	json_object_clear(o);
	is_int(jsonx_set_array(o, "v", v, 1), 0, "set_array, all valid");
	ok(!json_object_get(o, "v_base64"), "... no twin");
	is_int(jsonx_sets(o, "n", NULL), 0, "NULL");
	ok(json_is_null(json_object_get(o, "n")), "... is null");
	json_decref(o);

	t = jsonx_visible("a\xff\tb\x1b[c\xc3\xa9", 9);
	is_str(t, "a\\xFF\tb\\x1B[c\xc3\xa9",
	       "visible: \\xHH for invalid and control bytes, tab kept");
	free(t);
	o = json_pack("{s:s,s:s}", "k", "x\xef\xbf\xbd", "k_base64", "eP8=");
	t = jsonx_get_visible(o, "k");
	is_str(t, "x\\xFF", "get_visible reads the exact bytes");
	free(t);
	json_decref(o);

	for (size_t len = 0; len < 5; len++) {
		json_t *b = jsonx_base64("\x00\xff\x10\x80", len);
		char *raw = jsonx_unbase64(json_string_value(b),
					   json_string_length(b), &n);
		ok(raw && n == len && !memcmp(raw, "\x00\xff\x10\x80", len),
		   "base64 of %zu bytes round trips (%s)", len,
		   json_string_value(b));
		free(raw);
		json_decref(b);
	}
	ok(jsonx_unbase64("a*bc", 4, &n) == NULL, "not base64: NULL");
	ok(jsonx_unbase64("abcde", 5, &n) == NULL, "a lone 6 bits: NULL");
}

/* jsonx_answer: the one answer line of the line protocols. */
static void test_answer(void)
{
	char *s = jsonx_answer(json_pack("{s:i}", "n", 3), 7, 100);

	ok(s && !strcmp(s, "{\"n\":3,\"ok\":true,\"v\":7}"),
	   "ok:true and v added (%s)", s ? s : "NULL");
	free(s);
	s = jsonx_answer(json_pack("{s:b}", "ok", 0), 7, 100);
	ok(s && strstr(s, "\"ok\":false") && !strstr(s, "true"),
	   "an ok:false is kept (%s)", s ? s : "NULL");
	free(s);
	s = jsonx_answer(json_pack("{s:s}", "x", "0123456789"), 2, 20);
	ok(s && !strcmp(s, "{\"v\":2,\"ok\":false,\"error\":"
			"\"answer too long\"}"),
	   "an answer over the line's bound is an error (%s)", s ? s : "NULL");
	free(s);
	s = jsonx_answer(NULL, 2, 100);
	ok(s && strstr(s, "cannot build the answer"),
	   "no object: an error that says so (%s)", s ? s : "NULL");
	free(s);
}

int main(void)
{
	test_answer();
	test_cases();
	test_all_bytes();
	test_misc();
	return tap_done();
}
