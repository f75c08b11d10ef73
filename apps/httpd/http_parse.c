/* HTTP/1.1 request-head parser; the contract and the RFC 9112 choices are in http_parse.h. */
#include "http_parse.h"

#include <stddef.h>
#include <string.h>

/* What the parse needs to remember across header lines but the caller does not. */
struct head_state {
    const unsigned char *buf;
    unsigned host_fields;
    bool has_length;
    struct http_span length_digits; /* first Content-Length, leading zeros dropped */
};

enum line_status { LINE_OK, LINE_INCOMPLETE, LINE_BARE_CR };

static const struct {
    const char *name;
    enum http_method method;
} known_methods[] = {
    {"GET", HTTP_GET},       {"HEAD", HTTP_HEAD},       {"POST", HTTP_POST},
    {"PUT", HTTP_PUT},       {"DELETE", HTTP_DELETE},   {"OPTIONS", HTTP_OPTIONS},
    {"PATCH", HTTP_PATCH},   {"TRACE", HTTP_TRACE},
};

static int fail(struct http_request *req, int status, const char *detail) {
    req->error_status = status;
    req->error_detail = detail;
    return status;
}

static struct http_span span_of(size_t from, size_t to) {
    return (struct http_span){(uint16_t)from, (uint16_t)(to - from)};
}

static unsigned char ascii_lower(unsigned char c) { return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c; }

static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

static bool is_ows(unsigned char c) { return c == ' ' || c == '\t'; }

