#include "bootargs.h"

#include <stddef.h>
#include <string.h>

/* ARG_SERVICE: a word for a service, which reads it from /Bus/boot/bootargs; the kernel only
 * checks it is text and does not look inside. */
enum arg_kind { ARG_FLAG, ARG_UINT, ARG_TEXT, ARG_SERVICE };

static const struct {
    const char *key;
    enum arg_kind kind;
    size_t offset;
    uint32_t min, max;
} options[] = {
    {"selftest", ARG_FLAG, offsetof(struct bootargs, selftest), 0, 0},
    {"nettest", ARG_FLAG, offsetof(struct bootargs, nettest), 0, 0},
    {"watchdog", ARG_UINT, offsetof(struct bootargs, watchdog_ms), BOOTARGS_WATCHDOG_MS_MIN,
     BOOTARGS_WATCHDOG_MS_MAX},
    {"app", ARG_TEXT, offsetof(struct bootargs, app), 1, BOOTARGS_TEXT_MAX - 1},
    {"manifest", ARG_TEXT, offsetof(struct bootargs, manifest), 1, BOOTARGS_NAME_MAX - 1},
    {"ipv4", ARG_SERVICE, 0, 1, BOOTARGS_TEXT_MAX - 1}, /* the Membrane's static address */
};

/* Between min and max bytes, none of them a control character. */
static int parse_text(const char *s, size_t len, uint32_t min, uint32_t max, char *out) {
    if (len < min || len > max)
        return -1;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
            return -1;
    memcpy(out, s, len);
    out[len] = '\0';
    return 0;
}

/* Decimal in [min, max], all of [s, s+len); returns 0 on success. */
static int parse_uint(const char *s, size_t len, uint32_t min, uint32_t max, uint32_t *out) {
    uint64_t v = 0;
    if (len == 0 || len > 10)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v < min || v > max)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static int apply_word(const char *w, size_t len, struct bootargs *out) {
    const char *eq = memchr(w, '=', len);
    size_t keylen = eq ? (size_t)(eq - w) : len;
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++) {
        if (strlen(options[i].key) != keylen || memcmp(options[i].key, w, keylen) != 0)
            continue;
        char *field = (char *)out + options[i].offset;
        if (options[i].kind == ARG_FLAG) {
            if (eq)
                return -1;
            *(int *)field = 1;
            return 0;
        }
        if (!eq)
            return -1;
        if (options[i].kind == ARG_SERVICE) {
            char ignored[BOOTARGS_TEXT_MAX];
            return parse_text(eq + 1, len - keylen - 1, options[i].min, options[i].max, ignored);
        }
        if (options[i].kind == ARG_TEXT)
            return parse_text(eq + 1, len - keylen - 1, options[i].min, options[i].max, field);
        return parse_uint(eq + 1, len - keylen - 1, options[i].min, options[i].max, (uint32_t *)field);
    }
    return -1;
}

void bootargs_parse(const char *cmdline, struct bootargs *out) {
    memset(out, 0, sizeof *out);
    const char *p = cmdline;
    while (*p) {
        if (*p == ' ' || *p == '\t') {
            p++;
            continue;
        }
        size_t len = strcspn(p, " \t");
        if (apply_word(p, len, out) != 0) {
            if (out->errors++ == 0) {
                size_t n = len < sizeof out->first_error - 1 ? len : sizeof out->first_error - 1;
                memcpy(out->first_error, p, n);
                out->first_error[n] = '\0';
            }
        }
        p += len;
    }
}
