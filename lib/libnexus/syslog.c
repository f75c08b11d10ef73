/*
 * syslog(3) to the console: one line per message, "ident: priority: text". glibc's %m (the text
 * of errno) is expanded first, since daemons use it in place of strerror. setlogmask filters as
 * it does elsewhere, so a program's own verbosity settings still work.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#define LINE_MAX_BYTES 512

static const char *log_ident;
static int log_mask = LOG_UPTO(LOG_DEBUG);

static const char *const priority_names[] = {
    [LOG_EMERG] = "emerg", [LOG_ALERT] = "alert",   [LOG_CRIT] = "crit", [LOG_ERR] = "err",
    [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice", [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

void openlog(const char *ident, int option, int facility) {
    (void)option, (void)facility;
    log_ident = ident;
}

void closelog(void) { log_ident = NULL; }

int setlogmask(int mask) {
    int old = log_mask;
    if (mask)
        log_mask = mask;
    return old;
}

/* format with every %m replaced by errno's text (and %% kept, so "%%m" stays literal). */
static void expand_errno(const char *format, int saved_errno, char *out, size_t size) {
    const char *text = strerror(saved_errno);
    size_t n = 0;
    for (const char *p = format; *p && n + 1 < size; p++) {
        if (p[0] == '%' && p[1] == 'm') {
            for (const char *t = text; *t && n + 1 < size; t++)
                out[n++] = *t == '%' ? '?' : *t;
            p++;
        } else if (p[0] == '%' && p[1] == '%' && n + 2 < size) {
            out[n++] = *p++;
            out[n++] = *p;
        } else {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
}

void vsyslog(int priority, const char *format, va_list ap) {
    int saved_errno = errno;
    if (!(log_mask & LOG_MASK(LOG_PRI(priority))))
        return;
    char expanded[LINE_MAX_BYTES], line[LINE_MAX_BYTES];
    expand_errno(format, saved_errno, expanded, sizeof expanded);
    vsnprintf(line, sizeof line, expanded, ap);
    size_t len = strlen(line);
    while (len && line[len - 1] == '\n')
        line[--len] = '\0';
    if (log_ident)
        fprintf(stderr, "%s: %s: %s\n", log_ident, priority_names[LOG_PRI(priority)], line);
    else
        fprintf(stderr, "%s: %s\n", priority_names[LOG_PRI(priority)], line);
    fflush(stderr);
    errno = saved_errno;
}

void syslog(int priority, const char *format, ...) {
    va_list ap;
    va_start(ap, format);
    vsyslog(priority, format, ap);
    va_end(ap);
}
