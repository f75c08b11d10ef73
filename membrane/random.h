/* lwIP's LWIP_RAND (lwip/lwipopts.h): TCP initial sequence numbers, ephemeral ports, DHCP
 * transaction ids. */
#ifndef NEXUS_MEMBRANE_RANDOM_H
#define NEXUS_MEMBRANE_RANDOM_H

#include <stdint.h>

/* Mixes the NIC's MAC into the fallback generator and publishes where the numbers come from
 * (/Bus/net/membrane/random_source). Call once the MAC is known. Without entropy the Membrane
 * says so once, on the console and in /Bus, whenever the syscall first fails. */
void membrane_random_start(const uint8_t mac[6]);
unsigned int membrane_random32(void);

#endif
