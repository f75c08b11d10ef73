/*
 * Host tests for httpd's document engine and the bodies it announces (apps/httpd/document.h,
 * snapshot.h, status_page.h, conn.h): for every document and every kind of /Bus tree (the usual
 * one, empty, failing, cut at 64 KiB, at the exact size edges, huge, hostile), the rendered bytes
 * equal the announced Content-Length; then the same through a real connection over a socketpair,
 * for the documents and for /bytes/N at every size edge of the output buffer and the pattern.
 * The tree comes from the scripted sysinfo (httpd_script_sysinfo.h).
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "conn.h"
#include "httpd_script_sysinfo.h"
#include "httpdoc_check.h"
#include "status_page.h"

#define UPTIME_MS 93784005ull /* 1 d 02:03:04.005 */

static const char usual_tree[] =
    "/Bus/boot/cmdline=console=ttyS0 net=on\n"
    "/Bus/fibers/httpd/restarts=0\n"
    "/Bus/fibers/httpd/state=running\n"
    "/Bus/fibers/membrane/restarts=1\n"
    "/Bus/fibers/membrane/state=waiting\n"
    "/Bus/lwf/announces=4\n"
    "/Bus/lwf/identity=ephemeral: no key file given at boot\n"
    "/Bus/lwf/peers/00112233445566778899aabbccddeeff/drops=2\n"
    "/Bus/lwf/peers/00112233445566778899aabbccddeeff/frames_in=7\n"
    "/Bus/lwf/peers/00112233445566778899aabbccddeeff/frames_out=5\n"
    "/Bus/lwf/peers/00112233445566778899aabbccddeeff/last_seen_ms=1500\n"
    "/Bus/lwf/peers/00112233445566778899aabbccddeeff/mac=52:54:00:12:34:57\n"
    "/Bus/lwf/peers/ffeeddccbbaa99887766554433221100/mac=52:54:00:12:34:58\n"
    "/Bus/lwf/rx_frames=12\n"
    "/Bus/net/cellid=0123456789abcdef0123456789abcdef\n"
    "/Bus/net/ipv4/addr=10.0.2.15\n"
    "/Bus/net/mac=52:54:00:12:34:56\n"
    "/Bus/net/switch/drop/unknown=3\n"
    "/Bus/net/switch/port/membrane/rx_ring_fill=5\n"
    "/Bus/net/switch/rx/0x0800=42\n"
    "/Bus/test/escape=say \"hi\" \\ <b>&amp;</b>\n";

/* ---- building trees ---- */

struct text {
    char *buf;
    size_t len, cap;
};

static void text_add(struct text *t, const char *s, size_t n) {
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->buf = realloc(t->buf, t->cap);
        if (!t->buf)
            abort();
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = '\0';
}

static void text_addf(struct text *t, const char *fmt, unsigned long a, unsigned long b) {
    char line[128];
    int n = snprintf(line, sizeof line, fmt, a, b);
    text_add(t, line, (size_t)n);
}

/* Lines "/Bus/big/kNNNNN=..." until the listing is exactly `size` bytes; the last line's value
 * is padded so it ends right there. */
static struct text tree_of_size(size_t size) {
    struct text t = {0};
    for (unsigned long i = 0; t.len + 64 < size; i++)
        text_addf(&t, "/Bus/big/k%05lu=value-%05lu\n", i, i);
    text_add(&t, "/Bus/big/last=", 14);
    while (t.len < size - 1)
        text_add(&t, "v", 1);
    text_add(&t, "\n", 1);
    return t;
}

static void repeat(struct text *t, char ch, size_t n) {
    for (size_t i = 0; i < n; i++)
        text_add(t, &ch, 1);
}

/* ---- the engine over one snapshot ---- */

static struct rendered html, json;

/* Takes a fresh snapshot of the scripted tree and checks both documents over it; html and json
 * keep the renderings for the caller's own checks. */
