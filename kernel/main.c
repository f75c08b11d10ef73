/*
 * Boot: find the machine in the device tree, bring up console, traps, memory, paging, timer
 * and PLIC, publish the boot facts under /Bus, start the fibers of the boot manifest (or the
 * self-tests) and enter the scheduler.
 */
#include <picolibc.h>
#include <picotls.h>
#include <string.h>

#include "bootargs.h"
#include "bus.h"
#include "cspace.h"
#include "fdt.h"
#include "fiber.h"
#include "kernel.h"
#include "keyblob.h"
#include "link.h"
#include "manifest.h"
#include "mem.h"
#include "monitor.h"
#include "plic.h"
#include "rtc.h"
#include "riscv.h"
#ifdef NEXUS_TEST_BUILD
#include "selftest.h"
#endif
#include "supervisor.h"
#include "timer.h"
#include "trap.h"
#include "uart.h"
#include "vm.h"
#include "netswitch.h"
#include "virtio_mmio.h"
#include "virtio_rng.h"

#define NEXUS_VERSION "0.1"
#define QEMU_VIRT_UART 0x10000000ul /* where to complain if the device tree is unusable */

static struct boot_info boot;
static uint32_t virtio_device_ids[FDT_MAX_VIRTIO]; /* what probe_virtio found in each slot */
static struct bootargs args;
static _Alignas(16) uint8_t kernel_tls[256];
extern char __kernel_start[], __kernel_end[], __tls_size[];

/* /Bus/boot/time_us/<stage>: the guest clock (microseconds since the machine's reset, OpenSBI's
 * time included) as boot passes each stage, so `make bench` can say where boot time goes. */
static void boot_mark(const char *stage) {
    char key[BUS_PATH_MAX];
    snprintf(key, sizeof key, "/Bus/boot/time_us/%s", stage);
    bus_setf(0, key, "%lu", timer_ns_from_ticks(rdtime()) / 1000);
}

static void publish_boot_facts(uint64_t hart) {
    bus_setf(0, "/Bus/boot/hart", "%lu", hart);
    bus_set("/Bus/boot/bootargs", boot.bootargs, 0);
    bus_setf(0, "/Bus/boot/timebase_hz", "%lu", boot.timebase_hz);
    bus_setf(0, "/Bus/boot/kernel_bytes", "%lu", (uint64_t)(__kernel_end - __kernel_start));
    bus_setf(0, "/Bus/mem/base", "%#lx", boot.mem.base);
    bus_setf(0, "/Bus/mem/size", "%lu", boot.mem.size);
    bus_setf(0, "/Bus/dev/uart/base", "%#lx", boot.uart.base);
    bus_setf(0, "/Bus/dev/uart/irq", "%u", boot.uart_irq);
    bus_setf(0, "/Bus/dev/plic/base", "%#lx", boot.plic.base);
    bus_setf(0, "/Bus/dev/plic/sources", "%u", boot.plic_ndev);
    bus_setf(0, "/Bus/dev/plic/context", "%d", boot.plic_s_context);
}

/* Identifies every virtio-mmio slot, publishes it, and prints the occupied ones. */
static void probe_virtio(void) {
    int empty = 0;
    for (int i = 0; i < boot.nvirtio; i++) {
        struct virtio_mmio_id id;
        const struct fdt_virtio *v = &boot.virtio[i];
        virtio_mmio_identify(v->reg.base, &id);
        virtio_device_ids[i] = id.device_id;
        const char *name = virtio_device_name(id.device_id);
        char key[BUS_PATH_MAX];
        snprintf(key, sizeof key, "/Bus/dev/virtio/%#lx/device", v->reg.base);
        bus_set(key, name, 0);
        snprintf(key, sizeof key, "/Bus/dev/virtio/%#lx/version", v->reg.base);
        bus_setf(0, key, "%u", id.version);
        snprintf(key, sizeof key, "/Bus/dev/virtio/%#lx/irq", v->reg.base);
        bus_setf(0, key, "%u", v->irq);
        if (id.device_id == 0) {
            empty++;
            continue;
        }
        kprintf("  virtio-mmio %#lx irq %u: %s (device %u, transport v%u)\n", v->reg.base, v->irq,
                name, id.device_id, id.version);
    }
    kprintf("  virtio-mmio: %d slot(s), %d empty\n", boot.nvirtio, empty);
}

