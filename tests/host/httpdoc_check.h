/*
 * The document engine's contract (apps/httpd/document.h), checked over any snapshot; shared by
 * tests/host/test_httpdoc.c and tests/fuzz/fuzz_httpdoc.c.
 */
#ifndef NEXUS_TEST_HTTPDOC_CHECK_H
#define NEXUS_TEST_HTTPDOC_CHECK_H

#include <stddef.h>

#include "document.h"

struct rendered {
    char *text;                   /* the whole document, NUL-terminated; free() it */
    unsigned long long announced; /* document_length: what Content-Length says */
    unsigned long long len;       /* the bytes the pieces added up to */
    size_t pieces, largest_piece;
};

/* Renders d over s piece by piece, as a connection streams it, into *out. Returns NULL when the
 * contract holds, else what broke it:
 *   - the rendered bytes add up to document_length, and a second rendering is identical;
 *   - every piece is non-empty and shorter than DOC_PIECE_CAP, so none was cut to fit;
 *   - every byte is printable ASCII or a newline, whatever the listing holds;
 *   - HTML: every tag is closed, in order; JSON: the text parses as
 *     {"uptime_ms": N, "bus": {...}} with one string member per listing line that has a path. */
const char *render_and_check(const struct document *d, const struct snapshot *s, struct rendered *out);

#endif
