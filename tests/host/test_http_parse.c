/* Host tests for the HTTP request-head parser (apps/httpd/http_parse.c): good requests,
 * pipelining, every error class, every truncation, the 8 KiB limit, Content-Length edges. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "http_parse.h"

#define NEED_MORE (-1) /* what result() says for HTTP_PARSE_NEED_MORE */

static struct http_request req;

/* Parses a copy in an exact-size heap buffer, so ASan catches any read past len. */
static enum http_parse_status parse_n(const char *s, size_t n) {
    char *copy = malloc(n ? n : 1);
    memcpy(copy, s, n);
    enum http_parse_status st = http_parse_request(copy, n, &req);
    free(copy);
    return st;
}

/* 0 for OK, NEED_MORE, or the error status. */
static int result_n(const char *s, size_t n) {
    switch (parse_n(s, n)) {
    case HTTP_PARSE_OK: return 0;
    case HTTP_PARSE_NEED_MORE: return NEED_MORE;
    case HTTP_PARSE_ERROR: return req.error_detail ? req.error_status : -2;
    }
    return -3;
}

static int result(const char *s) { return result_n(s, strlen(s)); }

/* For literals with an embedded NUL. */
#define RESULT_LITERAL(s) result_n(s, sizeof(s) - 1)

static int span_is(const char *buf, struct http_span sp, const char *want) {
    return sp.len == strlen(want) && !memcmp(buf + sp.off, want, sp.len);
}

/* The value of the first header called name (exact case), or NULL. */
static const struct http_header *header(const char *buf, const char *name) {
    for (unsigned i = 0; i < req.header_count; i++)
        if (span_is(buf, req.headers[i].name, name))
            return &req.headers[i];
    return NULL;
}

/* Every prefix shorter than the head is NEED_MORE, and the whole gives the same head length
 * even with a following request glued on. */
static int every_prefix_needs_more(const char *s) {
    size_t n = strlen(s);
    if (result_n(s, n) != 0)
        return 0;
    size_t head = req.head_len;
    for (size_t k = 0; k < head; k++)
        if (result_n(s, k) != NEED_MORE)
            return 0;
    char *glued = malloc(n + 30);
    memcpy(glued, s, n);
    memcpy(glued + n, "GET /next HTTP/1.1\r\nHost: b\r\n", 29);
    int same = result_n(glued, n + 29) == 0 && req.head_len == head;
    free(glued);
    return same;
}

/* A bad request's prefixes are NEED_MORE or the same error, never something else. */
static int prefixes_consistent(const char *s, int status) {
    size_t n = strlen(s);
    if (result_n(s, n) != status)
        return 0;
    for (size_t k = 0; k < n; k++) {
        int r = result_n(s, k);
        if (r != NEED_MORE && r != status)
            return 0;
    }
    return 1;
}

/* A request whose head is exactly `size` bytes, padded by one long header. */
static char *head_of_size(size_t size, const char *terminator) {
    const char *start = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ";
    size_t fixed = strlen(start) + 2 + strlen(terminator);
    char *s = malloc(size + 1);
    strcpy(s, start);
    memset(s + strlen(start), 'p', size - fixed);
    strcpy(s + size - 2 - strlen(terminator), "\r\n");
    strcat(s, terminator);
    return s;
}

