/*
 * lwIP configuration for the Membrane: one thread, no OS (NO_SYS=1, raw API only), IPv4 with
 * DHCP, IPv6 with link-local and SLAAC, TCP, UDP, ICMP, DNS, and a loopback interface for
 * 127.0.0.1. Memory is static (lwIP's own heap and pools live in the Membrane's .bss); sizes are
 * chosen for tens of concurrent connections and bulk transfers through QEMU's user network.
 */
#ifndef NEXUS_LWIPOPTS_H
#define NEXUS_LWIPOPTS_H

/* One thread, raw API: the Membrane's event loop is the only caller. */
#define NO_SYS 1
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
#define SYS_LIGHTWEIGHT_PROT 0
#define LWIP_TIMERS 1

/* Memory. 64-bit target: 8-byte alignment (PITFALLS.md). */
#define MEM_ALIGNMENT 8
/* The heap holds what TCP sends (segments copied from the apps' link slots) and the frames
 * lwIP builds. Sized from its high-water mark (/Bus/net/membrane/high/heap_bytes): 209 KB after
 * wrk -c8 on / and /bytes/1024 and a 64 MiB GET, 174 KB under four 16 MiB GETs at once; 640 KiB
 * before. Running out is not a failure: tcp_write says ERR_MEM and the app's send waits. */
#define MEM_SIZE (320 * 1024)
#define MEMP_NUM_PBUF 256          /* PBUF_REF/ROM headers, e.g. lwIP's own references */
/* lwIP's own timeouts and the Membrane's one: the look through TIME_WAIT for sockets still
 * holding a connection (membrane/sock_tcp.c). Without room, sys_timeout asserts. */
#define MEMP_NUM_SYS_TIMEOUT (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 1)
/* No pool pbufs: received frames are custom pbufs over the ION pool (netif_ion.c), copies are
 * PBUF_RAM, and nothing of lwIP compiled here allocates PBUF_POOL (high/pbuf_pool stayed 0);
 * 64 of them were 100 KB of the Membrane's bss. */
#define PBUF_POOL_SIZE 0
/* The RX custom pbufs (lwip/netif_ion.c) keep their pool handle beside the pbuf, not in it: no
 * LWIP_PBUF_CUSTOM_DATA, so lwIP 2.2's LWIP_PBUF_CUSTOM_DATA_INIT has nothing to set. */
/* 264 bytes each. An app may hold NXS_SOCKETS (128) sockets; half-open and TIME_WAIT
 * connections under a flood take PCBs too: up to 255 half-open per listener (tcp_syn_guard.h;
 * docs/sockets.md, "Limits"). */
#define MEMP_NUM_TCP_PCB 512
#define MEMP_NUM_TCP_PCB_LISTEN 8
#define MEMP_NUM_UDP_PCB 16
/* A fragment storm must not hold memory for long: at most 8 datagrams and 16 fragments in
 * reassembly at once (the oldest datagram is freed for a newer one), each given up after 5 s
 * rather than lwIP's 15. Fragments are copies out of the RX pool (rx_frame_policy.h), so
 * reassembly never holds the pool's buffers. */
#define MEMP_NUM_REASSDATA 8
#define IP_REASS_MAX_PBUFS 16
#define IP_REASS_MAXAGE 5
#define MEMP_NUM_FRAG_PBUF 16
#define MEMP_NUM_ARP_QUEUE 32
#define MEMP_NUM_ND6_QUEUE 16

/* TCP: a receive window of 16 segments without scaling. The send buffer is deeper than the
 * 64 KiB a peer without window scaling (QEMU's user network) lets be in flight, so that lwIP
 * holds the next segments and sends them as acknowledgements come in, without waiting for the
 * app's next send; LWIP_WND_SCALE only widens lwIP's send counters past 16 bits (TCP_RCV_SCALE
 * 0: our own window stays unscaled). 54 segments: no more than a send area's 55 chunks hold
 * (nexus/link.h), or httpd's sends would spill into copies. docs/ion.md, "A send buffer past the
 * window". MEMP_NUM_TCP_SEG must cover TCP_SND_QUEUELEN (PITFALLS.md). */
#define LWIP_TCP 1
#define TCP_MSS 1460
#define TCP_WND (16 * TCP_MSS)
#define LWIP_WND_SCALE 1
#define TCP_RCV_SCALE 0
#define TCP_SND_BUF (54 * TCP_MSS)
#define TCP_SND_QUEUELEN (4 * TCP_SND_BUF / TCP_MSS)
#define MEMP_NUM_TCP_SEG 1024
#define TCP_LISTEN_BACKLOG 1
#define TCP_DEFAULT_LISTEN_BACKLOG 64
/* Half-open connections count against the backlog: when a SYN finds it full, the oldest one
 * makes room (tcp_syn_guard.h), so spoofed SYNs cannot lock real clients out. */
#define LWIP_HOOK_TCP_INPACKET_PCB(pcb, hdr, optlen, opt1len, opt2, p)                                   \
    tcp_syn_guard_inpacket(pcb, hdr, optlen, opt1len, opt2, p)
/* Every ISN is a SYN cookie (tcp_syn_cookie.h): an evicted half-open connection comes back. */
#define LWIP_HOOK_TCP_ISN(local_ip, local_port, remote_ip, remote_port)                                     \
    tcp_syn_cookie_isn(local_ip, local_port, remote_ip, remote_port)
