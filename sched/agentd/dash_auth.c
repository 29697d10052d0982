/* sched/agentd/dash_auth: the dashboard's tokens. One per user, issued to
 * the peer of the agent's socket (its uid from SO_PEERCRED) by the
 * "dashboard" request, DASH_TOKEN_BYTES from getrandom, kept in the
 * agent's memory only (an agent restart forgets them all) and never
 * logged. A request's token is compared with every token in constant
 * time. Called in the agent's loop. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "sched/agentd/dash_int.h"

/* The value of hex digit c, -1 when it is none. */
static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* See dash.h. */
int dash_token(struct dash *h, uid_t uid, int admin, int renew,
	       char hex[DASH_TOKEN_HEX + 1])
{
	struct dash_tok *t = NULL, *slot = NULL;
	size_t got = 0;

	/* the user's own; else a free slot; else the oldest token goes */
	for (int i = 0; i < DASH_TOKENS_MAX && !t; i++) {
		struct dash_tok *k = &h->tok[i];
		if (k->used && k->uid == uid)
			t = k;
		else if (!k->used && (!slot || slot->used))
			slot = k;
		else if (k->used && (!slot || (slot->used &&
					       k->issued_ns < slot->issued_ns)))
			slot = k;
	}
	if (!t) {
		t = slot;
		renew = 1;
	}
	if (renew) {
		while (got < sizeof t->key) {
			ssize_t n = getrandom(t->key + got, sizeof t->key - got,
					      0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				memset(t, 0, sizeof *t);
				return -errno;
			}
			got += (size_t)n;
		}
		t->issued_ns = loop_now_ns();
	}
	t->used = 1;
	t->uid = uid;
	t->admin = admin;
	for (int i = 0; i < DASH_TOKEN_BYTES; i++)
		snprintf(hex + 2 * i, 3, "%02x", t->key[i]);
	return 0;
}

/* See dash.h. */
void dash_url(const struct dash *h, const char *hex, char *buf, size_t len)
{
	int v6 = strchr(h->host, ':') != NULL;

	snprintf(buf, len, "http://%s%s%s:%d/?token=%s", v6 ? "[" : "",
		 h->host, v6 ? "]" : "", h->port, hex);
}

/* See dash_int.h. */
int dash_auth(const struct dash *h, const char *hex, size_t n,
	      struct dash_who *who)
{
	unsigned char key[DASH_TOKEN_BYTES];
	int found = -1;

	if (n != DASH_TOKEN_HEX)
		return -1;
	for (int i = 0; i < DASH_TOKEN_BYTES; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		key[i] = (unsigned char)(hi << 4 | lo);
	}
	/* every token compared whole, whatever matched before */
	for (int i = 0; i < DASH_TOKENS_MAX; i++) {
		unsigned char diff = 0;
		for (int j = 0; j < DASH_TOKEN_BYTES; j++)
			diff |= (unsigned char)(key[j] ^ h->tok[i].key[j]);
		/* 1 when equal and in use, without a branch on the bytes */
		int eq = (int)(((unsigned)diff - 1u) >> 8 & 1u) &
			 (h->tok[i].used != 0);
		found = eq ? i : found;
	}
	memset(key, 0, sizeof key);
	if (found < 0)
		return -1;
	who->uid = h->tok[found].uid;
	who->all = h->tok[found].uid == 0 || h->tok[found].admin;
	return 0;
}
