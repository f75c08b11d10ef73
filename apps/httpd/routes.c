/* Routes (routes.h): the route table, the request handlers, and the response heads they queue. */
#include "routes.h"

#include <stdint.h>
#include <string.h>

#include "status_page.h"
#include "writer.h"

#define ECHO_MAX (64ull << 20)
#define BYTES_MAX (1ull << 40)

static const struct {
    int status;
    const char *reason;
} reasons[] = {
    {100, "Continue"},           {200, "OK"},
    {400, "Bad Request"},        {404, "Not Found"},
    {405, "Method Not Allowed"}, {411, "Length Required"},
    {413, "Content Too Large"},  {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"}, {501, "Not Implemented"},
    {505, "HTTP Version Not Supported"},
};

static const char *reason_phrase(int status) {
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (reasons[i].status == status)
            return reasons[i].reason;
    return "Unknown";
}

/* Queues a response head; close_after must already say whether this is the last response. */
static void write_head(struct conn *c, int status, const char *type, unsigned long long length, const char *allow) {
    struct writer w = {c->out + c->out_end, conn_out_room(c), 0};
    put_str(&w, "HTTP/1.1 ");
    put_u64(&w, (unsigned long long)status);
    put_char(&w, ' ');
    put_str(&w, reason_phrase(status));
    put_str(&w, "\r\nServer: nexus-httpd\r\n");
    if (type) {
        put_str(&w, "Content-Type: ");
        put_str(&w, type);
        put_str(&w, "\r\n");
    }
    put_str(&w, "Content-Length: ");
    put_u64(&w, length);
    put_str(&w, "\r\n");
    if (allow) {
        put_str(&w, "Allow: ");
        put_str(&w, allow);
        put_str(&w, "\r\n");
    }
    if (c->close_after)
        put_str(&w, "Connection: close\r\n");
    else if (c->http10_keep_alive)
        put_str(&w, "Connection: keep-alive\r\n");
    put_str(&w, "\r\n");
    c->out_end += w.len;
}

/* When cond holds, this is the last response and the client may still be sending what we will
 * never read (a body, the rest of a stream we lost track of): the close lingers (conn.c). */
static void close_unread(struct conn *c, bool cond) {
    c->close_after |= cond;
    c->must_linger |= cond;
}

/* An error answer with a one-line text body. must_close: the rest of the input can no longer
 * be trusted to start at a request boundary. */
static void respond_error(struct conn *c, int status, const char *detail, const char *allow, bool must_close) {
    char text[160];
    struct writer w = {text, sizeof text, 0};
    put_u64(&w, (unsigned long long)status);
    put_char(&w, ' ');
    put_str(&w, reason_phrase(status));
    if (detail) {
        put_str(&w, ": ");
        put_str(&w, detail);
    }
    put_char(&w, '\n');
    close_unread(c, must_close);
    write_head(c, status, "text/plain; charset=utf-8", w.len, allow);
    if (!c->head_only)
        conn_out_put(c, text, w.len);
}

struct request_ctx {
    const struct http_request *req;
    const char *arg;            /* the path past a prefix route's path */
    size_t arg_len;
    const struct document *doc; /* the route's document, for document routes */
    bool has_body;              /* the request carries a body this route will not read */
};

/* Requests in a burst share one recent listing and its rendering (snapshot.h); a rendered body
 * that fits behind its head leaves with it, a longer one straight from the rendering. */
static void serve_document(struct conn *c, const struct request_ctx *x) {
    struct snapshot *s = snapshot_acquire_recent(SNAPSHOT_REUSE_MS);
    const struct rendering *r = document_rendering(x->doc, s);
    unsigned long long len = r ? r->len : document_length(x->doc, s);
    close_unread(c, x->has_body);
    write_head(c, 200, x->doc->content_type, len, NULL);
    bool fits_behind_head = r && len <= conn_out_room(c);
    if (fits_behind_head && !c->head_only)
        conn_out_put(c, r->text, r->len);
    if (c->head_only || len == 0 || fits_behind_head) {
        snapshot_release(s);
        return;
    }
    if (r)
        conn_out_align_end(c, r->text); /* the body goes straight from the rendering */
    c->body = (struct body){.kind = BODY_DOCUMENT, .left = len, .doc = x->doc, .snap = s, .rendering = r,
                            .cursor = document_start()};
}

static void serve_bytes(struct conn *c, const struct request_ctx *x) {
    unsigned long long n;
    if (!http_parse_decimal(x->arg, x->arg_len, BYTES_MAX, &n)) {
        respond_error(c, 400, "/bytes/N takes a decimal N from 0 to 2^40", NULL, x->has_body);
        return;
    }
    close_unread(c, x->has_body);
    write_head(c, 200, "application/octet-stream", n, NULL);
    if (!c->head_only && n > 0)
        c->body = (struct body){.kind = BODY_BYTES, .left = n};
}

static void serve_echo(struct conn *c, const struct request_ctx *x) {
    int64_t length = x->req->content_length;
    if (length == HTTP_NO_CONTENT_LENGTH) {
        respond_error(c, 411, "POST /echo needs a Content-Length", NULL, true);
        return;
    }
    if ((unsigned long long)length > ECHO_MAX) {
        respond_error(c, 413, "POST /echo takes at most 64 MiB", NULL, true);
        return;
    }
    if (x->req->expect_continue && x->req->version_minor >= 1 && length > 0)
        conn_out_put(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    write_head(c, 200, "application/octet-stream", (unsigned long long)length, NULL);
    if (length > 0)
        c->body = (struct body){.kind = BODY_ECHO, .left = (unsigned long long)length};
}

enum { M_GET = 1u << HTTP_GET, M_HEAD = 1u << HTTP_HEAD, M_POST = 1u << HTTP_POST };

static const struct route {
    const char *path;
    bool is_prefix; /* path + argument, like /bytes/N */
    unsigned methods;
    const char *allow;
    void (*serve)(struct conn *, const struct request_ctx *);
    const struct document *doc;
} routes[] = {
    {"/", false, M_GET | M_HEAD, "GET, HEAD", serve_document, &status_page},
    {"/bus.json", false, M_GET | M_HEAD, "GET, HEAD", serve_document, &bus_json},
    {"/bytes/", true, M_GET | M_HEAD, "GET, HEAD", serve_bytes, NULL},
    {"/echo", false, M_POST, "POST", serve_echo, NULL},
};

static const struct route *find_route(const char *path, size_t len, struct request_ctx *x) {
    if (len == 0) { /* absolute-form target without a path */
        path = "/";
        len = 1;
    }
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        size_t k = strlen(routes[i].path);
        bool match = routes[i].is_prefix ? len >= k && !memcmp(path, routes[i].path, k)
                                         : len == k && !memcmp(path, routes[i].path, k);
        if (match) {
            x->arg = path + k;
            x->arg_len = len - k;
            x->doc = routes[i].doc;
            return &routes[i];
        }
    }
    return NULL;
}

void route_request(struct conn *c, const char *head, const struct http_request *req) {
    struct request_ctx x = {req, NULL, 0, NULL, req->content_length > 0};
    c->close_after = !req->keep_alive;
    c->must_linger = false;
    c->http10_keep_alive = req->version_minor == 0 && req->keep_alive;
    c->head_only = req->method == HTTP_HEAD;
    if (req->method == HTTP_METHOD_OTHER) {
        respond_error(c, 501, "unknown method", NULL, x.has_body);
        return;
    }
    const struct route *r = find_route(head + req->path.off, req->path.len, &x);
    if (!r)
        respond_error(c, 404, NULL, NULL, x.has_body);
    else if (!(r->methods & (1u << req->method)))
        respond_error(c, 405, NULL, r->allow, x.has_body);
    else
        r->serve(c, &x);
}

void route_refused_head(struct conn *c, const struct http_request *req) {
    c->head_only = c->http10_keep_alive = false;
    respond_error(c, req->error_status, req->error_detail, NULL, true);
}
