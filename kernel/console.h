#ifndef NEXUS_CONSOLE_H
#define NEXUS_CONSOLE_H

/* Writes len raw bytes to the console (newline becomes CR LF). */
void console_write(const char *buf, unsigned long len);

#endif
