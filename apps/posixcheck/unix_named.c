/*
 * posixcheck: named AF_UNIX stream sockets within one process (unix(7)): bind a path, listen,
 * connect, accept, bytes both ways, end of file and EPIPE after a close, and the errors a name
 * gives: ENOENT for a path nobody bound, ECONNREFUSED when it is bound but nobody listens,
 * EADDRINUSE for a path in use, EINVAL for an address longer than sockaddr_un. On Linux the
 * path is a file in /tmp (removed before and after); on Nexus a name in the kernel's namespace,
 * which goes when its socket closes (unlink there has nothing to remove).
 */
#include <time.h>
#include <signal.h>
#include <fcntl.h>

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "posixcheck.h"

static struct sockaddr_un name_of(const char *path, socklen_t *len) {
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(sa.sun_path) + 1);
    return sa;
}

static int connect_to(const char *path) {
    socklen_t len;
    struct sockaddr_un sa = name_of(path, &len);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, len) == 0)
        return fd;
    int e = errno;
    close(fd);
    errno = e;
    return -1;
}

static void check_errors_before(const char *path) {
    int fd = connect_to(path), e = errno;
    check("unix_named_connect_unbound_enoent", fd == -1 && e == ENOENT, "connect to %s: %d, errno %d (%s)", path,
          fd, e, strerror(e));
    char longer[sizeof ((struct sockaddr_un *)0)->sun_path + 1];
    memset(longer, 'x', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    memcpy(longer, "/tmp/", 5);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, longer, sizeof sa.sun_path); /* fills sun_path: no NUL of its own */
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    int r = s >= 0 ? connect(s, (struct sockaddr *)&sa, sizeof sa) : 0;
    e = errno;
    check("unix_named_full_sun_path_enoent", r == -1 && e == ENOENT, "connect to a 108-byte path: %d, errno %d (%s)",
          r, e, strerror(e));
    struct {
        struct sockaddr_un sa;
        char more[8];
    } big;
    memset(&big, 'y', sizeof big);
    big.sa.sun_family = AF_UNIX;
    r = s >= 0 ? bind(s, (struct sockaddr *)&big, sizeof big.sa + 1) : 0;
    e = errno;
    check("unix_named_address_too_long_einval", r == -1 && e == EINVAL, "bind with %zu bytes of address: %d, errno %d",
          sizeof big.sa + 1, r, e);
    if (s >= 0)
        close(s);
}