#ifndef __ASSEMBLER__
#include <stdint.h>
struct tcp_pcb;
struct tcp_hdr;
struct pbuf;
struct ip_addr;
signed char tcp_syn_guard_inpacket(struct tcp_pcb *pcb, struct tcp_hdr *hdr, uint16_t optlen, uint16_t opt1len,
                                   uint8_t *opt2, struct pbuf *p);
uint32_t tcp_syn_cookie_isn(const struct ip_addr *local, uint16_t local_port, const struct ip_addr *remote,
                            uint16_t remote_port);
#endif
#define LWIP_TCP_KEEPALIVE 1
#define TCP_QUEUE_OOSEQ 1
#define SO_REUSE 1
#define LWIP_TCP_SACK_OUT 0
#define LWIP_CALLBACK_API 1

#define LWIP_UDP 1
#define LWIP_ICMP 1
#define LWIP_RAW 0
#define LWIP_IGMP 0
#define LWIP_AUTOIP 0

/* IPv4 with DHCP; the DNS servers come from the lease. */
#define LWIP_IPV4 1
#define LWIP_DHCP 1
/* No address conflict probe before using a lease (lwIP 2.2's acd.c; 2.1's DHCP_DOES_ARP_CHECK is
 * gone): it would hold the address back for seconds at every boot and restart. */
#define LWIP_DHCP_DOES_ACD_CHECK 0
#define LWIP_DNS 1
#define DNS_MAX_SERVERS 2
#define DNS_TABLE_SIZE 8
#define DNS_MAX_NAME_LENGTH 256
#define IP_REASSEMBLY 1
#define IP_FRAG 1
#define ARP_TABLE_SIZE 16
#define ARP_QUEUEING 1
/* The lease's gateway and DHCP server are pinned once learned, so a storm of made-up neighbours
 * cannot recycle their entries (arp_pins.h). */
#define ETHARP_SUPPORT_STATIC_ENTRIES 1

/* IPv6: link-local and stateless autoconfiguration. IPV6_FRAG_COPYHEADER is required on 64-bit
 * targets (PITFALLS.md). */
#define LWIP_IPV6 1
#define LWIP_IPV6_AUTOCONFIG 1
#define LWIP_IPV6_DHCP6 0
#define LWIP_IPV6_MLD 1
#define LWIP_ND6_NUM_DESTINATIONS 16
#define IPV6_FRAG_COPYHEADER 1
#define LWIP_IPV6_SEND_ROUTER_SOLICIT 1

/* Interfaces: the virtio NIC through the NetSwitch, and loopback for 127.0.0.1. */
#define LWIP_SINGLE_NETIF 0
#define LWIP_HAVE_LOOPIF 1
#define LWIP_NETIF_LOOPBACK 1
#define LWIP_LOOPBACK_MAX_PBUFS 64
#define LWIP_NETIF_STATUS_CALLBACK 1
#define LWIP_NETIF_LINK_CALLBACK 1
#define LWIP_NETIF_HOSTNAME 1
#define LWIP_NETIF_TX_SINGLE_PBUF 0
#define ETH_PAD_SIZE 0

/* Checksums in software, all of them, both ways; lwIP's own routine, counted
 * (lwip/netif_ion.c). */
#define LWIP_CHKSUM_ALGORITHM 3
#define LWIP_CHKSUM membrane_counted_chksum
#ifndef __ASSEMBLER__
unsigned short lwip_standard_chksum(const void *dataptr, int len);
unsigned short membrane_counted_chksum(const void *data, int len);
#endif

/* The Membrane includes the apps' POSIX headers (picolibc's byte-order macros) for the socket
 * constants; lwIP's own aliases would redefine htons and friends. */
#define LWIP_DONT_PROVIDE_BYTEORDER_FUNCTIONS 1

/* Copies of a known small size (the two MAC addresses of every frame's Ethernet header) inline:
 * the services build with -ffreestanding, so a plain memcpy stays a call, byte by byte for
 * unaligned 6 bytes. */
#define SMEMCPY(dst, src, len) __builtin_memcpy(dst, src, len)

/* lwIP's counters, for the drops by cause the Membrane publishes (membrane/shed_counters.c);
 * never printed. */
#define LWIP_STATS 1
#define LWIP_STATS_DISPLAY 0
#define LWIP_STATS_LARGE 1 /* 32-bit counters: a long flood passes 65535 drops */
#define LINK_STATS 1
#define ETHARP_STATS 1
#define IP_STATS 1
#define IPFRAG_STATS 1
#define ICMP_STATS 1
#define UDP_STATS 1
#define TCP_STATS 1
#define MEM_STATS 1
#define MEMP_STATS 1
#define IP6_STATS 1
#define ICMP6_STATS 1
#define IP6_FRAG_STATS 1
#define ND6_STATS 1
#define MLD6_STATS 0
#define IGMP_STATS 0
#define SYS_STATS 0
#define LWIP_DEBUG_TIMERNAMES 0

/* lwIP draws TCP initial sequence numbers, ports and DHCP transaction ids from this: the
 * kernel's entropy syscall, in batches (membrane/random.c). */
#define LWIP_RAND() membrane_random32()
#ifndef __ASSEMBLER__
unsigned int membrane_random32(void);
#endif

#endif
