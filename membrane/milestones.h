/*
 * The moments this Membrane instance passed on its way to serving, by the guest clock
 * (microseconds since the machine's reset): published under /Bus/net/membrane/time_us/ so
 * `make bench` can lay a boot, or a restart after a fault (/Bus/fibers/membrane/ended_us), out
 * stage by stage. Each is the first time only; a restarted Membrane starts a fresh set.
 */
#ifndef NEXUS_MILESTONES_H
#define NEXUS_MILESTONES_H

enum milestone {
    MS_START,         /* main() entered */
    MS_ADDRESS,       /* an IPv4 address configured (a remembered lease, or the first DHCP bind) */
    MS_READY,         /* the loop looks at its RX ring the first time: from here a frame is taken
                       * as soon as it comes (MS_FIRST_FRAME waits for one to come) */
    MS_FIRST_FRAME,   /* the first frame from the NetSwitch handed to lwIP */
    MS_DHCP_DISCOVER, /* DHCPDISCOVER sent */
    MS_DHCP_REQUEST,  /* DHCPREQUEST sent (after an offer, or INIT-REBOOT with a remembered lease) */
    MS_LEASE,         /* the server's DHCPACK bound the lease */
    MS_FIRST_LISTEN,  /* the first app listener set up */
    MS_FIRST_ACCEPT,  /* the first connection handed to an app's accept() */
    MILESTONES
};

/* Records m at the current time, unless it was recorded before. */
void milestone_mark(enum milestone m);
/* Calls publish(key, value) for every milestone passed so far. */
void milestones_publish(void (*publish)(const char *key, const char *value));

#endif
