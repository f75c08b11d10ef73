/*
 * AF_LWF sockets: datagrams between nodes named by CellID over the Libertaria Wire Frame
 * (docs/lwf.md), served by the LWF service. A socket is bound to a 16-bit service number; a
 * message goes to (CellID, service) and arrives with the sender's (CellID, service). Messages
 * are up to LWF_MESSAGE_BYTES; larger sends fail with EMSGSIZE.
 */
#ifndef _NET_LWF_H
#define _NET_LWF_H

#include <stdint.h>
#include <sys/socket.h>

#define LWF_CELLID_BYTES 16
#define LWF_MESSAGE_BYTES 65536
#define LWF_SERVICE_ECHO 7 /* the echo service (apps/lwfecho): sends every message back */

/* setsockopt(fd, SOL_LWF, LWF_SIGNED, &(int){1}, sizeof(int)): every frame of this socket's
 * messages carries the node's Ed25519 signature (docs/lwf.md, section 6), not only fragments:
 * proof of origin a third party can check, beyond the pairwise AEAD. It costs a signature per
 * frame, and a signed frame never fits class 128. */
#define SOL_LWF 0x4c57
#define LWF_SIGNED 1

struct sockaddr_lwf {
    sa_family_t slwf_family; /* AF_LWF */
    uint16_t slwf_service;   /* host order; 0 in bind() picks a free one */
    uint8_t slwf_cellid[LWF_CELLID_BYTES]; /* bind(): zero or this node's own */
};

/* CellID text (32 hex digits, as /Bus/net/cellid shows it) into 16 bytes: 0, or -1 if the text
 * is not one. */
int lwf_cellid_parse(const char *text, uint8_t cellid[LWF_CELLID_BYTES]);

#endif
