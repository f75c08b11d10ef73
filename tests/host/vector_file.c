/* Reading the generators' vector files (vector_file.h). */
#include "vector_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENTRIES_MAX 64
#define BYTES_MAX   (64 * 1024)

static struct entry {
    char name[48];
    size_t offset, len;
} entries[ENTRIES_MAX];
static size_t entry_count;
static uint8_t bytes[BYTES_MAX];
static size_t bytes_used;

static int nibble(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The hex digits up to the end of the line extend the newest entry. */
static bool append_hex(const char *p) {
    size_t n = strcspn(p, "\r\n");
    if (entry_count == 0 || n % 2 != 0 || bytes_used + n / 2 > BYTES_MAX)
        return false;
    for (size_t i = 0; i < n; i += 2) {
        int hi = nibble(p[i]), lo = nibble(p[i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        bytes[bytes_used++] = (uint8_t)(hi << 4 | lo);
    }
    entries[entry_count - 1].len += n / 2;
    return true;
}

static bool parse_line(const char *line) {
    if (line[0] == '#' || line[0] == '\n')
        return true;
    if (strncmp(line, "    ", 4) == 0)
        return append_hex(line + 4);
    const char *eq = strstr(line, " = ");
    size_t name_len = eq ? (size_t)(eq - line) : 0;
    if (!eq || name_len == 0 || name_len >= sizeof entries[0].name || entry_count == ENTRIES_MAX)
        return false;
    struct entry *e = &entries[entry_count++];
    memcpy(e->name, line, name_len);
    e->name[name_len] = 0;
    e->offset = bytes_used;
    e->len = 0;
    return append_hex(eq + 3);
}

bool vector_file_load(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char line[4096];
    bool ok = true;
    while (ok && fgets(line, sizeof line, f))
        ok = parse_line(line);
    fclose(f);
    return ok;
}

const uint8_t *vector_bytes(const char *name, size_t *len) {
    for (size_t i = 0; i < entry_count; i++)
        if (strcmp(entries[i].name, name) == 0) {
            if (len)
                *len = entries[i].len;
            return bytes + entries[i].offset;
        }
    printf("FAIL vectors.%s: no such vector\n", name);
    exit(1);
}

bool vector_file_quoted_in(const char *vectors_path, const char *doc_path) {
    static char doc[256 * 1024], vectors[64 * 1024];
    FILE *f = fopen(vectors_path, "r"), *g = fopen(doc_path, "r");
    size_t nv = f ? fread(vectors, 1, sizeof vectors - 1, f) : 0;
    size_t nd = g ? fread(doc, 1, sizeof doc - 1, g) : 0;
    if (f)
        fclose(f);
    if (g)
        fclose(g);
    vectors[nv] = doc[nd] = 0;
    return nv > 0 && nd > 0 && strstr(doc, vectors) != NULL;
}

uint64_t vector_number(const char *name) {
    size_t len;
    const uint8_t *p = vector_bytes(name, &len);
    uint64_t v = 0;
    for (size_t i = 0; i < len && i < 8; i++)
        v = v << 8 | p[i];
    return v;
}
