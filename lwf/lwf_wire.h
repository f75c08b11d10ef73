/*
 * LWF v1 on the wire: the numbers of docs/lwf.md in one place. Everything here is fixed by the
 * spec; changing a value breaks interoperation (and the test vectors say so). Offsets count from
 * the first byte after the Ethernet header; every integer on the wire is big-endian.
 *
 *   Ethernet (14) | header (84) | payload | zero padding | signature (64, SIGNED) | CRC-32C (4)
 *                  '--------------- one class: 128, 512 or 1350 bytes ------------------------'
 */
#ifndef LWF_WIRE_H
#define LWF_WIRE_H

#include <stdint.h>

#define LWF_ETHERTYPE        0x4C57u
#define LWF_ETH_HEADER_LEN   14u
#define LWF_ETH_SRC_OFFSET   6u
#define LWF_MAC_LEN          6u

#define LWF_MAGIC_0          0x4Cu /* 'L' */
#define LWF_MAGIC_1          0x57u /* 'W' */
#define LWF_VERSION          1u

/* Header fields: offset and size (docs/lwf.md, section 4). */
#define LWF_OFF_MAGIC        0u
#define LWF_OFF_VERSION      2u
#define LWF_OFF_FLAGS        3u
#define LWF_OFF_TYPE         4u
#define LWF_OFF_HOP_LIMIT    5u
#define LWF_OFF_SERVICE      6u
#define LWF_OFF_SRC          8u
#define LWF_OFF_DST          24u
#define LWF_OFF_SEQUENCE     40u
#define LWF_OFF_MESSAGE_ID   48u
#define LWF_OFF_FRAG_INDEX   52u
#define LWF_OFF_FRAG_COUNT   54u
#define LWF_OFF_PAYLOAD_LEN  56u
#define LWF_OFF_SRC_SERVICE  58u
#define LWF_OFF_NONCE        60u
#define LWF_HEADER_LEN       84u

#define LWF_CELLID_LEN       16u
#define LWF_NONCE_LEN        24u
#define LWF_TAG_LEN          16u  /* Poly1305 */
#define LWF_SIGNATURE_LEN    64u  /* Ed25519 */
#define LWF_CRC_LEN          4u
#define LWF_PUBLIC_KEY_LEN   32u
#define LWF_SECRET_KEY_LEN   64u  /* libsodium's Ed25519 secret key: seed || public key */
#define LWF_KEY_LEN          32u  /* the pairwise XChaCha20-Poly1305 key */

/* Frame classes: a frame is exactly one of these long (docs/lwf.md, section 3). */
#define LWF_CLASS_SMALL      128u
#define LWF_CLASS_MEDIUM     512u
#define LWF_CLASS_LARGE      1350u
#define LWF_FRAME_MAX        LWF_CLASS_LARGE
/* The most plaintext one frame can carry: ENCRYPTED, unsigned, class 1350. */
#define LWF_PLAINTEXT_MAX    (LWF_CLASS_LARGE - LWF_HEADER_LEN - LWF_TAG_LEN - LWF_CRC_LEN)

/* Fragmentation (section 7). */
#define LWF_CHUNK_LEN        1024u
#define LWF_FRAGMENTS_MAX    64u
#define LWF_MESSAGE_MAX      (LWF_CHUNK_LEN * LWF_FRAGMENTS_MAX)
#define LWF_REASSEMBLY_TIMEOUT_MS 2000u

/* The anti-replay window per peer (section 8): one bit per sequence number. */
#define LWF_REPLAY_WINDOW    64u

/* ANNOUNCE body (section 9). */
#define LWF_ANNOUNCE_OFF_PUBLIC_KEY 0u
#define LWF_ANNOUNCE_OFF_MAC        32u
#define LWF_ANNOUNCE_OFF_SOLICIT    38u
#define LWF_ANNOUNCE_OFF_RESERVED   39u
#define LWF_ANNOUNCE_BODY_LEN       40u

enum lwf_flag {
    LWF_FLAG_ENCRYPTED  = 0x01,
    LWF_FLAG_SIGNED     = 0x02,
    LWF_FLAG_RELAYABLE  = 0x04,
    LWF_FLAG_FRAGMENTED = 0x08,
    LWF_FLAG_PRIORITY   = 0x10,
};
#define LWF_FLAGS_KNOWN 0x1Fu

enum lwf_type {
    LWF_TYPE_DATA     = 1,
    LWF_TYPE_ANNOUNCE = 2,
};

/* Why a frame was dropped; the names (lwf_drop_name) are the /Bus counter names. */
enum lwf_drop {
    LWF_ACCEPTED = 0,
    LWF_DROP_MALFORMED,
    LWF_DROP_CRC,
    LWF_DROP_UNKNOWN_DESTINATION,
    LWF_DROP_UNKNOWN_SENDER,
    LWF_DROP_AEAD,
    LWF_DROP_BAD_SIGNATURE,
    LWF_DROP_REPLAY,
    LWF_DROP_FRAGMENT_OVERFLOW,
    LWF_DROP_FRAGMENT_DUPLICATE,
    LWF_DROP_FRAGMENT_TIMEOUT,
    LWF_DROP_CAUSES,
};

_Static_assert(LWF_OFF_NONCE + LWF_NONCE_LEN == LWF_HEADER_LEN, "the nonce ends the header");
_Static_assert(LWF_OFF_DST == LWF_OFF_SRC + LWF_CELLID_LEN, "dst follows src");
_Static_assert(LWF_OFF_SEQUENCE == LWF_OFF_DST + LWF_CELLID_LEN, "sequence follows dst");
_Static_assert(LWF_HEADER_LEN + LWF_SIGNATURE_LEN + LWF_CRC_LEN > LWF_CLASS_SMALL,
               "the spec says class 128 cannot be signed: keep it true or fix docs/lwf.md");
_Static_assert(LWF_HEADER_LEN + LWF_CHUNK_LEN + LWF_TAG_LEN + LWF_SIGNATURE_LEN + LWF_CRC_LEN
                   <= LWF_CLASS_LARGE, "a full fragment fits the largest class");
_Static_assert(LWF_FRAGMENTS_MAX <= 64, "reassembly keeps one bit per fragment in a uint64_t");
_Static_assert(LWF_MESSAGE_MAX == 65536, "messages up to 64 KiB");
_Static_assert(LWF_ANNOUNCE_BODY_LEN == LWF_PUBLIC_KEY_LEN + LWF_MAC_LEN + 2, "announce body");

#endif
