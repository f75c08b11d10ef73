/*
 * The anti-replay window per peer (docs/lwf.md, section 8): the highest sequence accepted and a
 * 64-bit map of the 64 sequences up to it. Checking and accepting are separate calls because the
 * spec checks before the cryptography (cheap, no state) and accepts only after it (so a forged
 * frame cannot move a peer's window).
 */
#include "lwf.h"

void lwf_replay_start(struct lwf_replay_window *w, uint64_t sequence) {
    w->highest = sequence;
    w->seen = 1;
}

bool lwf_replay_fresh(const struct lwf_replay_window *w, uint64_t sequence) {
    if (sequence > w->highest)
        return true;
    uint64_t behind = w->highest - sequence;
    return behind < LWF_REPLAY_WINDOW && !(w->seen >> behind & 1);
}

void lwf_replay_accept(struct lwf_replay_window *w, uint64_t sequence) {
    if (sequence > w->highest) {
        uint64_t ahead = sequence - w->highest;
        w->seen = ahead >= LWF_REPLAY_WINDOW ? 1 : w->seen << ahead | 1;
        w->highest = sequence;
    } else if (w->highest - sequence < LWF_REPLAY_WINDOW) {
        w->seen |= (uint64_t)1 << (w->highest - sequence);
    }
}