void check_unix_named(void) {
    char path[64];
    snprintf(path, sizeof path, "/tmp/posixcheck-%d.sock", (int)getpid());
    unlink(path);
    check_errors_before(path);

    socklen_t len;
    struct sockaddr_un sa = name_of(path, &len);
    int listener = socket(AF_UNIX, SOCK_STREAM, 0);
    int bound = listener >= 0 && bind(listener, (struct sockaddr *)&sa, len) == 0;
    check("unix_named_bind", bound, "socket/bind %s: errno %d (%s)", path, errno, strerror(errno));
    if (!bound) {
        if (listener >= 0)
            close(listener);
        return;
    }
    struct sockaddr_un got;
    socklen_t got_len = sizeof got;
    memset(&got, 0, sizeof got);
    int ok = getsockname(listener, (struct sockaddr *)&got, &got_len) == 0 && got_len == len &&
             got.sun_family == AF_UNIX && strcmp(got.sun_path, path) == 0;
    check("unix_named_getsockname", ok, "length %u (want %u), path \"%s\"", (unsigned)got_len, (unsigned)len,
          got.sun_path);

    int fd = connect_to(path), e = errno;
    check("unix_named_not_listening_econnrefused", fd == -1 && e == ECONNREFUSED, "connect: %d, errno %d (%s)", fd, e,
          strerror(e));
    int other = socket(AF_UNIX, SOCK_STREAM, 0);
    int r = other >= 0 ? bind(other, (struct sockaddr *)&sa, len) : 0;
    e = errno;
    check("unix_named_eaddrinuse", r == -1 && e == EADDRINUSE, "second bind: %d, errno %d (%s)", r, e, strerror(e));
    if (other >= 0)
        close(other);

    fcntl(listener, F_SETFL, O_NONBLOCK);
    int listening = listen(listener, 4) == 0;
    int a = listening ? accept(listener, NULL, NULL) : 0;
    e = errno;
    check("unix_named_accept_nothing_eagain", listening && a == -1 && (e == EAGAIN || e == EWOULDBLOCK),
          "listen then accept: %d, errno %d", a, e);
    int client = listening ? connect_to(path) : -1;
    e = errno;
    int pending = client >= 0 ? wait_for(listener, POLLIN, 5000) : 0;
    struct sockaddr_un peer;
    socklen_t peer_len = sizeof peer;
    memset(&peer, 0, sizeof peer);
    int server = pending > 0 ? accept(listener, (struct sockaddr *)&peer, &peer_len) : -1;
    check("unix_named_connect_accept", client >= 0 && (pending & POLLIN) && server >= 0 && peer.sun_family == AF_UNIX &&
                                           peer_len == sizeof peer.sun_family,
          "connect errno %d, listener revents %#x, accept %d (peer length %u)", e, pending, server, (unsigned)peer_len);
    if (client < 0 || server < 0) {
        close_all((int[]){listener, client, server}, 3);
        unlink(path);
        return;
    }
    got_len = sizeof got;
    memset(&got, 0, sizeof got);
    ok = getpeername(client, (struct sockaddr *)&got, &got_len) == 0 && strcmp(got.sun_path, path) == 0;
    check("unix_named_getpeername", ok, "client's peer \"%s\"", got.sun_path);

    static uint8_t out[12000], in[12000];
    for (size_t i = 0; i < sizeof out; i++)
        out[i] = (uint8_t)(i * 13 + 1);
    size_t sent = 0, got_bytes = 0;
    for (int round = 0; round < 1000 && got_bytes < sizeof in; round++) {
        ssize_t n = sent < sizeof out ? send(client, out + sent, sizeof out - sent, MSG_DONTWAIT) : 0;
        if (n > 0)
            sent += (size_t)n;
        n = recv(server, in + got_bytes, sizeof in - got_bytes, MSG_DONTWAIT);
        if (n > 0)
            got_bytes += (size_t)n;
    }
    char reply[8] = {0};
    ok = got_bytes == sizeof in && memcmp(in, out, sizeof in) == 0 && send(server, "pong", 4, 0) == 4 &&
         wait_for(client, POLLIN, 5000) > 0 && recv(client, reply, sizeof reply, 0) == 4 && !memcmp(reply, "pong", 4);
    check("unix_named_bytes_both_ways", ok, "%zu of %zu bytes across, then \"%s\"", got_bytes, sizeof in, reply);

    close(client);
    ssize_t end = wait_for(server, POLLIN, 5000) > 0 ? recv(server, reply, sizeof reply, 0) : -2;
    ssize_t w = send(server, "x", 1, MSG_NOSIGNAL);
    e = errno;
    check("unix_named_eof_then_epipe", end == 0 && w == -1 && e == EPIPE,
          "after the client closed: recv %ld, send %ld errno %d", (long)end, (long)w, e);
    close(server);
    close(listener);
    unlink(path);
    fd = connect_to(path), e = errno;
    check("unix_named_gone_after_close", fd == -1 && e == ENOENT, "connect after close and unlink: %d, errno %d", fd, e);
    if (fd >= 0)
        close(fd);
}

/* Named datagram sockets: each datagram whole from a named sender, the sender's name with it. */
static int dgram_socket_at(const char *path) {
    socklen_t len;
    struct sockaddr_un sa = name_of(path, &len);
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, len) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

