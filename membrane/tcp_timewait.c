/* Holding lwIP's TIME_WAIT list to its newest entries (tcp_timewait.h). */
#include "tcp_timewait.h"

#include <stddef.h>

#include "lwip/priv/tcp_priv.h"

unsigned tcp_timewait_trim(void) {
    /* lwIP puts each connection that enters TIME_WAIT at the list's head (TCP_REG), so the
     * list runs newest to oldest: what follows the first TIME_WAIT_KEEP is older than all of
     * them. */
    struct tcp_pcb *last_kept = tcp_tw_pcbs;
    for (unsigned i = 1; last_kept && i < TIME_WAIT_KEEP; i++)
        last_kept = last_kept->next;
    if (!last_kept)
        return 0;
    struct tcp_pcb *old = last_kept->next;
    unsigned freed = 0;
    while (old) {
        struct tcp_pcb *next = old->next;
        if (old->callback_arg) {
            /* Still a socket's (an app shut its side down and has not closed it yet): the
             * socket holds this PCB, so it stays until the socket lets go of it. */
            last_kept->next = old;
            last_kept = old;
        } else {
            tcp_free(old); /* a TIME_WAIT PCB holds no segments (lwIP purged them on entry) */
            freed++;
        }
        old = next;
    }
    last_kept->next = NULL;
    return freed;
}

unsigned tcp_timewait_release(void (*release)(void *arg, struct tcp_pcb *pcb)) {
    unsigned n = 0;
    for (struct tcp_pcb *pcb = tcp_tw_pcbs; pcb; pcb = pcb->next) {
        if (pcb->callback_arg) {
            release(pcb->callback_arg, pcb);
            n++;
        }
    }
    return n;
}