static void good_requests(void) {
    const char *get = "GET / HTTP/1.1\r\nHost: example\r\n\r\n";
    CHECK("get_ok", result(get) == 0);
    CHECK("get_fields", req.method == HTTP_GET && span_is(get, req.method_name, "GET") &&
                            span_is(get, req.target, "/") && span_is(get, req.path, "/") &&
                            req.version_minor == 1 && req.header_count == 1 &&
                            req.content_length == HTTP_NO_CONTENT_LENGTH && req.keep_alive &&
                            req.head_len == strlen(get) && req.error_status == 0);
    CHECK("head_method", result("HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n") == 0 && req.method == HTTP_HEAD);
    const char *post = "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello";
    CHECK("post_length", result(post) == 0 && req.method == HTTP_POST && req.content_length == 5 &&
                             req.head_len == strlen(post) - 5);
    CHECK("http10_closes_by_default", result("GET / HTTP/1.0\r\n\r\n") == 0 && req.version_minor == 0 &&
                                          !req.keep_alive);
    CHECK("http10_keep_alive", result("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n") == 0 && req.keep_alive &&
                                   req.connection_keep_alive);
    CHECK("http11_close", result("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n") == 0 &&
                              !req.keep_alive && req.connection_close);
    CHECK("connection_option_list", result("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, \tCLOSE \r\n\r\n") == 0 &&
                                        req.connection_close && !req.keep_alive);
    CHECK("connection_other_options", result("GET / HTTP/1.1\r\nHost: a\r\nConnection: closed, x-close\r\n\r\n") == 0 &&
                                          !req.connection_close && req.keep_alive);
    CHECK("http12_like_11", result("GET / HTTP/1.2\r\nHost: a\r\n\r\n") == 0 && req.version_minor == 2 && req.keep_alive);
    const char *query = "GET /bus.json?pretty=1 HTTP/1.1\r\nHost: a\r\n\r\n";
    CHECK("query_not_in_path", result(query) == 0 && span_is(query, req.path, "/bus.json") &&
                                   span_is(query, req.target, "/bus.json?pretty=1"));
    const char *absolute = "GET http://example:8080/bytes/5?q=1 HTTP/1.1\r\nHost: example\r\n\r\n";
    CHECK("absolute_form", result(absolute) == 0 && span_is(absolute, req.path, "/bytes/5"));
    CHECK("absolute_form_no_path", result("GET HTTPS://example HTTP/1.1\r\nHost: a\r\n\r\n") == 0 && req.path.len == 0);
    const char *star = "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n";
    CHECK("options_asterisk", result(star) == 0 && req.method == HTTP_OPTIONS && span_is(star, req.path, "*"));
    CHECK("connect_authority", result("CONNECT example:443 HTTP/1.1\r\nHost: a\r\n\r\n") == 0 &&
                                   req.method == HTTP_METHOD_OTHER && req.path.len == 0);
    const char *brew = "BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n";
    CHECK("unknown_method_token", result(brew) == 0 && req.method == HTTP_METHOD_OTHER &&
                                      span_is(brew, req.method_name, "BREW"));
    CHECK("methods_case_sensitive", result("get / HTTP/1.1\r\nHost: a\r\n\r\n") == 0 && req.method == HTTP_METHOD_OTHER);
    const char *leading = "\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
    CHECK("leading_empty_lines_skipped", result(leading) == 0 && req.head_len == strlen(leading) &&
                                             span_is(leading, req.method_name, "GET"));
    const char *bare_lf = "GET / HTTP/1.1\nHost: a\n\n";
    CHECK("bare_lf_accepted", result(bare_lf) == 0 && req.head_len == strlen(bare_lf) && req.header_count == 1);
    const char *ows = "GET / HTTP/1.1\r\nHost: \t a b \t\r\nX-Empty:\r\nX-Bin: caf\xc3\xa9\r\n\r\n";
    CHECK("values_trimmed", result(ows) == 0 && span_is(ows, header(ows, "Host")->value, "a b"));
    CHECK("empty_value", header(ows, "X-Empty") && header(ows, "X-Empty")->value.len == 0);
    CHECK("obs_text_value", header(ows, "X-Bin") && span_is(ows, header(ows, "X-Bin")->value, "caf\xc3\xa9"));
    CHECK("header_order_kept", req.header_count == 3 && span_is(ows, req.headers[0].name, "Host") &&
                                   span_is(ows, req.headers[2].name, "X-Bin"));
    CHECK("expect_continue", result("POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\n"
                                    "Content-Length: 3\r\n\r\n") == 0 && req.expect_continue);
    CHECK("no_expect", result("GET / HTTP/1.1\r\nHost: a\r\nExpect: other\r\n\r\n") == 0 && !req.expect_continue);
    CHECK("host_empty_ok", result("GET / HTTP/1.1\r\nHost:\r\n\r\n") == 0);
    CHECK("host_case_insensitive", result("GET / HTTP/1.1\r\nhOsT: a\r\n\r\n") == 0);
    CHECK("span_equals", http_span_equals("xContent-LENGTHx", (struct http_span){1, 14}, "content-length") &&
                             !http_span_equals("abc", (struct http_span){0, 2}, "abc"));
}

