/* The smallest service: says who it is (and what it was told: the console's `run hello ...`
 * passes words), and exits. */
#include <stdio.h>

#include "nexus.h"

int main(int argc, char **argv) {
    struct nexus_identity me;
    if (nx_identity(&me) < 0)
        return 1;
    printf("hello from %s, fiber #%u, in U-mode%s", argv[0], me.id, argc > 1 ? "; you said:" : "");
    for (int i = 1; i < argc; i++)
        printf(" %s", argv[i]);
    printf("\n");
    return 0;
}
