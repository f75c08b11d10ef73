/* The restart policies (restart_policy.h), as a table. */
#include "restart_policy.h"

#include <stddef.h>

static const struct restart_policy policies[RESTART_KINDS] = {
    [RESTART_NEVER] = {"never", 0, 0, 0, 0, 0},
    [RESTART_SERVICE] = {"service", 30, 60000, 500, 10, 2000},
    [RESTART_FRAGILE] = {"fragile", 3, 10000, 500, 10, 2000},
};

_Static_assert(30 <= RESTART_HISTORY_MAX && 3 <= RESTART_HISTORY_MAX, "a policy's limit exceeds the failure history");

const struct restart_policy *restart_policy(enum restart_kind kind) {
    return (unsigned)kind < RESTART_KINDS ? &policies[kind] : NULL;
}
