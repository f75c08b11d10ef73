/* The document engine (document.h): walking a document's sections over a snapshot, one piece
 * at a time. */
#include "document.h"

#include <string.h>

static char piece_buf[DOC_PIECE_CAP];

struct doc_cursor document_start(void) { return (struct doc_cursor){0, STAGE_OPEN, 0, NO_LINE}; }

/* Renders the next non-empty piece at *cur into buf, which has room for any (DOC_PIECE_CAP). */
static size_t next_into(const struct document *d, const struct snapshot *s, struct doc_cursor *cur, char *buf) {
    struct writer w = {buf, DOC_PIECE_CAP, 0};
    while (w.len == 0 && cur->section < d->section_count) {
        const struct section *sec = &d->sections[cur->section];
        struct bus_line line, prev;
        if (cur->stage == STAGE_OPEN) {
            if (sec->intro)
                sec->intro(s, &w);
            put_str(&w, sec->open);
            cur->stage = STAGE_ROWS;
            cur->line = 0;
            cur->prev = NO_LINE;
        } else if (cur->stage == STAGE_ROWS) {
            if (!sec->wants || !line_at(s, cur->line, &line)) {
                cur->stage = STAGE_CLOSE;
                continue;
            }
            cur->line = line.next;
            if (line.path_len == 0 || !sec->wants(&line))
                continue;
            bool has_prev = cur->prev != NO_LINE && line_at(s, cur->prev, &prev);
            sec->row(&line, has_prev ? &prev : NULL, &w);
            cur->prev = line.off;
        } else {
            put_str(&w, cur->prev != NO_LINE ? sec->after_rows : sec->if_empty);
            put_str(&w, sec->close);
            cur->section++;
            cur->stage = STAGE_OPEN;
        }
    }
    return w.len;
}

size_t document_next(const struct document *d, const struct snapshot *s, struct doc_cursor *cur,
                     const char **piece) {
    *piece = piece_buf;
    return next_into(d, s, cur, piece_buf);
}

unsigned long long document_length(const struct document *d, const struct snapshot *s) {
    struct doc_cursor cur = document_start();
    unsigned long long total = 0;
    const char *piece;
    size_t n;
    while ((n = document_next(d, s, &cur, &piece)) > 0)
        total += n;
    return total;
}

/* Renders d whole into r, or marks it too big. */
static void render_whole(const struct document *d, const struct snapshot *s, struct rendering *r) {
    struct doc_cursor cur = document_start();
    const char *piece;
    size_t n;
    r->doc = d;
    r->len = 0;
    r->too_big = false;
    /* While a whole piece still fits, it is rendered in place: rendering into the piece buffer
     * and copying it over cost a quarter of a rendering (make bench's profile; the copy is
     * mostly between unequal alignments, byte by byte). */
    while (sizeof r->text - r->len >= DOC_PIECE_CAP) {
        if ((n = next_into(d, s, &cur, r->text + r->len)) == 0)
            return;
        r->len += n;
    }
    while ((n = document_next(d, s, &cur, &piece)) > 0) {
        if (n > sizeof r->text - r->len) {
            r->too_big = true;
            r->len = 0;
            return;
        }
        memcpy(r->text + r->len, piece, n);
        r->len += n;
    }
}

const struct rendering *document_rendering(const struct document *d, struct snapshot *s) {
    struct rendering *free_slot = NULL;
    for (size_t i = 0; i < SNAPSHOT_RENDERINGS; i++) {
        struct rendering *r = &s->renderings[i];
        if (r->doc == d)
            return r->too_big ? NULL : r;
        if (!r->doc && !free_slot)
            free_slot = r;
    }
    if (!free_slot)
        return NULL;
    render_whole(d, s, free_slot);
    return free_slot->too_big ? NULL : free_slot;
}
