/*
 * The console as a program's standard input (docs/console.md). The operator gives the console to
 * one running program at a time (`attach NAME`); the lines typed from then on are that program's
 * stdin, read through SYS_CONSOLE_READ, until Ctrl-D ends its input or the program ends. A
 * program the console is not given to that reads its stdin waits, as a background job on a Unix
 * terminal does, and is never handed another program's input.
 */
#ifndef NEXUS_CONSOLE_INPUT_H
#define NEXUS_CONSOLE_INPUT_H

#include <stddef.h>
#include <stdint.h>

struct fiber;

/* Gives the console's input to f (a user fiber): 0, or -EBUSY if another program has it. */
int console_input_attach(struct fiber *f);
/* The attached program's name, or NULL when the console takes commands. */
const char *console_input_owner(void);
/* A byte typed while a program holds the console. Lines are edited here (Backspace) and reach
 * the program whole at Enter; Ctrl-D sends what is typed of the line or, on an empty line, the
 * end of input, and gives the console back. Returns 1 while the program still holds it. */
int console_input_key(int c);
/* SYS_CONSOLE_READ for f, in two steps so that nothing is lost to a bad user buffer: peek
 * copies up to len bytes into buf (kernel memory) and returns their number, 0 at the end of
 * input, -EAGAIN when nothing is there (len 0 asks without copying: 1 if a read would not wait,
 * else 0); take then consumes n of them, or the end of input for n == 0 (read once, as a
 * terminal's Ctrl-D). */
long console_input_peek(const struct fiber *f, char *buf, size_t len);
void console_input_take(const struct fiber *f, size_t n);
/* f has ended: if it held the console, the console takes commands again. */
void console_input_fiber_gone(struct fiber *f);

#endif
