/* sched/agentd/share: how nicely-agent splits the PUs others leave idle
 * between users, then between each user's batches. A pure function (no
 * I/O, no clock, no globals), called once per tick by the agent's server
 * (agentd.c) and unit-tested in tests/agentd_share.c. */
#ifndef SCHED_AGENTD_SHARE_H
#define SCHED_AGENTD_SHARE_H

#include <stddef.h>
#include <sys/types.h>

/* One batch as the split sees it. */
struct share_batch {
	uid_t uid;
	int want;	/* PUs it could use now (running + waiting), >= 0 */
	int holding;	/* PUs it holds now, >= 0 */
	int cap;	/* its user's [limits] max_pus as a count, 0: none */
	int grant;	/* out: PUs it may hold until the next split */
};

/* Split nfree PUs (>= 0) between the n batches:
 * 1. each user's demand is the sum of its batches' wants, at most cap;
 * 2. users get max-min fair shares of nfree (water-filling: equal shares,
 *    what a user does not want goes to the others), one PU at a time to
 *    the user with the least so far (ties: the one holding more, so fewer
 *    PUs change hands, then the lower uid);
 * 3. each user's share is split between its batches the same way (ties:
 *    holding more, then the earlier batch in the array);
 * 4. a grant never drops below what the batch holds.
 * Returns the number of users that want PUs (their demand > 0). */
int share_split(int nfree, struct share_batch *b, size_t n);

/* The free PUs of a snapshot: PUs online whose smoothed busy-by-others is
 * under half a PU (busy[i] in 0..1, online[i] 0/1). */
int share_free_pus(const double *busy, const int *online, size_t npus);

#endif
