/* sched/jsonx: JSON strings from arbitrary bytes (sched/jsonx.h): valid
 * UTF-8 kept, invalid bytes as U+FFFD plus the exact bytes in base64 in a
 * KEY_base64 sibling; \xHH for text meant for people. One streaming
 * encoder serves both jansson values and writes straight to a fd (task
 * output of any size). Called from the CLI and the control socket's loop. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sched/jsonx.h"

#define JSONX_FFFD "\xef\xbf\xbd"

/* Length of the valid UTF-8 sequence at p (n bytes there): >0 valid, 0 cut
 * short by the end of the chunk (more may follow), -1 invalid. */
static int jsonx_seq(const unsigned char *p, size_t n)
{
	unsigned cp, min;
	int len;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f, min = 0x80;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f, min = 0x800;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07, min = 0x10000;
	else
		return -1;
	for (int i = 1; i < len; i++) {
		if ((size_t)i >= n)
			return 0;
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (p[i] & 0x3f);
		/* overlong, surrogate and too-big forms fail at their
		 * second byte already (a later byte cannot mend them) */
		if (i == 1 && ((len == 3 && cp < 0x20) || (len == 4 && cp < 0x10)
			       || (len == 3 && cp >= 0x360 && cp <= 0x37f)
			       || (len == 4 && cp > 0x10f)))
			return -1;
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	return len;
}

/* 1 when all n bytes are valid UTF-8. */
int jsonx_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < n;) {
		int l = jsonx_seq(p + i, n - i);
		if (l <= 0)
			return 0;
		i += (size_t)l;
	}
	return 1;
}

/* The encoder: bytes in, JSON string text out through put, an incomplete
 * sequence carried over to the next chunk. */
struct jsonx_enc {
	jsonx_chunk_fn put;
	void *ctx;
	int json;		/* 1: JSON escapes; 0: \xHH text for people */
	int invalid;		/* an invalid byte was met */
	unsigned char carry[4];
	size_t ncarry;
	char out[4096];
	size_t olen;
};

/* Stage n bytes of output. */
static int jsonx_put(struct jsonx_enc *e, const char *p, size_t n)
{
	while (n) {
		if (e->olen == sizeof e->out) {
			int r = e->put(e->ctx, e->out, e->olen);
			if (r < 0)
				return r;
			e->olen = 0;
		}
		size_t k = sizeof e->out - e->olen < n ? sizeof e->out - e->olen
						       : n;
		memcpy(e->out + e->olen, p, k);
		e->olen += k;
		p += k;
		n -= k;
	}
	return 0;
}

/* Encode one byte that is not valid UTF-8 here. */
static int jsonx_bad(struct jsonx_enc *e, unsigned char c)
{
	char x[8];

	e->invalid = 1;
	if (e->json)
		return jsonx_put(e, JSONX_FFFD, 3);
	snprintf(x, sizeof x, "\\x%02X", c);
	return jsonx_put(e, x, 4);
}

