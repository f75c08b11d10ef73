/* The smallest service: says who it is, publishes a greeting under /Bus, and exits. */
#include <stdio.h>

#include "nexus.h"

int main(int argc, char **argv) {
    (void)argc;
    struct nexus_identity me;
    if (nx_identity(&me) < 0)
        return 1;
    printf("hello from %s, fiber #%u, in U-mode\n", argv[0], me.id);
    return 0;
}
