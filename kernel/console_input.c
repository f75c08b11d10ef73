/*
 * The console as a program's standard input (console_input.h): a line editor in front of one
 * byte queue for the program that holds the console. Typed bytes are echoed by the kernel, as a
 * terminal in canonical mode echoes them, and the program sees a line only once it is finished.
 */
#include "console_input.h"

#include <errno.h>
#include <string.h>

#include "fiber.h"
#include "kernel.h"
#include "nexus/syscall.h"

#define LINE_MAX 256
#define QUEUE_BYTES 1024 /* lines typed ahead of the program's reads; more are refused at Enter */
#define KEY_EOF 0x04     /* Ctrl-D */

static uint32_t owner_id; /* the fiber holding the console; 0: the console takes commands */
static char owner_name[FIBER_NAME_MAX];
static char line[LINE_MAX];
static size_t line_len;
/* What was sent and not yet read belongs to reader_id, even after it gave the console back. */
static uint32_t reader_id;
static char queue[QUEUE_BYTES];
static size_t queue_head, queue_len;
static int eof_pending; /* reader_id's next read past the queue returns the end of input */

static void wake_reader(void) { channel_signal(NEXUS_CONSOLE_CHANNEL); }

int console_input_attach(struct fiber *f) {
    if (owner_id && owner_id != f->id)
        return -EBUSY;
    owner_id = f->id;
    memcpy(owner_name, f->name, sizeof owner_name);
    line_len = 0;
    if (reader_id != f->id) { /* another program's unread input is not this one's */
        reader_id = f->id;
        queue_head = queue_len = 0;
        eof_pending = 0;
    }
    return 0;
}

const char *console_input_owner(void) { return owner_id ? owner_name : NULL; }

static void detach(void) {
    owner_id = 0;
    line_len = 0;
}

/* The typed line goes to the program; 0, or -ENOSPC if its reads are that far behind. */
static int send_line(void) {
    if (queue_len + line_len > QUEUE_BYTES)
        return -ENOSPC;
    for (size_t i = 0; i < line_len; i++)
        queue[(queue_head + queue_len + i) % QUEUE_BYTES] = line[i];
    queue_len += line_len;
    line_len = 0;
    wake_reader();
    return 0;
}

int console_input_key(int c) {
    if (!owner_id)
        return 0;
    if (c == KEY_EOF) {
        if (line_len) { /* as a terminal: Ctrl-D mid-line sends the line without a newline */
            if (send_line()) {
                line_len = 0;
                kprintf("\n(%s has not read what was typed before; this line is lost)\n", owner_name);
            }
            return 1;
        }
        kprintf("\n(end of input for %s; the console takes commands again)\n", owner_name);
        eof_pending = 1;
        detach();
        wake_reader();
        return 0;
    }
    if (c == '\r' || c == '\n') {
        kprintf("\n");
        line[line_len++] = '\n';
        if (send_line()) {
            line_len = 0;
            kprintf("(%s has not read what was typed before; this line is lost)\n", owner_name);
        }
    } else if ((c == 0x7f || c == '\b') && line_len) {
        line_len--;
        kprintf("\b \b");
    } else if ((c == '\t' || (c >= 0x20 && c != 0x7f)) && line_len < LINE_MAX - 1) {
        line[line_len++] = (char)c; /* bytes from 0x80 up pass through, for UTF-8 */
        kprintf("%c", c);
    }
    return 1;
}

long console_input_peek(const struct fiber *f, char *buf, size_t len) {
    if (reader_id != f->id)
        return len ? -EAGAIN : 0;
    if (len == 0)
        return queue_len > 0 || eof_pending;
    if (queue_len == 0)
        return eof_pending ? 0 : -EAGAIN;
    size_t n = len < queue_len ? len : queue_len;
    for (size_t i = 0; i < n; i++)
        buf[i] = queue[(queue_head + i) % QUEUE_BYTES];
    return (long)n;
}

void console_input_take(const struct fiber *f, size_t n) {
    if (reader_id != f->id)
        return;
    if (n == 0) {
        eof_pending = 0; /* the end of input is read once, as a terminal's Ctrl-D */
        return;
    }
    n = n < queue_len ? n : queue_len;
    queue_head = (queue_head + n) % QUEUE_BYTES;
    queue_len -= n;
}

void console_input_fiber_gone(struct fiber *f) {
    if (reader_id == f->id) {
        reader_id = 0;
        queue_head = queue_len = 0;
        eof_pending = 0;
    }
    if (owner_id != f->id)
        return;
    detach();
    kprintf("(%s ended; the console takes commands again)\n", owner_name);
}
