/*
 * /Bus registry: a fixed table of entries and an index of them kept sorted by path. Lookups are
 * binary searches; inserts and deletes shift the index's tail, two bytes a key, never the
 * entries (196 bytes each: shifting them cost ~120 k instructions per new key, picolibc's
 * memmove copying a byte at a time when it moves up, and a restarted Membrane publishes ~50).
 * A fixed table (no allocator) keeps the kernel's memory use bounded and lets this file build
 * unchanged on the host for tests and fuzzing.
 */
#include "bus.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct bus_entry {
    char path[BUS_PATH_MAX];
    char value[BUS_VALUE_MAX];
    uint32_t owner;
};

/* What bus_publish_stats last wrote, so it writes only when something changed. */
struct bus_figures {
    uint64_t keys;
    struct bus_stats stats;
};

/* How many keys an owner holds, for the quota check on each new key: counting them meant a
 * pass over the whole index (~3.5 k instructions a new key at 600 keys; a restarted Membrane
 * makes ~60). A few owners are remembered; one that is not is counted once, then kept in a
 * free slot or the one taken longest ago. Every change of a key's owner updates the count it had and the one
 * it gets, so a remembered count is always exact. */
#define OWNER_COUNTS 16

struct owner_count {
    uint32_t owner;
    int keys;
    int used;
};

/* order[0..count) are the live entries' slots, sorted by path; order[count..) the free slots,
 * whose path is empty. */
static struct {
    int count;
    uint16_t order[BUS_MAX_KEYS];
    struct bus_entry slot[BUS_MAX_KEYS];
    struct owner_count owners[OWNER_COUNTS];
    unsigned next_owner; /* the slot of owners[] the next owner not remembered takes */
    struct bus_stats stats;
    struct bus_figures published;
    int ever_published;
} bus;

/* The i-th entry in path order. */
#define ENTRY(i) (&bus.slot[bus.order[i]])

void bus_init(void) {
    bus.count = 0;
    for (int k = 0; k < BUS_MAX_KEYS; k++) {
        bus.order[k] = (uint16_t)k;
        bus.slot[k].path[0] = '\0';
    }
    bus.stats = (struct bus_stats){0};
    bus.ever_published = 0;
    memset(bus.owners, 0, sizeof bus.owners);
    bus.next_owner = 0;
}

int bus_count(void) {
    return bus.count;
}

static struct owner_count *remembered(uint32_t owner) {
    for (int k = 0; k < OWNER_COUNTS; k++)
        if (bus.owners[k].used && bus.owners[k].owner == owner)
            return &bus.owners[k];
    return NULL;
}

/* A key of `owner` came (+1) or went (-1). */
static void owner_keys_changed(uint32_t owner, int delta) {
    struct owner_count *c = remembered(owner);
    if (c)
        c->keys += delta;
}

int bus_owned_by(uint32_t owner) {
    struct owner_count *c = remembered(owner);
    if (c)
        return c->keys;
    int n = 0;
    for (int i = 0; i < bus.count; i++)
        n += ENTRY(i)->owner == owner;
    unsigned k = 0;
    while (k < OWNER_COUNTS && bus.owners[k].used)
        k++;
    if (k == OWNER_COUNTS) {
        k = bus.next_owner;
        bus.next_owner = (bus.next_owner + 1) % OWNER_COUNTS;
    }
    bus.owners[k] = (struct owner_count){.owner = owner, .keys = n, .used = 1};
    return n;
}

const struct bus_stats *bus_stats(void) {
    return &bus.stats;
}

/* Deliberately not isalnum(): the C locale must not widen the accepted character set. */
static int component_char_ok(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == ':' || c == '-';
}

/* "." and ".." are legal characters but would read as directory navigation to any tool that
 * maps /Bus onto a filesystem-like view, so they are refused as whole components. */
