/*
 * The kernel's stdout for picolibc's printf: every byte goes to the UART, with "\n" turned into
 * "\r\n" for terminals. Fibers write through the console-write syscall, which lands here too.
 */
#include <stdio.h>

#include "console.h"
#include "uart.h"

static int console_putc(char c, FILE *file) {
    (void)file;
    if (c == '\n')
        uart_putc('\r');
    uart_putc(c);
    return (unsigned char)c;
}

static FILE console_stream = FDEV_SETUP_STREAM(console_putc, NULL, NULL, _FDEV_SETUP_WRITE);
FILE *const stdout = &console_stream;
FILE *const stderr = &console_stream;
FILE *const stdin = NULL;

void console_write(const char *buf, unsigned long len) {
    for (unsigned long i = 0; i < len; i++)
        console_putc(buf[i], NULL);
}
