/*
 * Restart policies: what the supervisor does when a service ends other than by exit(0). A
 * manifest entry names its policy by this enum, so a misspelt policy does not compile.
 */
#ifndef NEXUS_RESTART_POLICY_H
#define NEXUS_RESTART_POLICY_H

#include <stdint.h>

enum restart_kind {
    RESTART_NEVER,   /* not restarted */
    RESTART_SERVICE, /* long-lived services: come back at once, up to 30 failures a minute */
    RESTART_FRAGILE, /* services that should not keep failing: 3 failures in 10 s and they stay down */
    RESTART_KINDS
};

struct restart_policy {
    const char *name;        /* as /Bus/fibers/<name>/policy shows it */
    unsigned limit;          /* failures within window_ms that stop the service; 0: never restart */
    uint32_t window_ms;
    uint32_t stable_ms;      /* a run at least this long restarts without delay */
    uint32_t backoff_ms;     /* first delay in a crash loop */
    uint32_t backoff_max_ms;
};

#define RESTART_HISTORY_MAX 32 /* the largest limit a policy may set: the supervisor keeps that many failures */

/* The policy of a kind; NULL for a value outside the enum. */
const struct restart_policy *restart_policy(enum restart_kind kind);

#endif
