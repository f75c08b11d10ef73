/*
 * <signal.h> for Nexus apps: picolibc's (signal numbers, sigset_t as one word, struct sigaction
 * with sa_handler, sa_mask and sa_flags, the sigemptyset family as macros), plus the sa_flags
 * libnexus honours, with Linux's values. lib/libnexus/signal.c implements the calls; the model
 * (delivery at the next libnexus call, what is not supported) is in docs/signals.md.
 * SA_SIGINFO is left undefined: picolibc's struct sigaction has no sa_sigaction.
 */
#ifndef NEXUS_SIGNAL_H
#define NEXUS_SIGNAL_H

#include_next <signal.h>

#ifndef SA_RESTART
#define SA_RESTART 0x10000000   /* an interrupted socket call starts again instead of EINTR */
#endif
#ifndef SA_NODEFER
#define SA_NODEFER 0x40000000   /* the signal is not blocked while its handler runs */
#endif
#ifndef SA_RESETHAND
#define SA_RESETHAND 0x80000000 /* the action goes back to SIG_DFL when the handler is called */
#endif

#endif
