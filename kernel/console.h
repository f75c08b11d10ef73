#ifndef NEXUS_CONSOLE_H
#define NEXUS_CONSOLE_H

struct fiber;

/* Writes len bytes fiber f asked to print: on lines of f's own, each starting with "[name] ",
 * with control bytes and escape sequences dropped (console.c says why). */
void console_write_user(struct fiber *f, const char *buf, unsigned long len);

#endif
