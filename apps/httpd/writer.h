/*
 * The writer: text appended into a fixed buffer, for response heads, error bodies and document
 * pieces. Nothing here allocates or fails; the caller sizes the buffer for the worst case, and
 * anything past its capacity is dropped.
 */
#ifndef NEXUS_HTTPD_WRITER_H
#define NEXUS_HTTPD_WRITER_H

#include <stddef.h>

/* put_html and put_json_string show at most this many bytes of a field (HTML marks the cut with
 * "..."), so one rendered row has a known worst case (document.h sizes its pieces by it). */
#define FIELD_SHOWN_MAX 256
#define ESCAPED_MAX 6 /* the longest escape of one byte: "&quot;" or "\u00XX" */

struct writer {
    char *buf;
    size_t cap, len;
};

void put_bytes(struct writer *w, const char *s, size_t n);

/* NULL puts nothing. Inline, so a literal's length is the compiler's (httpd builds with
 * -ffreestanding, where strlen stays a call): the page's fixed text is most of its rendering's
 * strlen calls (make bench's profile). */
static inline void put_str(struct writer *w, const char *s) {
    if (s)
        put_bytes(w, s, __builtin_strlen(s));
}
void put_char(struct writer *w, char ch);
void put_u64(struct writer *w, unsigned long long v);
void put_2digits(struct writer *w, unsigned long long v); /* the last two decimal digits */

/* Text for an HTML element or attribute: markup characters escaped, bytes outside printable
 * ASCII shown as '?'. */
void put_html(struct writer *w, const char *s, size_t n);

/* A JSON string literal, quotes included; bytes outside printable ASCII become \u00XX (read as
 * Latin-1), so the output is valid JSON and valid UTF-8 whatever the field holds. */
void put_json_string(struct writer *w, const char *s, size_t n);

#endif
