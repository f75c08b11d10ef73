/*
 * The portable LWF core: frame codec, crypto, anti-replay window, reassembly. Plain C with no
 * kernel dependency and no allocation (every buffer is the caller's), built natively for the host
 * tests, the fuzzer and the host node, and freestanding (rv64, picolibc) for the LWF service.
 * The wire format is docs/lwf.md; its constants are lwf_wire.h.
 *
 * One file per concern:
 *   crc32c.c      CRC-32C (Castagnoli)
 *   frame.c       parse in place (receive steps 1-3) and lay out (header, padding, CRC)
 *   crypto.c      CellID, pairwise key, seal/open, sign/verify (libsodium); a local key's hooks
 *   send.c        build DATA and ANNOUNCE frames
 *   receive.c     the receive checks in the spec's order (steps 4-8)
 *   replay.c      the anti-replay window per peer
 *   reassembly.c  fragments to messages in caller-provided slots
 */
#ifndef LWF_H
#define LWF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lwf_wire.h"

/* ---- crc32c.c ---- */
uint32_t lwf_crc32c(const uint8_t *data, size_t len);

/* ---- frame.c ---- */

/* The header's fields, in host order. */
struct lwf_header {
    uint8_t flags;
    uint8_t type;
    uint8_t hop_limit;
    uint16_t service;
    uint8_t src[LWF_CELLID_LEN];
    uint8_t dst[LWF_CELLID_LEN];
    uint64_t sequence;
    uint32_t message_id;
    uint16_t fragment_index;
    uint16_t fragment_count;
    uint16_t payload_length;
    uint16_t src_service;      /* DATA: the sender's service, where answers go; ANNOUNCE: 0 */
    uint8_t nonce[LWF_NONCE_LEN];
};

/* A received frame that passed steps 1-3, read in place: every pointer is into the caller's
 * Ethernet frame, which must stay unchanged while the view is used. */
struct lwf_frame_view {
    struct lwf_header header;
    const uint8_t *eth_src_mac;
    const uint8_t *lwf;        /* the LWF frame: header first */
    size_t size;               /* its class */
    const uint8_t *payload;    /* header.payload_length bytes */
    const uint8_t *signature;  /* NULL unless SIGNED */
};

extern const uint8_t lwf_broadcast_cellid[LWF_CELLID_LEN];

const char *lwf_drop_name(enum lwf_drop cause);

/* The smallest class that holds `need` bytes, or 0 when none does (fragment the message). */
size_t lwf_class_for(size_t need);

/* Receive steps 1-3 of docs/lwf.md: class size, CRC, header rules. Reads nothing outside
 * eth[0, eth_len) and writes only *view. */
enum lwf_drop lwf_frame_parse(const uint8_t *eth, size_t eth_len, struct lwf_frame_view *view);

/* Writes the 84 header bytes. */
void lwf_header_encode(const struct lwf_header *h, uint8_t out[LWF_HEADER_LEN]);

/* The header as associated data: a copy with the mutable hop limit zeroed. */
void lwf_associated_data(const uint8_t header[LWF_HEADER_LEN], uint8_t ad[LWF_HEADER_LEN]);

/* Writes the CRC-32C over lwf[0, size - 4) into the last four bytes. */
void lwf_frame_seal_crc(uint8_t *lwf, size_t size);

/* ---- crypto.c ---- */

/* Ed25519 over message[0, len): the node's secret key signs it. */
typedef bool (*lwf_sign_hook)(void *context, const uint8_t *message, size_t len,
                              uint8_t signature[LWF_SIGNATURE_LEN]);
/* The pairwise key of section 5 with a peer's public key (lwf_pairwise_derive). */
typedef bool (*lwf_pairwise_hook)(void *context, const uint8_t peer_public_key[LWF_PUBLIC_KEY_LEN],
                                  uint8_t key[LWF_KEY_LEN]);

/* A node that sends: its identity and MAC, and who holds its secret key. The two operations
 * that need the secret go through hooks, so the key can live outside the fiber that parses
 * frames: the guest's LWF service asks the signer service (signer/), the host node and the
 * tests use a key of their own (lwf_node_init). */
struct lwf_node {
    uint8_t cellid[LWF_CELLID_LEN];
    uint8_t public_key[LWF_PUBLIC_KEY_LEN];
    uint8_t mac[LWF_MAC_LEN];
    lwf_sign_hook sign;
    lwf_pairwise_hook pairwise;
    void *context;
};

