/*
 * libFuzzer target for apps/httpd/http_parse.c. Any byte string must parse without a sanitizer
 * report, and the answer must keep the parser's contract (http_parse.h):
 *   - ERROR carries 400, 431, 501 or 505 and a detail; NEED_MORE only below HTTP_HEAD_MAX bytes;
 *   - OK: 0 < head_len <= min(len, HTTP_HEAD_MAX), the head ends with an empty line, every span
 *     lies inside the head, names are tokens, values are trimmed and hold no CR/LF, and the
 *     derived fields agree with the text;
 *   - a prefix of the input answers NEED_MORE or exactly what the whole input answers, so no
 *     prefix of an acceptable request is ever refused, and bytes after a head change nothing.
 * Prefixes are parsed from exact-size copies, so a read past len is caught there too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"

#define REQUIRE(cond)  \
    do {               \
        if (!(cond))   \
            abort();   \
    } while (0)

static int status_allowed(int status) { return status == 400 || status == 431 || status == 501 || status == 505; }

static int inside(struct http_span s, size_t head_len) { return (size_t)s.off + s.len <= head_len; }

static int is_ows(uint8_t c) { return c == ' ' || c == '\t'; }

static void check_ok(const uint8_t *buf, size_t len, const struct http_request *r) {
    size_t head = r->head_len;
    REQUIRE(head > 0 && head <= len && head <= HTTP_HEAD_MAX);
    REQUIRE(buf[head - 1] == '\n');
    REQUIRE(head >= 2 && (buf[head - 2] == '\n' || (buf[head - 2] == '\r' && head >= 3 && buf[head - 3] == '\n')));
    REQUIRE(r->error_status == 0 && r->error_detail == NULL);
    REQUIRE(r->version_minor >= 0 && r->version_minor <= 9);
    REQUIRE(r->content_length >= HTTP_NO_CONTENT_LENGTH);
    REQUIRE(r->header_count <= HTTP_MAX_HEADERS);
    REQUIRE(inside(r->method_name, head) && r->method_name.len > 0);
    REQUIRE(inside(r->target, head) && r->target.len > 0 && inside(r->path, head));
    for (size_t i = 0; i < r->target.len; i++)
        REQUIRE(buf[r->target.off + i] > 0x20 && buf[r->target.off + i] < 0x7f);
    if (r->path.len)
        REQUIRE(r->path.off >= r->target.off && r->path.off + r->path.len <= r->target.off + r->target.len);
    REQUIRE((r->method == HTTP_GET) == (r->method_name.len == 3 && !memcmp(buf + r->method_name.off, "GET", 3)));
    REQUIRE((r->method == HTTP_POST) == (r->method_name.len == 4 && !memcmp(buf + r->method_name.off, "POST", 4)));
    for (unsigned i = 0; i < r->header_count; i++) {
        struct http_header h = r->headers[i];
        REQUIRE(inside(h.name, head) && inside(h.value, head) && h.name.len > 0);
        REQUIRE(buf[h.name.off + h.name.len] == ':');
        REQUIRE(!memchr(buf + h.value.off, '\r', h.value.len) && !memchr(buf + h.value.off, '\n', h.value.len));
        if (h.value.len)
            REQUIRE(!is_ows(buf[h.value.off]) && !is_ows(buf[h.value.off + h.value.len - 1]));
        if (http_span_equals((const char *)buf, h.name, "transfer-encoding"))
            abort(); /* must have been refused */
    }
    if (r->connection_close)
        REQUIRE(!r->keep_alive);
    if (r->version_minor == 0 && !r->connection_keep_alive)
        REQUIRE(!r->keep_alive);
}

/* Parses the first n bytes from an exact-size copy. */
static enum http_parse_status parse_prefix(const uint8_t *data, size_t n, struct http_request *r) {
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy)
        abort();
    memcpy(copy, data, n);
    enum http_parse_status st = http_parse_request((const char *)copy, n, r);
    free(copy);
    return st;
}

static void check_prefix(const uint8_t *data, size_t n, enum http_parse_status whole, const struct http_request *w) {
    static struct http_request p;
    enum http_parse_status st = parse_prefix(data, n, &p);
    if (st == HTTP_PARSE_NEED_MORE)
        return;
    REQUIRE(st == whole);
    if (st == HTTP_PARSE_ERROR)
        REQUIRE(p.error_status == w->error_status && p.error_detail == w->error_detail);
    else
        REQUIRE(p.head_len == w->head_len && p.method == w->method && p.content_length == w->content_length &&
                p.keep_alive == w->keep_alive && p.header_count == w->header_count);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static struct http_request r;
    enum http_parse_status st = http_parse_request((const char *)data, size, &r);
    switch (st) {
    case HTTP_PARSE_NEED_MORE:
        REQUIRE(size < HTTP_HEAD_MAX);
        break;
    case HTTP_PARSE_ERROR:
        REQUIRE(status_allowed(r.error_status) && r.error_detail && r.error_detail[0]);
        break;
    case HTTP_PARSE_OK:
        check_ok(data, size, &r);
        break;
    default:
        abort();
    }
    if (size == 0)
        return 0;
    check_prefix(data, size - 1, st, &r);
    check_prefix(data, size / 2, st, &r);
    check_prefix(data, data[0] * size / 256, st, &r);
    if (st == HTTP_PARSE_OK) {
        check_prefix(data, r.head_len, st, &r);
        REQUIRE(parse_prefix(data, r.head_len - 1, &(struct http_request){0}) == HTTP_PARSE_NEED_MORE);
    }
    return 0;
}
