/*
 * libFuzzer target for kernel/bus.c. The input is a script of records
 *     <op byte> <arg byte> <path> '\n' <value> '\n'
 * (the last record may stop anywhere). OP_FILL creates up to 4*arg keys below <path> in one
 * record, so a short input can reach a fiber's quota, the kernel's reserve or a full table. Each
 * record is applied both to the real table and to a deliberately naive model (unsorted array,
 * linear search, its own path checker, owners' keys counted by hand). After every record the two
 * must agree on the return code, on the whole contents and on the refusal counters, and the
 * listing must be sorted, well formed and consistent with bus_get and bus_count.
 */
#include "bus.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REQUIRE(cond)  \
    do {               \
        if (!(cond))   \
            abort();   \
    } while (0)

/* Longer than any legal path or value, so over-length inputs reach the code under test. */
#define FIELD_MAX 256

enum op { OP_SET, OP_SETF, OP_GET, OP_DEL, OP_DROP, OP_LIST, OP_INIT, OP_FILL, OP_PUBLISH };
#define NUM_OPS (OP_PUBLISH + 1)

struct model_key {
    char path[BUS_PATH_MAX];
    char value[BUS_VALUE_MAX];
    uint32_t owner;
};

static struct model_key model[BUS_MAX_KEYS];
static int model_count;
static struct bus_stats model_stats;
/* What the model's last publish wrote: keys, then the three counters. */
static uint64_t model_published[4];
static int model_ever_published;
static char listing[BUS_MAX_KEYS * (BUS_PATH_MAX + BUS_VALUE_MAX) + 1];
static char expected[sizeof listing];

/* Independent restatement of the path grammar: "/Bus" then ("/" component)*, where a
 * component is 1+ chars of [A-Za-z0-9_.:-] and not "." or "..". */
static int model_path_valid(const char *p) {
    if (strlen(p) >= BUS_PATH_MAX || strncmp(p, "/Bus", 4) != 0)
        return 0;
    for (p += 4; *p; ) {
        if (*p++ != '/')
            return 0;
        size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-");
        if (n == 0 || strncmp(p, ".", n) == 0 || strncmp(p, "..", n) == 0)
            return 0;
        p += n;
    }
    return 1;
}

static int model_value_valid(const char *v) {
    if (strlen(v) >= BUS_VALUE_MAX)
        return 0;
    for (; *v; v++)
        if ((unsigned char)*v < 0x20 || (unsigned char)*v > 0x7e)
            return 0;
    return 1;
}

static struct model_key *model_find(const char *path) {
    for (int i = 0; i < model_count; i++)
        if (strcmp(model[i].path, path) == 0)
            return &model[i];
    return NULL;
}

static int model_owned_by(uint32_t owner) {
    int n = 0;
    for (int i = 0; i < model_count; i++)
        if (model[i].owner == owner)
            n++;
    return n;
}

/* A new key: the kernel until the table is full; a fiber up to its quota, and never into the
 * kernel's reserve. */
static int model_room(uint32_t owner) {
    if (owner == BUS_OWNER_KERNEL)
        return model_count == BUS_MAX_KEYS ? -ENOSPC : 0;
    if (model_owned_by(owner) == BUS_OWNER_QUOTA) {
        model_stats.refused_quota++;
        return -EDQUOT;
    }
    if (model_count >= BUS_MAX_KEYS - BUS_KERNEL_RESERVE) {
        model_stats.refused_reserve++;
        return -ENOSPC;
    }
    return 0;
}

static int model_set_uncounted(const char *path, const char *value, uint32_t owner) {
    if (!model_path_valid(path) || !model_value_valid(value))
        return -EINVAL;
    struct model_key *k = model_find(path);
    if (k && owner != BUS_OWNER_KERNEL && owner != k->owner)
        return -EPERM;
    int room = k ? 0 : model_room(owner);
    if (room)
        return room;
    if (!k) {
        k = &model[model_count++];
        strcpy(k->path, path);
    }
    strcpy(k->value, value);
    k->owner = owner;
    return 0;
}

/* Every failed kernel write counts, whatever the reason. */
static int model_set(const char *path, const char *value, uint32_t owner) {
    int r = model_set_uncounted(path, value, owner);
    if (r && owner == BUS_OWNER_KERNEL)
        model_stats.kernel_failures++;
    return r;
}