/* Encode a chunk; final: nothing follows, so a cut sequence is invalid. */
static int jsonx_feed(struct jsonx_enc *e, const unsigned char *p, size_t n,
		      int final)
{
	size_t i = 0;
	char esc[8];
	int r = 0;

	while (i < n && r == 0) {
		unsigned char c = p[i];
		size_t k = i;

		while (k < n && p[k] >= 0x20 && p[k] < 0x80 &&
		       (!e->json || (p[k] != '"' && p[k] != '\\')))
			k++;
		if (k > i) {
			r = jsonx_put(e, (const char *)p + i, k - i);
			i = k;
			continue;
		}
		if (c >= 0x80) {
			int len = jsonx_seq(p + i, n - i);
			if (len == 0 && !final) {
				memcpy(e->carry, p + i, n - i);
				e->ncarry = n - i;
				return 0;
			}
			if (len > 0)
				r = jsonx_put(e, (const char *)p + i,
					      (size_t)len);
			else
				r = jsonx_bad(e, c);
			i += len > 0 ? (size_t)len : 1;
			continue;
		}
		if (!e->json && (c == '\n' || c == '\t')) {
			r = jsonx_put(e, (const char *)&c, 1);
		} else if (!e->json) {	/* no raw control bytes for people */
			snprintf(esc, sizeof esc, "\\x%02X", c);
			r = jsonx_put(e, esc, 4);
		} else {
			switch (c) {
			case '"': r = jsonx_put(e, "\\\"", 2); break;
			case '\\': r = jsonx_put(e, "\\\\", 2); break;
			case '\n': r = jsonx_put(e, "\\n", 2); break;
			case '\t': r = jsonx_put(e, "\\t", 2); break;
			case '\r': r = jsonx_put(e, "\\r", 2); break;
			default:
				snprintf(esc, sizeof esc, "\\u%04x", c);
				r = jsonx_put(e, esc, 6);
			}
		}
		i++;
	}
	return r;
}

/* Chunk callback: complete a carried sequence first, then encode. */
static int jsonx_chunk(void *ctx, const char *s, size_t n)
{
	struct jsonx_enc *e = ctx;
	const unsigned char *p = (const unsigned char *)s;

	while (e->ncarry && n) {
		unsigned char tmp[8];
		size_t have = e->ncarry, take = n < 4 ? n : 4;
		int len, r;

		memcpy(tmp, e->carry, have);
		memcpy(tmp + have, p, take);
		len = jsonx_seq(tmp, have + take);
		e->ncarry = 0;
		if (len == 0) {		/* still cut short: all of p taken */
			memcpy(e->carry, tmp, have + take);
			e->ncarry = have + take;
			return 0;
		}
		size_t used = len > 0 ? (size_t)len : 1;
		r = jsonx_feed(e, tmp, used, 1);
		if (r < 0)
			return r;
		if (used < have) {	/* carried bytes left over */
			memmove(e->carry, e->carry + used, have - used);
			e->ncarry = have - used;
			continue;
		}
		p += used - have;
		n -= used - have;
	}
	return jsonx_feed(e, p, n, 0);
}

/* Encode a whole source; returns 0/1 (invalid bytes met) or -errno. */
static int jsonx_encode(struct jsonx_enc *e, jsonx_each_fn each,
			const void *src)
{
	int r = each(src, jsonx_chunk, e);

	while (r == 0 && e->ncarry) {	/* what is still carried is invalid */
		unsigned char tmp[4];
		size_t have = e->ncarry;

		memcpy(tmp, e->carry, have);
		e->ncarry = 0;
		r = jsonx_bad(e, tmp[0]);
		if (r == 0 && have > 1)
			r = jsonx_chunk(e, (const char *)tmp + 1, have - 1);
	}
	if (r == 0 && e->olen)
		r = e->put(e->ctx, e->out, e->olen);
	e->olen = 0;
	return r < 0 ? r : e->invalid;
}

struct jsonx_mem {
	const char *s;
	size_t n;
};

/* The each function of bytes in memory. */
static int jsonx_each_mem(const void *src, jsonx_chunk_fn fn, void *ctx)
{
	const struct jsonx_mem *m = src;

	return m->n ? fn(ctx, m->s, m->n) : 0;
}

/* A growing string as the encoder's output. */
struct jsonx_str {
	char *p;
	size_t len, cap;
};

/* Append to a jsonx_str. */
static int jsonx_str_put(void *ctx, const char *p, size_t n)
{
	struct jsonx_str *s = ctx;

	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 64;
		while (s->len + n + 1 > cap)
			cap *= 2;
		char *np = realloc(s->p, cap);
		if (!np)
			return -ENOMEM;
		s->p = np;
		s->cap = cap;
	}
	memcpy(s->p + s->len, p, n);
	s->len += n;
	s->p[s->len] = 0;
	return 0;
}

