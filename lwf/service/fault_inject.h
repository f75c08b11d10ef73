/* Test builds only (NEXUS_FAULT_INJECTION): lets a test make the LWF service fault on demand. */
#ifndef LWF_FAULT_INJECT_H
#define LWF_FAULT_INJECT_H

#include "fault/fault_inject.h"

/* The LWF service number a test sends its trigger to (the Membrane's trigger is UDP port 7357):
 * a DATA message that reaches it came from an authenticated peer, and its text names the fault
 * (fault_inject_commit), committed from the receive path holding the frame's pool buffer. */
#define LWF_FAULT_SERVICE 7357

#endif
