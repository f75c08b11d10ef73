/* posixcheck's parts: the socket checks (posixcheck.c) and the runtime checks (runtime.c). */
#ifndef POSIXCHECK_H
#define POSIXCHECK_H

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

/* runtime.c */
void check_gethostbyname(const char *name, const char *expected_text, const char *nxdomain_name);
void check_ioctl_fionbio(void);
void check_heap(void);
void check_time(void);
void check_syslog(void);

/* files.c */
void check_files(const char *read_only_dir);
void check_process(void);

#endif