/* A secret key held by this process (the hooks lwf_node_init installs use it). */
struct lwf_local_key {
    uint8_t secret_key[LWF_SECRET_KEY_LEN];
    uint8_t cellid[LWF_CELLID_LEN];
};

/* ---- replay.c ---- */
struct lwf_replay_window {
    uint64_t highest;  /* the highest sequence accepted */
    uint64_t seen;     /* bit i: highest - i was accepted */
};

/* A known peer: what the receive path needs of it. The service keeps its own fields around it. */
struct lwf_peer {
    uint8_t cellid[LWF_CELLID_LEN];
    uint8_t public_key[LWF_PUBLIC_KEY_LEN];
    uint8_t pairwise_key[LWF_KEY_LEN];
    uint8_t mac[LWF_MAC_LEN];
    struct lwf_replay_window window;
};

void lwf_cellid(const uint8_t public_key[LWF_PUBLIC_KEY_LEN], uint8_t cellid[LWF_CELLID_LEN]);

/* Fills a node from its Ed25519 secret key (libsodium's 64 bytes) and MAC, keeping the secret
 * in *key (the caller's, alive as long as the node; wipe it with sodium_memzero after). */
void lwf_node_init(struct lwf_node *node, struct lwf_local_key *key, const uint8_t secret_key[LWF_SECRET_KEY_LEN],
                   const uint8_t mac[LWF_MAC_LEN]);

/* The pinned derivation of section 5, for whoever holds the secret: false for a public key
 * libsodium cannot convert or an all-zero X25519 result (such a peer is refused). */
bool lwf_pairwise_derive(const uint8_t secret_key[LWF_SECRET_KEY_LEN], const uint8_t my_cellid[LWF_CELLID_LEN],
                         const uint8_t peer_public_key[LWF_PUBLIC_KEY_LEN], uint8_t key[LWF_KEY_LEN]);
/* Ed25519 (pure, detached) of message[0, len) by a secret key held here. */
bool lwf_sign_message(const uint8_t secret_key[LWF_SECRET_KEY_LEN], const uint8_t *message, size_t len,
                      uint8_t signature[LWF_SIGNATURE_LEN]);

/* The pairwise key (section 5) through the node's hook; false as for lwf_pairwise_derive, or if
 * the key holder does not answer. */
bool lwf_pairwise_key(const struct lwf_node *me, const uint8_t peer_public_key[LWF_PUBLIC_KEY_LEN],
                      uint8_t key[LWF_KEY_LEN]);

/* Makes a peer from an accepted ANNOUNCE: CellID, pairwise key, MAC, window from `sequence`. */
bool lwf_peer_init(struct lwf_peer *peer, const struct lwf_node *me,
                   const uint8_t public_key[LWF_PUBLIC_KEY_LEN], const uint8_t mac[LWF_MAC_LEN],
                   uint64_t sequence);

/* XChaCha20-Poly1305-IETF; `out` holds len + 16 bytes; AD is the 84-byte header (hop limit 0). */
void lwf_seal(const uint8_t key[LWF_KEY_LEN], const uint8_t ad[LWF_HEADER_LEN],
              const uint8_t nonce[LWF_NONCE_LEN], const uint8_t *plain, size_t len, uint8_t *out);
/* Opens ciphertext+tag of `len` bytes (>= 16) into plain[len - 16]; false if it is not authentic. */
bool lwf_open(const uint8_t key[LWF_KEY_LEN], const uint8_t ad[LWF_HEADER_LEN],
              const uint8_t nonce[LWF_NONCE_LEN], const uint8_t *sealed, size_t len, uint8_t *plain);

/* Ed25519 over the frame's signed bytes: lwf[0, signed_len) with the hop limit read as 0,
 * signed through the node's hook. False for a length outside [84, 1350] or a failed hook. */
bool lwf_sign(const struct lwf_node *me, const uint8_t *lwf, size_t signed_len,
              uint8_t signature[LWF_SIGNATURE_LEN]);
bool lwf_verify(const uint8_t public_key[LWF_PUBLIC_KEY_LEN], const uint8_t *lwf, size_t signed_len,
                const uint8_t signature[LWF_SIGNATURE_LEN]);

/* ---- send.c ---- */

