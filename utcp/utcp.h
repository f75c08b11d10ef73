/*
 * The portable UTCP core: codec, handshake, sessions with reliable streams. Plain C with no
 * kernel dependency, no allocation (the caller hands over the sessions and their frame slots) and
 * no clock reads (every entry point takes `now`, in microseconds of any monotonic clock). Built
 * natively for the host tests, the simulation and the fuzzer, and freestanding for the service.
 * The wire format is docs/utcp.md; its constants are utcp_wire.h.
 *
 * One file per concern:
 *   codec.c      parse in place (receive steps 1-3), encode headers, NACK bodies
 *   crypto.c     CellID, transcript, signatures, session keys, seal/open, rekey (libsodium)
 *   handshake.c  HELLO, WELCOME, CONFIRM; cookie secret; rate limit
 *   session.c    the session table, sealed receive path (steps 4-7), sealing, closing
 *   sender.c     send buffer, window, congestion, pacing, retransmission, tail probe
 *   receiver.c   reassembly, in-order delivery to streams, NACK and WINDOW
 *   core.c       entry points: init, receive, poll
 */
#ifndef UTCP_H
#define UTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "utcp_wire.h"

/* ---- codec.c ---- */

struct utcp_header {
    uint8_t type;
    uint8_t flags;
    uint8_t dst[UTCP_CELLID_LEN];
    uint8_t src[UTCP_CELLID_LEN];
    uint32_t session;
    uint16_t stream;
    uint16_t length;
    uint64_t sequence;
    uint32_t window;
};

/* A frame that passed steps 1-3, read in place: pointers into the caller's bytes. */
struct utcp_frame_view {
    struct utcp_header header;
    const uint8_t *frame; /* the header's first byte */
    size_t len;           /* UTCP_HEADER_LEN + header.length */
    const uint8_t *body;
};

/* A NACK's plaintext, checked: `count` ranges at `ranges`, each first (8) || last (8). */
struct utcp_nack {
    uint64_t release;
    uint16_t count;
    const uint8_t *ranges;
};

const char *utcp_drop_name(enum utcp_drop cause);

/* Steps 1-3 of docs/utcp.md section 7 for a frame after the Ethernet header. Reads nothing
 * outside frame[0, len) and writes only *view. */
enum utcp_drop utcp_frame_parse(const uint8_t *frame, size_t len, const uint8_t me[UTCP_CELLID_LEN],
                                struct utcp_frame_view *view);
void utcp_header_encode(const struct utcp_header *h, uint8_t out[UTCP_HEADER_LEN]);
/* The NACK plaintext rules (section 4); false: malformed. */
bool utcp_nack_parse(const uint8_t *plain, size_t len, struct utcp_nack *nack);
void utcp_nack_range(const struct utcp_nack *nack, uint16_t i, uint64_t *first, uint64_t *last);
uint64_t utcp_get64(const uint8_t *p);
void utcp_put64(uint8_t *p, uint64_t v);

/* ---- crypto.c ---- */

struct utcp_identity {
    uint8_t cellid[UTCP_CELLID_LEN];
    uint8_t public_key[UTCP_PUBLIC_KEY_LEN];
    uint8_t secret_key[UTCP_SECRET_KEY_LEN];
};

void utcp_cellid(const uint8_t public_key[UTCP_PUBLIC_KEY_LEN], uint8_t cellid[UTCP_CELLID_LEN]);
/* An identity from libsodium's 64-byte Ed25519 secret key. */
void utcp_identity_init(struct utcp_identity *id, const uint8_t secret_key[UTCP_SECRET_KEY_LEN]);
void utcp_responder_ephemeral(const uint8_t cookie_secret[UTCP_KEY_LEN], const uint8_t initiator[UTCP_CELLID_LEN],
                              uint32_t session, const uint8_t initiator_ephemeral[UTCP_PUBLIC_KEY_LEN],
                              uint8_t secret[UTCP_KEY_LEN]);
void utcp_ephemeral_public(const uint8_t secret[UTCP_KEY_LEN], uint8_t public_key[UTCP_PUBLIC_KEY_LEN]);
void utcp_transcript(const uint8_t initiator[UTCP_CELLID_LEN], const uint8_t responder[UTCP_CELLID_LEN],
                     uint32_t session, const uint8_t pk_initiator[UTCP_PUBLIC_KEY_LEN],
                     const uint8_t pk_responder[UTCP_PUBLIC_KEY_LEN], const uint8_t e_initiator[UTCP_PUBLIC_KEY_LEN],
                     const uint8_t e_responder[UTCP_PUBLIC_KEY_LEN], uint8_t th[UTCP_KEY_LEN]);
