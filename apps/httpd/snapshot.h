/*
 * The /Bus snapshot: a frozen copy of the system tree's listing (sysinfo.h) that documents are
 * rendered from. A response announces its Content-Length before its body is produced, so the
 * body must render from the very listing that was measured, however long the client takes to
 * read it.
 *
 * Two copies: a slow client pinning one never stops the other from being refreshed for new
 * requests. Single-threaded, like the rest of the server.
 */
#ifndef NEXUS_HTTPD_SNAPSHOT_H
#define NEXUS_HTTPD_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

#define SNAPSHOT_CAP 65536 /* the kernel lists at most this much */
/* Document requests (snapshot_acquire_recent) reuse a listing at most this old: listing ~150 keys
 * and rendering them costs about 2 ms of guest time, so a page at thousands of requests/s
 * must share that work, and a tenth of a second keeps the page live to the second. */
#define SNAPSHOT_REUSE_MS 100
#define SNAPSHOT_RENDERINGS 2     /* documents kept rendered per copy: the page and /bus.json */
#define RENDERING_CAP (32 * 1024) /* a longer document streams piece by piece (document.h) */

/* A document rendered whole from one copy, for every response that shares the copy. */
struct rendering {
    const void *doc; /* the document (document.h); NULL: unused */
    bool too_big;    /* it did not fit: text holds nothing */
    size_t len;
    char text[RENDERING_CAP];
};

struct snapshot {
    unsigned users; /* responses still streaming from this copy */
    unsigned long long generation;
    unsigned long long uptime_ms;
    long list_status; /* sysinfo_bus_list's result; < 0 is an error */
    bool truncated;   /* the listing did not fit: text holds its first whole lines */
    size_t len;
    char text[SNAPSHOT_CAP]; /* lines "path=value\n", sorted by path */
    struct rendering renderings[SNAPSHOT_RENDERINGS]; /* emptied when the copy is refreshed */
};

/* A snapshot to render from until snapshot_release: a fresh listing when a copy is free,
 * otherwise the newest copy (shared with the responses already using it). */
struct snapshot *snapshot_acquire(void);
void snapshot_release(struct snapshot *s);

/* Like snapshot_acquire, but the newest copy is shared as it is while it was listed less than
 * max_age_ms ago (by sysinfo_uptime_ms), so requests in a burst share one listing. */
struct snapshot *snapshot_acquire_recent(unsigned long long max_age_ms);

/* One "path=value" line of a snapshot. A line without '=' is all path, with an empty value. */
struct bus_line {
    size_t off, next; /* where it starts, where the following line starts */
    const char *path, *value;
    size_t path_len, value_len;
};

/* The line starting at offset off; false past the end. */
bool line_at(const struct snapshot *s, size_t off, struct bus_line *l);

#endif
