/*
 * Host unit tests for kernel/bus.c: the /Bus path grammar, value rules, ownership, the sorted
 * listing format that tools parse, and the per-owner quota and kernel reserve that keep fibers
 * from filling the table.
 */
#include "bus.h"
#include "check.h"

#include <errno.h>
#include <string.h>

#define FIBER_A 7u
#define FIBER_B 8u

/* Returns the value of `path`, or "<errno N>" so a failed lookup shows up in comparisons. */
static const char *get(const char *path) {
    static char buf[BUS_VALUE_MAX];
    int n = bus_get(path, buf, sizeof buf);
    if (n < 0)
        snprintf(buf, sizeof buf, "<errno %d>", -n);
    return buf;
}

static void test_set_get(void) {
    bus_init();
    CHECK("set_returns_0", bus_set("/Bus/net/addr", "10.0.2.15", 0) == 0);
    CHECK("get_round_trip", strcmp(get("/Bus/net/addr"), "10.0.2.15") == 0);
    CHECK("get_returns_length", bus_get("/Bus/net/addr", NULL, 0) == 9);
    CHECK("set_root_key", bus_set("/Bus", "root", 0) == 0 && strcmp(get("/Bus"), "root") == 0);
    CHECK("empty_value_allowed", bus_set("/Bus/empty", "", 0) == 0 && strcmp(get("/Bus/empty"), "") == 0);
    CHECK("get_missing_enoent", bus_get("/Bus/nope", NULL, 0) == -ENOENT);
    CHECK("get_bad_path_einval", bus_get("/Bus/", NULL, 0) == -EINVAL);

    char small[4] = "zzz";
    CHECK("get_truncates_returns_full_len", bus_get("/Bus/net/addr", small, sizeof small) == 9);
    CHECK("get_truncated_nul_terminated", strcmp(small, "10.") == 0);

    CHECK("replace_ok", bus_set("/Bus/net/addr", "192.168.1.2", 0) == 0);
    CHECK("replace_visible", strcmp(get("/Bus/net/addr"), "192.168.1.2") == 0);
    CHECK("replace_keeps_count", bus_count() == 3);
    CHECK("init_clears", (bus_init(), bus_count() == 0 && bus_get("/Bus", NULL, 0) == -ENOENT));
}

static void test_listing(void) {
    bus_init();
    /* Inserted out of order, including '-', '.' and '0', which sort around '/'. */
    bus_set("/Bus/network", "x", 0);
    bus_set("/Bus/net/b", "2", 0);
    bus_set("/Bus/net", "top", 0);
    bus_set("/Bus/net-x", "dash", 0);
    bus_set("/Bus/net/a", "1", 0);
    bus_set("/Bus/cpu", "4", 0);

    char buf[256];
    const char *all = "/Bus/cpu=4\n/Bus/net=top\n/Bus/net-x=dash\n/Bus/net/a=1\n/Bus/net/b=2\n"
                      "/Bus/network=x\n";
    int n = bus_list("/Bus", buf, sizeof buf);
    CHECK("list_all_sorted", strcmp(buf, all) == 0);
    CHECK("list_all_length", n == (int)strlen(all));

    const char *net = "/Bus/net=top\n/Bus/net/a=1\n/Bus/net/b=2\n";
    n = bus_list("/Bus/net", buf, sizeof buf);
    CHECK("list_prefix_boundary", strcmp(buf, net) == 0 && n == (int)strlen(net));
    CHECK("list_leaf_only", bus_list("/Bus/net/a", buf, sizeof buf) == 13 && strcmp(buf, "/Bus/net/a=1\n") == 0);
    CHECK("list_no_match_empty", bus_list("/Bus/ne", buf, sizeof buf) == 0 && buf[0] == '\0');
    CHECK("list_bad_prefix", bus_list("/Bus/net/", buf, sizeof buf) == -EINVAL);
    CHECK("list_null_buf_len0", bus_list("/Bus", NULL, 0) == (int)strlen(all));

    char small[10];
    memset(small, 'Z', sizeof small);
    n = bus_list("/Bus", small, sizeof small);
    CHECK("list_truncated_full_length", n == (int)strlen(all));
    CHECK("list_truncated_terminated", small[9] == '\0' && strncmp(small, all, 9) == 0);
    char one[1] = {'Z'};
    CHECK("list_len1_only_nul", bus_list("/Bus", one, 1) == (int)strlen(all) && one[0] == '\0');
}

