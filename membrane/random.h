/* lwIP's LWIP_RAND (lwip/lwipopts.h): TCP initial sequence numbers, ephemeral ports, DHCP
 * transaction ids. */
#ifndef NEXUS_MEMBRANE_RANDOM_H
#define NEXUS_MEMBRANE_RANDOM_H

#include <stdint.h>

/* Says where the numbers come from (once, on the console and in /Bus) and, without an RNG
 * device, mixes the NIC's MAC into the fallback generator. Call once the MAC is known. */
void membrane_random_start(const uint8_t mac[6]);
unsigned int membrane_random32(void);

#endif