/* The first slot probe_virtio found holding `device_id`, or NULL. */
static const struct fdt_virtio *first_virtio(uint32_t device_id) {
    for (int i = 0; i < boot.nvirtio; i++)
        if (virtio_device_ids[i] == device_id)
            return &boot.virtio[i];
    return NULL;
}

/* virtio-rng is the entropy source later services draw on; prove it answers at boot. */
static void start_entropy(void) {
    const struct fdt_virtio *rng = first_virtio(VIRTIO_ID_ENTROPY);
    uint8_t sample[16];
    if (!rng)
        kprintf("  entropy: no virtio-rng device\n");
    else if (virtio_rng_init(rng->reg.base, rng->irq) == 0 && virtio_rng_read(sample, sizeof sample) == (int)sizeof sample)
        kprintf("  entropy: virtio-rng %#lx ready\n", rng->reg.base);
    else
        kprintf("  entropy: virtio-rng %#lx did not answer\n", rng->reg.base);
}

static void start_network(void) {
    const struct fdt_virtio *nic = first_virtio(VIRTIO_ID_NET);
    if (!nic || netswitch_init(nic->reg.base, nic->irq) != 0)
        kprintf("  net: no usable virtio-net device; networking is off\n");
}

/* bootargs "app=image,arg,arg": one more app with a link to the Membrane (with a send area, as
 * httpd's: its stream sends go the way httpd's do, posted ones too), the promises a socket app
 * needs (AF_UNIX's too), a 1 MiB heap and a 64 KiB writable file area; not restarted (tests
 * use it). */
static void start_extra_app(const struct manifest *m, const char *spec) {
    static char image[FIBER_NAME_MAX], argv[BOOTARGS_TEXT_MAX];
    static struct manifest_entry entry = {.grants = "link:membrane area:membrane heap:1024 files:64", .pledge = "stdio rbus inet unix", .restart = RESTART_NEVER};
    size_t n = strcspn(spec, ",");
    if (n == 0 || n >= sizeof image) {
        kprintf("  app=%s: bad image name\n", spec);
        return;
    }
    memcpy(image, spec, n);
    snprintf(argv, sizeof argv, "%s", spec[n] ? spec + n + 1 : "");
    for (char *c = argv; *c; c++)
        if (*c == ',')
            *c = ' ';
    entry.name = entry.image = image;
    entry.args = argv;
    uint32_t promise = 0;
    int err = manifest_link_promise(m, "membrane", &promise);
    if (err == 0)
        err = link_create(image, "membrane", CAP_RW, promise, manifest_link_pages(m, "membrane", 1));
    int id = err < 0 ? err : supervisor_start(&entry);
    if (id < 0)
        kprintf("  %s: cannot start (error %d)\n", image, -id);
    else
        kprintf("  started %s#%d (bootargs app=)\n", image, id);
}

static void start_manifest(const char *name, const char *extra_app) {
    const struct manifest *m = manifest_find(name);
    kprintf("fibers (manifest %s):\n", m ? m->name : name);
    if (!m) {
        kprintf("  no manifest called \"%s\" in this build; nothing started\n", name);
        return;
    }
    if (extra_app[0])
        start_extra_app(m, extra_app);
    supervisor_start_manifest(m);
}

