/* posixcheck's parts: the socket checks (posixcheck.c) and the runtime checks (runtime.c). */
#ifndef POSIXCHECK_H
#define POSIXCHECK_H

#include <netinet/in.h>
#include <stdint.h>

#ifdef __GNUC__
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

/* Records one check and prints its PASS/FAIL line; fmt and what follows describe a failure.
 * Returns ok. */
PRINTF_LIKE(3, 4) int check(const char *name, int ok, const char *fmt, ...);
/* Prints "note: text". */
void note(const char *text);

/* posixcheck.c: helpers the other parts share */
/* An IPv4 socket address (address in host order). */
struct sockaddr_in ipv4(uint32_t host_order_addr, uint16_t port);
/* revents of fd after waiting up to timeout_ms for events; 0 on timeout, -1 on error. */
int wait_for(int fd, short events, int timeout_ms);
/* A listening TCP socket on 127.0.0.1:port (0: any), or -1 with errno set. */
int listen_on(unsigned short port);
/* A connected loopback pair, blocking: fds = {listener, client, accepted}; 1, or 0 (all closed). */
int tcp_pair(int fds[3]);
/* Closes the descriptors of fds that are open (>= 0). */
void close_all(int *fds, int n);

/* msg.c: readv/writev on every kind of descriptor, sendmsg/recvmsg */
void check_msg(const char *read_only_dir);
/* sockopt.c: socket options, MSG_* flags, ioctl(FIONREAD) */
void check_sockopt(void);

/* unix.c: AF_UNIX socket pairs, stream and datagram */
void check_unix(void);
/* unix_named.c: named AF_UNIX stream sockets (bind, listen, connect, accept) within the process */
void check_unix_named(void);
void check_unix_named_dgram(void);

/* pipe.c: pipe and pipe2 within the process */
void check_pipes(void);

/* runtime.c */
void check_gethostbyname(const char *name, const char *expected_text, const char *nxdomain_name);
void check_ioctl_fionbio(void);
void check_heap(void);
void check_time(void);
void check_syslog(void);

/* signals.c: handlers, the mask, SIGALRM, SIGPIPE, SIGIO */
void check_signals(void);
/* posixcheck --die-by-sigpipe: a send on a shut-down stream with SIGPIPE's default action;
 * returns (1, after a FAIL line) only if the process survives it. */
int die_by_sigpipe(void);

/* files.c */
void check_files(const char *read_only_dir);
void check_process(void);

/* system.c: directories (read_only_dir, "/" and "."; NULL: skipped), umask, the user, the
 * network interfaces. After check_files, which leaves a file in ".". */
void check_system(const char *read_only_dir);

#endif