/* What a sender chooses for one DATA frame; the rest of the header follows from it. */
struct lwf_data_frame {
    uint8_t flags;            /* ENCRYPTED is implied; SIGNED, RELAYABLE, PRIORITY optional */
    uint16_t service;
    uint16_t src_service;     /* the sending socket's service: the receiver answers there */
    uint64_t sequence;
    uint8_t nonce[LWF_NONCE_LEN];
    uint32_t message_id;      /* fragments only */
    uint16_t fragment_index;
    uint16_t fragment_count;  /* 1: not a fragment */
};

/* Builds an Ethernet frame into out[cap]; returns its length, or 0 if it cannot be built
 * (plaintext too long for one frame, bad fragment fields, cap too small, unusable peer key). */
size_t lwf_build_data(const struct lwf_node *me, const struct lwf_peer *peer,
                      const struct lwf_data_frame *spec, const uint8_t *plain, size_t len,
                      uint8_t *out, size_t cap);

/* Builds an ANNOUNCE: broadcast when `to` is NULL, else unicast to that peer. */
size_t lwf_build_announce(const struct lwf_node *me, const struct lwf_peer *to, uint64_t sequence,
                          bool solicit, uint8_t *out, size_t cap);

/* ---- receive.c ---- */

/* The service's peer table: the peer with this CellID, or NULL. */
typedef struct lwf_peer *(*lwf_peer_lookup)(void *table, const uint8_t cellid[LWF_CELLID_LEN]);

struct lwf_received {
    struct lwf_frame_view view;
    struct lwf_peer *peer;   /* the sender; NULL for an ANNOUNCE from a new node */
    size_t plain_len;        /* DATA: plaintext bytes written to the caller's buffer */
    /* ANNOUNCE: the proven claim. */
    const uint8_t *announce_public_key;
    const uint8_t *announce_mac;
    bool solicit;
};

/* Every receive check in the spec's order. On LWF_ACCEPTED: a DATA frame's plaintext is in
 * plain[]; an ANNOUNCE from a known peer has updated its MAC; the peer's window took the
 * sequence. Before the last step nothing is written, so drops leave no state behind. */
enum lwf_drop lwf_receive(const struct lwf_node *me, const uint8_t *eth, size_t eth_len,
                          lwf_peer_lookup lookup, void *table, uint8_t plain[LWF_PLAINTEXT_MAX],
                          struct lwf_received *out);

/* ---- replay.c ---- */
void lwf_replay_start(struct lwf_replay_window *w, uint64_t sequence);
bool lwf_replay_fresh(const struct lwf_replay_window *w, uint64_t sequence);
void lwf_replay_accept(struct lwf_replay_window *w, uint64_t sequence);

/* ---- reassembly.c ---- */
struct lwf_reassembly_slot {
    bool busy;
    uint8_t src[LWF_CELLID_LEN];
    uint32_t message_id;
    uint16_t fragment_count;
    uint16_t last_len;
    uint64_t have;            /* bit i: fragment i is in */
    uint64_t started_ms;
    uint8_t *buffer;          /* LWF_MESSAGE_MAX bytes, the caller's */
};

struct lwf_reassembly {
    struct lwf_reassembly_slot *slots;
    size_t slot_count;
    size_t per_peer_max;
    uint32_t timeout_ms;
};

/* A completed message: valid until the next lwf_reassembly_offer on the same reassembly. */
struct lwf_message {
    const uint8_t *data;
    size_t len;
};

/* slots[n] and buffers[n * LWF_MESSAGE_MAX] are the caller's; all of it is the memory bound. */
void lwf_reassembly_init(struct lwf_reassembly *r, struct lwf_reassembly_slot *slots, size_t n,
                         uint8_t *buffers, size_t per_peer_max);
/* A fragment that passed lwf_receive. LWF_ACCEPTED with done->data set when it completed its
 * message, with done->data NULL when more are due; otherwise the drop cause. */
enum lwf_drop lwf_reassembly_offer(struct lwf_reassembly *r, const struct lwf_header *h,
                                   const uint8_t *chunk, size_t len, uint64_t now_ms,
                                   struct lwf_message *done);
/* Frees every slot older than the timeout; returns how many (each a fragment_timeout). */
size_t lwf_reassembly_expire(struct lwf_reassembly *r, uint64_t now_ms);
size_t lwf_reassembly_busy(const struct lwf_reassembly *r);

#endif