static void header_count_limit(void) {
    char buf[4096];
    strcpy(buf, "GET / HTTP/1.1\r\nHost: a\r\n");
    for (unsigned i = 1; i < HTTP_MAX_HEADERS; i++)
        strcat(buf, "X: y\r\n");
    strcat(buf, "\r\n");
    CHECK("max_headers_ok", result(buf) == 0 && req.header_count == HTTP_MAX_HEADERS);
    buf[strlen(buf) - 2] = '\0';
    strcat(buf, "X: y\r\n\r\n");
    CHECK("too_many_headers_431", result(buf) == 431);
}

static void pipelining(void) {
    const char *two = "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    int first_ok = result(two) == 0 && span_is(two, req.path, "/a") && req.keep_alive;
    size_t at = req.head_len;
    int second_ok = result(two + at) == 0 && span_is(two + at, req.path, "/b") && !req.keep_alive &&
                    at + req.head_len == strlen(two);
    CHECK("pipelined_two_in_order", first_ok && second_ok);
    const char *body_then_get = "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbodyGET / HTTP/1.1\r\nHost: a\r\n\r\n";
    int post_ok = result(body_then_get) == 0 && req.content_length == 4;
    at = req.head_len + 4;
    CHECK("pipelined_after_body", post_ok && result(body_then_get + at) == 0 && req.method == HTTP_GET);
    const char *partial = "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HT";
    CHECK("pipelined_partial_next", result(partial) == 0 && result(partial + req.head_len) == NEED_MORE);
    const char *after_body = "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nok\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
    int first = result(after_body) == 0;
    CHECK("crlf_after_body_skipped", first && result(after_body + req.head_len + 2) == 0 && req.method == HTTP_GET);
}