static struct snapshot *check_documents(const char *name) {
    struct snapshot *s = snapshot_acquire();
    char label[96];
    free(html.text);
    free(json.text);
    const char *broken = render_and_check(&status_page, s, &html);
    snprintf(label, sizeof label, "%s.status_page", name);
    CHECK(label, broken == NULL);
    if (broken)
        printf("    %s: %s\n", label, broken);
    broken = render_and_check(&bus_json, s, &json);
    snprintf(label, sizeof label, "%s.bus_json", name);
    CHECK(label, broken == NULL);
    if (broken)
        printf("    %s: %s\n", label, broken);
    return s;
}

static void check_tree(const char *name, const char *listing, size_t len) {
    script_sysinfo_set(listing, len, UPTIME_MS);
    snapshot_release(check_documents(name));
}

static bool has(const struct rendered *r, const char *needle) { return strstr(r->text, needle) != NULL; }

static unsigned occurrences(const struct rendered *r, const char *needle) {
    unsigned n = 0;
    for (const char *at = r->text; (at = strstr(at, needle)); at++)
        n++;
    return n;
}

static bool starts_with(const struct rendered *r, const char *prefix) { return !strncmp(r->text, prefix, strlen(prefix)); }

/* needle somewhere after the first `after` */
static bool has_after(const struct rendered *r, const char *after, const char *needle) {
    const char *from = strstr(r->text, after);
    return from && strstr(from, needle);
}

static void usual_tree_documents(void) {
    check_tree("usual", usual_tree, strlen(usual_tree));
    CHECK("usual.uptime", has(&html, "<p>Uptime: 1d 02:03:04 (93784005 ms)</p>"));
    CHECK("usual.lease_row", has(&html, "<h2>Network</h2>\n<table>\n<tr><td>/Bus/net/mac<td>52:54:00:12:34:56\n"
                                        "<tr><td>/Bus/net/ipv4/addr<td>10.0.2.15\n</table>"));
    CHECK("usual.fiber_rows", has(&html, "<tr><td>httpd<td>restarts=0 state=running\n"
                                         "<tr><td>membrane<td>restarts=1 state=waiting\n</table>"));
    CHECK("usual.counters_without_rings", has(&html, "<h2>NetSwitch counters</h2>\n<table>\n"
                                                     "<tr><td>/Bus/net/switch/drop<td>unknown=3\n"
                                                     "<tr><td>/Bus/net/switch/rx<td>0x0800=42\n</table>"));
    CHECK("usual.ring_row", has(&html, "<h2>Ring fill levels</h2>\n<table>\n"
                                       "<tr><td>/Bus/net/switch/port/membrane<td>rx_ring_fill=5\n</table>"));
    CHECK("usual.lwf_node", has(&html, "<h2>LWF node</h2>\n<table>\n"
                                       "<tr><td>/Bus/lwf/identity<td>ephemeral: no key file given at boot\n"
                                       "<tr><td>/Bus/net/cellid<td>0123456789abcdef0123456789abcdef\n</table>"));
    CHECK("usual.lwf_peer_rows",
          has(&html, "<h2>LWF peers</h2>\n<table>\n<tr><td>00112233445566778899aabbccddeeff<td>drops=2 "
                     "frames_in=7 frames_out=5 last_seen_ms=1500 mac=52:54:00:12:34:57\n"
                     "<tr><td>ffeeddccbbaa99887766554433221100<td>mac=52:54:00:12:34:58\n</table>"));
    CHECK("usual.html_escaped", has(&html, "<tr><td>/Bus/test<td>escape=say &quot;hi&quot; \\ &lt;b&gt;&amp;amp;&lt;/b&gt;\n"));
    CHECK("usual.rest_by_directory", has(&html, "<h2>The rest of /Bus</h2>\n<p>Every key, as JSON: <a href=\"/bus.json\">/bus.json</a></p>\n<table>\n"
                                                "<tr><td>/Bus/boot<td>cmdline=console=ttyS0 net=on\n"
                                                "<tr><td>/Bus/lwf<td>announces=4 rx_frames=12\n"
                                                "<tr><td>/Bus/test<td>escape="));
    CHECK("usual.each_key_once", occurrences(&html, "10.0.2.15") == 1 && occurrences(&html, "rx_ring_fill") == 1 &&
                                     occurrences(&html, "restarts=") == 2 && occurrences(&html, "52:54:00:12:34:57") == 1 &&
                                     occurrences(&html, "0123456789abcdef0123456789abcdef") == 1);
    CHECK("usual.no_warning", !has(&html, "class=\"warn\""));
    CHECK("usual.json_head", starts_with(&json, "{\"uptime_ms\": 93784005, \"bus\": {\n  \"/Bus/boot/cmdline\": "));
    CHECK("usual.json_escaped", has(&json, "\"/Bus/test/escape\": \"say \\\"hi\\\" \\\\ <b>&amp;</b>\"\n}}\n"));
}

