/*
 * HTTP/1.1 request-head parser (RFC 9112): a pure function over a byte buffer, no sockets, no
 * allocation, so the server, the host unit tests and the fuzzer all run the same code.
 *
 * The buffer holds what has arrived so far from one connection. The parser looks at no more than
 * HTTP_HEAD_MAX bytes of it and answers:
 *   NEED_MORE  the head is incomplete and nothing seen so far is wrong;
 *   OK         a complete head of head_len bytes (the body, if any, and any pipelined request
 *              follow it in the buffer);
 *   ERROR      the request must be refused with error_status, and the connection closed.
 * Errors are decided on complete lines only, so every prefix of an acceptable head is NEED_MORE,
 * and every extension of a buffer gives the same OK or the same ERROR as the buffer itself.
 *
 * Choices where RFC 9112 leaves room:
 *   - bare LF ends a line like CRLF; a CR not followed by LF is an error;
 *   - empty lines before the request line are skipped;
 *   - obsolete line folding, whitespace before a header's colon, and more than one space
 *     between request-line parts are errors (400);
 *   - a well-formed version other than HTTP/1.x is 505; a malformed one is 400;
 *   - any Transfer-Encoding is 501: the server reads bodies by Content-Length only;
 *   - Content-Length: digits only; leading zeros allowed; repeated fields must name the same
 *     number (leading zeros ignored); values beyond INT64_MAX saturate to INT64_MAX (the caller
 *     refuses them as too large); a comma-separated list is an error;
 *   - HTTP/1.1 without Host, or any request with two Host fields, is 400.
 */
#ifndef NEXUS_HTTP_PARSE_H
#define NEXUS_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_HEAD_MAX 8192u   /* request line + header lines + blank line */
#define HTTP_MAX_HEADERS 64u  /* more header lines than this: 431 */
#define HTTP_NO_CONTENT_LENGTH (-1)

enum http_parse_status { HTTP_PARSE_NEED_MORE, HTTP_PARSE_OK, HTTP_PARSE_ERROR };

/* Methods the server may route; any other valid token is HTTP_METHOD_OTHER (answered 501). */
enum http_method {
    HTTP_METHOD_OTHER,
    HTTP_GET,
    HTTP_HEAD,
    HTTP_POST,
    HTTP_PUT,
    HTTP_DELETE,
    HTTP_OPTIONS,
    HTTP_PATCH,
    HTTP_TRACE,
};

/* Bytes [off, off + len) of the parsed buffer. Offsets stay below HTTP_HEAD_MAX. */
struct http_span {
    uint16_t off, len;
};

struct http_header {
    struct http_span name, value; /* value without surrounding whitespace */
};

struct http_request {
    size_t head_len;              /* bytes of the head, through the blank line */
    int error_status;             /* 400, 431, 501 or 505 when the result is ERROR, else 0 */
    const char *error_detail;     /* short static text saying what was wrong, or NULL */
    enum http_method method;
    struct http_span method_name; /* the token as sent */
    struct http_span target;      /* the request-target as sent */
    struct http_span path;        /* target's path without query; len 0 means "/" */
    int version_minor;            /* HTTP/1.<minor>, 0..9 */
    unsigned header_count;
    struct http_header headers[HTTP_MAX_HEADERS];
    int64_t content_length;       /* HTTP_NO_CONTENT_LENGTH when absent */
    bool connection_close;        /* "close" among the Connection options */
    bool connection_keep_alive;   /* "keep-alive" among the Connection options */
    bool expect_continue;         /* Expect: 100-continue */
    bool keep_alive;              /* the connection may carry another request after this one */
};

enum http_parse_status http_parse_request(const char *buf, size_t len, struct http_request *req);

/* Case-insensitive comparison of a span of buf with a NUL-terminated lower-case string. */
bool http_span_equals(const char *buf, struct http_span span, const char *lower);

/* A decimal number of n bytes: digits only, no sign, at least one, value <= max (which must stay
 * below ULLONG_MAX / 10). For /bytes/N and the server's command line. */
bool http_parse_decimal(const char *s, size_t n, unsigned long long max, unsigned long long *out);

#endif
