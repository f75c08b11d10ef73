/*
 * AF_UTCP sockets: reliable byte streams between nodes named by CellID (docs/utcp.md), served by
 * the UTCP service. They behave as TCP sockets do through libnexus (connect, bind/listen/accept,
 * send/recv, shutdown, close, poll, O_NONBLOCK); the address is a CellID and a 16-bit stream
 * number where TCP has an IP address and a port. One difference: a listener learns of a new
 * connection when its first bytes (or its end) arrive, so the connecting side speaks first.
 */
#ifndef _NET_UTCP_H
#define _NET_UTCP_H

#include <stdint.h>
#include <sys/socket.h>

#define UTCP_CELLID_BYTES 16
#define UTCP_STREAM_DISCARD 9 /* the sink (apps/utcpsink): reads everything, answers a checksum */

struct sockaddr_utcp {
    sa_family_t sutcp_family; /* AF_UTCP */
    uint16_t sutcp_stream;    /* host order, 1..65535 */
    uint8_t sutcp_cellid[UTCP_CELLID_BYTES]; /* bind(): zero or this node's own */
};

#endif