static void empty_and_failing_trees(void) {
    check_tree("empty", "", 0);
    CHECK("empty.no_lease", has(&html, "<tr><td colspan=2><i>no lease</i>\n"));
    CHECK("empty.no_lwf", has(&html, "<h2>LWF node</h2>\n<table>\n<tr><td colspan=2><i>no LWF service</i>\n") &&
                              has_after(&html, "<h2>LWF peers</h2>", "<i>none</i>"));
    CHECK("empty.none_rows", has_after(&html, "<h2>Fibers</h2>", "<i>none</i>") &&
                                 has_after(&html, "<h2>The rest of /Bus</h2>", "<i>none</i>"));
    CHECK("empty.json", !strcmp(json.text, "{\"uptime_ms\": 93784005, \"bus\": {}}\n"));

    script_sysinfo_set(usual_tree, strlen(usual_tree), 0);
    script_sysinfo_fail(-12);
    snapshot_release(check_documents("failing"));
    CHECK("failing.says_so", has(&html, "<p class=\"warn\">System tree unavailable (error -12).</p>"));
    CHECK("failing.no_rows", !has(&html, "/Bus/"));
    CHECK("failing.json_empty", !strcmp(json.text, "{\"uptime_ms\": 0, \"bus\": {}}\n"));
}

/* The listing's size against the snapshot's 64 KiB: one byte short fits whole, the exact size
 * and beyond are cut back to the last whole line. */
static void size_edges(void) {
    struct text fits = tree_of_size(SNAPSHOT_CAP - 1);
    script_sysinfo_set(fits.buf, fits.len, UPTIME_MS);
    struct snapshot *s = check_documents("fits");
    CHECK("fits.whole", !s->truncated && s->len == SNAPSHOT_CAP - 1 && !has(&html, "cut to its first"));
    CHECK("fits.last_line_shown", has(&json, "\"/Bus/big/last\": \"vvv"));
    snapshot_release(s);

    struct text exact = tree_of_size(SNAPSHOT_CAP);
    script_sysinfo_set(exact.buf, exact.len, UPTIME_MS);
    s = check_documents("exact");
    CHECK("exact.cut", s->truncated && s->len < SNAPSHOT_CAP && s->text[s->len - 1] == '\n');
    CHECK("exact.says_so", has(&html, "<p class=\"warn\">System tree cut to its first 64 KiB.</p>"));
    CHECK("exact.cut_line_hidden", !has(&json, "/Bus/big/last"));
    snapshot_release(s);

    struct text over = tree_of_size(3 * SNAPSHOT_CAP);
    script_sysinfo_set(over.buf, over.len, UPTIME_MS);
    s = check_documents("over");
    CHECK("over.cut_at_a_line", s->truncated && s->len > SNAPSHOT_CAP - 64 && s->text[s->len - 1] == '\n');
    snapshot_release(s);

    /* More lines than the line index holds, in fewer bytes than SNAPSHOT_CAP (shorter than any
     * /Bus line): cut after the index's last line, and the page says so. */
    struct text many = {0};
    for (unsigned long i = 0; i < SNAPSHOT_LINES_MAX + 100; i++)
        text_addf(&many, "%04lx=%lu\n", i, 1); /* 7 bytes */
    script_sysinfo_set(many.buf, many.len, UPTIME_MS);
    s = check_documents("many_lines");
    CHECK("many_lines.cut", s->truncated && s->lines == SNAPSHOT_LINES_MAX && s->len == SNAPSHOT_LINES_MAX * 7u);
    CHECK("many_lines.says_so", has(&html, "<p class=\"warn\">System tree cut to its first 8192 lines.</p>"));
    CHECK("many_lines.last_kept", has(&json, "\"1fff\": \"1\"") && !has(&json, "\"2000\""));
    snapshot_release(s);
    free(many.buf);
    free(fits.buf);
    free(exact.buf);
    free(over.buf);
}

