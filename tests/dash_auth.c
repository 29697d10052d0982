/* The dashboard's tokens (sched/agentd/dash_auth.c): one per uid, the
 * same when asked again, another with renew (the old one refused), 64
 * hex digits, refused when short, long, not hex or one digit off; at
 * DASH_TOKENS_MAX users the oldest token goes, the others stay; the link
 * names an IPv6 host in brackets; an admin's token shows every user's
 * batches, root's too, another user's only theirs. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched/agentd/dash_int.h"
#include "tests/tap.h"

/* 1 when hex is accepted, as whom into who. */
static int auth(struct dash *h, const char *hex, struct dash_who *who)
{
	return dash_auth(h, hex, strlen(hex), who) == 0;
}

int main(void)
{
	struct dash *h = calloc(1, sizeof *h);
	char t1[DASH_TOKEN_HEX + 1], t1b[DASH_TOKEN_HEX + 1],
		t2[DASH_TOKEN_HEX + 1], tr[DASH_TOKEN_HEX + 1],
		bad[DASH_TOKEN_HEX + 2], url[256];
	char first[DASH_TOKEN_HEX + 1], tok[DASH_TOKEN_HEX + 1];
	struct dash_who who;

	if (!h)
		return 1;
	snprintf(h->host, sizeof h->host, "127.0.0.1");
	h->port = 8080;
	is_int(dash_token(h, 1000, 0, 0, t1), 0, "a token for uid 1000");
	ok(strlen(t1) == DASH_TOKEN_HEX &&
	   strspn(t1, "0123456789abcdef") == DASH_TOKEN_HEX,
	   "64 hex digits");
	dash_token(h, 1000, 0, 0, t1b);
	is_str(t1b, t1, "asked again: the same");
	dash_token(h, 1001, 1, 0, t2);
	dash_token(h, 0, 0, 0, tr);
	ok(strcmp(t2, t1) && strcmp(tr, t1) && strcmp(tr, t2),
	   "other users: other tokens");
	ok(auth(h, t1, &who) && who.uid == 1000 && !who.all,
	   "uid 1000's token: uid 1000, its own batches");
	ok(auth(h, t2, &who) && who.uid == 1001 && who.all,
	   "an admin's token: every user's batches");
	ok(auth(h, tr, &who) && who.uid == 0 && who.all,
	   "root's token: every user's batches");
	for (size_t i = 0; i < DASH_TOKEN_HEX; i++)
		t1b[i] = (char)toupper((unsigned char)t1[i]);
	ok(auth(h, t1b, &who) && who.uid == 1000, "upper-case hex: the same");
	memcpy(bad, t1, sizeof t1);
	bad[DASH_TOKEN_HEX - 1] = bad[DASH_TOKEN_HEX - 1] == '0' ? '1' : '0';
	ok(!auth(h, bad, &who), "one digit off: refused");
	bad[DASH_TOKEN_HEX - 1] = 0;
	ok(!auth(h, bad, &who), "one digit short: refused");
	memcpy(bad, t1, sizeof t1);
	strcat(bad, "0");
	ok(!auth(h, bad, &who), "one digit more: refused");
	memcpy(bad, t1, sizeof t1);
	bad[3] = 'g';
	ok(!auth(h, bad, &who), "not hex: refused");
	memset(bad, '0', DASH_TOKEN_HEX);
	bad[DASH_TOKEN_HEX] = 0;
	ok(!auth(h, bad, &who), "all zeros (an unused slot's key): refused");
	ok(!auth(h, "", &who), "empty: refused");

	dash_token(h, 1000, 0, 1, t1b);
	ok(strcmp(t1b, t1) && auth(h, t1b, &who) && who.uid == 1000,
	   "renew: a new token for uid 1000");
	ok(!auth(h, t1, &who), "... and the old one is refused");

	/* fill every slot: the oldest (uid 1001, issued before 0 and the
	 * renewed 1000) goes first */
	memcpy(first, t2, sizeof first);
	for (uid_t u = 2000; u < 2000 + DASH_TOKENS_MAX - 3; u++)
		dash_token(h, u, 0, 0, tok);
	ok(auth(h, first, &who) && auth(h, tr, &who) && auth(h, tok, &who),
	   "%d users: every token still valid", DASH_TOKENS_MAX);
	dash_token(h, 5000, 0, 0, tok);
	ok(!auth(h, first, &who), "one user more: the oldest token goes");
	ok(auth(h, tok, &who) && who.uid == 5000 && auth(h, tr, &who) &&
	   auth(h, t1b, &who), "... the newest and the others stay");

	dash_url(h, "ab", url, sizeof url);
	is_str(url, "http://127.0.0.1:8080/?token=ab", "the link");
	snprintf(h->host, sizeof h->host, "::1");
	dash_url(h, "ab", url, sizeof url);
	is_str(url, "http://[::1]:8080/?token=ab", "the link on [::1]");
	free(h);
	return tap_done();
}