/* Encode n bytes into a malloc'd string (json: U+FFFD, else \xHH). */
static char *jsonx_recode(const char *s, size_t n, int json, size_t *len)
{
	struct jsonx_str out = { NULL, 0, 0 };
	struct jsonx_mem m = { s, n };
	struct jsonx_enc *e = calloc(1, sizeof *e);

	if (!e)
		return NULL;
	e->put = jsonx_str_put;
	e->ctx = &out;
	e->json = json;
	if (jsonx_encode(e, jsonx_each_mem, &m) < 0 ||
	    (!out.p && jsonx_str_put(&out, "", 0) < 0)) {
		free(out.p);
		out.p = NULL;
	}
	free(e);
	*len = out.len;
	return out.p;
}

/* A JSON string of the bytes, U+FFFD for invalid ones. */
json_t *jsonx_string(const char *s, size_t n)
{
	size_t len;
	char *t;
	json_t *j;

	if (jsonx_valid(s, n))
		return json_stringn(s, n);
	/* the JSON-mode encoder escapes for JSON text; jansson wants the
	 * plain characters, so only swap the invalid bytes here */
	struct jsonx_str out = { NULL, 0, 0 };
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		int l = jsonx_seq(p + i, n - i);
		if (jsonx_str_put(&out, l > 0 ? s + i : JSONX_FFFD,
				  l > 0 ? (size_t)l : 3) < 0) {
			free(out.p);
			return NULL;
		}
		i += l > 0 ? (size_t)l : 1;
	}
	t = out.p;
	len = out.len;
	j = json_stringn(t, len);
	free(t);
	return j;
}

static const char jsonx_b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Base64 of n bytes into out (4 * ((n + 2) / 3) bytes). */
static void jsonx_b64_encode(const unsigned char *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		size_t k = n - i;

		if (k > 1)
			v |= (unsigned)p[i + 1] << 8;
		if (k > 2)
			v |= p[i + 2];
		*out++ = jsonx_b64[v >> 18 & 63];
		*out++ = jsonx_b64[v >> 12 & 63];
		*out++ = k > 1 ? jsonx_b64[v >> 6 & 63] : '=';
		*out++ = k > 2 ? jsonx_b64[v & 63] : '=';
	}
}

/* The bytes as a base64 JSON string. */
json_t *jsonx_base64(const char *s, size_t n)
{
	size_t len = 4 * ((n + 2) / 3);
	char *b = malloc(len + 1);
	json_t *j;

	if (!b)
		return NULL;
	jsonx_b64_encode((const unsigned char *)s, n, b);
	j = json_stringn(b, len);
	free(b);
	return j;
}

