/*
 * Routes: what the server answers to each request.
 *
 *   GET|HEAD /           status page built from the system tree (status_page.h)
 *   GET|HEAD /bus.json   the system tree as JSON
 *   GET|HEAD /bytes/N    N bytes (0 <= N <= 2^40), byte i = i % 251
 *   POST /echo           the request body streamed back (Content-Length <= 64 MiB)
 *
 * Each answer queues a response head (and a short body, for errors) in the connection's output
 * and sets the connection's body for what conn.c then streams; the announced Content-Length is
 * always the exact size of that body.
 */
#ifndef NEXUS_HTTPD_ROUTES_H
#define NEXUS_HTTPD_ROUTES_H

#include "conn.h"
#include "http_parse.h"

/* Answers a parsed request whose head (head_len bytes from head) has been consumed from the
 * input: any body starts at c->in_pos. */
void route_request(struct conn *c, const char *head, const struct http_request *req);

/* Answers a head the parser refused; the connection closes after. */
void route_refused_head(struct conn *c, const struct http_request *req);

#endif