/* Trees large in rows rather than bytes per row: a page far larger than any buffer. */
static void large_trees(void) {
    struct text t = {0};
    for (unsigned long i = 0; i < 1500; i++)
        text_addf(&t, "/Bus/fibers/f%04lu/state=running-%lu\n", i, i);
    check_tree("many_fibers", t.buf, t.len);
    CHECK("many_fibers.every_row", has(&html, "<tr><td>f1499<td>state=running-1499\n</table>") &&
                                       html.pieces > 1500);
    t.len = 0;
    for (unsigned long i = 0; i < 1500; i++)
        text_addf(&t, "/Bus/net/switch/port/p%lu/rx_ring_fill=%lu\n", i, i);
    check_tree("many_rings", t.buf, t.len);
    CHECK("many_rings.big", html.len > SNAPSHOT_CAP && json.len > SNAPSHOT_CAP);
    free(t.buf);
}

/* Fields past FIELD_SHOWN_MAX, and the row that escapes to the most bytes: a fiber whose name,
 * key and value are all quote characters. */
static void long_and_hostile_fields(void) {
    struct text t = {0};
    text_add(&t, "/Bus/fibers/", 12);
    repeat(&t, '"', 400);
    text_add(&t, "/", 1);
    repeat(&t, '"', 400);
    text_add(&t, "=", 1);
    repeat(&t, '"', 400);
    text_add(&t, "\n/Bus/long=", 11);
    repeat(&t, 'x', FIELD_SHOWN_MAX + 1);
    text_add(&t, "\n", 1);
    check_tree("hostile", t.buf, t.len);
    CHECK("hostile.worst_row_rendered", html.largest_piece > 3 * FIELD_SHOWN_MAX * ESCAPED_MAX);
    struct text cut = {0};
    text_add(&cut, "<td>long=", 9);
    repeat(&cut, 'x', FIELD_SHOWN_MAX);
    text_add(&cut, "...\n", 4);
    CHECK("hostile.html_cut_marked", has(&html, cut.buf));
    cut.len = 0;
    text_add(&cut, ": \"", 3);
    repeat(&cut, 'x', FIELD_SHOWN_MAX);
    text_add(&cut, "\",\n", 3); /* /Bus/long's directory comes before the fiber's */
    CHECK("hostile.json_cut", has(&json, cut.buf));
    free(t.buf);
    free(cut.buf);

    static const char odd[] = "no-equals-sign\n\n=no path\n/Bus/ctl=\x01\x1f\x7f\xff\n/Bus/nul=a\0b\n/Bus/last=no newline";
    check_tree("odd_lines", odd, sizeof odd - 1);
    CHECK("odd_lines.path_only_row", has(&html, "<tr><td>no-equals-sign<td>\n"));
    CHECK("odd_lines.controls_shown", has(&html, "<td>ctl=???? ") && has(&json, "\"\\u0001\\u001f\\u007f\\u00ff\""));
    CHECK("odd_lines.nul_in_value", has(&json, "\"a\\u0000b\""));
    CHECK("odd_lines.last_without_newline", has(&json, "\"/Bus/last\": \"no newline\",\n"));
}

