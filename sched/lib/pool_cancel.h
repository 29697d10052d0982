/* sched/lib/pool_cancel: nicely_cancel (declared in nicely.h). */
#ifndef SCHED_LIB_POOL_CANCEL_H
#define SCHED_LIB_POOL_CANCEL_H

#include "nicely.h"

#endif