/* RFC 9110 tchar: the characters of method names and header field names. */
static bool is_tchar(unsigned char c) {
    if (is_digit(c) || (ascii_lower(c) >= 'a' && ascii_lower(c) <= 'z'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Field values may hold visible ASCII, space, tab and obs-text; any other control is refused. */
static bool is_field_char(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

bool http_span_equals(const char *buf, struct http_span span, const char *lower) {
    if (strlen(lower) != span.len)
        return false;
    for (size_t i = 0; i < span.len; i++)
        if (ascii_lower((unsigned char)buf[span.off + i]) != (unsigned char)lower[i])
            return false;
    return true;
}

/* Finds the line starting at pos within [pos, lim): its content ends at *end (CR or LF
 * excluded) and the next line starts at *next. */
static enum line_status find_line(const unsigned char *b, size_t pos, size_t lim, size_t *end, size_t *next) {
    const unsigned char *lf = pos < lim ? memchr(b + pos, '\n', lim - pos) : NULL;
    if (!lf)
        return LINE_INCOMPLETE;
    size_t at = (size_t)(lf - b);
    *next = at + 1;
    *end = at > pos && b[at - 1] == '\r' ? at - 1 : at;
    return memchr(b + pos, '\r', *end - pos) ? LINE_BARE_CR : LINE_OK;
}

static enum http_method method_from_name(const unsigned char *name, size_t len) {
    for (size_t i = 0; i < sizeof known_methods / sizeof known_methods[0]; i++)
        if (strlen(known_methods[i].name) == len && !memcmp(known_methods[i].name, name, len))
            return known_methods[i].method;
    return HTTP_METHOD_OTHER;
}

/* "HTTP/" DIGIT "." DIGIT; only major version 1 is served. */
static int parse_version(const unsigned char *v, size_t n, struct http_request *req) {
    if (n != 8 || memcmp(v, "HTTP/", 5) != 0 || !is_digit(v[5]) || v[6] != '.' || !is_digit(v[7]))
        return fail(req, 400, "bad HTTP version");
    if (v[5] != '1')
        return fail(req, 505, "only HTTP/1.x is supported");
    req->version_minor = v[7] - '0';
    return 0;
}

static bool has_prefix_nocase(const unsigned char *s, size_t n, const char *lower) {
    size_t k = strlen(lower);
    if (n < k)
        return false;
    for (size_t i = 0; i < k; i++)
        if (ascii_lower(s[i]) != (unsigned char)lower[i])
            return false;
    return true;
}

/* Sets req->path from the target's form (RFC 9112 section 3.2). */
static int classify_target(const unsigned char *b, struct http_request *req) {
    size_t from = req->target.off, to = from + req->target.len;
    if (b[from] != '/') {
        bool is_asterisk = req->target.len == 1 && b[from] == '*';
        bool is_absolute = has_prefix_nocase(b + from, to - from, "http://") ||
                           has_prefix_nocase(b + from, to - from, "https://");
        if (is_asterisk && req->method == HTTP_OPTIONS) {
            req->path = req->target;
            return 0;
        }
        if (req->method_name.len == 7 && !memcmp(b + req->method_name.off, "CONNECT", 7)) {
            req->path = span_of(from, from); /* authority-form: no path; CONNECT is not served */
            return 0;
        }
        if (!is_absolute)
            return fail(req, 400, "bad request target");
        from = (size_t)((const unsigned char *)memchr(b + from, ':', to - from) - b) + 3;
        while (from < to && b[from] != '/' && b[from] != '?')
            from++; /* skip the authority */
    }
    size_t path_end = from;
    while (path_end < to && b[path_end] != '?')
        path_end++;
    req->path = span_of(from, path_end);
    return 0;
}

/* method SP request-target SP HTTP-version, single spaces only. */
static int parse_request_line(const unsigned char *b, size_t start, size_t end, struct http_request *req) {
    size_t p = start;
    while (p < end && is_tchar(b[p]))
        p++;
    if (p == start || p == end || b[p] != ' ')
        return fail(req, 400, "bad method");
    req->method_name = span_of(start, p);
    req->method = method_from_name(b + start, p - start);
    size_t target_start = ++p;
    while (p < end && b[p] > 0x20 && b[p] < 0x7f)
        p++;
    if (p == target_start)
        return fail(req, 400, "bad request target");
    if (p == end)
        return fail(req, 400, "missing HTTP version");
    if (b[p] != ' ')
        return fail(req, 400, "bad character in request target");
    req->target = span_of(target_start, p);
    int err = parse_version(b + p + 1, end - p - 1, req);
    return err ? err : classify_target(b, req);
}

static int apply_content_length(struct head_state *st, struct http_span v, struct http_request *req) {
    const unsigned char *b = st->buf;
    size_t end = (size_t)v.off + v.len;
    if (v.len == 0)
        return fail(req, 400, "empty Content-Length");
    for (size_t i = v.off; i < end; i++)
        if (!is_digit(b[i]))
            return fail(req, 400, "bad Content-Length");
    size_t first = v.off;
    while (first + 1 < end && b[first] == '0')
        first++;
    struct http_span digits = span_of(first, end);
    if (st->has_length) {
        /* Same number written twice is harmless; two numbers are a smuggling attempt. */
        if (digits.len != st->length_digits.len || memcmp(b + first, b + st->length_digits.off, digits.len))
            return fail(req, 400, "conflicting Content-Length");
        return 0;
    }
    int64_t n = 0;
    for (size_t i = first; i < end; i++) {
        int d = b[i] - '0';
        if (n > (INT64_MAX - d) / 10) {
            n = INT64_MAX;
            break;
        }
        n = n * 10 + d;
    }
    req->content_length = n;
    st->has_length = true;
    st->length_digits = digits;
    return 0;
}

/* Connection is a comma-separated list of options; only close and keep-alive matter here. */
static void apply_connection(const unsigned char *b, struct http_span v, struct http_request *req) {
    size_t p = v.off, end = (size_t)v.off + v.len;
    while (p <= end) {
        size_t s = p;
        while (p < end && b[p] != ',')
            p++;
        size_t e = p++;
        while (s < e && is_ows(b[s]))
            s++;
        while (e > s && is_ows(b[e - 1]))
            e--;
        struct http_span option = span_of(s, e);
        if (http_span_equals((const char *)b, option, "close"))
            req->connection_close = true;
        else if (http_span_equals((const char *)b, option, "keep-alive"))
            req->connection_keep_alive = true;
    }
}

static int apply_known_field(struct head_state *st, struct http_header h, struct http_request *req) {
    const char *b = (const char *)st->buf;
    if (http_span_equals(b, h.name, "content-length"))
        return apply_content_length(st, h.value, req);
    if (http_span_equals(b, h.name, "transfer-encoding"))
        return fail(req, 501, "Transfer-Encoding is not supported");
    if (http_span_equals(b, h.name, "host") && ++st->host_fields > 1)
        return fail(req, 400, "more than one Host");
    if (http_span_equals(b, h.name, "connection"))
        apply_connection(st->buf, h.value, req);
    if (http_span_equals(b, h.name, "expect") && http_span_equals(b, h.value, "100-continue"))
        req->expect_continue = true;
    return 0;
}

/* field-name ":" OWS field-value OWS */
static int parse_header_line(struct head_state *st, size_t start, size_t end, struct http_request *req) {
    const unsigned char *b = st->buf;
    if (is_ows(b[start]))
        return fail(req, 400, "obsolete line folding");
    size_t p = start;
    while (p < end && is_tchar(b[p]))
        p++;
    if (p == end || b[p] != ':')
        return fail(req, 400, p < end && is_ows(b[p]) ? "whitespace before colon" : "bad header line");
    if (p == start)
        return fail(req, 400, "empty header name");
    for (size_t i = p + 1; i < end; i++)
        if (!is_field_char(b[i]))
            return fail(req, 400, "control character in header");
    size_t v = p + 1, e = end;
    while (v < e && is_ows(b[v]))
        v++;
    while (e > v && is_ows(b[e - 1]))
        e--;
    if (req->header_count == HTTP_MAX_HEADERS)
        return fail(req, 431, "too many header fields");
    struct http_header h = {span_of(start, p), span_of(v, e)};
    req->headers[req->header_count++] = h;
    return apply_known_field(st, h, req);
}

static int finish_head(const struct head_state *st, struct http_request *req) {
    if (req->version_minor >= 1 && st->host_fields == 0)
        return fail(req, 400, "missing Host");
    if (req->version_minor >= 1)
        req->keep_alive = !req->connection_close;
    else
        req->keep_alive = req->connection_keep_alive && !req->connection_close;
    return 0;
}

enum http_parse_status http_parse_request(const char *buf, size_t len, struct http_request *req) {
    /* All but the header array (2 KiB of stores per request when cleared): only its first
     * header_count entries are ever read. */
    memset(req, 0, offsetof(struct http_request, headers));
    memset(&req->content_length, 0, sizeof *req - offsetof(struct http_request, content_length));
    req->content_length = HTTP_NO_CONTENT_LENGTH;
    struct head_state st = {.buf = (const unsigned char *)buf};
    size_t lim = len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX;
    bool have_request_line = false;
    for (size_t pos = 0;;) {
        size_t end = 0, next = 0;
        enum line_status ls = find_line(st.buf, pos, lim, &end, &next);
        if (ls == LINE_INCOMPLETE) {
            if (len < HTTP_HEAD_MAX)
                return HTTP_PARSE_NEED_MORE;
            fail(req, 431, "request head larger than 8 KiB");
            return HTTP_PARSE_ERROR;
        }
        int err;
        if (ls == LINE_BARE_CR)
            err = fail(req, 400, "bare CR");
        else if (!have_request_line && end == pos)
            err = 0; /* an empty line before the request line is ignored */
        else if (!have_request_line) {
            have_request_line = true;
            err = parse_request_line(st.buf, pos, end, req);
        } else if (end == pos) {
            req->head_len = next;
            return finish_head(&st, req) ? HTTP_PARSE_ERROR : HTTP_PARSE_OK;
        } else {
            err = parse_header_line(&st, pos, end, req);
        }
        if (err)
            return HTTP_PARSE_ERROR;
        pos = next;
    }
}

bool http_parse_decimal(const char *s, size_t n, unsigned long long max, unsigned long long *out) {
    unsigned long long v = 0;
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit((unsigned char)s[i]))
            return false;
        v = v * 10 + (unsigned long long)(s[i] - '0');
        if (v > max)
            return false;
    }
    *out = v;
    return true;
}
