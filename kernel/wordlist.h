/* The manifest's lists (promises, grants): words separated by spaces or commas. Portable C. */
#ifndef NEXUS_WORDLIST_H
#define NEXUS_WORDLIST_H

#include <stddef.h>
#include <string.h>

#define WORDLIST_SEPARATORS " ,"

/* The next word of the NUL-terminated text, whose length is end: moves *at past separators to
 * the word's start and returns the word's length, 0 when none is left. */
static inline size_t wordlist_next(const char *text, size_t end, size_t *at) {
    *at += strspn(text + *at, WORDLIST_SEPARATORS);
    return *at < end ? strcspn(text + *at, WORDLIST_SEPARATORS) : 0;
}

#endif