static void test_ownership(void) {
    bus_init();
    bus_set("/Bus/kernel/ticks", "1", BUS_OWNER_KERNEL);
    CHECK("fiber_creates_key", bus_set("/Bus/svc/a", "up", FIBER_A) == 0);
    CHECK("fiber_cannot_overwrite_kernel",
          bus_set("/Bus/kernel/ticks", "9", FIBER_A) == -EPERM && strcmp(get("/Bus/kernel/ticks"), "1") == 0);
    CHECK("fiber_cannot_overwrite_other",
          bus_set("/Bus/svc/a", "down", FIBER_B) == -EPERM && strcmp(get("/Bus/svc/a"), "up") == 0);
    CHECK("owner_can_overwrite", bus_set("/Bus/svc/a", "busy", FIBER_A) == 0);
    CHECK("kernel_can_overwrite", bus_set("/Bus/svc/a", "killed", BUS_OWNER_KERNEL) == 0 &&
                                      strcmp(get("/Bus/svc/a"), "killed") == 0);
    /* The kernel's write makes the value a kernel fact: the fiber can no longer change it. */
    CHECK("kernel_write_takes_ownership", bus_set("/Bus/svc/a", "up", FIBER_A) == -EPERM);
}

static void test_drop_owner(void) {
    bus_init();
    bus_set("/Bus/a", "k", BUS_OWNER_KERNEL);
    bus_set("/Bus/b", "a", FIBER_A);
    bus_set("/Bus/c", "b", FIBER_B);
    bus_set("/Bus/d", "a", FIBER_A);
    bus_set("/Bus/e", "b", FIBER_B);
    CHECK("drop_owner_count", bus_drop_owner(FIBER_A) == 2);
    char buf[128];
    bus_list("/Bus", buf, sizeof buf);
    CHECK("drop_owner_exact", strcmp(buf, "/Bus/a=k\n/Bus/c=b\n/Bus/e=b\n") == 0 && bus_count() == 3);
    CHECK("drop_owner_none_left", bus_drop_owner(FIBER_A) == 0);
    CHECK("drop_owner_lookup_after", strcmp(get("/Bus/e"), "b") == 0);
}

