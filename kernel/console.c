/*
 * The kernel's stdout for picolibc's printf, and the sink of the fibers' console-write syscall:
 * every byte goes to the UART, with "\n" turned into "\r\n" for terminals.
 *
 * Operators and the test harnesses trust what the console says, so a fiber must not be able to
 * pass its text off as the kernel's or another fiber's. Three rules make that hold:
 *  - every line a user fiber writes begins with "[name] ", put there by the kernel (no kernel
 *    line starts with '[');
 *  - control bytes other than newline and tab, and whole escape sequences, are dropped from user
 *    text, so it cannot move the cursor, erase the prefix or restyle the screen;
 *  - a line belongs to one writer: the kernel, or another fiber, starts a fresh line rather than
 *    finish a line a fiber left open, and a fiber never continues a line it did not start.
 */
#include <stdint.h>
#include <stdio.h>

#include "console.h"
#include "fiber.h"
#include "uart.h"

/* Who wrote the text on the current line since its start. */
enum line_owner { LINE_EMPTY, LINE_KERNEL, LINE_USER };
static enum line_owner line_owner = LINE_EMPTY;
static uint32_t line_fiber_id; /* for LINE_USER */

/* Where a fiber is in an escape sequence it began (struct fiber's console_escape). */
enum escape_state {
    ESCAPE_NONE,
    ESCAPE_AFTER_ESC, /* ESC seen: the next byte names the sequence */
    ESCAPE_CSI,       /* ESC [ ...: ends at a byte in 0x40..0x7e */
    ESCAPE_STRING,    /* ESC ] / P / X / ^ / _ ...: ends at BEL or at ESC (of ESC \) */
};

static void put_byte(char c) {
    if (c == '\n') {
        uart_putc('\r');
        line_owner = LINE_EMPTY;
    }
    uart_putc(c);
}

static void end_open_line(void) {
    if (line_owner != LINE_EMPTY)
        put_byte('\n');
}

static int console_putc(char c, FILE *file) {
    (void)file;
    if (line_owner == LINE_USER)
        end_open_line();
    put_byte(c);
    if (c != '\n')
        line_owner = LINE_KERNEL;
    return (unsigned char)c;
}

static FILE console_stream = FDEV_SETUP_STREAM(console_putc, NULL, NULL, _FDEV_SETUP_WRITE);
FILE *const stdout = &console_stream;
FILE *const stderr = &console_stream;
FILE *const stdin = NULL;

/* Consumes c if it belongs to an escape sequence (or starts one); 1 if consumed. A newline
 * always ends the sequence and is kept, so a fiber cannot swallow its own line ends. */
static int consume_escape(unsigned char *state, unsigned char c) {
    if (c == '\n') {
        *state = ESCAPE_NONE;
        return 0;
    }
    switch (*state) {
    case ESCAPE_AFTER_ESC:
        *state = c == '[' ? ESCAPE_CSI
               : (c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_') ? ESCAPE_STRING
               : ESCAPE_NONE;
        return 1;
    case ESCAPE_CSI:
        if (c >= 0x40 && c <= 0x7e)
            *state = ESCAPE_NONE;
        return 1;
    case ESCAPE_STRING:
        if (c == 0x07)
            *state = ESCAPE_NONE;
        else if (c == 0x1b)
            *state = ESCAPE_AFTER_ESC;
        return 1;
    default:
        if (c == 0x1b) {
            *state = ESCAPE_AFTER_ESC;
            return 1;
        }
        return 0;
    }
}

static int is_dropped_control(unsigned char c) {
    return (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f;
}

void console_write_user(struct fiber *f, const char *buf, unsigned long len) {
    for (unsigned long i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (consume_escape(&f->console_escape, c) || is_dropped_control(c))
            continue;
        if (line_owner != LINE_USER || line_fiber_id != f->id) {
            end_open_line();
            if (c == '\n')
                continue; /* an empty line of its own would carry no name */
            uart_putc('[');
            for (const char *p = f->name; *p; p++)
                uart_putc(*p);
            uart_putc(']');
            uart_putc(' ');
            line_owner = LINE_USER;
            line_fiber_id = f->id;
        }
        put_byte((char)c);
    }
}