static void error_classes(void) {
    CHECK("garbage_400", result("GARBAGE\r\n\r\n") == 400);
    CHECK("bad_method_char_400", result("G@T / HTTP/1.1\r\nHost: a\r\n\r\n") == 400);
    CHECK("empty_method_400", result(" / HTTP/1.1\r\nHost: a\r\n\r\n") == 400);
    CHECK("missing_version_400", result("GET /\r\n\r\n") == 400);
    CHECK("missing_target_400", result("GET HTTP/1.1\r\nHost: a\r\n\r\n") == 400);
    CHECK("double_space_400", result("GET  / HTTP/1.1\r\nHost: a\r\n\r\n") == 400);
    CHECK("trailing_space_400", result("GET / HTTP/1.1 \r\nHost: a\r\n\r\n") == 400);
    CHECK("tab_separator_400", result("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n") == 400);
    CHECK("version_lowercase_400", result("GET / http/1.1\r\nHost: a\r\n\r\n") == 400);
    CHECK("version_short_400", result("GET / HTTP/1\r\nHost: a\r\n\r\n") == 400);
    CHECK("version_long_400", result("GET / HTTP/1.10\r\nHost: a\r\n\r\n") == 400);
    CHECK("version_letter_400", result("GET / HTTP/1.x\r\nHost: a\r\n\r\n") == 400);
    CHECK("version_2_505", result("GET / HTTP/2.0\r\nHost: a\r\n\r\n") == 505);
    CHECK("version_0_505", result("GET / HTTP/0.9\r\n\r\n") == 505);
    CHECK("relative_target_400", result("GET foo HTTP/1.1\r\nHost: a\r\n\r\n") == 400);
    CHECK("asterisk_not_options_400", result("GET * HTTP/1.1\r\nHost: a\r\n\r\n") == 400);
    CHECK("target_control_400", result("GET /a\x01" "b HTTP/1.1\r\nHost: a\r\n\r\n") == 400);
    CHECK("target_del_400", result("GET /a\x7f" "b HTTP/1.1\r\nHost: a\r\n\r\n") == 400);
    CHECK("target_high_byte_400", result("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n") == 400);
    CHECK("target_nul_400", RESULT_LITERAL("GET /a\0b HTTP/1.1\r\nHost: a\r\n\r\n") == 400);
    CHECK("header_no_colon_400", result("GET / HTTP/1.1\r\nHost a\r\n\r\n") == 400);
    CHECK("space_before_colon_400", result("GET / HTTP/1.1\r\nHost : a\r\n\r\n") == 400);
    CHECK("empty_header_name_400", result("GET / HTTP/1.1\r\nHost: a\r\n: x\r\n\r\n") == 400);
    CHECK("bad_name_char_400", result("GET / HTTP/1.1\r\nHost: a\r\nX(y): z\r\n\r\n") == 400);
    CHECK("obs_fold_400", result("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n") == 400);
    CHECK("control_in_value_400", result("GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n") == 400);
    CHECK("del_in_value_400", result("GET / HTTP/1.1\r\nHost: a\x7f\r\n\r\n") == 400);
    CHECK("nul_in_value_400", RESULT_LITERAL("GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n") == 400);
    CHECK("bare_cr_request_line_400", result("GET / HTTP/1.1\rHost: a\r\n\r\n") == 400);
    CHECK("bare_cr_in_value_400", result("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n") == 400);
    CHECK("bare_cr_empty_line_400", result("GET / HTTP/1.1\r\nHost: a\r\n\r\r\n") == 400);
    CHECK("transfer_encoding_501", result("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n") == 501);
    CHECK("te_with_length_501", result("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
                                       "Transfer-Encoding: chunked\r\n\r\n") == 501);
    CHECK("missing_host_400", result("GET / HTTP/1.1\r\n\r\n") == 400);
    CHECK("two_hosts_400", result("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n") == 400);
    CHECK("two_hosts_http10_400", result("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n") == 400);
    CHECK("error_has_detail", result("GARBAGE\r\n\r\n") == 400 && req.error_detail && *req.error_detail);
    CHECK("first_error_wins", result("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: x\r\nBad\r\n\r\n") == 501);
}

static const char *with_length(const char *value) {
    static char buf[256];
    strcpy(buf, "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: ");
    strcat(buf, value);
    strcat(buf, "\r\n\r\n");
    return buf;
}

static void content_length(void) {
    CHECK("cl_zero", result(with_length("0")) == 0 && req.content_length == 0);
    CHECK("cl_leading_zeros", result(with_length("0007")) == 0 && req.content_length == 7);
    CHECK("cl_all_zeros", result(with_length("000")) == 0 && req.content_length == 0);
    CHECK("cl_ows_trimmed", result(with_length(" \t12 ")) == 0 && req.content_length == 12);
    CHECK("cl_int64_max", result(with_length("9223372036854775807")) == 0 && req.content_length == INT64_MAX);
    CHECK("cl_overflow_saturates", result(with_length("9223372036854775808")) == 0 && req.content_length == INT64_MAX);
    CHECK("cl_huge_saturates", result(with_length("99999999999999999999999999999999")) == 0 &&
                                   req.content_length == INT64_MAX);
    CHECK("cl_empty_400", result(with_length("")) == 400);
    CHECK("cl_letters_400", result(with_length("5a")) == 400);
    CHECK("cl_negative_400", result(with_length("-1")) == 400);
    CHECK("cl_plus_400", result(with_length("+5")) == 400);
    CHECK("cl_hex_400", result(with_length("0x10")) == 400);
    CHECK("cl_inner_space_400", result(with_length("1 2")) == 400);
    CHECK("cl_list_400", result(with_length("5, 5")) == 400);
    CHECK("cl_duplicate_equal_ok", result(with_length("5\r\nContent-Length: 5")) == 0 && req.content_length == 5);
    CHECK("cl_duplicate_zeros_ok", result(with_length("007\r\ncontent-length: 7")) == 0 && req.content_length == 7);
    CHECK("cl_duplicate_differ_400", result(with_length("5\r\nContent-Length: 6")) == 400);
    CHECK("cl_duplicate_saturated_differ_400",
          result(with_length("9223372036854775808\r\nContent-Length: 9223372036854775809")) == 400);
    CHECK("cl_duplicate_bad_second_400", result(with_length("5\r\nContent-Length: x")) == 400);
}