/* Two copies: a pinned copy is never refreshed, a free one always is. */
static void snapshot_sharing(void) {
    script_sysinfo_set("/Bus/a=1\n", 9, 1);
    unsigned long lists = script_sysinfo_lists();
    struct snapshot *first = snapshot_acquire();
    script_sysinfo_set("/Bus/a=2\n", 9, 2);
    struct snapshot *second = snapshot_acquire();
    CHECK("snapshot.pinned_copy_kept", first != second && !memcmp(first->text, "/Bus/a=1\n", 9) &&
                                           !memcmp(second->text, "/Bus/a=2\n", 9));
    script_sysinfo_set("/Bus/a=3\n", 9, 3);
    struct snapshot *third = snapshot_acquire();
    CHECK("snapshot.both_pinned_share_newest", third == second && second->users == 2 &&
                                                   script_sysinfo_lists() == lists + 2);
    snapshot_release(first);
    struct snapshot *fourth = snapshot_acquire();
    CHECK("snapshot.freed_copy_refreshed", fourth == first && !memcmp(first->text, "/Bus/a=3\n", 9) &&
                                               first->generation > second->generation && first->uptime_ms == 3);
    snapshot_release(fourth);
    snapshot_release(third);
    snapshot_release(second);
}

/* Both copies are free again: two acquisitions both refresh. */
static bool snapshots_all_released(void) {
    unsigned long lists = script_sysinfo_lists();
    struct snapshot *a = snapshot_acquire(), *b = snapshot_acquire();
    bool both_fresh = a != b && script_sysinfo_lists() == lists + 2;
    snapshot_release(a);
    snapshot_release(b);
    return both_fresh;
}

/* ---- through a connection ---- */

static struct conn conn;

struct exchange {
    char *bytes; /* everything the client received, NUL-terminated */
    size_t len;
    bool server_closed; /* the client saw end of stream and the server freed its end */
};

/* Sends request on a fresh connection over a socketpair and runs the server side until it
 * closes. After the first `mid_after` bytes have arrived, mid() runs once (if given). */
static struct exchange run_exchange(const char *request, size_t mid_after, void (*mid)(void)) {
    struct exchange x = {0};
    struct text got = {0};
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
        abort();
    /* A small send buffer: sends come back partial, so bodies resume at odd offsets. */
    int sndbuf = 4096;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    conn_open(&conn, sv[0]);
    if (write(sv[1], request, strlen(request)) != (ssize_t)strlen(request))
        abort();
    text_add(&got, "", 0);
    for (int idle = 0; idle < 1000;) {
        if (conn.fd >= 0) {
            conn.revents = POLLIN | POLLOUT;
            conn_step(&conn);
        }
        char chunk[65536];
        ssize_t n = recv(sv[1], chunk, sizeof chunk, 0);
        if (n == 0) {
            x.server_closed = true;
            break;
        }
        if (n < 0) {
            idle++;
            continue;
        }
        idle = 0;
        bool crossing = got.len < mid_after && got.len + (size_t)n >= mid_after;
        text_add(&got, chunk, (size_t)n);
        if (crossing && mid)
            mid();
    }
    close(sv[1]);
    for (int i = 0; i < 10 && conn.fd >= 0; i++) {
        conn.revents = POLLIN;
        conn_step(&conn); /* it drains until it sees our close */
    }
    if (conn.fd >= 0) {
        conn_close(&conn);
        x.server_closed = false;
    }
    x.bytes = got.buf;
    x.len = got.len;
    return x;
}

struct response {
    bool framed;        /* a head with Content-Length, and at least that many bytes after it */
    int status;
    unsigned long long content_length;
    const char *body;
    size_t end; /* where the next response starts */
};

