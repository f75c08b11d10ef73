/*
 * The supervisor: starts the services of a boot manifest and restarts one that fails, from its
 * pristine embedded image, as its restart policy says (backoff for a crash loop, give up after
 * too many crashes in a window). Its view of each service is under /Bus/fibers/<name>/:
 * state, restarts, crashes, last_fault, policy.
 */
#ifndef NEXUS_SUPERVISOR_H
#define NEXUS_SUPERVISOR_H

#include <stddef.h>
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
/* From the scheduler with nothing to run: starts the next after_boot service (manifest.h), if
 * one still waits. Returns 1 if it started one. */
int supervisor_idle(void);
#define SUPERVISOR_DEFER_MAX_MS 100
/* The tick of the next restart, UINT64_MAX if none is pending. */
uint64_t supervisor_next_due(void);

/* The operator's commands on service `name`, over its restart policy. verb "stop": it ends and
 * stays stopped (a pending restart is cancelled); "start": it starts with its failure history
 * forgiven; "restart": stop, then start at once (a start if it is not running). The stop takes
 * effect when the fiber next leaves the kernel, so it completes soon after this returns; /Bus
 * shows each step in /Bus/fibers/<name>/state. Returns 0, or -ENOENT (no such service), -EALREADY
 * (already running for start, not running for stop), -EBUSY (a stop is still under way),
 * -EINVAL (unknown verb), or the spawn's error. */
int supervisor_command(const char *verb, const char *name);
/* The console's `run`: starts service `name` with `args` (argv[1..], space separated) in place
 * of its manifest's, for this start and its restarts. It must not be running. 0, -ENOENT,
 * -EALREADY, -EBUSY, -E2BIG (args longer than SUPERVISOR_ARGS_MAX - 1), or the spawn's error.
 * An on-demand entry of the manifest (manifest.h) is started only so. */
int supervisor_run(const char *name, const char *args);
#define SUPERVISOR_ARGS_MAX 128
/* Writes the services' names, space separated, into buf; returns how many there are. */
int supervisor_names(char *buf, size_t len);

#endif
