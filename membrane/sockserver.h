/* The Membrane's socket server over the app links (sockserver.c, sockproto.h). */
#ifndef NEXUS_SOCKSERVER_H
#define NEXUS_SOCKSERVER_H

#include <stdint.h>

struct sockserver_stats {
    uint64_t requests, errors, bad_slots, bad_rings, completions_lost, accept_refused, udp_dropped;
    uint64_t app_restarts; /* links whose app started again: its predecessor's sockets closed */
};

/* Maps every link this fiber serves, starts a new epoch on each, and returns how many. */
unsigned sockserver_attach(void);
/* Answers every queued request. Returns how many. */
unsigned sockserver_poll(void);
/* Publishes changed socket statuses and wakes apps that wait for them or for a reply. */
void sockserver_flush(void);
/* Before sleeping: 1 if no request is queued (and apps will signal new ones). */
int sockserver_sleep_prepare(void);
/* The channels apps signal. */
uint64_t sockserver_wait_mask(void);
const struct sockserver_stats *sockserver_stats(void);

#endif