/* The message a handshake signature covers, before the signature tag: `context` ("utcp-welcome-v1"
 * or "utcp-confirm-v1") || th. A signer hook receives these bytes. */
size_t utcp_signed_message(const char *context, const uint8_t th[UTCP_KEY_LEN], uint8_t out[UTCP_SIGNED_MESSAGE_MAX]);
/* Signs UTCP_SIGNATURE_TAG || message, as the node's signer does for its UTCP domain. */
void utcp_sign_message(const uint8_t secret_key[UTCP_SECRET_KEY_LEN], const uint8_t *message, size_t len,
                       uint8_t signature[UTCP_SIGNATURE_LEN]);
bool utcp_verify_transcript(const uint8_t public_key[UTCP_PUBLIC_KEY_LEN], const char *context,
                            const uint8_t th[UTCP_KEY_LEN], const uint8_t signature[UTCP_SIGNATURE_LEN]);
/* The two direction keys from our ephemeral secret and their ephemeral; false when X25519 gives
 * all zero (a small-order point). */
bool utcp_session_keys(const uint8_t secret[UTCP_KEY_LEN], const uint8_t peer_ephemeral[UTCP_PUBLIC_KEY_LEN],
                       const uint8_t th[UTCP_KEY_LEN], uint8_t key_i2r[UTCP_KEY_LEN], uint8_t key_r2i[UTCP_KEY_LEN]);
void utcp_rekey(const uint8_t key[UTCP_KEY_LEN], uint8_t next[UTCP_KEY_LEN]);
/* Seals plain[len] behind the 56 header bytes already in frame[]: frame[56, 56 + len + 16). */
void utcp_seal(const uint8_t key[UTCP_KEY_LEN], uint32_t space, uint8_t *frame, const uint8_t *plain, size_t len);
/* Opens the view's body into plain[length - 16]; false if it is not authentic. */
bool utcp_open(const uint8_t key[UTCP_KEY_LEN], uint32_t space, const struct utcp_frame_view *view, uint8_t *plain);
uint32_t utcp_space_of(uint8_t type);

/* ---- sessions ---- */

/* One frame: a sealed frame in a send slot, a received plaintext in a receive slot. */
struct utcp_slot {
    uint64_t sequence;     /* 0: empty */
    uint64_t sent_at;      /* send slots: last transmission */
    uint16_t len;
    uint16_t stream;
    uint8_t type;
    uint8_t transmissions;
    uint8_t bytes[UTCP_FRAME_MAX];
};

enum utcp_state {
    UTCP_FREE = 0,
    UTCP_HELLO_SENT,    /* initiator: waiting for the WELCOME */
    UTCP_CONFIRM_SENT,  /* initiator: keys made, waiting for the responder's first sealed frame */
    UTCP_ESTABLISHED,
};

struct utcp_stream {
    uint16_t id;          /* 0: unused */
    bool fin_in, fin_out;
    uint64_t bytes_in, bytes_out;
};

struct utcp_session_stats {
    uint64_t frames_out, frames_in, retransmissions, nacks_out, nacks_in, windows_out, syncs_out;
    uint64_t probes_out; /* of syncs_out: tail probes (the rest ask for the release only) */
    uint64_t send_epochs, congestion_cuts;
};

struct utcp_session {
    enum utcp_state state;
    bool initiator;
    uint8_t peer[UTCP_CELLID_LEN];
    uint8_t peer_public_key[UTCP_PUBLIC_KEY_LEN];
    uint32_t id;

    /* handshake (initiator) */
    uint8_t ephemeral_secret[UTCP_KEY_LEN];
    uint8_t ephemeral_public[UTCP_PUBLIC_KEY_LEN];
    uint8_t handshake_frame[UTCP_HANDSHAKE_FRAME_MAX]; /* the HELLO or CONFIRM to send again */
    uint16_t handshake_len;
    uint8_t handshake_tries;
    uint64_t handshake_sent_at, handshake_retry_at;

    /* keys: ours to seal with, theirs with the previous epoch's */
    uint8_t send_key[UTCP_KEY_LEN];
    uint64_t send_epoch;
    uint32_t sealed_in_epoch;
    uint8_t recv_key[UTCP_KEY_LEN], recv_previous_key[UTCP_KEY_LEN];
    uint64_t recv_epoch;
    bool recv_has_previous;

    /* control space */
    uint64_t control_next;
    uint64_t control_highest, control_seen;

