/*
 * rinetd 0.73's config.h for Nexus: what its configure would find in picolibc + libnexus for
 * riscv64-unknown-elf, written by hand so the build needs no configure run (the Makefile compiles
 * its four sources with -DHAVE_CONFIG_H and this folder first on the include path). Absent on
 * purpose: HAVE_FORK / HAVE_DAEMON (a fiber never forks; the manifest runs rinetd -f) and
 * HAVE_SIGACTION (picolibc has signal() only; rinetd then uses signal for SIGPIPE and SIGHUP).
 */
#define HAVE_ARPA_INET_H 1
#define HAVE_ERRNO_H 1
#define HAVE_FCNTL_H 1
#define HAVE_GETHOSTBYNAME 1
#define HAVE_INTTYPES_H 1
#define HAVE_MEMORY_H 1
#define HAVE_MEMSET 1
#define HAVE_NETDB_H 1
#define HAVE_NETINET_IN_H 1
#define HAVE_SELECT 1
#define HAVE_SOCKET 1
#define HAVE_SOCKLEN_T 1
#define HAVE_SSIZE_T 1
#define HAVE_STDINT_H 1
#define HAVE_STDLIB_H 1
#define HAVE_STRFTIME 1
#define HAVE_STRINGS_H 1
#define HAVE_STRING_H 1
#define HAVE_STRSTR 1
#define HAVE_SYSLOG_H 1
#define HAVE_SYS_IOCTL_H 1
#define HAVE_SYS_SOCKET_H 1
#define HAVE_SYS_STAT_H 1
#define HAVE_SYS_TIME_H 1
#define HAVE_SYS_TYPES_H 1
#define HAVE_UNISTD_H 1
#define PACKAGE_BUGREPORT "sam@hocevar.net"
#define PACKAGE_NAME "rinetd"
#define PACKAGE_STRING "rinetd 0.73"
#define PACKAGE_TARNAME "rinetd"
#define PACKAGE_URL ""
#define PACKAGE_VERSION "0.73"
#define RETSIGTYPE void
#define STDC_HEADERS 1
#define TIME_WITH_SYS_TIME 1
