/*
 * A small operator console on the UART, driven by its receive interrupt through the PLIC:
 * bytes are echoed and collected into a line; Enter runs the command. Useful under `make run`
 * to look at /Bus without a network, and the self-tests use it to prove device interrupts
 * arrive.
 */
#include "monitor.h"

#include <errno.h>
#include <string.h>

#include "bus.h"
#include "console_input.h"
#include "fiber.h"
#include "filestore.h"
#include "kernel.h"
#include "mem.h"
#include "plic.h"
#include "supervisor.h"
#include "uart.h"

#define LINE_MAX 96

static char line[LINE_MAX];
static size_t line_len;
static uint32_t rx_irq;

static void cmd_help(const char *arg);

void monitor_print_bus(const char *prefix) {
    static char listing[16384];
    int n = bus_list(prefix, listing, sizeof listing);
    if (n < 0)
        kprintf("bus: bad path \"%s\"\n", prefix);
    else
        kprintf("%s%s", listing, n >= (int)sizeof listing ? "... (truncated)\n" : "");
}

static void cmd_bus(const char *arg) { monitor_print_bus(*arg ? arg : "/Bus"); }

static void cmd_fibers(const char *arg) {
    (void)arg;
    fiber_dump();
}

static void cmd_mem(const char *arg) {
    (void)arg;
    kprintf("%zu of %zu pages free\n", mem_free_pages(), mem_total_pages());
}

/* What the operator is told when the supervisor refuses, by error; %s is the service. */
static const struct {
    int err;
    const char *verb; /* NULL: any */
    const char *say;
} refusals[] = {
    {-EALREADY, "start", "%s is already running"},
    {-EALREADY, "restart", "%s is already running"},
    {-EALREADY, "stop", "%s is not running"},
    {-EALREADY, "run", "%s is already running"},
    {-EBUSY, NULL, "%s is still stopping; try again in a moment"},
    {-E2BIG, "run", "the arguments for %s are too long"},
};

/* start, stop, restart and run: the supervisor's operator commands (supervisor.h). run's
 * arguments follow the name. */
static void service_command(const char *verb, const char *arg) {
    char name[32];
    size_t n = strcspn(arg, " ");
    snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), arg);
    const char *args = arg + n + strspn(arg + n, " ");
    int err = !*name ? -ENOENT : !strcmp(verb, "run") ? supervisor_run(name, args) : supervisor_command(verb, name);
    if (err == 0) {
        kprintf("%s: %s; its state is /Bus/fibers/%s/state\n", verb, name, name);
        return;
    }
    if (err == -ENOENT) {
        char names[128];
        supervisor_names(names, sizeof names);
        kprintf("%s: no service called \"%s\"; the services are: %s\n", verb, name, names);
        return;
    }
    for (unsigned i = 0; i < ARRAY_LEN(refusals); i++) {
        if (refusals[i].err == err && (!refusals[i].verb || !strcmp(refusals[i].verb, verb))) {
            kprintf("%s: ", verb);
            kprintf(refusals[i].say, name);
            kprintf("\n");
            return;
        }
    }
    kprintf("%s: %s failed with error %d\n", verb, name, -err);
}

static void cmd_start(const char *arg) { service_command("start", arg); }
static void cmd_stop(const char *arg) { service_command("stop", arg); }
static void cmd_restart(const char *arg) { service_command("restart", arg); }
static void cmd_run(const char *arg) { service_command("run", arg); }

static void cmd_files(const char *arg) {
    (void)arg;
    filestore_list();
}

static void cmd_cat(const char *arg) {
    int err = filestore_print(arg);
    if (err == -ENOENT)
        kprintf("cat: no file %s; `files` lists them\n", arg);
    else if (err)
        kprintf("cat: say APP/NAME, e.g. cat curl/index.html\n");
}

/* The console becomes NAME's standard input (console_input.h) until Ctrl-D or NAME ends. */
static void cmd_attach(const char *arg) {
    struct fiber *f = *arg ? fiber_by_name(arg) : NULL;
    if (!f || f->is_kernel) {
        kprintf("attach: no program called \"%s\" is running; `fibers` lists them\n", arg);
        return;
    }
    if (console_input_attach(f) != 0) {
        kprintf("attach: %s holds the console\n", console_input_owner());
        return;
    }
    kprintf("attach: what you type now is %s's input; Ctrl-D ends it\n", f->name);
}

static const struct {
    const char *name;
    void (*run)(const char *arg);
    const char *args;
    const char *help;
} commands[] = {
    {"help", cmd_help, "", "this list"},
    {"bus", cmd_bus, "[path]", "list /Bus keys and values under path (default /Bus)"},
    {"fibers", cmd_fibers, "", "live fibers and their states"},
    {"mem", cmd_mem, "", "free pages"},
    {"start", cmd_start, "NAME", "start a stopped or down service as its manifest entry says"},
    {"stop", cmd_stop, "NAME", "stop a service; it stays stopped until start"},
    {"restart", cmd_restart, "NAME", "stop a service and start it again at once"},
    {"run", cmd_run, "NAME ARGS", "start a program of the manifest with these arguments"},
    {"files", cmd_files, "", "the files apps wrote into their writable areas"},
    {"cat", cmd_cat, "APP/NAME", "print a file an app wrote"},
    {"attach", cmd_attach, "NAME", "type a running program's standard input; Ctrl-D ends it"},
};

static void cmd_help(const char *arg) {
    (void)arg;
    for (unsigned i = 0; i < ARRAY_LEN(commands); i++)
        kprintf("  %-7s %-9s  %s\n", commands[i].name, commands[i].args, commands[i].help);
    kprintf("  (QEMU's own keys: Ctrl-A X quits, Ctrl-A H lists the rest)\n");
}

static void run_line(void) {
    line[line_len] = '\0';
    char *arg = strchr(line, ' ');
    if (arg)
        *arg++ = '\0';
    else
        arg = line + line_len;
    while (*arg == ' ')
        arg++;
    if (!line[0])
        return;
    for (unsigned i = 0; i < ARRAY_LEN(commands); i++) {
        if (strcmp(commands[i].name, line) == 0) {
            commands[i].run(arg);
            return;
        }
    }
    kprintf("unknown command \"%s\"; type help for the list\n", line);
}

static void uart_rx(void) {
    for (int c; (c = uart_getc()) >= 0;) {
        if (console_input_key(c))
            continue; /* a program holds the console */
        if (c == '\r' || c == '\n') {
            kprintf("\n");
            run_line();
            line_len = 0;
        } else if ((c == 0x7f || c == '\b') && line_len) {
            line_len--;
            kprintf("\b \b");
        } else if (c >= 0x20 && c < 0x7f && line_len < LINE_MAX - 1) {
            line[line_len++] = (char)c;
            kprintf("%c", c);
        }
    }
    bus_setf(0, "/Bus/dev/uart/rx_interrupts", "%lu", plic_count(rx_irq));
}

void monitor_init(uint32_t irq) {
    rx_irq = irq;
    if (plic_enable(irq, "uart", uart_rx) == 0)
        uart_enable_rx_irq();
}
