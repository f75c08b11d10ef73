/* Test builds only (NEXUS_FAULT_INJECTION): lets a test make the UTCP service fault on demand. */
#ifndef UTCP_FAULT_INJECT_H
#define UTCP_FAULT_INJECT_H

#include <stddef.h>
#include <stdint.h>

/* The stream number a test sends its trigger to (LWF's is service 7357, the Membrane's UDP 7357). */
#define UTCP_FAULT_STREAM 7357

/* Bytes that reached UTCP_FAULT_STREAM, so they came from an authenticated peer in order: their
 * text names a fault ("null", "illegal", "spin"), which this fiber commits at once, from its
 * receive path, as a bug in stream handling would. An unknown name is said and ignored. */
void utcp_fault_inject(const uint8_t *data, size_t len);

#endif