/* key + "_base64" into buf. */
static int jsonx_b64_key(char *buf, size_t len, const char *key)
{
	int n = snprintf(buf, len, "%s_base64", key);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* obj[key] and, for invalid UTF-8, obj[key_base64]. */
int jsonx_set(json_t *obj, const char *key, const char *s, size_t n)
{
	char k64[256];

	if (jsonx_b64_key(k64, sizeof k64, key) < 0)
		return -ENAMETOOLONG;
	if (!s)
		return json_object_set_new(obj, key, json_null()) ? -ENOMEM : 0;
	if (json_object_set_new(obj, key, jsonx_string(s, n)) < 0)
		return -ENOMEM;
	if (!jsonx_valid(s, n) &&
	    json_object_set_new(obj, k64, jsonx_base64(s, n)) < 0)
		return -ENOMEM;
	return 0;
}

/* jsonx_set of a NUL-terminated string. */
int jsonx_sets(json_t *obj, const char *key, const char *s)
{
	return jsonx_set(obj, key, s, s ? strlen(s) : 0);
}

/* An array of strings, with a base64 twin when one is not valid UTF-8. */
int jsonx_set_array(json_t *obj, const char *key, const char *const *v,
		    size_t n)
{
	json_t *a = json_array(), *b = NULL;
	char k64[256];
	int bad = 0;

	if (jsonx_b64_key(k64, sizeof k64, key) < 0) {
		json_decref(a);
		return -ENAMETOOLONG;
	}
	for (size_t i = 0; a && i < n; i++) {
		if (json_array_append_new(a, jsonx_string(v[i], strlen(v[i]))))
			goto nomem;
		bad |= !jsonx_valid(v[i], strlen(v[i]));
	}
	if (bad) {
		b = json_array();
		for (size_t i = 0; b && i < n; i++) {
			size_t l = strlen(v[i]);
			if (json_array_append_new(b, jsonx_valid(v[i], l)
				? json_null() : jsonx_base64(v[i], l)))
				goto nomem;
		}
		if (!b || json_object_set_new(obj, k64, b) < 0) {
			b = NULL;
			goto nomem;
		}
	}
	return json_object_set_new(obj, key, a) < 0 ? -ENOMEM : 0;
nomem:
	json_decref(a);
	json_decref(b);
	return -ENOMEM;
}

/* Text for people: invalid bytes as \xHH. */
char *jsonx_visible(const char *s, size_t n)
{
	size_t len;

	return jsonx_recode(s, n, 0, &len);
}

/* The value of one base64 character, -1 for another. */
static int jsonx_b64_val(unsigned char c)
{
	const char *p = c ? strchr(jsonx_b64, c) : NULL;

	return p ? (int)(p - jsonx_b64) : -1;
}

/* Decode base64. */
char *jsonx_unbase64(const char *s, size_t len, size_t *n)
{
	char *out;
	size_t o = 0;
	unsigned v = 0;
	int bits = 0;

	while (len > 0 && s[len - 1] == '=')
		len--;
	if (len % 4 == 1)
		return NULL;
	out = malloc(len / 4 * 3 + 3);
	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		int d = jsonx_b64_val((unsigned char)s[i]);
		if (d < 0) {
			free(out);
			return NULL;
		}
		v = (v << 6 | (unsigned)d) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)(v >> bits & 0xff);
		}
	}
	out[o] = 0;
	*n = o;
	return out;
}

/* obj[key] for people, exact bytes from key_base64 when there. */
char *jsonx_get_visible(const json_t *obj, const char *key)
{
	const json_t *t = json_object_get(obj, key), *b;
	char k64[256], *raw, *v;
	size_t n;

	if (jsonx_b64_key(k64, sizeof k64, key) == 0 &&
	    json_is_string(b = json_object_get(obj, k64))) {
		raw = jsonx_unbase64(json_string_value(b),
				     json_string_length(b), &n);
		if (raw) {
			v = jsonx_visible(raw, n);
			free(raw);
			return v;
		}
	}
	if (!json_is_string(t))
		return strdup("");
	return jsonx_visible(json_string_value(t), json_string_length(t));
}

