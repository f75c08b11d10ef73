/* Checks of the document engine's contract (httpdoc_check.h). */
#include "httpdoc_check.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static bool printable(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != '\n' && (s[i] < 0x20 || s[i] > 0x7e))
            return false;
    return true;
}

/* Tags nest and close in order; <!DOCTYPE> and <meta> have no end tag, and a table's cells and
 * rows may leave theirs out (close_implied). */
static bool top_is(char stack[][16], int depth, const char *name) {
    return depth > 0 && !strcmp(stack[depth - 1], name);
}

/* HTML's optional end tags, the ones the status page leaves out (the HTML standard's table
 * insertion modes): a <td> or <tr> ends the open cell, a <tr> then the open row, and </table>
 * both. */
static int close_implied(char stack[][16], int depth, const char *name, size_t n, bool closing) {
    bool opens_cell = !closing && n == 2 && !memcmp(name, "td", 2);
    bool opens_row = !closing && n == 2 && !memcmp(name, "tr", 2);
    bool ends_table = closing && n == 5 && !memcmp(name, "table", 5);
    if ((opens_cell || opens_row || ends_table) && top_is(stack, depth, "td"))
        depth--;
    if ((opens_row || ends_table) && top_is(stack, depth, "tr"))
        depth--;
    return depth;
}

static bool html_balanced(const char *s) {
    char stack[16][16];
    int depth = 0;
    for (const char *p = strchr(s, '<'); p; p = strchr(p + 1, '<')) {
        bool closing = p[1] == '/';
        const char *name = p + 1 + closing;
        size_t n = strcspn(name, " >");
        if (name[n] == '\0' || n == 0 || n >= sizeof stack[0])
            return false;
        if ((n == 8 && !memcmp(name, "!DOCTYPE", 8)) || (n == 4 && !memcmp(name, "meta", 4)))
            continue;
        depth = close_implied(stack, depth, name, n, closing);
        if (closing) {
            if (depth == 0 || strlen(stack[depth - 1]) != n || memcmp(stack[depth - 1], name, n))
                return false;
            depth--;
        } else {
            if (depth == (int)(sizeof stack / sizeof stack[0]))
                return false;
            memcpy(stack[depth], name, n);
            stack[depth++][n] = '\0';
        }
    }
    return depth == 0;
}

/* A small JSON reader for the one shape /bus.json has. Each returns where it stopped, or NULL. */
static const char *json_space(const char *p) {
    while (*p == ' ' || *p == '\n')
        p++;
    return p;
}

static const char *json_string(const char *p) {
    if (*p++ != '"')
        return NULL;
    for (; *p != '"'; p++) {
        if (*p == '\0' || (unsigned char)*p < 0x20)
            return NULL;
        if (*p != '\\')
            continue;
        p++;
        if (*p == 'u') {
            for (int i = 1; i <= 4; i++)
                if (!strchr("0123456789abcdef", p[i]) || p[i] == '\0')
                    return NULL;
            p += 4;
        } else if (*p != '"' && *p != '\\') {
            return NULL;
        }
    }
    return p + 1;
}

static const char *json_expect(const char *p, const char *text) {
    p = json_space(p);
    return strncmp(p, text, strlen(text)) ? NULL : p + strlen(text);
}

/* {string: string, ...}; counts the members. */
static const char *json_flat_object(const char *p, size_t *members) {
    if (!(p = json_expect(p, "{")))
        return NULL;
    *members = 0;
    if (*json_space(p) == '}')
        return json_space(p) + 1;
    for (;;) {
        if (!(p = json_string(json_space(p))) || !(p = json_expect(p, ":")) || !(p = json_string(json_space(p))))
            return NULL;
        ++*members;
        p = json_space(p);
        if (*p == '}')
            return p + 1;
        if (*p++ != ',')
            return NULL;
    }
}

static size_t lines_with_path(const struct snapshot *s) {
    size_t count = 0;
    struct bus_line l;
    for (size_t off = 0; line_at(s, off, &l); off = l.next)
        count += l.path_len > 0;
    return count;
}

static bool bus_json_valid(const char *text, const struct snapshot *s) {
    const char *p = json_expect(text, "{\"uptime_ms\":");
    if (!p)
        return false;
    p = json_space(p);
    if (*p < '0' || *p > '9')
        return false;
    while (*p >= '0' && *p <= '9')
        p++;
    size_t members;
    if (!(p = json_expect(p, ",")) || !(p = json_expect(p, "\"bus\":")) || !(p = json_flat_object(p, &members)) ||
        !(p = json_expect(p, "}")))
        return false;
    return !strcmp(p, "\n") && members == lines_with_path(s);
}

/* Renders the whole document into out; NULL, or what was wrong with a piece. */
static const char *render(const struct document *d, const struct snapshot *s, struct rendered *out) {
    size_t cap = 1 << 16;
    *out = (struct rendered){malloc(cap), document_length(d, s), 0, 0, 0};
    if (!out->text)
        abort();
    struct doc_cursor cur = document_start();
    const char *piece;
    size_t n;
    while ((n = document_next(d, s, &cur, &piece)) > 0) {
        if (n >= DOC_PIECE_CAP)
            return "a piece filled DOC_PIECE_CAP: its tail may have been cut";
        if (out->len + n + 1 > cap) {
            cap *= 2;
            out->text = realloc(out->text, cap);
            if (!out->text)
                abort();
        }
        memcpy(out->text + out->len, piece, n);
        out->len += n;
        out->pieces++;
        out->largest_piece = n > out->largest_piece ? n : out->largest_piece;
    }
    out->text[out->len] = '\0';
    return NULL;
}

const char *render_and_check(const struct document *d, const struct snapshot *s, struct rendered *out) {
    const char *broken = render(d, s, out);
    if (broken)
        return broken;
    if (out->len != out->announced)
        return "the rendered bytes differ from document_length";
    struct rendered again;
    broken = render(d, s, &again);
    bool same = !broken && again.len == out->len && !memcmp(again.text, out->text, out->len);
    free(again.text);
    if (!same)
        return "a second rendering differs from the first";
    if (!printable(out->text, out->len))
        return "a byte outside printable ASCII and newline";
    if (!strncmp(d->content_type, "text/html", 9) && !html_balanced(out->text))
        return "HTML tags not closed in order";
    if (!strcmp(d->content_type, "application/json") && !bus_json_valid(out->text, s))
        return "not the JSON shape of /bus.json, or a listing line missing";
    return NULL;
}
