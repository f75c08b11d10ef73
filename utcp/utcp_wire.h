/*
 * UTCP v1 on the wire: the numbers of docs/utcp.md in one place. Everything in the first part is
 * fixed by the spec (changing it breaks interoperation, and the test vectors say so); the timers
 * and congestion constants at the end are Nexus's behaviour (docs/utcp.md sections 8-9), which a
 * peer need not share. Offsets count from the first byte after the Ethernet header; every
 * integer on the wire is big-endian.
 *
 *   Ethernet (14) | header (56) | body (`length`: cleartext handshake, or ciphertext || tag)
 */
#ifndef UTCP_WIRE_H
#define UTCP_WIRE_H

#include <stdint.h>

#define UTCP_ETHERTYPE       0x88B5u
#define UTCP_ETH_HEADER_LEN  14u
#define UTCP_VERSION         1u

/* Header fields: offset (docs/utcp.md, section 3). */
#define UTCP_OFF_VERSION     0u
#define UTCP_OFF_TYPE        1u
#define UTCP_OFF_FLAGS       2u
#define UTCP_OFF_RESERVED    3u
#define UTCP_OFF_DST         4u
#define UTCP_OFF_SRC         20u
#define UTCP_OFF_SESSION     36u
#define UTCP_OFF_STREAM      40u
#define UTCP_OFF_LENGTH      42u
#define UTCP_OFF_SEQUENCE    44u
#define UTCP_OFF_WINDOW      52u
#define UTCP_HEADER_LEN      56u

#define UTCP_CELLID_LEN      16u
#define UTCP_PUBLIC_KEY_LEN  32u  /* Ed25519 and X25519 alike */
#define UTCP_SECRET_KEY_LEN  64u  /* libsodium's Ed25519 secret key: seed || public key */
#define UTCP_SIGNATURE_LEN   64u
#define UTCP_KEY_LEN         32u  /* a direction's ChaCha20-Poly1305 key, an X25519 secret, a hash */
#define UTCP_NONCE_LEN       12u
/* Every handshake signature covers this tag first: the node's key signs for several protocols,
 * and the signer (nexus/signproto.h, SIGN_UTCP_TAG) puts it before every UTCP message it signs. */
#define UTCP_SIGNATURE_TAG   "nexus-utcp-signature-v1"
#define UTCP_SIGNED_MESSAGE_MAX 64u /* context (15) || transcript hash (32), with room */
#define UTCP_TAGGED_MESSAGE_MAX (sizeof UTCP_SIGNATURE_TAG - 1 + UTCP_SIGNED_MESSAGE_MAX)
#define UTCP_TAG_LEN         16u

#define UTCP_PLAINTEXT_MAX   1400u
#define UTCP_FRAME_MAX       (UTCP_HEADER_LEN + UTCP_PLAINTEXT_MAX + UTCP_TAG_LEN)

/* Handshake bodies (section 4). */
#define UTCP_HELLO_BODY_LEN    128u
#define UTCP_WELCOME_BODY_LEN  128u
#define UTCP_CONFIRM_BODY_LEN  160u
#define UTCP_HANDSHAKE_FRAME_MAX (UTCP_HEADER_LEN + UTCP_CONFIRM_BODY_LEN)

/* Sealed bodies' plaintext (section 4). */
#define UTCP_NACK_FIXED_LEN    10u   /* release (8) || count (2) */
#define UTCP_NACK_RANGE_LEN    16u   /* first (8) || last (8) */
#define UTCP_NACK_RANGES_MAX   64u
#define UTCP_RELEASE_LEN       8u    /* WINDOW, SYNC, PING bodies */
#define UTCP_RESET_LEN         1u

#define UTCP_WINDOW_MAX        4096u
#define UTCP_REKEY_INTERVAL    8192u /* frames sealed per epoch (section 6) */
#define UTCP_CONTROL_REPLAY_WINDOW 64u
#define UTCP_STREAMS_MAX       16u

/* Nonce spaces (section 6). */
#define UTCP_SPACE_STREAM      0u
#define UTCP_SPACE_CONTROL     1u

