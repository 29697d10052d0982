/* The agent's fair split (sched/agentd/share.c): idle PUs split between
 * users, not batches (5 batches against 1 get the same), max-min (what one
 * user does not want goes to the others), [limits] max_pus, a grant never
 * below the holding, a leaving user's share taken up at the next split,
 * and the free-PU count of a snapshot. */
#include <string.h>

#include "sched/agentd/share.h"
#include "tests/tap.h"

/* Sum of grants of uid's batches. */
static int user_grant(const struct share_batch *b, size_t n, uid_t uid)
{
	int g = 0;

	for (size_t i = 0; i < n; i++)
		if (b[i].uid == uid)
			g += b[i].grant;
	return g;
}

int main(void)
{
	struct share_batch b[8];
	int users;

	/* A: 5 batches each wanting 8; B: 1 batch wanting 8; 8 PUs free */
	memset(b, 0, sizeof b);
	for (int i = 0; i < 5; i++)
		b[i] = (struct share_batch){ .uid = 1000, .want = 8 };
	b[5] = (struct share_batch){ .uid = 1001, .want = 8 };
	users = share_split(8, b, 6);
	is_int(users, 2, "two users want PUs");
	is_int(user_grant(b, 6, 1000), 4, "user A with 5 batches: 4 of 8");
	is_int(user_grant(b, 6, 1001), 4, "user B with 1 batch: 4 of 8");
	ok(b[0].grant == 1 && b[1].grant == 1 && b[2].grant == 1 &&
	   b[3].grant == 1 && b[4].grant == 0,
	   "A's 4 between its 5 batches, one each, earlier first (%d %d %d %d %d)",
	   b[0].grant, b[1].grant, b[2].grant, b[3].grant, b[4].grant);

	/* max-min: B wants 1, A gets the rest */
	b[5].want = 1;
	share_split(8, b, 6);
	is_int(user_grant(b, 6, 1001), 1, "B wants 1: gets 1");
	is_int(user_grant(b, 6, 1000), 7, "A gets what B leaves: 7");

	/* B leaves: A takes all at the next split */
	share_split(8, b, 5);
	is_int(user_grant(b, 5, 1000), 8, "B gone: A gets all 8");

	/* a cap: A's max_pus 3 */
	for (int i = 0; i < 5; i++)
		b[i].cap = 3;
	b[5] = (struct share_batch){ .uid = 1001, .want = 2 };
	share_split(8, b, 6);
	is_int(user_grant(b, 6, 1000), 3, "A capped by max_pus 3");
	is_int(user_grant(b, 6, 1001), 2, "B gets its 2; 3 PUs stay free");

	/* a grant never below the holding */
	memset(b, 0, sizeof b);
	b[0] = (struct share_batch){ .uid = 1000, .want = 6, .holding = 6 };
	b[1] = (struct share_batch){ .uid = 1001, .want = 6 };
	share_split(4, b, 2);
	is_int(b[0].grant, 6, "A holds 6 of 4 free: keeps 6 (not taken back)");
	is_int(b[1].grant, 2, "B gets its fair 2");

	/* odd PU: to the user holding more (fewer changes), then lower uid */
	memset(b, 0, sizeof b);
	b[0] = (struct share_batch){ .uid = 1001, .want = 9 };
	b[1] = (struct share_batch){ .uid = 1000, .want = 9 };
	share_split(3, b, 2);
	ok(b[1].grant == 2 && b[0].grant == 1, "3 PUs for 2 users: the lower "
	   "uid gets the odd one (%d %d)", b[1].grant, b[0].grant);
	b[0].holding = 2;
	share_split(3, b, 2);
	ok(b[0].grant == 2 && b[1].grant == 1, "... unless the other holds more "
	   "(%d %d)", b[0].grant, b[1].grant);

	/* nobody wants: grants are the holdings, users 0 */
	memset(b, 0, sizeof b);
	b[0] = (struct share_batch){ .uid = 1000, .holding = 1 };
	is_int(share_split(4, b, 1), 0, "no demand: 0 users want");
	is_int(b[0].grant, 1, "... and the grant is the holding");
	is_int(share_split(0, b, 0), 0, "no batches: fine");
	b[0] = (struct share_batch){ .uid = 1000, .want = 3, .holding = 0 };
	share_split(0, b, 1);
	is_int(b[0].grant, 0, "nothing free: grant 0");
	b[0].want = -5;
	share_split(4, b, 1);
	is_int(b[0].grant, 0, "a negative want counts as 0");

	/* free PUs of a snapshot */
	{
		double busy[5] = { 0.0, 0.49, 0.5, 1.0, 0.1 };
		int online[5] = { 1, 1, 1, 1, 0 };
		is_int(share_free_pus(busy, online, 5), 2,
		       "free: online PUs under half busy by others");
	}
	return tap_done();
}
