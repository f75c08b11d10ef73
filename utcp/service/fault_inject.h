/* Test builds only (NEXUS_FAULT_INJECTION): lets a test make the UTCP service fault on demand. */
#ifndef UTCP_FAULT_INJECT_H
#define UTCP_FAULT_INJECT_H

#include "fault/fault_inject.h"

/* The stream number a test sends its trigger to (LWF's is service 7357, the Membrane's UDP 7357):
 * bytes that reach it came from an authenticated peer in order, and their text names the fault
 * (fault_inject_commit), committed from the receive path. */
#define UTCP_FAULT_STREAM 7357

#endif
