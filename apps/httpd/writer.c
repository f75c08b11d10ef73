/* The writer (writer.h): appending text, numbers and escaped fields to a fixed buffer. */
#include "writer.h"

#include <string.h>

void put_bytes(struct writer *w, const char *s, size_t n) {
    if (n > w->cap - w->len)
        n = w->cap - w->len;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

void put_str(struct writer *w, const char *s) {
    if (s)
        put_bytes(w, s, strlen(s));
}

void put_char(struct writer *w, char ch) { put_bytes(w, &ch, 1); }

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

void put_html(struct writer *w, const char *s, size_t n) {
    size_t shown = n < FIELD_SHOWN_MAX ? n : FIELD_SHOWN_MAX;
    for (size_t i = 0; i < shown; i++) {
        unsigned char ch = (unsigned char)s[i];
        switch (ch) {
        case '&': put_str(w, "&amp;"); break;
        case '<': put_str(w, "&lt;"); break;
        case '>': put_str(w, "&gt;"); break;
        case '"': put_str(w, "&quot;"); break;
        case '\'': put_str(w, "&#39;"); break;
        default: put_char(w, ch >= 0x20 && ch < 0x7f ? (char)ch : '?');
        }
    }
    if (shown < n)
        put_str(w, "...");
}

void put_json_string(struct writer *w, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    size_t shown = n < FIELD_SHOWN_MAX ? n : FIELD_SHOWN_MAX;
    put_char(w, '"');
    for (size_t i = 0; i < shown; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') {
            put_char(w, '\\');
            put_char(w, (char)ch);
        } else if (ch < 0x20 || ch >= 0x7f) {
            char esc[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};
            put_bytes(w, esc, sizeof esc);
        } else {
            put_char(w, (char)ch);
        }
    }
    put_char(w, '"');
}
