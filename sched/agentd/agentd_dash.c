/* sched/agentd/agentd_dash: the agent's side of its web dashboard
 * (sched/agentd/dash.h): serving it or not as [agent] dashboard says,
 * and the "dashboard" request of sched/agent_proto.h that hands the peer
 * (its uid from SO_PEERCRED) its token and link. The token goes to the
 * peer only, never to the log. Called in the agent's loop. */
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "sched/agentd/agentd_int.h"
#include "sched/agentd/dash.h"

/* See agentd_int.h. */
void agentd_dash_apply(struct agentd *d)
{
	int was = d->dash != NULL;
	char err[512];
	int e = dash_apply(&d->dash, d, d->dash_host, d->dash_port, err,
			   sizeof err);

	if (e < 0) {
		agentd_log(LOG_ERR, "%s; the dashboard is off", err);
		return;
	}
	if (e > 0)
		agentd_log(LOG_NOTICE, "dashboard on %s%s%s:%d",
			   strchr(d->dash_host, ':') ? "[" : "", d->dash_host,
			   strchr(d->dash_host, ':') ? "]" : "", d->dash_port);
	else if (!d->dash && was)
		agentd_log(LOG_NOTICE, "dashboard off");
}

/* See agentd_int.h. */
void agentd_dash_req(struct agentd_conn *c, json_t *msg)
{
	json_t *v = json_object_get(msg, "new");
	char hex[DASH_TOKEN_HEX + 1], url[256], user[64];
	int e;

	if (v && !json_is_boolean(v)) {
		agentd_conn_error(c, 0, "\"new\" must be true or false");
		return;
	}
	if (!c->d->dash) {
		agentd_conn_error(c, 0, "the dashboard is off (the system "
				  "config's [agent] dashboard = "
				  "127.0.0.1:PORT turns it on)");
		return;
	}
	if ((e = dash_token(c->d->dash, c->uid, c->admin,
			    v && json_is_true(v), hex)) < 0) {
		agentd_conn_error(c, 0, "cannot make a token: %s",
				  strerror(-e));
		return;
	}
	dash_url(c->d->dash, hex, url, sizeof url);
	agentd_user_name(c->uid, user, sizeof user);
	agentd_conn_answer(c, json_pack("{s:s,s:s,s:s,s:b}", "url", url,
					"token", hex, "user", user, "all",
					c->uid == 0 || c->admin));
	memset(hex, 0, sizeof hex);
	memset(url, 0, sizeof url);
}
