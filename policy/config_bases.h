/* policy/config_bases.h: what config_bases.c lends config_read.c: forget
 * the resolved presets before a file may change them, and seal the system
 * files (the limit preset's values as /etc defines them). */
#ifndef POLICY_CONFIG_BASES_H
#define POLICY_CONFIG_BASES_H

#include "policy/config_priv.h"

/* Forget resolved values (a later file may change a preset or a base). */
void config_unresolve(struct policy_config *cfg);
/* The system files are done: take the limit preset's values as they stand
 * now, so that a user's file redefining that preset changes nothing. Also
 * checks the system's default preset. Does nothing the second time. */
void config_seal(struct policy_config *cfg);

#endif
