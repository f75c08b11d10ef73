/* The smallest service: says who it is (and what it was told: the console's `run hello ...`
 * passes words), leaves the same line in its writable file area (greeting.txt: the console's
 * `cat hello/greeting.txt` prints it after hello has gone), and exits. */
#include <stdio.h>

#include "nexus.h"

int main(int argc, char **argv) {
    struct nexus_identity me;
    if (nx_identity(&me) < 0)
        return 1;
    char line[256];
    int n = snprintf(line, sizeof line, "hello from %s, fiber #%u, in U-mode%s", argv[0], me.id,
                     argc > 1 ? "; you said:" : "");
    for (int i = 1; i < argc && n < (int)sizeof line; i++)
        n += snprintf(line + n, sizeof line - (size_t)n, " %s", argv[i]);
    if (n >= (int)sizeof line)
        n = sizeof line - 1;
    printf("%s\n", line);
    line[n] = '\n';
    long err = nx_file_write("greeting.txt", 0, line, (size_t)n + 1);
    if (err >= 0)
        err = nx_file_ctl(NEXUS_FILE_TRUNCATE, "greeting.txt", (uint64_t)n + 1);
    if (err < 0)
        printf("hello: cannot keep greeting.txt (error %ld)\n", -err);
    return 0;
}
