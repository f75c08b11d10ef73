/*
 * The supervisor: starts the services of a boot manifest and restarts one that fails, from its
 * pristine embedded image, as its restart policy says (backoff for a crash loop, give up after
 * too many crashes in a window). Its view of each service is under /Bus/fibers/<name>/:
 * state, restarts, crashes, last_fault, policy.
 */
#ifndef NEXUS_SUPERVISOR_H
#define NEXUS_SUPERVISOR_H

#include <stdint.h>

struct fiber_end_info;
struct manifest;
struct manifest_entry;

/* Creates the links the manifest's grants name, then starts every entry. */
void supervisor_start_manifest(const struct manifest *m);
/* Starts one more service (bootargs app=); its links must exist already. The fiber id or -errno. */
int supervisor_start(const struct manifest_entry *e);

/* From the scheduler: the fiber called name has ended and been reaped, after `ran` ticks. */
void supervisor_ended(const char *name, const struct fiber_end_info *end, uint64_t ran);
/* Restarts whatever is due at `now` (ticks). Cheap when nothing is. */
void supervisor_tick(uint64_t now);
/* The tick of the next restart, UINT64_MAX if none is pending. */
uint64_t supervisor_next_due(void);

#endif
