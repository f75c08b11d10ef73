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
#include <stdint.h>

#define SNAPSHOT_CAP 65536 /* the kernel lists at most this much */
/* Document requests (snapshot_acquire_recent) reuse a listing at most this old: listing ~150 keys
 * and rendering them costs about 2 ms of guest time, so a page at thousands of requests/s
 * must share that work, and a tenth of a second keeps the page live to the second. */
#define SNAPSHOT_REUSE_MS 100
#define SNAPSHOT_RENDERINGS 2     /* documents kept rendered per copy: the page and /bus.json */
#define RENDERING_CAP (32 * 1024) /* a longer document streams piece by piece (document.h) */
/* Lines indexed per copy: a line of /Bus takes at least 8 bytes ("/Bus/k=\n"), so a listing
 * that fits SNAPSHOT_CAP fits this too; one with more (shorter) lines is cut to its first
 * SNAPSHOT_LINES_MAX, like one longer than SNAPSHOT_CAP. */
#define SNAPSHOT_LINES_MAX 8192
_Static_assert(SNAPSHOT_LINES_MAX * 8 >= SNAPSHOT_CAP, "a listing that fits must fit the line index");
_Static_assert(SNAPSHOT_CAP <= 65536, "line offsets are 16 bits");

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
    /* Where each line starts and where its '=' is, found once per listing: a document walks
     * every line once per section, and finding them again each time cost more than all the
     * rendering (make bench's profile). In directory order (a directory's keys together, by
     * name; snapshot.c), which documents render in; a line ends at its '\n' (or at len). */
    size_t lines;
    struct line_ref {
        uint16_t start, path_len; /* text is at most 64 KiB; path_len is the line's length without '=' */
    } line[SNAPSHOT_LINES_MAX];
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
    size_t off, next; /* its number (from 0), and the following line's */
    const char *path, *value;
    size_t path_len, value_len;
};

/* The length of a path's directory with its '/': up to and through the last '/', 0 when it has
 * none. The order of a snapshot's lines and the status page's rows by directory both use it. */
size_t path_dir_end(const char *path, size_t len);

/* Line number i (from 0); false past the end. */
bool line_at(const struct snapshot *s, size_t i, struct bus_line *l);

#endif