    /* sender: stream-space frames [peer_release + 1, send_next), of which [.., transmit_next) sent */
    struct utcp_slot *send_slots;
    uint32_t send_capacity;
    uint64_t send_next, transmit_next, peer_release;
    uint32_t peer_window;
    uint32_t cwnd, ssthresh, cwnd_credit;
    uint64_t srtt_us, last_cut_at, next_send_at;
    uint64_t loss_round_at;  /* first losses counted since then (one round trip at most) */
    uint32_t loss_round_count;
    uint64_t progress_at, sync_sent_at; /* sync_sent_at: the SYNC on its way, 0: none */
    uint8_t sync_tries;
    bool sync_ambiguous; /* one was taken for lost: the next answer may be its, no sample */

    /* receiver: frames [release + 1, release + window] */
    struct utcp_slot *recv_slots;
    uint32_t window;
    uint64_t release, highest_held, reported_release;
    uint64_t nack_at;

    uint64_t heard_at, keepalive_at;
    struct utcp_stream streams[UTCP_STREAMS_MAX];
    struct utcp_session_stats stats;
};

enum utcp_event { UTCP_EVENT_ESTABLISHED, UTCP_EVENT_CLOSED };

struct utcp_config {
    struct utcp_identity identity;
    void *ctx;
    /* A frame (after the Ethernet header) for the peer `peer`; the caller adds Ethernet. */
    void (*emit)(void *ctx, const uint8_t peer[UTCP_CELLID_LEN], const uint8_t *frame, size_t len);
    void (*random)(void *ctx, uint8_t *out, size_t len);
    /* Signs UTCP_SIGNATURE_TAG || message[len] with the node's key; false when it cannot (the
     * handshake then goes unanswered). NULL: the core signs with identity.secret_key itself. A
     * service keeps the secret in another fiber and leaves identity.secret_key zero. */
    bool (*sign)(void *ctx, const uint8_t *message, size_t len, uint8_t signature[UTCP_SIGNATURE_LEN]);
    /* In-order stream bytes; the fin callback marks the end of the peer's direction. */
    void (*on_data)(void *ctx, struct utcp_session *s, uint16_t stream, const uint8_t *data, size_t len);
    void (*on_fin)(void *ctx, struct utcp_session *s, uint16_t stream);
    /* Optional: bytes the reader of `stream` can take now. A DATA frame that does not fit waits
     * in its slot, holding the release (so the peer's sender) back, until the caller has room
     * and calls utcp_receiver_deliver. NULL: every frame is delivered at once. */
    size_t (*room)(void *ctx, struct utcp_session *s, uint16_t stream);
    /* CLOSED comes with a utcp_reset_reason; the session is freed right after the callback. */
    void (*on_event)(void *ctx, struct utcp_session *s, enum utcp_event event, int reason);
};

struct utcp_bucket {
    uint64_t tokens; /* in millionths of a token */
    uint64_t at;
};

struct utcp_core {
    struct utcp_config config;
    struct utcp_session *sessions;
    size_t session_count;
    uint8_t cookie_secret[UTCP_KEY_LEN], cookie_previous[UTCP_KEY_LEN];
    bool cookie_has_previous;
    uint64_t cookie_since;
    struct utcp_bucket buckets[UTCP_BUCKETS], global_bucket;
    uint64_t drops[UTCP_DROP_CAUSES];
    uint8_t scratch[UTCP_FRAME_MAX];           /* a frame being sent */
    uint8_t plain[UTCP_PLAINTEXT_MAX];         /* a frame being received, opened */
};

/* ---- core.c: the entry points ---- */

/* `slots` holds 2 * window * session_count slots (window <= UTCP_WINDOW_MAX frames per direction). */
void utcp_init(struct utcp_core *core, const struct utcp_config *config, struct utcp_session *sessions,
               size_t session_count, struct utcp_slot *slots, uint32_t window, uint64_t now);
/* One session more, at sessions[session_count] (the array given to utcp_init must have room),
 * with its 2 * window slots: a caller may hand sessions over as it finds memory for them,
 * starting from none. */
void utcp_session_add(struct utcp_core *core, struct utcp_slot *slots, uint32_t window);
/* A frame after the Ethernet header. UTCP_ACCEPTED: *from is the session it belongs to (NULL for a
 * HELLO, answered without state): the caller takes the Ethernet source as that peer's MAC. Every
 * drop is also counted in core->drops. */
enum utcp_drop utcp_receive(struct utcp_core *core, const uint8_t *frame, size_t len, uint64_t now,
                            struct utcp_session **from);
/* Runs every timer due at `now` and sends what may be sent; returns when to call again. */
uint64_t utcp_poll(struct utcp_core *core, uint64_t now);
size_t utcp_sessions_in_use(const struct utcp_core *core);
/* This node's MAC changed: a PING on every session tells each peer the new one (section 11). */
void utcp_address_changed(struct utcp_core *core, uint64_t now);

