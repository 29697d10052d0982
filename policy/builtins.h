/* policy/builtins.h: the built-in presets (builtins.c). */
#ifndef POLICY_BUILTINS_H
#define POLICY_BUILTINS_H

#include <stddef.h>

#include "policy/preset.h"

/* The built-in presets, least to most aggressive: generous, normal,
 * aggressive, extreme, nuclear. The returned pointers are static. */
size_t builtins_count(void);
const struct policy_preset *builtins_get(size_t i);
/* A built-in preset by name, or NULL. */
const struct policy_preset *builtins_find(const char *name);
/* The preset used when no config file chooses one. */
#define BUILTINS_DEFAULT "normal"

#endif
