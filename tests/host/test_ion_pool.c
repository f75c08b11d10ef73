/*
 * Host unit tests for ion/ion_pool.c: the trusted ownership table of a packet pool. Transfers
 * succeed only from the real holder, refusals are counted and change nothing, and reclaim gives a
 * dead service's buffers back.
 */
#include "ion_pool.h"
#include "check.h"

#include <string.h>

enum { KERNEL = 0, DEVICE = 1, MEMBRANE = 2, UTCP = 3 };

#define NBUFS 64

static uint8_t storage[NBUFS + 1]; /* one guard byte past the table */

static void test_init(void) {
    struct ion_pool p;
    storage[NBUFS] = 0x5a;
    CHECK("init_ok", ion_pool_init(&p, NBUFS, storage, KERNEL) == 0);
    CHECK("init_all_initial_owner", ion_pool_count(&p, KERNEL) == NBUFS && p.nbufs == NBUFS);
    CHECK("init_counters_zero", p.refused == 0);
    CHECK("init_guard_untouched", storage[NBUFS] == 0x5a);
    CHECK("init_other_owner", ion_pool_init(&p, NBUFS, storage, DEVICE) == 0 &&
                                  ion_pool_count(&p, DEVICE) == NBUFS && ion_pool_count(&p, KERNEL) == 0);
    CHECK("init_rejects_reserved_owner", ion_pool_init(&p, NBUFS, storage, ION_POOL_NO_OWNER) == -1 &&
                                             p.nbufs == 0);
    CHECK("init_rejects_null_storage", ion_pool_init(&p, NBUFS, NULL, KERNEL) == -1);
    CHECK("init_empty_pool", ion_pool_init(&p, 0, NULL, KERNEL) == 0 && ion_pool_count(&p, KERNEL) == 0 &&
                                 ion_pool_owner(&p, 0) == ION_POOL_NO_OWNER);
}

static void test_transfer(void) {
    struct ion_pool p;
    ion_pool_init(&p, NBUFS, storage, KERNEL);

    CHECK("transfer_kernel_to_device", ion_pool_transfer(&p, 5, KERNEL, DEVICE) == 0 &&
                                           ion_pool_owner(&p, 5) == DEVICE);
    CHECK("transfer_device_to_membrane", ion_pool_transfer(&p, 5, DEVICE, MEMBRANE) == 0 &&
                                             ion_pool_owner(&p, 5) == MEMBRANE);
    CHECK("transfer_back_to_kernel", ion_pool_transfer(&p, 5, MEMBRANE, KERNEL) == 0 &&
                                         ion_pool_owner(&p, 5) == KERNEL);
    CHECK("transfers_not_refused", p.refused == 0);
    CHECK("transfer_first_and_last", ion_pool_transfer(&p, 0, KERNEL, UTCP) == 0 &&
                                         ion_pool_transfer(&p, NBUFS - 1, KERNEL, UTCP) == 0 &&
                                         ion_pool_count(&p, UTCP) == 2);
    CHECK("transfer_to_self_allowed", ion_pool_transfer(&p, 0, UTCP, UTCP) == 0 &&
                                          ion_pool_owner(&p, 0) == UTCP);
}

static void test_refusals(void) {
    struct ion_pool p;
    ion_pool_init(&p, NBUFS, storage, KERNEL);
    ion_pool_transfer(&p, 7, KERNEL, MEMBRANE);

    CHECK("wrong_holder_refused", ion_pool_transfer(&p, 7, UTCP, KERNEL) == -1);
    CHECK("wrong_holder_counted", p.refused == 1);
    CHECK("wrong_holder_no_change", ion_pool_owner(&p, 7) == MEMBRANE);
    CHECK("double_return_refused", ion_pool_transfer(&p, 7, MEMBRANE, KERNEL) == 0 &&
                                       ion_pool_transfer(&p, 7, MEMBRANE, KERNEL) == -1 &&
                                       p.refused == 2 && ion_pool_owner(&p, 7) == KERNEL);
    CHECK("out_of_range_refused", ion_pool_transfer(&p, NBUFS, KERNEL, DEVICE) == -1 && p.refused == 3);
    CHECK("huge_handle_refused", ion_pool_transfer(&p, 0xffffffffu, KERNEL, DEVICE) == -1 && p.refused == 4);
    CHECK("reserved_new_owner_refused", ion_pool_transfer(&p, 1, KERNEL, ION_POOL_NO_OWNER) == -1 &&
                                            p.refused == 5 && ion_pool_owner(&p, 1) == KERNEL);
    CHECK("refusals_move_nothing", ion_pool_count(&p, KERNEL) == NBUFS && ion_pool_count(&p, DEVICE) == 0);
    CHECK("owner_out_of_range_0xff", ion_pool_owner(&p, NBUFS) == 0xff &&
                                         ion_pool_owner(&p, 0xffffffffu) == 0xff);
}