/* The test runners exist in the test kernel only (build/nexus-test.elf). */
static void start_fibers(void) {
#ifdef NEXUS_TEST_BUILD
    if (args.selftest) {
        selftest_start(&boot);
        return;
    }
    if (args.nettest) {
        nettest_start();
        return;
    }
#else
    if (args.selftest || args.nettest)
        kprintf("selftest, nettest: only the test kernel (build/nexus-test.elf) has them; starting the manifest\n");
#endif
    start_manifest(args.manifest, args.app);
}

void kmain(uint64_t hart, const void *fdt) {
    /* Read first: the stamp is the end of OpenSBI's time, so the device tree's reading below
     * counts as kernel init (it once came after it and hid ~4 M instructions in OpenSBI's row). */
    uint64_t entered = rdtime();
    if ((size_t)__tls_size > sizeof kernel_tls)
        for (;;) /* nothing can print yet; the build checks this too */
            ;
    _init_tls(kernel_tls);
    _set_tls(kernel_tls);

    uint32_t fdt_size = boot_fdt_total_size(fdt);
    int fdt_err = boot_fdt_parse(fdt, fdt_size, (uint32_t)hart, &boot);
    uart_init(fdt_err == BOOT_FDT_OK && boot.has_uart ? boot.uart.base : QEMU_VIRT_UART);
    if (fdt_err != BOOT_FDT_OK)
        panic("device tree at %p unusable: %s", fdt, boot_fdt_strerror(fdt_err));
    if (boot.has_test_dev)
        machine_exit_init(boot.test_dev.base);

    bus_init();
    trap_init();
    mem_init(&boot);
    keyblob_init(&boot); /* before anything allocates a page the initrd is in */
    vm_init(&boot);
    timer_init(boot.timebase_hz);
    if (boot.has_plic)
        plic_init(boot.plic.base, boot.plic_s_context, boot.plic_ndev);
    fiber_init();
    bus_setf(0, "/Bus/boot/time_us/kernel_entry", "%lu", timer_ns_from_ticks(entered) / 1000);
    bootargs_parse(boot.bootargs, &args);
    if (args.watchdog_ms)
        watchdog_ns = (uint64_t)args.watchdog_ms * 1000000;

    kprintf("\nNexus %s - RISC-V 64 microkernel, hart %lu\n", NEXUS_VERSION, hart);
    kprintf("memory: %lu MiB at %#lx; kernel %#lx-%#lx (%lu KiB); %zu pages free\n",
            boot.mem.size >> 20, boot.mem.base, (uint64_t)__kernel_start, (uint64_t)__kernel_end,
            (uint64_t)(__kernel_end - __kernel_start) >> 10, mem_free_pages());
    kprintf("timebase %lu Hz; watchdog %lu ms; bootargs \"%s\"\n", boot.timebase_hz,
            watchdog_ns / 1000000, boot.bootargs);
    if (args.errors)
        kprintf("bootargs: %d word(s) not understood, first \"%s\"\n", args.errors, args.first_error);
    kprintf("devices:\n  uart ns16550a %#lx irq %u\n  plic %#lx, %u sources, S-context %d\n",
            boot.uart.base, boot.uart_irq, boot.plic.base, boot.plic_ndev, boot.plic_s_context);
    probe_virtio();
    rtc_init(boot.has_rtc ? boot.rtc.base : 0);
    start_entropy();
    start_network();
    keyblob_announce();
    publish_boot_facts(hart);
    monitor_init(boot.uart_irq);
    boot_mark("devices_ready");

    start_fibers();
    boot_mark("fibers_loaded");
    mem_publish();
    bus_publish_stats();
    /* Only the boot facts: every console byte is a trip out of the guest, and the whole tree
     * (~200 keys, ~8 KB) held the scheduler back ~5 ms of each boot. `bus` lists the rest. */
    kprintf("/Bus at end of boot: %d keys (the console's bus lists them), /Bus/boot:\n", bus_count());
    monitor_print_bus("/Bus/boot");
    kprintf("console: type 'help' for commands; quit QEMU with Ctrl-A X\n");
    boot_mark("scheduler");
    scheduler();
}
