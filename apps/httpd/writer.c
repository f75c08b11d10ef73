/* The writer (writer.h): appending text, numbers and escaped fields to a fixed buffer. */
#include "writer.h"

#include <stdbool.h>
#include <string.h>

void put_bytes(struct writer *w, const char *s, size_t n) {
    if (n > w->cap - w->len)
        n = w->cap - w->len;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

void put_char(struct writer *w, char ch) {
    if (w->len < w->cap)
        w->buf[w->len++] = ch;
}

/* Hand-rolled so the integer-only printf of picolibc never matters for 64-bit values. */
void put_u64(struct writer *w, unsigned long long v) {
    char digits[20];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        put_char(w, digits[--n]);
}

void put_2digits(struct writer *w, unsigned long long v) {
    put_char(w, (char)('0' + v / 10 % 10));
    put_char(w, (char)('0' + v % 10));
}

/* Bytes put_html passes through unchanged: printable ASCII but the markup characters. A table,
 * since the status page tests every byte it shows: the ranges leave out " & ' < >. */
#define PLAIN_RANGE(from, to) [from ... to] = true
static const bool html_plain[256] = {
    PLAIN_RANGE(' ', '!'), PLAIN_RANGE('#', '%'), PLAIN_RANGE('(', ';'), ['='] = true, PLAIN_RANGE('?', '~'),
};

/* Runs of plain bytes are copied whole: the status page is mostly such runs, and a byte at a
 * time cost most of its rendering (make bench's profile). */
void put_html(struct writer *w, const char *s, size_t n) {
    size_t shown = n < FIELD_SHOWN_MAX ? n : FIELD_SHOWN_MAX;
    for (size_t i = 0; i < shown;) {
        size_t run = i;
        while (run < shown && html_plain[(unsigned char)s[run]])
            run++;
        put_bytes(w, s + i, run - i);
        if (run == shown)
            break;
        unsigned char ch = (unsigned char)s[run];
        switch (ch) {
        case '&': put_str(w, "&amp;"); break;
        case '<': put_str(w, "&lt;"); break;
        case '>': put_str(w, "&gt;"); break;
        case '"': put_str(w, "&quot;"); break;
        case '\'': put_str(w, "&#39;"); break;
        default: put_char(w, '?');
        }
        i = run + 1;
    }
    if (shown < n)
        put_str(w, "...");
}

/* Runs that need no escape are copied whole, as in put_html. */
void put_json_string(struct writer *w, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    size_t shown = n < FIELD_SHOWN_MAX ? n : FIELD_SHOWN_MAX;
    put_char(w, '"');
    for (size_t i = 0; i < shown;) {
        size_t run = i;
        while (run < shown && (unsigned char)s[run] >= 0x20 && (unsigned char)s[run] < 0x7f && s[run] != '"' &&
               s[run] != '\\')
            run++;
        put_bytes(w, s + i, run - i);
        if (run == shown)
            break;
        unsigned char ch = (unsigned char)s[run];
        if (ch == '"' || ch == '\\') {
            put_char(w, '\\');
            put_char(w, (char)ch);
        } else {
            char esc[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};
            put_bytes(w, esc, sizeof esc);
        }
        i = run + 1;
    }
    put_char(w, '"');
}