enum utcp_type {
    UTCP_TYPE_HELLO = 1,
    UTCP_TYPE_WELCOME,
    UTCP_TYPE_CONFIRM,
    UTCP_TYPE_DATA,
    UTCP_TYPE_NACK,
    UTCP_TYPE_WINDOW,
    UTCP_TYPE_SYNC,
    UTCP_TYPE_FIN,
    UTCP_TYPE_RESET,
    UTCP_TYPE_PING,
    UTCP_TYPE_COUNT,
};

enum utcp_flag {
    UTCP_FLAG_KEY_PHASE = 0x01,
    UTCP_FLAG_REPLY     = 0x02,
};

enum utcp_reset_reason {
    UTCP_RESET_CLOSED  = 0,
    UTCP_RESET_ERROR   = 1,
    UTCP_RESET_TIMEOUT = 2,
};

/* Why a frame was dropped (section 7); utcp_drop_name gives the /Bus counter names. */
enum utcp_drop {
    UTCP_ACCEPTED = 0,
    UTCP_DROP_MALFORMED,
    UTCP_DROP_UNKNOWN_DESTINATION,
    UTCP_DROP_NO_SESSION,
    UTCP_DROP_RATE_LIMITED,
    UTCP_DROP_BAD_COOKIE,
    UTCP_DROP_BAD_SIGNATURE,
    UTCP_DROP_AEAD,
    UTCP_DROP_REPLAY,
    UTCP_DROP_OUT_OF_WINDOW,
    UTCP_DROP_NO_ROOM,
    UTCP_DROP_CAUSES,
};

/* Handshake (section 5). */
#define UTCP_COOKIE_LIFETIME_US   60000000ull
#define UTCP_BUCKETS              64u
#define UTCP_BUCKET_BURST         4u
#define UTCP_BUCKET_RATE          4u   /* tokens per second */
#define UTCP_GLOBAL_BURST         64u
#define UTCP_GLOBAL_RATE          64u
#define UTCP_HANDSHAKE_RETRY_US   250000ull
#define UTCP_HANDSHAKE_TRIES      8u

/* Nexus's reliability and congestion behaviour (sections 8-9). */
#define UTCP_NACK_DELAY_US        1000ull
#define UTCP_NACK_REPEAT_US       10000ull
#define UTCP_SYNC_MIN_US          1000ull
#define UTCP_SYNC_TRIES           8u
#define UTCP_PROBE_SILENCE_US     10000000ull /* and the peer silent so long: the probe gives up */
#define UTCP_SYNC_EXPIRY_US       10000ull /* and 4 srtt: a SYNC unanswered so long is taken for lost */
#define UTCP_INITIAL_SRTT_US      10000ull
#define UTCP_IDLE_TIMEOUT_US      30000000ull
#define UTCP_KEEPALIVE_US         10000000ull
#define UTCP_INITIAL_PEER_WINDOW  16u
#define UTCP_INITIAL_CWND         32u
#define UTCP_MIN_CWND             4u

_Static_assert(UTCP_OFF_DST + UTCP_CELLID_LEN == UTCP_OFF_SRC, "src follows dst");
_Static_assert(UTCP_OFF_WINDOW + 4 == UTCP_HEADER_LEN, "the window ends the header");
_Static_assert(UTCP_FRAME_MAX == 1472, "docs/utcp.md section 2: 1472 bytes");
_Static_assert(UTCP_HELLO_BODY_LEN == UTCP_WELCOME_BODY_LEN, "no amplification: HELLO as long as WELCOME");
_Static_assert(UTCP_WELCOME_BODY_LEN == 2 * UTCP_PUBLIC_KEY_LEN + UTCP_SIGNATURE_LEN, "WELCOME body");
_Static_assert(UTCP_CONFIRM_BODY_LEN == 3 * UTCP_PUBLIC_KEY_LEN + UTCP_SIGNATURE_LEN, "CONFIRM body");
_Static_assert(UTCP_NACK_FIXED_LEN + UTCP_NACK_RANGES_MAX * UTCP_NACK_RANGE_LEN <= UTCP_PLAINTEXT_MAX,
               "a full NACK fits one frame");
_Static_assert(2 * UTCP_WINDOW_MAX <= UTCP_REKEY_INTERVAL,
               "a frame in flight is at most one epoch old: the receiver keeps only the previous key");

#endif