/* ---- handshake.c ---- */
/* Starts a session to `peer` (sends the HELLO); NULL when no session is free. */
struct utcp_session *utcp_connect(struct utcp_core *core, const uint8_t peer[UTCP_CELLID_LEN], uint64_t now);
enum utcp_drop utcp_handshake_receive(struct utcp_core *core, const struct utcp_frame_view *v, uint64_t now,
                                      struct utcp_session **from);
void utcp_handshake_poll(struct utcp_core *core, struct utcp_session *s, uint64_t now);
void utcp_cookie_rotate(struct utcp_core *core, uint64_t now);
/* Every rate-limit bucket full. */
void utcp_rate_init(struct utcp_core *core, uint64_t now);

/* ---- session.c ---- */
struct utcp_session *utcp_session_find(struct utcp_core *core, const uint8_t peer[UTCP_CELLID_LEN], uint32_t id);
struct utcp_session *utcp_session_claim(struct utcp_core *core);
/* Keys and counters of a session whose handshake just ended. */
void utcp_session_start(struct utcp_core *core, struct utcp_session *s, const uint8_t key_i2r[UTCP_KEY_LEN],
                        const uint8_t key_r2i[UTCP_KEY_LEN], uint64_t now);
enum utcp_drop utcp_session_receive(struct utcp_core *core, const struct utcp_frame_view *v, uint64_t now,
                                    struct utcp_session **from);
/* Builds, seals and emits a control frame. */
void utcp_send_control(struct utcp_core *core, struct utcp_session *s, uint8_t type, uint8_t flags,
                       const uint8_t *plain, size_t len);
/* Seals a frame into out[] (the header from the arguments); returns its length. */
size_t utcp_seal_frame(struct utcp_core *core, struct utcp_session *s, uint8_t type, uint8_t flags,
                       uint16_t stream, uint64_t sequence, const uint8_t *plain, size_t len, uint8_t *out);
/* Sends RESET(reason) unless `silent`, tells the caller, and frees the session. */
void utcp_session_close(struct utcp_core *core, struct utcp_session *s, int reason, bool silent);
/* The session's stream `id`, made when `create` and a place is free; NULL otherwise. */
struct utcp_stream *utcp_stream_get(struct utcp_session *s, uint16_t id, bool create);

/* ---- sender.c ---- */
/* Queues up to len bytes on `stream` (1..65535) as sealed DATA frames; returns how many were taken
 * (0 when the session is not ready or its send buffer is full). */
size_t utcp_send(struct utcp_core *core, struct utcp_session *s, uint16_t stream, const uint8_t *data,
                 size_t len, uint64_t now);
/* Queues the FIN of `stream`; false when the buffer is full or the stream is finished. */
bool utcp_finish(struct utcp_core *core, struct utcp_session *s, uint16_t stream, uint64_t now);
/* Opens `stream` at the peer before any byte: a DATA with none (section 10), so that a listener's
 * accept returns while the client waits for the server to speak first. false if the stream has
 * sent already, is finished, or the window is full. */
bool utcp_open_stream(struct utcp_core *core, struct utcp_session *s, uint16_t stream, uint64_t now);
/* Frames the sender may queue now. */
uint32_t utcp_send_room(const struct utcp_session *s);
/* `reply`: the frame answers our SYNC (its REPLY flag). */
void utcp_sender_release(struct utcp_core *core, struct utcp_session *s, uint64_t release, bool reply, uint64_t now);
void utcp_sender_nack(struct utcp_core *core, struct utcp_session *s, const struct utcp_nack *nack, bool reply,
                      uint64_t now);
uint64_t utcp_sender_poll(struct utcp_core *core, struct utcp_session *s, uint64_t now);

/* ---- receiver.c ---- */
/* Whether stream-space frame `sequence` is held already (receive step 5). */
bool utcp_receiver_holds(const struct utcp_session *s, uint64_t sequence);
/* Takes a stream-space frame that passed every check; false when that closed the session (a
 * protocol error, or the application closed it from a callback). */
bool utcp_receiver_take(struct utcp_core *core, struct utcp_session *s, const struct utcp_header *h,
                        const uint8_t *plain, size_t len, uint64_t now);
/* Delivers the frames waiting in order (after the reader made room); false when that closed the
 * session. */
bool utcp_receiver_deliver(struct utcp_core *core, struct utcp_session *s);
void utcp_receiver_sync(struct utcp_core *core, struct utcp_session *s, uint64_t highest);
uint64_t utcp_receiver_poll(struct utcp_core *core, struct utcp_session *s, uint64_t now);

#endif
