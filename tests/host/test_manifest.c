/* Host tests for the boot manifests (kernel/manifest.c, built with NEXUS_TEST_BUILD so the test
 * manifests are checked too): every entry's grants and pledge parse, its policy exists, names fit
 * and are unique within a manifest, and the default manifest comes first. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "cspace.h"
#include "manifest.h"
#include "pledge.h"
#include "restart_policy.h"

/* Entries that hold a link without its promise on purpose: the containment test's rule breakers. */
static int breaks_link_rule(const struct manifest *m, const struct manifest_entry *e) {
    return !strcmp(m->name, "containment") && (!strcmp(e->name, "noinet") || !strcmp(e->name, "widen"));
}

int main(void) {
    check_suite = "manifest";
    CHECK("default_first", manifest_count >= 1 && !strcmp(manifests[0].name, "default"));
    CHECK("empty_name_is_default", manifest_find("") == &manifests[0]);
    CHECK("unknown_manifest_refused", manifest_find("no-such-manifest") == NULL);
    CHECK("test_manifest_in_test_build", manifest_find("containment") != NULL);
    for (unsigned m = 0; m < manifest_count; m++) {
        const struct manifest *man = &manifests[m];
        for (unsigned i = 0; i < man->count; i++) {
            const struct manifest_entry *e = &man->entries[i];
            char name[96];
            struct grant g[GRANTS_MAX];
            uint32_t promises;
            snprintf(name, sizeof name, "%s.%s.name_fits", man->name, e->name);
            CHECK(name, e->name && e->name[0] && strlen(e->name) < GRANT_NAME_MAX /* = FIBER_NAME_MAX */);
            snprintf(name, sizeof name, "%s.%s.image_named", man->name, e->name);
            CHECK(name, e->image && e->image[0]);
            snprintf(name, sizeof name, "%s.%s.grants_parse", man->name, e->name);
            CHECK(name, grants_parse(e->grants ? e->grants : "", g, GRANTS_MAX) >= 0);
            snprintf(name, sizeof name, "%s.%s.pledge_parses", man->name, e->name);
            CHECK(name, pledge_parse(e->pledge ? e->pledge : "", &promises) == 0 && (promises & PROMISE_STDIO));
            snprintf(name, sizeof name, "%s.%s.policy_exists", man->name, e->name);
            const struct restart_policy *p = restart_policy(e->restart);
            CHECK(name, p && p->limit <= RESTART_HISTORY_MAX);
            int unique = 1;
            for (unsigned j = 0; j < i; j++)
                unique &= strcmp(man->entries[j].name, e->name) != 0;
            snprintf(name, sizeof name, "%s.%s.unique", man->name, e->name);
            CHECK(name, unique);
            /* Each link's server serves links, and the client holds the promise they need. */
            int n = grants_parse(e->grants ? e->grants : "", g, GRANTS_MAX);
            for (int k = 0; k < n; k++) {
                if (g[k].kind == GRANT_AREA) {
                    /* A send area rides on a link the entry holds, to a server that sends from it. */
                    int linked = 0;
                    for (int j = 0; j < n; j++)
                        linked |= g[j].kind == GRANT_LINK && !strcmp(g[j].server, g[k].server);
                    snprintf(name, sizeof name, "%s.%s.area_%s_on_a_link", man->name, e->name, g[k].server);
                    CHECK(name, linked);
                    snprintf(name, sizeof name, "%s.%s.area_%s_served", man->name, e->name, g[k].server);
                    CHECK(name, manifest_link_pages(man, g[k].server, 1) == NEXUS_LINK_SEND_PAGES);
                }
                if (g[k].kind != GRANT_LINK)
                    continue;
                uint32_t need = 0;
                snprintf(name, sizeof name, "%s.%s.link_%s_served", man->name, e->name, g[k].server);
                CHECK(name, manifest_link_promise(man, g[k].server, &need) == 0);
                snprintf(name, sizeof name, "%s.%s.link_%s_promised", man->name, e->name, g[k].server);
                CHECK(name, need && ((promises & need) == need) != breaks_link_rule(man, e));
            }
            /* The node's secret key lives in the signer alone, and only the LWF and UTCP services
             * ask it (docs/security.md); the keyblob test manifest's taker is the one exception. */
            snprintf(name, sizeof name, "%s.%s.keyblob_only_in_signer", man->name, e->name);
            CHECK(name, !(promises & PROMISE_KEYBLOB) || !strcmp(e->name, "signer") ||
                            (!strcmp(man->name, "keyblob") && !strcmp(e->name, "taker")));
            snprintf(name, sizeof name, "%s.%s.sign_only_in_lwf_and_utcp", man->name, e->name);
            CHECK(name, !(promises & PROMISE_SIGN) || !strcmp(e->name, "signer") || !strcmp(e->name, "lwf") ||
                            !strcmp(e->name, "utcp"));
            if (e->restarts_with) {
                /* It restarts with a service of the same manifest, and holds a link to it. */
                int found = 0;
                for (unsigned j = 0; j < man->count; j++)
                    found |= !strcmp(man->entries[j].name, e->restarts_with);
                snprintf(name, sizeof name, "%s.%s.restarts_with_exists", man->name, e->name);
                CHECK(name, found && strcmp(e->restarts_with, e->name) != 0);
            }
            if (e->serves) {
                uint32_t served = 0;
                snprintf(name, sizeof name, "%s.%s.serves_one_promise", man->name, e->name);
                CHECK(name, manifest_link_promise(man, e->name, &served) == 0);
                snprintf(name, sizeof name, "%s.%s.holds_what_it_serves", man->name, e->name);
                CHECK(name, (promises & served) == served);
            }
        }
    }
    CHECK("policy_outside_enum_refused", restart_policy(RESTART_KINDS) == NULL);
    /* The link promise lookup's refusals. */
    static const struct manifest_entry serving[] = {
        {.name = "svc", .image = "x", .serves = "inet"},
        {.name = "two", .image = "x", .serves = "inet lwf"},
        {.name = "bogus", .image = "x", .serves = "bogus"},
        {.name = "none", .image = "x"},
    };
    const struct manifest trial = {"trial", serving, 4};
    uint32_t p = 0;
    CHECK("link_promise_found", manifest_link_promise(&trial, "svc", &p) == 0 && p == PROMISE_INET);
    CHECK("link_promise_two_refused", manifest_link_promise(&trial, "two", &p) == -EINVAL);
    CHECK("link_promise_unknown_name_refused", manifest_link_promise(&trial, "bogus", &p) == -EINVAL);
    CHECK("link_promise_serves_none_refused", manifest_link_promise(&trial, "none", &p) == -EINVAL);
    CHECK("link_promise_no_entry", manifest_link_promise(&trial, "absent", &p) == -ENOENT);
    return check_exit();
}