/* Write all of p to the fd in ctx, through EINTR and short writes. */
static int jsonx_fd_put(void *ctx, const char *p, size_t n)
{
	int fd = *(const int *)ctx;

	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One JSON string of a source to fd: 0 valid, 1 invalid bytes, -errno. */
static int jsonx_fd_text(int fd, jsonx_each_fn each, const void *src)
{
	struct jsonx_enc *e = calloc(1, sizeof *e);
	int r;

	if (!e)
		return -ENOMEM;
	e->put = jsonx_fd_put;
	e->ctx = &fd;
	e->json = 1;
	r = jsonx_fd_put(&fd, "\"", 1);
	if (r == 0)
		r = jsonx_encode(e, each, src);
	if (r >= 0) {
		int q = jsonx_fd_put(&fd, "\"", 1);
		if (q < 0)
			r = q;
	}
	free(e);
	return r;
}

/* Base64 writer state: up to 2 bytes carried between chunks. */
struct jsonx_b64w {
	int fd;
	unsigned char carry[3];
	size_t ncarry;
	char out[4096];
	size_t olen;
};

/* Encode a chunk in whole groups of 3 bytes; the rest is carried. */
static int jsonx_b64_chunk(void *ctx, const char *s, size_t n)
{
	struct jsonx_b64w *w = ctx;
	const unsigned char *p = (const unsigned char *)s;

	while (n) {
		while (w->ncarry < 3 && n) {
			w->carry[w->ncarry++] = *p++;
			n--;
		}
		if (w->ncarry < 3)
			break;
		if (w->olen + 4 > sizeof w->out) {
			int r = jsonx_fd_put(&w->fd, w->out, w->olen);
			if (r < 0)
				return r;
			w->olen = 0;
		}
		jsonx_b64_encode(w->carry, 3, w->out + w->olen);
		w->olen += 4;
		w->ncarry = 0;
	}
	return 0;
}

/* One base64 JSON string of a source to fd. */
static int jsonx_fd_b64(int fd, jsonx_each_fn each, const void *src)
{
	struct jsonx_b64w *w = calloc(1, sizeof *w);
	int r;

	if (!w)
		return -ENOMEM;
	w->fd = fd;
	r = jsonx_fd_put(&fd, "\"", 1);
	if (r == 0)
		r = each(src, jsonx_b64_chunk, w);
	if (r == 0 && w->ncarry) {
		jsonx_b64_encode(w->carry, w->ncarry, w->out + w->olen);
		w->olen += 4;
	}
	if (r == 0)
		r = jsonx_fd_put(&fd, w->out, w->olen);
	if (r == 0)
		r = jsonx_fd_put(&fd, "\"", 1);
	free(w);
	return r;
}

/* "key":"text"[,"key_base64":"bytes"] of a source to fd. */
int jsonx_fd_field(int fd, const char *key, jsonx_each_fn each,
		   const void *src)
{
	char k[300];
	int r, n = snprintf(k, sizeof k, "\"%s\":", key);

	if (n < 0 || (size_t)n >= sizeof k)
		return -ENAMETOOLONG;
	r = jsonx_fd_put(&fd, k, (size_t)n);
	if (r == 0)
		r = jsonx_fd_text(fd, each, src);
	if (r <= 0)
		return r;
	n = snprintf(k, sizeof k, ",\"%s_base64\":", key);
	r = jsonx_fd_put(&fd, k, (size_t)n);
	if (r == 0)
		r = jsonx_fd_b64(fd, each, src);
	return r;
}

/* jsonx_fd_field of bytes in memory. */
int jsonx_fd_field_mem(int fd, const char *key, const char *s, size_t n)
{
	struct jsonx_mem m = { s, n };

	return jsonx_fd_field(fd, key, jsonx_each_mem, &m);
}

/* One JSON string of bytes in memory: 0 valid, 1 not, -errno. */
int jsonx_fd_string(int fd, const char *s, size_t n)
{
	struct jsonx_mem m = { s, n };

	return jsonx_fd_text(fd, jsonx_each_mem, &m);
}

/* One base64 JSON string of bytes in memory. */
int jsonx_fd_base64(int fd, const char *s, size_t n)
{
	struct jsonx_mem m = { s, n };

	return jsonx_fd_b64(fd, jsonx_each_mem, &m);
}

/* One answer line; see jsonx.h. */
char *jsonx_answer(json_t *obj, int version, size_t line_max)
{
	char *s, e[160];

	if (obj && !json_object_get(obj, "ok"))
		json_object_set_new(obj, "ok", json_true());
	if (obj)
		json_object_set_new(obj, "v", json_integer(version));
	s = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	json_decref(obj);
	if (s && strlen(s) + 1 <= line_max)
		return s;
	/* never an empty "ok", never a line the peer cannot take */
	snprintf(e, sizeof e, "{\"v\":%d,\"ok\":false,\"error\":\"%s\"}",
		 version, s ? "answer too long"
			    : "cannot build the answer (out of memory)");
	free(s);
	return strdup(e);
}
