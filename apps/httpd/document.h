/*
 * The document engine: pages rendered from a /Bus snapshot (snapshot.h) whose length is
 * announced as Content-Length before a byte of them is produced.
 *
 * A document is a list of sections; a section is fixed text around one row per selected listing
 * line. Rendering is resumable from a small cursor, piece by piece, so a connection streams a
 * page of any size through its small output buffer. document_length measures by the very same
 * walk, so for one snapshot the rendered bytes always add up to the measured length.
 */
#ifndef NEXUS_HTTPD_DOCUMENT_H
#define NEXUS_HTTPD_DOCUMENT_H

#include <stdbool.h>
#include <stddef.h>

#include "snapshot.h"
#include "writer.h"

/* The room for one piece: a section's opening text, one row, or a section's closing text. Each
 * must fit whole, or its tail would be lost (in both the measurement and the rendering); a
 * document's rows bound themselves by FIELD_SHOWN_MAX (writer.h) and assert they fit. */
#define DOC_PIECE_CAP 8192

struct section {
    void (*intro)(const struct snapshot *, struct writer *); /* dynamic text first, or NULL */
    const char *open;                                         /* then this */
    bool (*wants)(const struct bus_line *);                   /* rows: which lines; NULL: none */
    void (*row)(const struct bus_line *line, const struct bus_line *prev_row, struct writer *);
    const char *after_rows; /* after the last row, if there was one */
    const char *if_empty;   /* instead, if there was none */
    const char *close;      /* last */
};

struct document {
    const char *content_type;
    const struct section *sections;
    size_t section_count;
};

enum doc_stage { STAGE_OPEN, STAGE_ROWS, STAGE_CLOSE };

/* Where a walk through a document stands. */
struct doc_cursor {
    size_t section;
    enum doc_stage stage;
    size_t line; /* next listing line to look at */
    size_t prev; /* last line rendered as a row of this section, or NO_LINE */
};

#define NO_LINE ((size_t)-1)

/* The cursor at a document's first byte. */
struct doc_cursor document_start(void);

/* Renders the next non-empty piece at *cur, points *piece at it and advances *cur; returns its
 * length, 0 at the end. The piece stays valid until the next call. */
size_t document_next(const struct document *d, const struct snapshot *s, struct doc_cursor *cur,
                     const char **piece);

/* The document's whole length for this snapshot. */
unsigned long long document_length(const struct document *d, const struct snapshot *s);

/* The document rendered whole over this snapshot, kept in the snapshot for every response
 * that shares it (snapshot.h); rendered at the first call. NULL when it does not fit
 * RENDERING_CAP or the snapshot keeps no more renderings: stream it by pieces instead. */
const struct rendering *document_rendering(const struct document *d, struct snapshot *s);

#endif