/* bus_publish_stats as specified: up to two rounds, each writing all seven keys unless the
 * figures equal what the last round wrote. */
static void model_publish(void) {
    for (int round = 0; round < 2; round++) {
        uint64_t now[4] = {(uint64_t)model_count, model_stats.refused_quota, model_stats.refused_reserve,
                           model_stats.kernel_failures};
        if (model_ever_published && memcmp(now, model_published, sizeof now) == 0)
            return;
        const struct {
            const char *path;
            uint64_t value;
        } keys[] = {
            {"/Bus/bus/capacity", BUS_MAX_KEYS},         {"/Bus/bus/owner_quota", BUS_OWNER_QUOTA},
            {"/Bus/bus/kernel_reserve", BUS_KERNEL_RESERVE}, {"/Bus/bus/keys", now[0]},
            {"/Bus/bus/refused_quota", now[1]},         {"/Bus/bus/refused_reserve", now[2]},
            {"/Bus/bus/kernel_failures", now[3]},
        };
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            char value[24];
            snprintf(value, sizeof value, "%llu", (unsigned long long)keys[i].value);
            model_set(keys[i].path, value, BUS_OWNER_KERNEL);
        }
        memcpy(model_published, now, sizeof now);
        model_ever_published = 1;
    }
}

static void model_init(void) {
    model_count = 0;
    model_stats = (struct bus_stats){0};
    model_ever_published = 0;
}

static int model_del(const char *path, uint32_t owner) {
    if (!model_path_valid(path))
        return -EINVAL;
    struct model_key *k = model_find(path);
    if (!k)
        return -ENOENT;
    if (owner != BUS_OWNER_KERNEL && owner != k->owner)
        return -EPERM;
    *k = model[--model_count];
    return 0;
}

static int model_drop(uint32_t owner) {
    int dropped = 0;
    for (int i = 0; i < model_count;) {
        if (model[i].owner == owner) {
            model[i] = model[--model_count];
            dropped++;
        } else {
            i++;
        }
    }
    return dropped;
}

/* Copies bytes up to '\n' or the end into buf (truncated, NUL-terminated); skips the '\n'. */
static void next_field(const uint8_t **p, const uint8_t *end, char *buf) {
    size_t n = 0;
    while (*p < end && **p != '\n') {
        if (n < FIELD_MAX - 1)
            buf[n++] = (char)**p;
        (*p)++;
    }
    buf[n] = '\0';
    if (*p < end)
        (*p)++;
}

/* Fetches the whole table into `listing`, checking the length it reports. */
static void fetch_all(void) {
    int need = bus_list("/Bus", NULL, 0);
    REQUIRE(need >= 0 && (size_t)need < sizeof listing);
    REQUIRE(bus_list("/Bus", listing, sizeof listing) == need && listing[need] == '\0');
}

/* Checked after every record, so it stays linear: the listing is sorted, every line well formed,
 * and there are as many lines as keys. */
static void check_listing(void) {
    int count = bus_count();
    REQUIRE(count == model_count && count >= 0 && count <= BUS_MAX_KEYS);
    fetch_all();
    int lines = 0;
    const char *prev = NULL;
    for (char *line = listing; *line; lines++) {
        char *eq = strchr(line, '='), *nl = strchr(line, '\n');
        REQUIRE(eq && nl && eq < nl);
        *eq = *nl = '\0';
        REQUIRE(model_path_valid(line) && model_value_valid(eq + 1));
        REQUIRE(prev == NULL || strcmp(prev, line) < 0);
        prev = line;
        line = nl + 1;
    }
    REQUIRE(lines == count);
}

/* Every model key is in the table with the model's value; with equal counts the two hold
 * exactly the same keys. The fuzzed owners hold as many keys each, and the counters agree. */
static void check_matches_model(void) {
    REQUIRE(bus_count() == model_count);
    REQUIRE(memcmp(bus_stats(), &model_stats, sizeof model_stats) == 0);
    for (uint32_t owner = 0; owner < 4; owner++)
        REQUIRE(bus_owned_by(owner) == model_owned_by(owner));
    char buf[BUS_VALUE_MAX];
    for (int i = 0; i < model_count; i++)
        REQUIRE(bus_get(model[i].path, buf, sizeof buf) >= 0 && strcmp(buf, model[i].value) == 0);
}