/* The response at offset `at`; a HEAD response has no body whatever its Content-Length says. */
static struct response response_at(const struct exchange *x, size_t at, bool head_only) {
    struct response r = {0};
    const char *start = x->bytes + at;
    const char *blank = strstr(start, "\r\n\r\n");
    const char *cl = strstr(start, "\r\nContent-Length: ");
    if (!blank || !cl || cl > blank || sscanf(start, "HTTP/1.1 %d ", &r.status) != 1)
        return r;
    r.content_length = strtoull(cl + 18, NULL, 10);
    r.body = blank + 4;
    size_t body_len = head_only ? 0 : (size_t)r.content_length;
    r.end = (size_t)(r.body - x->bytes) + body_len;
    r.framed = r.end <= x->len;
    return r;
}

/* One request, closing: the only response, exactly its Content-Length long. */
static struct response single(const struct exchange *x, bool head_only) {
    struct response r = response_at(x, 0, head_only);
    r.framed = r.framed && r.end == x->len && x->server_closed;
    return r;
}

static bool pattern_ok(const char *body, unsigned long long n) {
    for (unsigned long long i = 0; i < n; i++)
        if ((unsigned char)body[i] != i % PATTERN_PERIOD)
            return false;
    return true;
}

static const char *tree_b = "/Bus/net/ipv4/addr=10.9.9.9\n";

/* Mid-stream: the tree changes and two more requests take their snapshots. */
static void change_tree(void) {
    script_sysinfo_set(tree_b, strlen(tree_b), UPTIME_MS);
    for (int i = 0; i < 2; i++)
        snapshot_release(snapshot_acquire());
}

