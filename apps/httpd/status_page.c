/* The status page (status_page.h): which /Bus keys each section of the HTML page shows and
 * how a row looks, and the JSON rendering of the whole tree. */
#include "status_page.h"

#include <stdbool.h>
#include <string.h>

/* __builtin_strlen: the prefixes are literals, measured by the compiler (httpd builds with
 * -ffreestanding, where strlen stays a call for every line of every section). */
static bool path_has_prefix(const struct bus_line *l, const char *prefix) {
    size_t k = __builtin_strlen(prefix);
    return l->path_len >= k && !memcmp(l->path, prefix, k);
}

static bool path_is(const struct bus_line *l, const char *path) {
    return l->path_len == __builtin_strlen(path) && !memcmp(l->path, path, l->path_len);
}

static bool path_contains(const struct bus_line *l, size_t from, const char *word) {
    size_t k = __builtin_strlen(word);
    for (size_t i = from; i + k <= l->path_len; i++)
        if (!memcmp(l->path + i, word, k))
            return true;
    return false;
}

#define STR_(x) #x
#define STR(x) STR_(x)
#define FIBERS_PREFIX "/Bus/fibers/"
#define SWITCH_PREFIX "/Bus/net/switch/"
#define LWF_PEERS_PREFIX "/Bus/lwf/peers/"

static bool any_line(const struct bus_line *l) {
    (void)l;
    return true;
}

static bool is_lease_key(const struct bus_line *l) {
    return path_has_prefix(l, "/Bus/net/ipv4/") || (l->path_len == 12 && !memcmp(l->path, "/Bus/net/mac", 12));
}

static bool is_fiber_key(const struct bus_line *l) {
    return path_has_prefix(l, FIBERS_PREFIX) && l->path_len > __builtin_strlen(FIBERS_PREFIX);
}

/* This node's side of LWF: its CellID, and whether its key is persistent or ephemeral. */
static bool is_lwf_identity_key(const struct bus_line *l) {
    return path_is(l, "/Bus/net/cellid") || path_is(l, "/Bus/lwf/identity");
}

static bool is_lwf_peer_key(const struct bus_line *l) {
    return path_has_prefix(l, LWF_PEERS_PREFIX) && l->path_len > __builtin_strlen(LWF_PEERS_PREFIX);
}

static bool is_ring_key(const struct bus_line *l) {
    size_t from = __builtin_strlen(SWITCH_PREFIX);
    return path_has_prefix(l, SWITCH_PREFIX) && (path_contains(l, from, "ring") || path_contains(l, from, "fill"));
}

static bool is_switch_counter(const struct bus_line *l) {
    return path_has_prefix(l, SWITCH_PREFIX) && !is_ring_key(l);
}

/* Rows leave out the end tags HTML lets a row and its cells omit (</td>, </tr>): each row is
 * one line, "<tr><td>NAME<td>VALUE". */
static void put_cells(struct writer *w, const char *key, size_t key_len, const struct bus_line *l) {
    put_str(w, "<tr><td>");
    put_html(w, key, key_len);
    put_str(w, "<td>");
    put_html(w, l->value, l->value_len);
    put_str(w, "\n");
}

static void row_path_value(const struct bus_line *l, const struct bus_line *prev, struct writer *w) {
    (void)prev;
    put_cells(w, l->path, l->path_len, l);
}

/* One "key=value" of a row that holds several: the path's rest from key_from is the key (none
 * when the path ends there). Keys are plain text: per pair, <b></b> was 7 of the page's bytes,
 * and its bytes are its cost (each 1,460 a frame out and an acknowledgement in). */
static void put_key_value(struct writer *w, const struct bus_line *l, size_t key_from) {
    if (key_from < l->path_len) {
        put_html(w, l->path + key_from, l->path_len - key_from);
        put_char(w, '=');
    }
    put_html(w, l->value, l->value_len);
}

/* The group's name (a fiber, a peer): the path component after the prefix. */
static size_t group_name_len(const struct bus_line *l, const char *prefix) {
    size_t skip = __builtin_strlen(prefix), n = 0;
    while (skip + n < l->path_len && l->path[skip + n] != '/')
        n++;
    return n;
}

/* The widest row: a group's name, key and value, each cut to FIELD_SHOWN_MAX bytes and each
 * byte escaped, plus the cut marks and the markup around them. */
_Static_assert(3 * (FIELD_SHOWN_MAX * ESCAPED_MAX + 3) + 64 < DOC_PIECE_CAP, "a group row must fit one piece");

/* One table row per group (the keys under prefix/<name>/) holding all of its keys; the listing
 * is sorted, so a group's keys are adjacent and a new name means a new row. */
static void row_grouped(const char *prefix, const struct bus_line *l, const struct bus_line *prev,
                        struct writer *w) {
    const char *name = l->path + __builtin_strlen(prefix);
    size_t name_len = group_name_len(l, prefix);
    bool same_group = prev && group_name_len(prev, prefix) == name_len &&
                      !memcmp(prev->path + __builtin_strlen(prefix), name, name_len);
    if (!same_group) {
        put_str(w, prev ? "\n<tr><td>" : "<tr><td>");
        put_html(w, name, name_len);
        put_str(w, "<td>");
    } else {
        put_char(w, ' ');
    }
    size_t key_from = __builtin_strlen(prefix) + name_len + 1;
    put_key_value(w, l, key_from);
}

static void row_fiber(const struct bus_line *l, const struct bus_line *prev, struct writer *w) {
    row_grouped(FIBERS_PREFIX, l, prev, w);
}

