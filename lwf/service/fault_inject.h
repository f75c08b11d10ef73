/* Test builds only (NEXUS_FAULT_INJECTION): lets a test make the LWF service fault on demand. */
#ifndef LWF_FAULT_INJECT_H
#define LWF_FAULT_INJECT_H

#include <stdint.h>

/* The LWF service number a test sends its trigger to (the Membrane's trigger is UDP port 7357). */
#define LWF_FAULT_SERVICE 7357

/* A DATA message that reached LWF_FAULT_SERVICE, so it came from an authenticated peer: its text
 * names a fault ("null", "wild", "illegal", "spin"), which this fiber commits at once, from its
 * receive path, holding the frame's pool buffer, as a bug in frame handling would. An unknown
 * name is said on the console and ignored. */
void lwf_fault_inject(const uint8_t *msg, uint32_t len);

#endif