static void test_bad_paths(void) {
    char too_long[BUS_PATH_MAX + 1];
    memset(too_long, 'x', sizeof too_long);
    memcpy(too_long, "/Bus/", 5);
    too_long[BUS_PATH_MAX] = '\0'; /* BUS_PATH_MAX bytes: one too many */
    char longest[BUS_PATH_MAX];
    memcpy(longest, too_long, BUS_PATH_MAX - 1);
    longest[BUS_PATH_MAX - 1] = '\0';

    static const struct {
        const char *name, *path;
    } bad[] = {
        {"path_null", NULL},          {"path_empty", ""},
        {"path_missing_bus", "/net"}, {"path_relative", "Bus/net"},
        {"path_bus_prefix_word", "/Busy"}, {"path_lowercase_root", "/bus/net"},
        {"path_trailing_slash", "/Bus/net/"}, {"path_root_trailing_slash", "/Bus/"},
        {"path_double_slash", "/Bus//net"}, {"path_bad_char_space", "/Bus/ne t"},
        {"path_bad_char_eq", "/Bus/a=b"}, {"path_bad_char_high", "/Bus/caf\xc3\xa9"},
        {"path_dot", "/Bus/./net"},   {"path_dotdot", "/Bus/net/.."},
        {"path_dotdot_middle", "/Bus/a/../b"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(bad[i].name, !bus_path_valid(bad[i].path) && bus_set(bad[i].path, "v", 0) == -EINVAL);
    CHECK("path_too_long", !bus_path_valid(too_long) && bus_set(too_long, "v", 0) == -EINVAL);
    CHECK("path_longest_ok", bus_path_valid(longest));
    CHECK("path_dots_in_name_ok", bus_path_valid("/Bus/a.b/...:x-y_z/0"));
}

static void test_bad_values(void) {
    bus_init();
    char value[BUS_VALUE_MAX + 1];
    memset(value, 'v', BUS_VALUE_MAX);
    value[BUS_VALUE_MAX] = '\0';
    CHECK("value_too_long", bus_set("/Bus/v", value, 0) == -EINVAL);
    value[BUS_VALUE_MAX - 1] = '\0';
    CHECK("value_longest_ok", bus_set("/Bus/v", value, 0) == 0);
    CHECK("value_newline", bus_set("/Bus/v", "a\nb", 0) == -EINVAL);
    CHECK("value_tab", bus_set("/Bus/v", "a\tb", 0) == -EINVAL);
    CHECK("value_del_char", bus_set("/Bus/v", "\x7f", 0) == -EINVAL);
    CHECK("value_high_byte", bus_set("/Bus/v", "\x80", 0) == -EINVAL);
    CHECK("value_null", bus_set("/Bus/v", NULL, 0) == -EINVAL);
    CHECK("bad_value_keeps_old", bus_get("/Bus/v", NULL, 0) == BUS_VALUE_MAX - 1);
}

/* Only the kernel may fill the whole table (fibers stop at their quota and at the reserve). */
static void test_table_full(void) {
    bus_init();
    char path[BUS_PATH_MAX];
    int ok = 1;
    for (int i = 0; i < BUS_MAX_KEYS; i++) {
        snprintf(path, sizeof path, "/Bus/k%04d", i);
        ok &= bus_set(path, "x", BUS_OWNER_KERNEL) == 0;
    }
    CHECK("fill_table", ok && bus_count() == BUS_MAX_KEYS);
    CHECK("full_enospc", bus_set("/Bus/zzz", "x", 0) == -ENOSPC && bus_count() == BUS_MAX_KEYS);
    CHECK("full_replace_still_ok", bus_set("/Bus/k0100", "y", BUS_OWNER_KERNEL) == 0);
    ok = 1;
    for (int i = 0; i < BUS_MAX_KEYS; i++) {
        snprintf(path, sizeof path, "/Bus/k%04d", i);
        ok &= strcmp(get(path), i == 100 ? "y" : "x") == 0;
    }
    CHECK("full_keys_intact", ok);
    CHECK("full_after_delete_room", bus_del("/Bus/k0000", BUS_OWNER_KERNEL) == 0 && bus_set("/Bus/zzz", "x", 0) == 0);
}

/* Sets /Bus/fill/<owner>/kNNNN for i in [from, to) as `owner`; returns the first error, or 0.
 * *made counts the keys it created. */
static int fill_keys(uint32_t owner, int from, int to, int *made) {
    char path[BUS_PATH_MAX];
    for (int i = from; i < to; i++) {
        snprintf(path, sizeof path, "/Bus/fill/%u/k%04d", owner, i);
        int err = bus_set(path, "x", owner);
        if (err)
            return err;
        (*made)++;
    }
    return 0;
}

static void test_owner_quota(void) {
    bus_init();
    int made = 0;
    CHECK("quota_fill", fill_keys(FIBER_A, 0, BUS_OWNER_QUOTA, &made) == 0 && made == BUS_OWNER_QUOTA &&
                            bus_owned_by(FIBER_A) == BUS_OWNER_QUOTA);
    CHECK("quota_past_edquot", fill_keys(FIBER_A, BUS_OWNER_QUOTA, BUS_OWNER_QUOTA + 1, &made) == -EDQUOT &&
                                   bus_count() == BUS_OWNER_QUOTA);
    CHECK("quota_refusal_counted", bus_stats()->refused_quota == 1 && bus_stats()->refused_reserve == 0);
    CHECK("quota_replace_own_ok", bus_set("/Bus/fill/7/k0000", "y", FIBER_A) == 0 && strcmp(get("/Bus/fill/7/k0000"), "y") == 0);
    made = 0;
    CHECK("quota_other_owner_ok", fill_keys(FIBER_B, 0, 3, &made) == 0 && made == 3);
    CHECK("quota_kernel_ok", bus_set("/Bus/fibers/a/state", "killed", BUS_OWNER_KERNEL) == 0);
    CHECK("quota_kernel_not_counted", bus_stats()->kernel_failures == 0);
    CHECK("quota_after_delete_room", bus_del("/Bus/fill/7/k0001", FIBER_A) == 0 && bus_set("/Bus/fill/7/new", "x", FIBER_A) == 0 &&
                                         bus_set("/Bus/fill/7/new2", "x", FIBER_A) == -EDQUOT);
    /* A key the kernel took over no longer counts against the fiber that created it. */
    CHECK("quota_kernel_takeover_frees", bus_set("/Bus/fill/7/k0002", "kernel", BUS_OWNER_KERNEL) == 0 &&
                                             bus_owned_by(FIBER_A) == BUS_OWNER_QUOTA - 1 &&
                                             bus_set("/Bus/fill/7/new2", "x", FIBER_A) == 0);
    CHECK("quota_drop_owner_frees", bus_drop_owner(FIBER_A) == BUS_OWNER_QUOTA && bus_owned_by(FIBER_A) == 0 &&
                                        bus_set("/Bus/fill/7/again", "x", FIBER_A) == 0);
    CHECK("quota_refusals_total", bus_stats()->refused_quota == 2);
}

/* Fibers filling everything they may leave the reserve to the kernel, which can then still
 * publish; only a table the kernel itself filled refuses the kernel, and that is counted. */
static void test_kernel_reserve(void) {
    bus_init();
    const int shared = BUS_MAX_KEYS - BUS_KERNEL_RESERVE;
    int made = 0, err = 0;
    uint32_t owner;
    for (owner = 1; owner < 1000 && err != -ENOSPC; owner++) {
        err = fill_keys(owner, 0, BUS_OWNER_QUOTA + 1, &made);
        if (err != -EDQUOT && err != -ENOSPC)
            break;
    }
    CHECK("reserve_fibers_stop_at_share", err == -ENOSPC && made == shared && bus_count() == shared);
    CHECK("reserve_refusal_counted", bus_stats()->refused_reserve == 1 &&
                                         bus_stats()->refused_quota == (uint64_t)(shared / BUS_OWNER_QUOTA));
    made = 0;
    CHECK("reserve_fresh_fiber_refused", fill_keys(owner + 1, 0, 1, &made) == -ENOSPC && made == 0);
    CHECK("reserve_fiber_replace_ok", bus_set("/Bus/fill/1/k0000", "y", 1) == 0);
    made = 0;
    CHECK("reserve_kernel_publishes", fill_keys(BUS_OWNER_KERNEL, 0, BUS_KERNEL_RESERVE, &made) == 0 &&
                                          made == BUS_KERNEL_RESERVE && bus_count() == BUS_MAX_KEYS);
    CHECK("reserve_no_kernel_failure", bus_stats()->kernel_failures == 0);
    CHECK("reserve_kernel_full_enospc", bus_set("/Bus/fibers/x/state", "killed", BUS_OWNER_KERNEL) == -ENOSPC);
    CHECK("reserve_kernel_failure_counted", bus_stats()->kernel_failures == 1);
    CHECK("reserve_setf_failure_counted", bus_setf(BUS_OWNER_KERNEL, "/Bus/fibers/x/state", "%s", "killed") == -ENOSPC &&
                                              bus_stats()->kernel_failures == 2);
    CHECK("reserve_fiber_failure_not_kernel", bus_set("/Bus/fill/100/k0000", "x", 100) == -ENOSPC &&
                                                  bus_stats()->kernel_failures == 2);
    CHECK("reserve_init_clears_stats", (bus_init(), bus_stats()->refused_quota == 0 &&
                                        bus_stats()->refused_reserve == 0 && bus_stats()->kernel_failures == 0));
}

static void test_publish_stats(void) {
    bus_init();
    bus_set("/Bus/a", "1", FIBER_A);
    bus_set("/Bus/b", "1\n", BUS_OWNER_KERNEL); /* a refused kernel publish */
    bus_publish_stats();
    char buf[512];
    bus_list("/Bus/bus", buf, sizeof buf);
    CHECK("stats_published",
          strcmp(buf, "/Bus/bus/capacity=1024\n/Bus/bus/kernel_failures=1\n/Bus/bus/kernel_reserve=128\n"
                      "/Bus/bus/keys=8\n/Bus/bus/owner_quota=96\n/Bus/bus/refused_quota=0\n"
                      "/Bus/bus/refused_reserve=0\n") == 0);
    CHECK("stats_kernel_owned", bus_set("/Bus/bus/keys", "0", FIBER_A) == -EPERM && bus_owned_by(BUS_OWNER_KERNEL) == 7);
    int made = 0;
    fill_keys(FIBER_A, 0, BUS_OWNER_QUOTA + 1, &made);
    bus_publish_stats();
    char keys[16];
    snprintf(keys, sizeof keys, "%d", 8 + BUS_OWNER_QUOTA - 1); /* the 8 above, and the fiber's quota less /Bus/a */
    CHECK("stats_refresh", strcmp(get("/Bus/bus/refused_quota"), "1") == 0 && strcmp(get("/Bus/bus/keys"), keys) == 0);
}

static void test_del(void) {
    bus_init();
    bus_set("/Bus/k", "1", BUS_OWNER_KERNEL);
    bus_set("/Bus/a", "1", FIBER_A);
    bus_set("/Bus/b", "1", FIBER_B);
    CHECK("del_bad_path", bus_del("/Bus/", 0) == -EINVAL);
    CHECK("del_missing", bus_del("/Bus/none", 0) == -ENOENT);
    CHECK("del_fiber_kernel_key", bus_del("/Bus/k", FIBER_A) == -EPERM);
    CHECK("del_fiber_other_key", bus_del("/Bus/b", FIBER_A) == -EPERM);
    CHECK("del_own_key", bus_del("/Bus/a", FIBER_A) == 0 && bus_get("/Bus/a", NULL, 0) == -ENOENT);
    CHECK("del_kernel_any", bus_del("/Bus/b", BUS_OWNER_KERNEL) == 0);
    CHECK("del_leaves_rest", bus_count() == 1 && strcmp(get("/Bus/k"), "1") == 0);
}

static void test_setf(void) {
    bus_init();
    CHECK("setf_formats", bus_setf(0, "/Bus/mem", "%d/%s", 42, "MiB") == 0 && strcmp(get("/Bus/mem"), "42/MiB") == 0);
    char big[BUS_VALUE_MAX + 1];
    memset(big, 'x', BUS_VALUE_MAX);
    big[BUS_VALUE_MAX] = '\0'; /* one byte more than a value may hold */
    CHECK("setf_overflow_einval", bus_setf(0, "/Bus/mem", "%s", big) == -EINVAL);
    CHECK("setf_overflow_keeps_old", strcmp(get("/Bus/mem"), "42/MiB") == 0);
    big[BUS_VALUE_MAX - 1] = '\0';
    CHECK("setf_longest_ok", bus_setf(0, "/Bus/mem", "%s", big) == 0);
    CHECK("setf_checks_path", bus_setf(0, "/Bus/a//b", "%d", 1) == -EINVAL);
    CHECK("setf_checks_owner", bus_setf(FIBER_A, "/Bus/mem", "%d", 1) == -EPERM);
}

/* More owners than bus.c remembers counts for (16): each owner's count stays exact through new
 * keys, deletes, the kernel taking keys over and owners dropped, whichever counts are
 * remembered and whichever were pushed out and counted again. */
#define MANY_OWNERS 40
static void test_owner_counts(void) {
    bus_init();
    int want[MANY_OWNERS + 1] = {0}, ok = 1;
    char path[BUS_PATH_MAX];
    for (int round = 0; round < 3; round++) {
        for (uint32_t o = 1; o <= MANY_OWNERS; o++) {
            for (int k = 0; k < (int)(o % 5) + 1; k++) {
                snprintf(path, sizeof path, "/Bus/o%u/r%d/k%d", o, round, k);
                if (bus_set(path, "v", o) == 0)
                    want[o]++;
            }
            ok &= bus_owned_by((o * 7) % MANY_OWNERS + 1) == want[(o * 7) % MANY_OWNERS + 1];
        }
        for (uint32_t o = 1; o <= MANY_OWNERS; o += 3) {
            snprintf(path, sizeof path, "/Bus/o%u/r%d/k0", o, round);
            want[o] -= bus_del(path, o) == 0;
            snprintf(path, sizeof path, "/Bus/o%u/r%d/k1", o, round);
            if (o % 5 && bus_set(path, "taken", BUS_OWNER_KERNEL) == 0)
                want[o]--;
        }
        for (uint32_t o = round + 1; o <= MANY_OWNERS; o += 11) {
            ok &= bus_drop_owner(o) == want[o];
            want[o] = 0;
        }
        for (uint32_t o = MANY_OWNERS; o >= 1; o--)
            ok &= bus_owned_by(o) == want[o];
    }
    CHECK("owner_counts_exact_past_the_remembered", ok);
}

int main(void) {
    check_suite = "bus";
    test_set_get();
    test_listing();
    test_ownership();
    test_drop_owner();
    test_bad_paths();
    test_bad_values();
    test_table_full();
    test_owner_quota();
    test_kernel_reserve();
    test_publish_stats();
    test_del();
    test_setf();
    test_owner_counts();
    return check_exit();
}