static void check_get(const char *path, size_t len) {
    char buf[BUS_VALUE_MAX];
    memset(buf, 'Z', sizeof buf);
    int r = bus_get(path, buf, len);
    struct model_key *k = model_find(path);
    if (!model_path_valid(path)) {
        REQUIRE(r == -EINVAL);
    } else if (!k) {
        REQUIRE(r == -ENOENT);
    } else {
        REQUIRE(r == (int)strlen(k->value));
        if (len > 0)
            REQUIRE(strlen(buf) == (r < (int)len ? (size_t)r : len - 1) &&
                    strncmp(buf, k->value, len - 1) == 0);
    }
}

/* True for `prefix` itself and paths below it. */
static int model_under(const char *path, const char *prefix) {
    size_t n = strlen(prefix);
    return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* The expected listing of `prefix`: the matching lines of the full listing, in order. */
static void filter_full_listing(const char *prefix) {
    fetch_all();
    size_t out = 0;
    for (const char *line = listing; *line;) {
        size_t path_len = strcspn(line, "="), line_len = strcspn(line, "\n") + 1;
        char path[BUS_PATH_MAX];
        REQUIRE(path_len < sizeof path);
        memcpy(path, line, path_len);
        path[path_len] = '\0';
        if (model_under(path, prefix)) {
            memcpy(expected + out, line, line_len);
            out += line_len;
        }
        line += line_len;
    }
    expected[out] = '\0';
}

/* The listing of `prefix` must be the matching part of the full listing, and a short buffer
 * must get a NUL-terminated prefix of it along with the full length. */
static void check_list(const char *prefix, size_t len) {
    int need = bus_list(prefix, NULL, 0);
    if (!model_path_valid(prefix)) {
        REQUIRE(need == -EINVAL);
        return;
    }
    filter_full_listing(prefix);
    REQUIRE(need == (int)strlen(expected));
    REQUIRE(bus_list(prefix, listing, sizeof listing) == need && strcmp(listing, expected) == 0);
    char small[BUS_PATH_MAX];
    REQUIRE(bus_list(prefix, small, len) == need);
    if (len > 0)
        REQUIRE(strlen(small) == ((size_t)need < len ? (size_t)need : len - 1) &&
                strncmp(small, expected, len - 1) == 0);
}

static void fill(const char *base, const char *value, uint32_t owner, int n) {
    char path[FIELD_MAX + 16];
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/f%03d", base, i);
        int r = bus_set(path, value, owner);
        REQUIRE(r == model_set(path, value, owner));
        if (r == -ENOSPC || r == -EDQUOT || r == -EINVAL)
            break; /* every further key would fail the same way */
    }
}

static void apply(enum op op, uint8_t arg, const char *path, const char *value) {
    uint32_t owner = arg % 4u; /* few owners, so ownership conflicts are common */
    char doubled[2 * FIELD_MAX];
    switch (op) {
    case OP_SET:
        REQUIRE(bus_set(path, value, owner) == model_set(path, value, owner));
        break;
    case OP_SETF:
        /* Doubling the value drives bus_setf past BUS_VALUE_MAX, where it must refuse. */
        strcpy(doubled, value);
        strcat(doubled, value);
        REQUIRE(bus_setf(owner, path, "%s%s", value, value) == model_set(path, doubled, owner));
        break;
    case OP_GET:
        check_get(path, arg % BUS_VALUE_MAX);
        break;
    case OP_DEL:
        REQUIRE(bus_del(path, owner) == model_del(path, owner));
        break;
    case OP_DROP:
        REQUIRE(bus_drop_owner(owner) == model_drop(owner));
        break;
    case OP_LIST:
        check_list(path, arg % BUS_PATH_MAX);
        break;
    case OP_INIT:
        bus_init();
        model_init();
        break;
    case OP_FILL:
        fill(path, value, owner, 4 * arg);
        break;
    case OP_PUBLISH:
        bus_publish_stats();
        model_publish();
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    bus_init();
    model_init();
    const uint8_t *p = data, *end = data + size;
    while (end - p >= 2) {
        enum op op = (enum op)(p[0] % NUM_OPS);
        uint8_t arg = p[1];
        char path[FIELD_MAX], value[FIELD_MAX];
        p += 2;
        next_field(&p, end, path);
        next_field(&p, end, value);
        apply(op, arg, path, value);
        check_listing();
        REQUIRE(memcmp(bus_stats(), &model_stats, sizeof model_stats) == 0);
    }
    check_matches_model();
    return 0;
}
