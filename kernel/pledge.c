#include "pledge.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "wordlist.h"

static const struct {
    const char *name;
    uint32_t bit;
} promises[] = {
    {"stdio", PROMISE_STDIO}, {"rbus", PROMISE_RBUS}, {"wbus", PROMISE_WBUS},
    {"net", PROMISE_NET},     {"inet", PROMISE_INET}, {"lwf", PROMISE_LWF},
    {"utcp", PROMISE_UTCP},   {"keyblob", PROMISE_KEYBLOB},
    {"sign", PROMISE_SIGN},   {"unix", PROMISE_UNIX},
};
#define NPROMISES (sizeof promises / sizeof promises[0])

int pledge_parse(const char *text, uint32_t *out) {
    size_t total = strnlen(text, PLEDGE_TEXT_MAX);
    if (total >= PLEDGE_TEXT_MAX)
        return -EINVAL;
    uint32_t mask = 0;
    size_t len;
    for (size_t at = 0; (len = wordlist_next(text, total, &at)) != 0; at += len) {
        size_t i = 0;
        while (i < NPROMISES && !(strlen(promises[i].name) == len && !memcmp(promises[i].name, text + at, len)))
            i++;
        if (i == NPROMISES)
            return -EINVAL;
        mask |= promises[i].bit;
    }
    *out = mask;
    return 0;
}

const char *promise_name(uint32_t bit) {
    for (size_t i = 0; i < NPROMISES; i++)
        if (promises[i].bit == bit)
            return promises[i].name;
    return "?";
}

void pledge_format(uint32_t mask, char *buf, size_t len) {
    size_t used = 0;
    if (len)
        buf[0] = '\0';
    for (size_t i = 0; i < NPROMISES && used < len; i++) {
        if (!(mask & promises[i].bit))
            continue;
        int n = snprintf(buf + used, len - used, "%s%s", used ? " " : "", promises[i].name);
        if (n < 0)
            return;
        used += (size_t)n;
    }
}