static void truncation(void) {
    static const char *const good[] = {
        "GET / HTTP/1.1\r\nHost: example\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
        "\r\n\r\nGET /bytes/100 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        "GET / HTTP/1.1\nHost: a\nX:\n\n",
        "GET http://h/x?y HTTP/1.1\r\nHost: h\r\nA: b\r\nC:  d  \r\n\r\n",
    };
    int ok = 1;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        ok &= every_prefix_needs_more(good[i]);
    CHECK("every_prefix_of_good_needs_more", ok);
    static const struct {
        const char *text;
        int status;
    } bad[] = {
        {"GARBAGE\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
        {"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
        {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 501},
        {"GET / HTTP/1.1\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nX\r\n\r\n", 400},
    };
    ok = 1;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ok &= prefixes_consistent(bad[i].text, bad[i].status);
    CHECK("every_prefix_of_bad_consistent", ok);
}

static void head_limit(void) {
    char *exact = head_of_size(HTTP_HEAD_MAX, "\r\n");
    CHECK("head_exactly_8k_ok", result(exact) == 0 && req.head_len == HTTP_HEAD_MAX);
    CHECK("head_8k_prefix_needs_more", result_n(exact, HTTP_HEAD_MAX - 1) == NEED_MORE);
    free(exact);
    char *over = head_of_size(HTTP_HEAD_MAX + 1, "\r\n");
    CHECK("head_8k_plus_1_431", result(over) == 431);
    CHECK("head_8k_plus_1_prefix_431", result_n(over, HTTP_HEAD_MAX) == 431);
    CHECK("head_8k_minus_1_prefix_needs_more", result_n(over, HTTP_HEAD_MAX - 1) == NEED_MORE);
    free(over);
    char *bare = head_of_size(HTTP_HEAD_MAX, "\n");
    CHECK("head_8k_bare_lf_ok", result(bare) == 0 && req.head_len == HTTP_HEAD_MAX);
    free(bare);
    size_t big = 3 * HTTP_HEAD_MAX;
    char *longer = malloc(big);
    char *head = head_of_size(HTTP_HEAD_MAX, "\r\n");
    memcpy(longer, head, HTTP_HEAD_MAX);
    memset(longer + HTTP_HEAD_MAX, 'z', big - HTTP_HEAD_MAX);
    CHECK("bytes_after_8k_head_ignored", result_n(longer, big) == 0 && req.head_len == HTTP_HEAD_MAX);
    memset(longer, '\n', big);
    CHECK("only_empty_lines_431", result_n(longer, big) == 431);
    memset(longer, 'a', big);
    CHECK("no_line_end_431", result_n(longer, big) == 431);
    CHECK("no_line_end_short_needs_more", result_n(longer, 100) == NEED_MORE);
    free(head);
    free(longer);
    CHECK("empty_buffer_needs_more", result_n("", 0) == NEED_MORE);
}

int main(void) {
    check_suite = "http_parse";
    good_requests();
    header_count_limit();
    pipelining();
    error_classes();
    content_length();
    truncation();
    head_limit();
    return check_exit();
}
