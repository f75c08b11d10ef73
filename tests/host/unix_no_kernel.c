/* The AF_UNIX syscalls for host tests of libnexus's AF_UNIX family: no kernel here, so every
 * named-socket call fails as a kernel without them would (-ENOSYS). Named sockets are tested in
 * QEMU (posixcheck, and the self-test's probe pair). */
#include <errno.h>

#include "nexus.h"

long nx_unix_doorbell(void) { return -ENOSYS; }
long nx_unix_bind(const char *path, int type) { return (void)path, (void)type, -ENOSYS; }
long nx_unix_listen(long name, unsigned backlog) { return (void)name, (void)backlog, -ENOSYS; }
long nx_unix_connect(const char *path, int type, struct nexus_unix_conn *out, long from) {
    return (void)path, (void)type, (void)out, (void)from, -ENOSYS;
}
long nx_unix_accept(long name, struct nexus_unix_conn *out) { return (void)name, (void)out, -ENOSYS; }
long nx_unix_close(int kind, long id) { return (void)kind, (void)id, -ENOSYS; }
long nx_signal(int channel) { return (void)channel, -ENOSYS; }
