/* Host tests for the boot manifests (kernel/manifest.c, built with NEXUS_TEST_BUILD so the test
 * manifests are checked too): every entry's grants and pledge parse, its policy exists, names fit
 * and are unique within a manifest, and the default manifest comes first. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "cspace.h"
#include "manifest.h"
#include "pledge.h"
#include "restart_policy.h"

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
        }
    }
    CHECK("policy_outside_enum_refused", restart_policy(RESTART_KINDS) == NULL);
    return check_exit();
}
