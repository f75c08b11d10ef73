#include "cspace.h"

#include <errno.h>
#include <string.h>

#include "wordlist.h"


/* Slots are the record; the bitmaps follow them, so checks need no scan. */
static void note_rights(struct cspace *cs, unsigned channel, unsigned rights) {
    if (rights & CAP_READ)
        cs->readable |= 1ull << channel;
    if (rights & CAP_WRITE)
        cs->writable |= 1ull << channel;
}

int cspace_grant(struct cspace *cs, unsigned channel, unsigned rights) {
    if (channel >= NEXUS_CHANNELS || rights == 0 || (rights & ~CAP_RW))
        return -EINVAL;
    struct cap *free_slot = NULL;
    for (unsigned i = 0; i < CSPACE_SLOTS; i++) {
        struct cap *c = &cs->slot[i];
        if (c->rights && c->channel == channel) {
            c->rights |= (uint8_t)rights;
            note_rights(cs, channel, rights);
            return 0;
        }
        if (!c->rights && !free_slot)
            free_slot = c;
    }
    if (!free_slot)
        return -ENOSPC;
    free_slot->channel = (uint8_t)channel;
    free_slot->rights = (uint8_t)rights;
    note_rights(cs, channel, rights);
    return 0;
}

int cspace_grant_link_end(struct cspace *cs, unsigned own_channel, unsigned peer_channel, unsigned rights) {
    if (rights == 0 || (rights & ~CAP_RW))
        return -EINVAL;
    const struct {
        unsigned right, channel;
    } direction[] = {{CAP_READ, own_channel}, {CAP_WRITE, peer_channel}};
    for (unsigned i = 0; i < sizeof direction / sizeof direction[0]; i++) {
        int err = rights & direction[i].right ? cspace_grant(cs, direction[i].channel, direction[i].right) : 0;
        if (err)
            return err;
    }
    return 0;
}

unsigned cspace_rights(const struct cspace *cs, unsigned channel) {
    if (channel >= NEXUS_CHANNELS)
        return 0;
    return (unsigned)(cs->readable >> channel & 1) * CAP_READ | (unsigned)(cs->writable >> channel & 1) * CAP_WRITE;
}

unsigned cspace_used(const struct cspace *cs) {
    unsigned n = 0;
    for (unsigned i = 0; i < CSPACE_SLOTS; i++)
        n += cs->slot[i].rights != 0;
    return n;
}

static const struct {
    const char *prefix;
    enum grant_kind kind;
    unsigned limit; /* numbers must be below it; 0 for a name */
} grant_kinds[] = {
    {"chan", GRANT_CHANNEL, NEXUS_OWN_CHANNELS},
    {"port", GRANT_PORT, GRANT_PORTS_MAX},
    {"link", GRANT_LINK, 0},
    {"heap", GRANT_HEAP, GRANT_HEAP_KIB_MAX + 1},
    {"files", GRANT_FILES, GRANT_FILES_KIB_MAX + 1},
    {"area", GRANT_AREA, 0},
};

static const struct {
    const char *text;
    unsigned rights;
} rights_names[] = {{"r", CAP_READ}, {"w", CAP_WRITE}, {"rw", CAP_RW}};

static int same(const char *s, size_t len, const char *word) { return strlen(word) == len && !memcmp(s, word, len); }

/* Up to 3 digits (leading zeros allowed), more only as far as the limit needs ("heap:65536"). */
static size_t max_digits(unsigned limit) {
    size_t digits = 0;
    for (unsigned v = limit - 1; v; v /= 10)
        digits++;
    return digits > 3 ? digits : 3;
}

static int parse_number(const char *s, size_t len, unsigned limit, unsigned *out) {
    if (len == 0 || len > max_digits(limit))
        return -EINVAL;
    unsigned v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v >= limit)
        return -EINVAL;
    *out = v;
    return 0;
}

static int valid_name(const char *s, size_t len) {
    if (len == 0 || len >= GRANT_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
            return 0;
    return 1;
}

/* One word "kind:object[:rights]" of len bytes. */
static int parse_word(const char *w, size_t len, struct grant *g) {
    const char *colon = memchr(w, ':', len);
    if (!colon)
        return -EINVAL;
    size_t kind_len = (size_t)(colon - w);
    const char *obj = colon + 1;
    size_t rest = len - kind_len - 1;
    const char *colon2 = memchr(obj, ':', rest);
    size_t obj_len = colon2 ? (size_t)(colon2 - obj) : rest;
    unsigned k = 0;
    while (k < sizeof grant_kinds / sizeof grant_kinds[0] && !same(w, kind_len, grant_kinds[k].prefix))
        k++;
    if (k == sizeof grant_kinds / sizeof grant_kinds[0])
        return -EINVAL;
    memset(g, 0, sizeof *g);
    g->kind = grant_kinds[k].kind;
    g->rights = CAP_RW;
    if (grant_kinds[k].limit) {
        if (parse_number(obj, obj_len, grant_kinds[k].limit, &g->number))
            return -EINVAL;
    } else {
        if (!valid_name(obj, obj_len))
            return -EINVAL;
        memcpy(g->server, obj, obj_len);
    }
    if (!colon2)
        return 0;
    if (g->kind == GRANT_HEAP || g->kind == GRANT_FILES || g->kind == GRANT_AREA)
        return -EINVAL; /* memory, not a channel: no rights to name */
    const char *r = colon2 + 1;
    size_t r_len = rest - obj_len - 1;
    for (unsigned i = 0; i < sizeof rights_names / sizeof rights_names[0]; i++) {
        if (same(r, r_len, rights_names[i].text)) {
            g->rights = rights_names[i].rights;
            return 0;
        }
    }
    return -EINVAL;
}

int grants_name_area(const struct grant *g, int n, const char *server) {
    for (int i = 0; i < n; i++)
        if (g[i].kind == GRANT_AREA && !strcmp(g[i].server, server))
            return 1;
    return 0;
}

int grants_parse(const char *text, struct grant *out, unsigned max) {
    size_t total = strnlen(text, GRANT_TEXT_MAX);
    if (total >= GRANT_TEXT_MAX)
        return -EINVAL;
    unsigned n = 0;
    size_t len;
    for (size_t at = 0; (len = wordlist_next(text, total, &at)) != 0; at += len) {
        if (n == max || parse_word(text + at, len, &out[n]))
            return -EINVAL;
        n++;
    }
    return (int)n;
}