static int component_is_dots(const char *c, size_t n) {
    return (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.');
}

int bus_path_valid(const char *path) {
    if (path == NULL || strncmp(path, "/Bus", 4) != 0)
        return 0;
    size_t i = 4;
    while (i < BUS_PATH_MAX && path[i] == '/') {
        size_t start = ++i;
        while (i < BUS_PATH_MAX && component_char_ok(path[i]))
            i++;
        if (i == start || component_is_dots(path + start, i - start))
            return 0;
    }
    return i < BUS_PATH_MAX && path[i] == '\0';
}

static int value_valid(const char *value) {
    if (value == NULL)
        return 0;
    for (size_t i = 0; value[i] != '\0'; i++) {
        unsigned char c = (unsigned char)value[i];
        if (i >= BUS_VALUE_MAX - 1 || c < 0x20 || c > 0x7e)
            return 0;
    }
    return 1;
}

/* Index of the first entry whose path is >= `path`; *found says whether it is equal. */
static int lower_bound(const char *path, int *found) {
    int lo = 0, hi = bus.count;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (strcmp(ENTRY(mid)->path, path) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < bus.count && strcmp(ENTRY(lo)->path, path) == 0;
    return lo;
}

static int may_modify(const struct bus_entry *e, uint32_t owner) {
    return owner == BUS_OWNER_KERNEL || owner == e->owner;
}

static void remove_at(int i) {
    uint16_t freed = bus.order[i];
    owner_keys_changed(bus.slot[freed].owner, -1);
    bus.slot[freed].path[0] = '\0';
    memmove(&bus.order[i], &bus.order[i + 1], (size_t)(bus.count - i - 1) * sizeof bus.order[0]);
    bus.order[--bus.count] = freed;
}

/* Whether `owner` may take one more entry; a fiber's refusal is counted. The owner's own quota
 * is checked first, so a fiber at its quota always learns -EDQUOT, whatever the table holds. */
static int room_for_new_key(uint32_t owner) {
    if (owner == BUS_OWNER_KERNEL)
        return bus.count < BUS_MAX_KEYS ? 0 : -ENOSPC;
    if (bus_owned_by(owner) >= BUS_OWNER_QUOTA) {
        bus.stats.refused_quota++;
        return -EDQUOT;
    }
    if (bus.count >= BUS_MAX_KEYS - BUS_KERNEL_RESERVE) {
        bus.stats.refused_reserve++;
        return -ENOSPC;
    }
    return 0;
}

/* A kernel publish that fails is lost state nobody asked to lose: count it. */
static int counted(int err, uint32_t owner) {
    if (err && owner == BUS_OWNER_KERNEL)
        bus.stats.kernel_failures++;
    return err;
}

/* Replacing a key also records the writer as owner. Only the owner or the kernel may replace,
 * so this either keeps the owner or hands the key to the kernel: once the kernel publishes a
 * value a fiber cannot spoof it, even if the fiber created the key first. Replacing never
 * needs room, so an owner at its quota keeps updating what it holds. */
static int set_entry(const char *path, const char *value, uint32_t owner) {
    if (!bus_path_valid(path) || !value_valid(value))
        return -EINVAL;
    int found;
    int i = lower_bound(path, &found);
    struct bus_entry *e;
    if (found) {
        e = ENTRY(i);
        if (!may_modify(e, owner))
            return -EPERM;
        if (e->owner != owner) {
            owner_keys_changed(e->owner, -1);
            owner_keys_changed(owner, 1);
        }
    } else {
        int err = room_for_new_key(owner);
        if (err)
            return err;
        uint16_t taken = bus.order[bus.count];
        /* A plain loop from the top: picolibc's memmove copies an overlapping move up a byte
         * at a time. */
        for (int k = bus.count; k > i; k--)
            bus.order[k] = bus.order[k - 1];
        bus.order[i] = taken;
        bus.count++;
        e = ENTRY(i);
        strcpy(e->path, path);
        owner_keys_changed(owner, 1);
    }
    strcpy(e->value, value);
    e->owner = owner;
    return 0;
}

int bus_set(const char *path, const char *value, uint32_t owner) {
    return counted(set_entry(path, value, owner), owner);
}

int bus_setf(uint32_t owner, const char *path, const char *fmt, ...) {
    char value[BUS_VALUE_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(value, sizeof value, fmt, ap);
    va_end(ap);
    /* A truncated value would be published as if it were the real one; refuse instead. */
    if (n < 0 || (size_t)n >= sizeof value)
        return counted(-EINVAL, owner);
    return counted(set_entry(path, value, owner), owner);
}

int bus_get(const char *path, char *buf, size_t len) {
    if (!bus_path_valid(path))
        return -EINVAL;
    int found;
    int i = lower_bound(path, &found);
    if (!found)
        return -ENOENT;
    const struct bus_entry *e = ENTRY(i);
    size_t n = strlen(e->value);
    if (len > 0) {
        size_t copy = n < len - 1 ? n : len - 1;
        memcpy(buf, e->value, copy);
        buf[copy] = '\0';
    }
    return (int)n;
}

int bus_del(const char *path, uint32_t owner) {
    if (!bus_path_valid(path))
        return -EINVAL;
    int found;
    int i = lower_bound(path, &found);
    if (!found)
        return -ENOENT;
    if (!may_modify(ENTRY(i), owner))
        return -EPERM;
    remove_at(i);
    return 0;
}

int bus_drop_owner(uint32_t owner) {
    int kept = 0;
    for (int i = 0; i < bus.count; i++) {
        struct bus_entry *e = ENTRY(i);
        if (e->owner == owner)
            e->path[0] = '\0';
        else
            bus.order[kept++] = bus.order[i];
    }
    int dropped = bus.count - kept;
    bus.count = kept;
    struct owner_count *c = remembered(owner);
    if (c) /* it holds nothing now, and a dead fiber's id comes back no more: free the slot */
        c->used = 0;
    /* The free part of the index: every slot with an empty path, the dropped ones among them. */
    for (int k = 0, at = kept; k < BUS_MAX_KEYS && dropped; k++)
        if (!bus.slot[k].path[0])
            bus.order[at++] = (uint16_t)k;
    return dropped;
}

/* Output buffer that keeps counting after it is full, so callers learn the size they need. */
struct sink {
    char *buf;
    size_t cap;
    size_t need;
};

static void sink_put(struct sink *s, const char *str) {
    size_t n = strlen(str);
    if (s->need + 1 < s->cap) {
        size_t room = s->cap - 1 - s->need;
        memcpy(s->buf + s->need, str, n < room ? n : room);
    }
    s->need += n;
}

static void sink_finish(struct sink *s) {
    if (s->cap > 0)
        s->buf[s->need < s->cap - 1 ? s->need : s->cap - 1] = '\0';
}

/* True for the prefix itself and for keys below it; "/Bus/net" must not match "/Bus/network". */
static int under_prefix(const char *path, size_t plen) {
    return path[plen] == '\0' || path[plen] == '/';
}

int bus_list(const char *prefix, char *buf, size_t len) {
    if (!bus_path_valid(prefix))
        return -EINVAL;
    size_t plen = strlen(prefix);
    struct sink s = {buf, len, 0};
    int found;
    /* Every key that starts with `prefix` sorts at or after it and the run is contiguous. */
    for (int i = lower_bound(prefix, &found);
         i < bus.count && strncmp(ENTRY(i)->path, prefix, plen) == 0; i++) {
        const struct bus_entry *e = ENTRY(i);
        if (!under_prefix(e->path, plen))
            continue;
        sink_put(&s, e->path);
        sink_put(&s, "=");
        sink_put(&s, e->value);
        sink_put(&s, "\n");
    }
    sink_finish(&s);
    return (int)s.need;
}

static void figures_now(struct bus_figures *f) {
    f->keys = (uint64_t)bus.count;
    f->stats = bus.stats;
}

static void publish_figures(const struct bus_figures *f) {
    const struct {
        const char *path;
        uint64_t value;
    } figures[] = {
        {"/Bus/bus/capacity", BUS_MAX_KEYS},
        {"/Bus/bus/owner_quota", BUS_OWNER_QUOTA},
        {"/Bus/bus/kernel_reserve", BUS_KERNEL_RESERVE},
        {"/Bus/bus/keys", f->keys},
        {"/Bus/bus/refused_quota", f->stats.refused_quota},
        {"/Bus/bus/refused_reserve", f->stats.refused_reserve},
        {"/Bus/bus/kernel_failures", f->stats.kernel_failures},
    };
    for (size_t i = 0; i < sizeof figures / sizeof figures[0]; i++)
        bus_setf(BUS_OWNER_KERNEL, figures[i].path, "%llu", (unsigned long long)figures[i].value);
}

void bus_publish_stats(void) {
    /* The first round creates the keys, which changes the count it wrote; the second writes the
     * count that includes them. Two rounds at most: a full table would fail (and count) forever. */
    for (int round = 0; round < 2; round++) {
        struct bus_figures now;
        figures_now(&now);
        if (bus.ever_published && memcmp(&now, &bus.published, sizeof now) == 0)
            return;
        publish_figures(&now);
        bus.published = now;
        bus.ever_published = 1;
    }
}
