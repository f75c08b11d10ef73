/*
 * libnexus: named AF_UNIX stream sockets, between two apps or within one (docs/unix.md). The
 * kernel keeps the namespace and makes connections: bind puts a path in it, listen lets
 * connections queue on it, connect makes one and maps its two lanes into the caller, accept maps
 * them into the listener. Then bytes move over the lanes without the kernel (unix.c), and each
 * side rings the other's doorbell only when the other said it sleeps. Every call here needs
 * the `unix` promise: an app without it is killed at its first bind or connect.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "nexus.h"
#include "unix_sock.h"

static int bell = -1; /* this app's doorbell, once it has one */

int unix_named_doorbell(void) { return bell; }

void unix_named_ring(struct unix_sock *u) {
    if (u->peer_bell >= 0)
        nx_signal(u->peer_bell);
}

/* The path of a sockaddr_un in data (m->len bytes) into path: 0, -EINVAL (Linux's answer to a
 * length outside the structure or another family), -EOPNOTSUPP (an empty or abstract name:
 * autobind and the abstract namespace are not built). */
static long path_of(const struct nxs_msg *m, const uint8_t *data, char path[NEXUS_UNIX_PATH_MAX + 1]) {
    uint16_t family;
    if (m->len < sizeof family || m->len > sizeof family + NEXUS_UNIX_PATH_MAX)
        return -EINVAL;
    memcpy(&family, data, sizeof family);
    if (family != AF_UNIX)
        return -EINVAL;
    size_t n = m->len - sizeof family;
    if (n == 0 || data[sizeof family] == '\0')
        return -EOPNOTSUPP;
    memcpy(path, data + sizeof family, n);
    path[n] = '\0'; /* a name filling sun_path has no NUL of its own */
    return 0;
}

/* Makes this app's doorbell on first use. */
static long need_bell(void) {
    if (bell >= 0)
        return 0;
    long ch = nx_unix_doorbell();
    if (ch < 0)
        return ch;
    bell = (int)ch;
    return 0;
}

long unix_named_bind(struct unix_sock *u, const struct nxs_msg *m, const uint8_t *data) {
    char path[NEXUS_UNIX_PATH_MAX + 1];
    long err = path_of(m, data, path);
    if (err)
        return err;
    if (u->state != UNIX_FRESH)
        return -EINVAL; /* bound already, as Linux says */
    if ((err = need_bell()))
        return err;
    long name = nx_unix_bind(path, NEXUS_UNIX_STREAM);
    if (name < 0)
        return name;
    u->name = name;
    u->state = UNIX_BOUND;
    memcpy(u->path, path, sizeof path);
    return 0;
}

long unix_named_listen(struct unix_sock *u, uint32_t backlog) {
    if (u->state != UNIX_BOUND && u->state != UNIX_LISTENING)
        return -EINVAL;
    long err = nx_unix_listen(u->name, backlog);
    if (err)
        return err;
    u->state = UNIX_LISTENING;
    return 0;
}

/* u becomes the end described by info, connected to the peer named peer_path. */
static void become_connected(struct unix_sock *u, long conn, const struct nexus_unix_conn *info) {
    u->state = UNIX_CONNECTED;
    u->conn = conn;
    u->peer_bell = (int)info->peer_doorbell;
    unix_attach_lanes(u, (uint8_t *)(uintptr_t)info->va, (int)info->end);
}

long unix_named_connect(struct unix_sock *u, const struct nxs_msg *m, const uint8_t *data) {
    char path[NEXUS_UNIX_PATH_MAX + 1];
    long err = path_of(m, data, path);
    if (err)
        return err;
    if (u->state == UNIX_LISTENING)
        return -EINVAL;
    if ((err = need_bell()))
        return err;
    struct nexus_unix_conn info;
    long conn = nx_unix_connect(path, NEXUS_UNIX_STREAM, &info);
    if (conn < 0)
        return conn; /* ENOENT, ECONNREFUSED, EPROTOTYPE, EAGAIN (backlog full) as the kernel says */
    become_connected(u, conn, &info);
    memcpy(u->peer_path, path, sizeof path);
    return 0;
}

int unix_named_acceptable(struct unix_sock *u) {
    if (u->ahead < 0)
        u->ahead = nx_unix_accept(u->name, &u->ahead_info);
    return u->ahead >= 0;
}

long unix_named_accept(struct unix_sock *u, struct nxs_msg *m) {
    if (u->state != UNIX_LISTENING)
        return -EINVAL;
    int32_t s = unix_free_number(-1);
    if (s < 0)
        return -EMFILE; /* the connection stays queued, as on Linux */
    if (!unix_named_acceptable(u))
        return u->ahead; /* EAGAIN: none waiting */
    struct unix_sock *a = calloc(1, sizeof *a);
    if (!a)
        return -ENOMEM;
    a->type = SOCK_STREAM;
    a->ahead = -1;
    a->name = -1;
    become_connected(a, u->ahead, &u->ahead_info);
    memcpy(a->path, u->path, sizeof a->path); /* an accepted socket has its listener's name */
    u->ahead = -1;
    unix_install(s, a);
    uint16_t family = AF_UNIX; /* the connecting end has no name */
    memcpy(m->addr, &family, sizeof family);
    m->addr_len = sizeof family;
    return s;
}

void unix_named_close(struct unix_sock *u) {
    if (u->state == UNIX_CONNECTED) {
        unix_lane_shut_reader(&u->in);
        unix_lane_shut_writer(&u->out);
        nx_unix_close(NEXUS_UNIX_CONN, u->conn); /* unmaps; the kernel wakes the peer */
    }
    if (u->name >= 0) /* bound, perhaps connected since */
        nx_unix_close(NEXUS_UNIX_NAME, u->name);
    if (u->ahead >= 0)
        nx_unix_close(NEXUS_UNIX_CONN, u->ahead);
}