/* The RX path's variant: the caller bounded the handle, so only the holder is checked. */
static void test_transfer_bounded(void) {
    struct ion_pool p;
    ion_pool_init(&p, NBUFS, storage, DEVICE);
    CHECK("bounded_from_holder", ion_pool_transfer_bounded(&p, 9, DEVICE, MEMBRANE) == 0 &&
                                     ion_pool_owner(&p, 9) == MEMBRANE && p.refused == 0);
    CHECK("bounded_wrong_holder_refused", ion_pool_transfer_bounded(&p, 9, DEVICE, UTCP) == -1 &&
                                              ion_pool_owner(&p, 9) == MEMBRANE && p.refused == 1);
    CHECK("bounded_last_handle", ion_pool_transfer_bounded(&p, NBUFS - 1, DEVICE, KERNEL) == 0 &&
                                     ion_pool_owner(&p, NBUFS - 1) == KERNEL);
}

static void test_count_reclaim(void) {
    struct ion_pool p;
    ion_pool_init(&p, NBUFS, storage, KERNEL);
    for (uint32_t h = 0; h < NBUFS; h++) {
        uint8_t to = h % 4 == 0 ? DEVICE : h % 4 == 1 ? MEMBRANE : h % 4 == 2 ? UTCP : KERNEL;
        if (to != KERNEL)
            ion_pool_transfer(&p, h, KERNEL, to);
    }
    CHECK("count_per_owner", ion_pool_count(&p, DEVICE) == 16 && ion_pool_count(&p, MEMBRANE) == 16 &&
                                 ion_pool_count(&p, UTCP) == 16 && ion_pool_count(&p, KERNEL) == 16);
    CHECK("count_unknown_owner_0", ion_pool_count(&p, 9) == 0);
    uint32_t sum = 0;
    for (unsigned o = 0; o < 256; o++)
        sum += ion_pool_count(&p, (uint8_t)o);
    CHECK("counts_sum_to_nbufs", sum == NBUFS);

    /* The Membrane dies: everything it held comes back to the kernel. */
    CHECK("reclaim_returns_count", ion_pool_reclaim(&p, MEMBRANE, KERNEL) == 16);
    CHECK("reclaim_moved_all", ion_pool_count(&p, MEMBRANE) == 0 && ion_pool_count(&p, KERNEL) == 32);
    CHECK("reclaim_left_others", ion_pool_count(&p, DEVICE) == 16 && ion_pool_count(&p, UTCP) == 16 &&
                                     ion_pool_owner(&p, 1) == KERNEL && ion_pool_owner(&p, 0) == DEVICE);
    CHECK("reclaim_again_0", ion_pool_reclaim(&p, MEMBRANE, KERNEL) == 0);
    CHECK("reclaim_same_owner_0", ion_pool_reclaim(&p, UTCP, UTCP) == 0 && ion_pool_count(&p, UTCP) == 16);
    CHECK("reclaim_to_reserved_0", ion_pool_reclaim(&p, UTCP, ION_POOL_NO_OWNER) == 0 &&
                                       ion_pool_count(&p, UTCP) == 16);
    CHECK("stale_return_after_reclaim_refused", ion_pool_transfer(&p, 1, MEMBRANE, KERNEL) == -1);
    CHECK("reclaim_to_device", ion_pool_reclaim(&p, UTCP, DEVICE) == 16 && ion_pool_count(&p, DEVICE) == 32);
}

int main(void) {
    check_suite = "ion_pool";
    test_init();
    test_transfer();
    test_refusals();
    test_transfer_bounded();
    test_count_reclaim();
    return check_exit();
}