void check_unix_named_dgram(void) {
    char server_path[64], client_path[64], stream_path[64];
    snprintf(server_path, sizeof server_path, "/tmp/posixcheck-%d-server.dgram", (int)getpid());
    snprintf(client_path, sizeof client_path, "/tmp/posixcheck-%d-client.dgram", (int)getpid());
    snprintf(stream_path, sizeof stream_path, "/tmp/posixcheck-%d-stream.sock", (int)getpid());
    unlink(server_path), unlink(client_path), unlink(stream_path);
    socklen_t server_len, stream_len;
    struct sockaddr_un to_server = name_of(server_path, &server_len), to_stream = name_of(stream_path, &stream_len);

    int loose = socket(AF_UNIX, SOCK_DGRAM, 0);
    ssize_t n = loose >= 0 ? sendto(loose, "x", 1, 0, (struct sockaddr *)&to_server, server_len) : 0;
    int e = errno;
    check("unix_dgram_sendto_unbound_enoent", loose >= 0 && n == -1 && e == ENOENT, "socket %d, sendto %ld, errno %d (%s)",
          loose, (long)n, e, strerror(e));
    int server = dgram_socket_at(server_path), client = dgram_socket_at(client_path);
    check("unix_dgram_bind", server >= 0 && client >= 0, "bind: %d %d, errno %d (%s)", server, client, errno,
          strerror(errno));
    if (server < 0 || client < 0) {
        close_all((int[]){loose, server, client}, 3);
        unlink(server_path), unlink(client_path);
        return;
    }
    int r = listen(server, 1);
    e = errno;
    check("unix_dgram_listen_eopnotsupp", r == -1 && e == EOPNOTSUPP, "listen: %d, errno %d", r, e);
    int streamer = socket(AF_UNIX, SOCK_STREAM, 0);
    int bound = streamer >= 0 && bind(streamer, (struct sockaddr *)&to_stream, stream_len) == 0;
    n = bound ? sendto(client, "x", 1, 0, (struct sockaddr *)&to_stream, stream_len) : 0;
    e = errno;
    check("unix_dgram_to_stream_eprototype", bound && n == -1 && e == EPROTOTYPE, "sendto a stream's path: %ld, errno %d",
          (long)n, e);

    int ok = sendto(client, "one", 3, 0, (struct sockaddr *)&to_server, server_len) == 3 &&
             sendto(client, "two2", 4, 0, (struct sockaddr *)&to_server, server_len) == 4;
    int ready = ok ? wait_for(server, POLLIN, 5000) : 0;
    char buf[16] = {0};
    struct sockaddr_un from;
    socklen_t from_len = sizeof from;
    memset(&from, 0, sizeof from);
    n = ok && (ready & POLLIN) ? recvfrom(server, buf, sizeof buf, 0, (struct sockaddr *)&from, &from_len) : -1;
    socklen_t client_len;
    name_of(client_path, &client_len);
    check("unix_dgram_recvfrom_names_sender", n == 3 && !memcmp(buf, "one", 3) && from.sun_family == AF_UNIX &&
                                                  from_len == client_len && !strcmp(from.sun_path, client_path),
          "recvfrom: %ld, from \"%s\" (length %u)", (long)n, from.sun_path, (unsigned)from_len);
    n = recv(server, buf, sizeof buf, 0);
    check("unix_dgram_boundaries_by_name", n == 4 && !memcmp(buf, "two2", 4), "second datagram: %ld", (long)n);
    n = sendto(server, "back", 4, 0, (struct sockaddr *)&from, from_len);
    ssize_t back = n == 4 && wait_for(client, POLLIN, 5000) > 0 ? recv(client, buf, sizeof buf, 0) : -1;
    check("unix_dgram_reply_to_sender", back == 4 && !memcmp(buf, "back", 4), "reply: sendto %ld, recv %ld", (long)n,
          (long)back);
    n = recv(server, buf, sizeof buf, MSG_DONTWAIT);
    e = errno;
    check("unix_dgram_empty_eagain", n == -1 && (e == EAGAIN || e == EWOULDBLOCK), "recv: %ld, errno %d", (long)n, e);

    r = connect(client, (struct sockaddr *)&to_server, server_len);
    struct sockaddr_un peer;
    socklen_t peer_len = sizeof peer;
    memset(&peer, 0, sizeof peer);
    ok = r == 0 && send(client, "c", 1, 0) == 1 && wait_for(server, POLLIN, 5000) > 0 &&
         recv(server, buf, sizeof buf, 0) == 1 && buf[0] == 'c' &&
         getpeername(client, (struct sockaddr *)&peer, &peer_len) == 0 && !strcmp(peer.sun_path, server_path);
    check("unix_dgram_connect_send", ok, "connect %d, then send/recv/getpeername: errno %d", r, errno);

    close(server);
    unlink(server_path);
    n = sendto(loose, "x", 1, 0, (struct sockaddr *)&to_server, server_len);
    e = errno;
    check("unix_dgram_receiver_gone_enoent", n == -1 && e == ENOENT, "sendto after close and unlink: %ld, errno %d",
          (long)n, e);
    close_all((int[]){loose, client, streamer}, 3);
    unlink(client_path), unlink(stream_path);
}