static void documents_through_a_connection(void) {
    script_sysinfo_set(usual_tree, strlen(usual_tree), UPTIME_MS);
    struct snapshot *s = check_documents("served_reference");
    snapshot_release(s);
    struct exchange x = run_exchange("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 0, NULL);
    struct response r = single(&x, false);
    CHECK("served.status_page", r.framed && r.status == 200 && r.content_length == html.len &&
                                    !memcmp(r.body, html.text, html.len));
    free(x.bytes);
    x = run_exchange("HEAD /bus.json HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 0, NULL);
    r = single(&x, true);
    CHECK("served.head_announces_the_same", r.framed && r.content_length == json.len);
    free(x.bytes);
    x = run_exchange("GET /bus.json HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n"
                     "GET /bytes/7 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 0, NULL);
    struct response first = response_at(&x, 0, false);
    struct response second = first.framed ? response_at(&x, first.end, false) : (struct response){0};
    struct response third = second.framed ? response_at(&x, second.end, false) : (struct response){0};
    CHECK("served.pipelined_framing", first.framed && !memcmp(first.body, json.text, json.len) && second.framed &&
                                          !memcmp(second.body, html.text, html.len) && third.framed &&
                                          third.content_length == 7 && third.end == x.len);
    free(x.bytes);

    /* Large enough to take many steps (each '&' is 5 bytes on the page, so the page outgrows the
     * listing); the tree changes once the first bytes are out. */
    struct text big = {0};
    for (unsigned long i = 0; i < 1500; i++)
        text_addf(&big, "/Bus/fibers/f%04lu/state=running&&&&-%lu\n", i, i);
    script_sysinfo_set(big.buf, big.len, UPTIME_MS);
    snapshot_release(check_documents("served_big_reference"));
    x = run_exchange("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 1, change_tree);
    r = single(&x, false);
    CHECK("served.big_page_framed", r.framed && r.content_length == html.len && html.len > 16 * OUT_CAP);
    CHECK("served.tree_frozen_while_streaming", r.framed && !memcmp(r.body, html.text, html.len));
    free(x.bytes);
    x = run_exchange("GET /bus.json HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 0, NULL);
    r = single(&x, false);
    CHECK("served.next_request_sees_new_tree", r.framed && strstr(r.body, "10.9.9.9") && !strstr(r.body, "f0000"));
    free(x.bytes);
    free(big.buf);

    /* Pieces longer than the output buffer (fiber rows of 4.1 to 4.6 KiB), starting at every kind
     * of offset in it. */
    struct text wide = {0};
    for (unsigned long fiber = 0; fiber < 40; fiber++) {
        char name[8];
        snprintf(name, sizeof name, "f%02lu", fiber);
        text_add(&wide, "/Bus/fibers/", 12);
        text_add(&wide, name, strlen(name));
        repeat(&wide, '"', 175 + 2 * fiber);
        text_add(&wide, "/k", 2);
        repeat(&wide, '"', 300);
        text_add(&wide, "=", 1);
        repeat(&wide, '"', 300);
        text_add(&wide, "\n", 1);
    }
    script_sysinfo_set(wide.buf, wide.len, UPTIME_MS);
    snapshot_release(check_documents("served_wide_reference"));
    x = run_exchange("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 0, NULL);
    r = single(&x, false);
    CHECK("served.pieces_wider_than_buffer", r.framed && html.largest_piece > OUT_CAP &&
                                                 r.content_length == html.len && !memcmp(r.body, html.text, html.len));
    free(x.bytes);
    free(wide.buf);

    script_sysinfo_tick(SNAPSHOT_REUSE_MS); /* the last listing is too old to be reused */
    script_sysinfo_fail(-5);
    x = run_exchange("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 0, NULL);
    r = single(&x, false);
    CHECK("served.failing_tree", r.framed && strstr(r.body, "(error -5)"));
    free(x.bytes);
    CHECK("served.snapshots_released", snapshots_all_released());
}

/* The uptime line of a status page response, or "" */
static void uptime_of(const struct exchange *x, char *out, size_t cap) {
    const char *at = strstr(x->bytes, "<p>Uptime: ");
    const char *end = at ? strstr(at, "</p>") : NULL;
    size_t n = end ? (size_t)(end - at) : 0;
    n = n < cap - 1 ? n : cap - 1;
    memcpy(out, at ? at : "", n);
    out[n] = '\0';
}

/* Requests within SNAPSHOT_REUSE_MS of a listing share it and its rendering; one past it lists
 * again, so the page is never more than that behind the system: live to the second. */
static void documents_stay_live(void) {
    static const char tree_a[] = "/Bus/net/ipv4/addr=10.1.1.1\n", tree_b[] = "/Bus/net/ipv4/addr=10.2.2.2\n";
    static const char get[] = "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    char first_uptime[96], later_uptime[96];
    script_sysinfo_set(tree_a, strlen(tree_a), 5000000);
    unsigned long lists = script_sysinfo_lists();
    struct exchange a = run_exchange(get, 0, NULL);
    uptime_of(&a, first_uptime, sizeof first_uptime);
    script_sysinfo_set(tree_b, strlen(tree_b), 5000000 + SNAPSHOT_REUSE_MS - 1);
    struct exchange b = run_exchange(get, 0, NULL);
    CHECK("live.burst_shares_one_listing", script_sysinfo_lists() == lists + 1 && a.len == b.len &&
                                               !memcmp(a.bytes, b.bytes, a.len) && strstr(b.bytes, "10.1.1.1"));
    script_sysinfo_tick(1);
    struct exchange c = run_exchange(get, 0, NULL);
    uptime_of(&c, later_uptime, sizeof later_uptime);
    CHECK("live.older_listing_refreshed", script_sysinfo_lists() == lists + 2 && strstr(c.bytes, "10.2.2.2") &&
                                              strstr(c.bytes, "(5000100 ms)") && strcmp(first_uptime, later_uptime));
    free(a.bytes);
    free(b.bytes);
    free(c.bytes);

    /* The rendering is made once per copy and document, and is what the engine renders. */
    struct snapshot *s = snapshot_acquire_recent(SNAPSHOT_REUSE_MS);
    const struct rendering *r = document_rendering(&status_page, s);
    struct rendered pieces;
    const char *broken = render_and_check(&status_page, s, &pieces);
    CHECK("live.rendering_shared", r && r == document_rendering(&status_page, s) && !broken &&
                                       r->len == pieces.len && !memcmp(r->text, pieces.text, r->len));
    free(pieces.text);
    snapshot_release(s);

    /* A page longer than the output buffer but rendered whole (~150 keys, like a booted Nexus)
     * goes out straight from the rendering. */
    struct text mid = {0};
    for (unsigned long i = 0; i < 150; i++)
        text_addf(&mid, "/Bus/net/switch/port/p%03lu/rx_frames=%lu\n", i, i * 7919);
    script_sysinfo_set(mid.buf, mid.len, 6000000);
    snapshot_release(check_documents("served_rendered_reference"));
    struct exchange d = run_exchange(get, 0, NULL);
    struct response dr = single(&d, false);
    s = snapshot_acquire_recent(SNAPSHOT_REUSE_MS);
    r = document_rendering(&status_page, s);
    CHECK("live.rendered_page_sent_whole", dr.framed && r && html.len > OUT_CAP && html.len <= RENDERING_CAP &&
                                               dr.content_length == html.len && !memcmp(dr.body, html.text, html.len));
    snapshot_release(s);
    free(d.bytes);
    free(mid.buf);
}

/* /bytes/N around every edge: the output buffer (the body copied behind the head, or sent from
 * the pattern), the pattern's period and its table length, and the largest N. */
static void bytes_edges(void) {
    static const unsigned long long sizes[] = {0, 1, 250, 251, 252, PATTERN_PERIOD * 128 - 1, PATTERN_PERIOD * 128,
                                               PATTERN_PERIOD * 128 + 1, 2 * PATTERN_PERIOD * 128 + 5, 1 << 20,
                                               (1 << 20) + 1};
    unsigned bad = 0, tried = 0;
    char request[96];
    for (unsigned long long n = OUT_CAP - 160; n <= OUT_CAP + 16; n++, tried++) {
        snprintf(request, sizeof request, "GET /bytes/%llu HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", n);
        struct exchange x = run_exchange(request, 0, NULL);
        struct response r = single(&x, false);
        bad += !(r.framed && r.content_length == n && pattern_ok(r.body, n));
        free(x.bytes);
    }
    CHECK("bytes.around_output_buffer", tried == 177 && bad == 0);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        snprintf(request, sizeof request, "GET /bytes/%llu HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", sizes[i]);
        struct exchange x = run_exchange(request, 0, NULL);
        struct response r = single(&x, false);
        char label[48];
        snprintf(label, sizeof label, "bytes.n_%llu", sizes[i]);
        CHECK(label, r.framed && r.status == 200 && r.content_length == sizes[i] && pattern_ok(r.body, sizes[i]));
        free(x.bytes);
    }
    struct exchange x = run_exchange("HEAD /bytes/1099511627776 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 0, NULL);
    struct response r = single(&x, true);
    CHECK("bytes.largest_announced", r.framed && r.status == 200 && r.content_length == 1ull << 40);
    free(x.bytes);
    x = run_exchange("GET /bytes/1099511627777 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 0, NULL);
    r = single(&x, false);
    CHECK("bytes.beyond_largest_refused", r.framed && r.status == 400 && r.content_length == strlen(r.body));
    free(x.bytes);
}

int main(void) {
    check_suite = "httpdoc";
    usual_tree_documents();
    empty_and_failing_trees();
    size_edges();
    large_trees();
    long_and_hostile_fields();
    snapshot_sharing();
    CHECK("snapshot.all_released", snapshots_all_released());
    conn_setup();
    documents_through_a_connection();
    documents_stay_live();
    CHECK("live.snapshots_released", snapshots_all_released());
    bytes_edges();
    free(html.text);
    free(json.text);
    return check_exit();
}
