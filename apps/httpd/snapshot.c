/* The /Bus snapshot (snapshot.h): refreshing, sharing and reading the frozen listing copies. */
#include "snapshot.h"

#include <stdint.h>
#include <string.h>

#include "sysinfo.h"

static struct snapshot snapshots[2];
static unsigned long long snapshot_generations;

/* Indexes the listing's lines; one past SNAPSHOT_LINES_MAX cuts the listing there. */
static void index_lines(struct snapshot *s) {
    const char *text = s->text, *p = text, *end = text + s->len;
    s->lines = 0;
    while (p < end) {
        if (s->lines == SNAPSHOT_LINES_MAX) {
            s->len = (size_t)(p - text);
            s->truncated = true;
            return;
        }
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            nl = end; /* a last line without '\n' ends at the end */
        const char *eq = p;
        while (eq < nl && *eq != '=')
            eq++;
        s->line[s->lines++] = (struct line_ref){(uint16_t)(p - text), (uint16_t)(eq - p)};
        p = nl + 1;
    }
}

size_t path_dir_end(const char *path, size_t len) {
    while (len > 0 && path[len - 1] != '/')
        len--;
    return len;
}

/* memcmp's order over two spans of different lengths: a prefix first. */
static int span_order(const char *a, size_t na, const char *b, size_t nb) {
    int c = memcmp(a, b, na < nb ? na : nb);
    return c ? c : (na > nb) - (na < nb);
}

/* Orders lines by directory, then by name within it. */
static int directory_order(const char *text, struct line_ref a, struct line_ref b) {
    const char *pa = text + a.start, *pb = text + b.start;
    size_t da = path_dir_end(pa, a.path_len), db = path_dir_end(pb, b.path_len);
    int c = span_order(pa, da, pb, db);
    return c ? c : span_order(pa + da, a.path_len - da, pb + db, b.path_len - db);
}

/* The kernel lists by full path, so a directory's keys come split around its subdirectories
 * (/Bus/net/membrane's around drop/, high/, shed/ and time_us/); ordered by directory, each
 * directory's keys are adjacent, and the page shows each directory in one row. An insertion
 * sort, stable and in place: the listing is nearly in this order already, and /Bus holds at
 * most 1,024 keys (kernel/bus.h), so even a tree built against it moves at most ~0.3 M lines. */
static void order_by_directory(struct snapshot *s) {
    for (size_t i = 1; i < s->lines; i++) {
        struct line_ref r = s->line[i];
        size_t j = i;
        while (j > 0 && directory_order(s->text, s->line[j - 1], r) > 0) {
            s->line[j] = s->line[j - 1];
            j--;
        }
        s->line[j] = r;
    }
}

static void snapshot_refresh(struct snapshot *s) {
    long need = sysinfo_bus_list(s->text, sizeof s->text);
    s->uptime_ms = sysinfo_uptime_ms();
    s->list_status = need;
    s->generation = ++snapshot_generations;
    s->len = 0;
    s->lines = 0;
    s->truncated = false;
    for (size_t i = 0; i < SNAPSHOT_RENDERINGS; i++)
        s->renderings[i].doc = NULL;
    if (need < 0)
        return;
    size_t len = (size_t)need;
    if (len >= sizeof s->text) {
        s->truncated = true;
        len = strnlen(s->text, sizeof s->text);
        while (len > 0 && s->text[len - 1] != '\n')
            len--; /* a cut line would show a wrong value */
    }
    s->len = len;
    index_lines(s);
    order_by_directory(s);
}

static struct snapshot *newest_copy(void) {
    struct snapshot *newest = &snapshots[0];
    for (size_t i = 0; i < sizeof snapshots / sizeof snapshots[0]; i++)
        if (snapshots[i].generation > newest->generation)
            newest = &snapshots[i];
    return newest;
}

struct snapshot *snapshot_acquire(void) {
    struct snapshot *idle = NULL, *newest = newest_copy();
    for (size_t i = 0; i < sizeof snapshots / sizeof snapshots[0]; i++)
        if (!snapshots[i].users)
            idle = &snapshots[i];
    struct snapshot *s = idle ? idle : newest;
    if (idle)
        snapshot_refresh(s);
    s->users++;
    return s;
}

void snapshot_release(struct snapshot *s) { s->users--; }

struct snapshot *snapshot_acquire_recent(unsigned long long max_age_ms) {
    struct snapshot *newest = newest_copy();
    if (newest->generation > 0 && sysinfo_uptime_ms() - newest->uptime_ms < max_age_ms) {
        newest->users++;
        return newest;
    }
    return snapshot_acquire();
}

bool line_at(const struct snapshot *s, size_t i, struct bus_line *l) {
    if (i >= s->lines)
        return false;
    const struct line_ref *r = &s->line[i];
    const char *start = s->text + r->start;
    const char *nl = memchr(start + r->path_len, '\n', s->len - r->start - r->path_len);
    size_t end = nl ? (size_t)(nl - s->text) : s->len; /* at its '\n', or the end */
    size_t len = end - r->start;
    l->off = i;
    l->next = i + 1;
    l->path = start;
    l->path_len = r->path_len;
    l->value = r->path_len < len ? start + r->path_len + 1 : start + len;
    l->value_len = r->path_len < len ? len - r->path_len - 1 : 0;
    return true;
}
