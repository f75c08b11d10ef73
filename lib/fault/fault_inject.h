/* Test builds only (NEXUS_FAULT_INJECTION): a service commits a named fault on demand, from its
 * receive path, as a bug in its frame or stream handling would. The LWF and UTCP services call it
 * for a trigger that came from an authenticated peer (their own headers say which service or
 * stream); the Membrane has its own, which also stores into its received frame. */
#ifndef NEXUS_FAULT_INJECT_H
#define NEXUS_FAULT_INJECT_H

#include <stddef.h>
#include <stdint.h>

/* `text` names a fault: "null" (store through a null pointer), "wild" (store into the kernel),
 * "illegal" (an illegal instruction) or "spin" (a runaway loop). It is committed at once, said on
 * the console as "<who>: fault injection: committing "<name>" now"; an unknown name is said and
 * ignored. */
void fault_inject_commit(const char *who, const uint8_t *text, size_t len);

#endif