/* A peer's row: its CellID, then mac, last_seen_ms, frames_in, frames_out, drops. */
static void row_lwf_peer(const struct bus_line *l, const struct bus_line *prev, struct writer *w) {
    row_grouped(LWF_PEERS_PREFIX, l, prev, w);
}

/* A key no section above shows: the page shows each key once (the whole tree is /bus.json). */
static bool is_other_key(const struct bus_line *l) {
    return !is_lease_key(l) && !is_fiber_key(l) && !is_lwf_identity_key(l) && !is_lwf_peer_key(l) &&
           !path_has_prefix(l, SWITCH_PREFIX);
}

/* The length of the path's directory: up to its last '/', or the whole path when it has none
 * (a line that is not a /Bus path is its own group, its value shown without a key). */
static size_t directory_len(const struct bus_line *l) {
    size_t n = path_dir_end(l->path, l->path_len);
    return n > 1 ? n - 1 : l->path_len;
}

/* One row per run of keys in one directory, "key=value" each: with the directory written
 * once, the rest of the tree is a third of the bytes a row per full path took, and the page's
 * bytes are its cost under load (each 1,460 of them a frame out and an acknowledgement in). */
static void row_by_directory(const struct bus_line *l, const struct bus_line *prev, struct writer *w) {
    size_t dir_len = directory_len(l);
    bool same_dir = prev && directory_len(prev) == dir_len && !memcmp(prev->path, l->path, dir_len);
    if (!same_dir) {
        put_str(w, prev ? "\n<tr><td>" : "<tr><td>");
        put_html(w, l->path, dir_len);
        put_str(w, "<td>");
    } else {
        put_char(w, ' ');
    }
    put_key_value(w, l, dir_len + 1);
}

static void page_top(const struct snapshot *s, struct writer *w) {
    unsigned long long sec = s->uptime_ms / 1000;
    put_str(w, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Nexus</title>\n"
               "<style>body{font-family:monospace;margin:1em 2em}table{border-collapse:collapse}"
               "td,th{border:1px solid #bbb;padding:2px 8px;text-align:left}.warn{color:#b00}</style>\n"
               "</head><body>\n<h1>Nexus</h1>\n<p>Uptime: ");
    put_u64(w, sec / 86400);
    put_str(w, "d ");
    put_2digits(w, sec / 3600 % 24);
    put_char(w, ':');
    put_2digits(w, sec / 60 % 60);
    put_char(w, ':');
    put_2digits(w, sec % 60);
    put_str(w, " (");
    put_u64(w, s->uptime_ms);
    put_str(w, " ms)</p>\n");
    if (s->list_status < 0) {
        put_str(w, "<p class=\"warn\">System tree unavailable (error -");
        put_u64(w, (unsigned long long)-s->list_status);
        put_str(w, ").</p>\n");
    }
    if (s->truncated && s->lines == SNAPSHOT_LINES_MAX)
        put_str(w, "<p class=\"warn\">System tree cut to its first " STR(SNAPSHOT_LINES_MAX) " lines.</p>\n");
    else if (s->truncated)
        put_str(w, "<p class=\"warn\">System tree cut to its first 64 KiB.</p>\n");
}

#define TABLE_END "</table>\n"
#define NONE_ROW "<tr><td colspan=2><i>none</i>\n"

static const struct section status_sections[] = {
    {page_top, NULL, NULL, NULL, NULL, NULL, NULL},
    {NULL, "<h2>Network</h2>\n<table>\n", is_lease_key, row_path_value, NULL,
     "<tr><td colspan=2><i>no lease</i>\n", TABLE_END},
    {NULL, "<h2>Fibers</h2>\n<table>\n", is_fiber_key, row_fiber, "\n", NONE_ROW, TABLE_END},
    {NULL, "<h2>LWF node</h2>\n<table>\n", is_lwf_identity_key, row_path_value, NULL,
     "<tr><td colspan=2><i>no LWF service</i>\n", TABLE_END},
    {NULL, "<h2>LWF peers</h2>\n<table>\n", is_lwf_peer_key, row_lwf_peer, "\n", NONE_ROW, TABLE_END},
    {NULL, "<h2>NetSwitch counters</h2>\n<table>\n", is_switch_counter, row_by_directory, "\n", NONE_ROW,
     TABLE_END},
    {NULL, "<h2>Ring fill levels</h2>\n<table>\n", is_ring_key, row_by_directory, "\n", NONE_ROW, TABLE_END},
    {NULL, "<h2>The rest of /Bus</h2>\n<p>Every key, as JSON: <a href=\"/bus.json\">/bus.json</a></p>\n<table>\n", is_other_key, row_by_directory, "\n", NONE_ROW,
     TABLE_END "</body></html>\n"},
};

static void json_top(const struct snapshot *s, struct writer *w) {
    put_str(w, "{\"uptime_ms\": ");
    put_u64(w, s->uptime_ms);
    put_str(w, ", \"bus\": {");
}

static void row_json(const struct bus_line *l, const struct bus_line *prev, struct writer *w) {
    put_str(w, prev ? ",\n  " : "\n  ");
    put_json_string(w, l->path, l->path_len);
    put_str(w, ": ");
    put_json_string(w, l->value, l->value_len);
}

static const struct section json_sections[] = {
    {json_top, NULL, any_line, row_json, "\n", NULL, "}}\n"},
};

const struct document status_page = {"text/html; charset=utf-8", status_sections,
                                     sizeof status_sections / sizeof status_sections[0]};
const struct document bus_json = {"application/json", json_sections, sizeof json_sections / sizeof json_sections[0]};
