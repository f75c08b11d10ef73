/* The /Bus snapshot (snapshot.h): refreshing, sharing and reading the frozen listing copies. */
#include "snapshot.h"

#include <string.h>

#include "sysinfo.h"

static struct snapshot snapshots[2];
static unsigned long long snapshot_generations;

static void snapshot_refresh(struct snapshot *s) {
    long need = sysinfo_bus_list(s->text, sizeof s->text);
    s->uptime_ms = sysinfo_uptime_ms();
    s->list_status = need;
    s->generation = ++snapshot_generations;
    s->len = 0;
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

bool line_at(const struct snapshot *s, size_t off, struct bus_line *l) {
    if (off >= s->len)
        return false;
    const char *start = s->text + off;
    const char *nl = memchr(start, '\n', s->len - off);
    size_t n = nl ? (size_t)(nl - start) : s->len - off;
    const char *eq = memchr(start, '=', n);
    l->off = off;
    l->next = off + n + 1;
    l->path = start;
    l->path_len = eq ? (size_t)(eq - start) : n;
    l->value = eq ? eq + 1 : start + n;
    l->value_len = eq ? n - l->path_len - 1 : 0;
    return true;
}
