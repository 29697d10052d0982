/* sched/agentd/share: the fair split of idle PUs between users and then
 * between their batches (share.h). Pure; called by the agent once per
 * tick. Water-filling one PU at a time: at most free * users steps, and
 * free is at most the machine's PUs. */
#include <stdlib.h>

#include "sched/agentd/share.h"

/* One party of a split: a user, or a batch of one user. */
struct party {
	int demand, got, holding;
	long order;	/* tie-break: lower first */
};

/* Give up to free units to parties by max-min fairness. */
static void fill(struct party *p, size_t n, int left)
{
	while (left > 0) {
		struct party *best = NULL;

		for (size_t i = 0; i < n; i++) {
			struct party *q = &p[i];
			if (q->got >= q->demand)
				continue;
			if (!best || q->got < best->got ||
			    (q->got == best->got &&
			     (q->holding > best->holding ||
			      (q->holding == best->holding &&
			       q->order < best->order))))
				best = q;
		}
		if (!best)
			return;
		best->got++;
		left--;
	}
}

/* Split free PUs between users, then batches. */
int share_split(int nfree, struct share_batch *b, size_t n)
{
	struct party *users, *batches;
	size_t *uidx, nu = 0;
	int wanting = 0;

	for (size_t i = 0; i < n; i++)
		b[i].grant = b[i].holding > 0 ? b[i].holding : 0;
	if (n == 0)
		return 0;
	users = calloc(n, sizeof *users);
	batches = calloc(n, sizeof *batches);
	uidx = calloc(n, sizeof *uidx);
	if (!users || !batches || !uidx) {
		/* no memory: nobody grows, nothing is taken back */
		free(users);
		free(batches);
		free(uidx);
		return 0;
	}
	/* users, in order of first appearance */
	for (size_t i = 0; i < n; i++) {
		size_t u;
		for (u = 0; u < nu; u++)
			if (b[uidx[u]].uid == b[i].uid)
				break;
		if (u == nu)
			uidx[nu++] = i;
		int w = b[i].want > 0 ? b[i].want : 0;
		users[u].demand += w;
		users[u].holding += b[i].holding > 0 ? b[i].holding : 0;
		users[u].order = (long)b[i].uid;
	}
	for (size_t u = 0; u < nu; u++) {
		int cap = b[uidx[u]].cap;
		if (cap > 0 && users[u].demand > cap)
			users[u].demand = cap;
		wanting += users[u].demand > 0;
	}
	fill(users, nu, nfree > 0 ? nfree : 0);
	/* each user's share between its batches */
	for (size_t u = 0; u < nu; u++) {
		struct party *bp = batches;
		size_t k = 0;

		for (size_t i = 0; i < n; i++) {
			if (b[i].uid != b[uidx[u]].uid)
				continue;
			bp[k].demand = b[i].want > 0 ? b[i].want : 0;
			bp[k].holding = b[i].holding > 0 ? b[i].holding : 0;
			bp[k].got = 0;
			bp[k].order = (long)i;
			k++;
		}
		fill(bp, k, users[u].got);
		k = 0;
		for (size_t i = 0; i < n; i++) {
			if (b[i].uid != b[uidx[u]].uid)
				continue;
			if (bp[k].got > b[i].grant)
				b[i].grant = bp[k].got;
			k++;
		}
	}
	free(users);
	free(batches);
	free(uidx);
	return wanting;
}

/* PUs online and under half busy by others. */
int share_free_pus(const double *busy, const int *online, size_t npus)
{
	int n = 0;

	for (size_t i = 0; i < npus; i++)
		n += online[i] && busy[i] < 0.5;
	return n;
}
