/* libFuzzer target for kernel/cspace.c: any byte string (NUL-terminated copy) must parse as grant
 * text without a sanitizer report, and the answer must keep the contract (cspace.h):
 *   - the result is -EINVAL or a count 0..GRANTS_MAX; a text of GRANT_TEXT_MAX bytes or more is
 *     refused;
 *   - every grant has rights r, w or rw; chan:N below 32, port:N below 16, heap:N at most
 *     GRANT_HEAP_KIB_MAX (with the default rights: it takes none); a link's or a send area's
 *     server name (an area with the default rights) is NUL-terminated, non-empty, shorter than GRANT_NAME_MAX and of [a-z0-9_-];
 *   - parsing with a smaller max (into an exact-size heap array) gives the same count when it
 *     fits and -EINVAL when it does not, without writing past the array;
 *   - channel and port grants go into a struct cspace through cspace_grant, which must accept
 *     them, and cspace_rights must then cover every right granted so far. Port N is its
 *     doorbell channel, NEXUS_PORT_CHANNEL(N), as the kernel grants it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cspace.h"
#include "nexus/syscall.h"
#include "fuzz_cstring.h"


#define REQUIRE(cond)  \
    do {               \
        if (!(cond))   \
            abort();   \
    } while (0)

static int name_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'; }

static unsigned channel_of(const struct grant *g) {
    return g->kind == GRANT_CHANNEL ? g->number : NEXUS_PORT_CHANNEL(g->number);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *s = fuzz_cstring(data, size);
    if (!s)
        return 0;
    struct grant g[GRANTS_MAX];
    int n = grants_parse(s, g, GRANTS_MAX);
    REQUIRE(n == -EINVAL || (n >= 0 && n <= GRANTS_MAX));
    if (n >= 0)
        REQUIRE(strlen(s) < GRANT_TEXT_MAX);

    struct cspace cs;
    memset(&cs, 0, sizeof cs);
    for (int i = 0; i < n; i++) {
        REQUIRE(g[i].rights == CAP_READ || g[i].rights == CAP_WRITE || g[i].rights == CAP_RW);
        switch (g[i].kind) {
        case GRANT_CHANNEL: REQUIRE(g[i].number < NEXUS_OWN_CHANNELS); break;
        case GRANT_PORT: REQUIRE(g[i].number < GRANT_PORTS_MAX); break;
        case GRANT_AREA: /* a name, no rights: the default stays */
            REQUIRE(g[i].rights == CAP_RW);
            /* fall through */
        case GRANT_LINK: {
            const char *end = memchr(g[i].server, '\0', sizeof g[i].server);
            REQUIRE(end && end > g[i].server && (size_t)(end - g[i].server) < GRANT_NAME_MAX);
            for (const char *c = g[i].server; c < end; c++)
                REQUIRE(name_char(*c));
            continue;
        }
        case GRANT_HEAP:
            REQUIRE(g[i].number <= GRANT_HEAP_KIB_MAX && g[i].rights == CAP_RW);
            continue;
        case GRANT_FILES:
            REQUIRE(g[i].number <= GRANT_FILES_KIB_MAX && g[i].rights == CAP_RW);
            continue;
        default: abort();
        }
        REQUIRE(cspace_grant(&cs, channel_of(&g[i]), g[i].rights) == 0);
        for (int j = 0; j <= i; j++) {
            if (g[j].kind == GRANT_LINK || g[j].kind == GRANT_HEAP || g[j].kind == GRANT_FILES ||
                g[j].kind == GRANT_AREA) /* no channel */
                continue;
            unsigned held = cspace_rights(&cs, channel_of(&g[j]));
            REQUIRE((held & g[j].rights) == g[j].rights && (held & ~CAP_RW) == 0);
        }
        REQUIRE(cspace_used(&cs) <= (unsigned)i + 1);
    }

    /* The same text with a smaller max, into an exact-size heap array. */
    unsigned max = size ? data[0] % GRANTS_MAX : 0;
    struct grant *small = malloc((max ? max : 1) * sizeof *small);
    if (small) {
        int m = grants_parse(s, small, max);
        if (n >= 0 && (unsigned)n <= max)
            REQUIRE(m == n && (n == 0 || memcmp(small, g, (size_t)n * sizeof *g) == 0));
        else
            REQUIRE(m == -EINVAL);
        free(small);
    }
    free(s);
    return 0;
}
