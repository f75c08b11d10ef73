/*
 * <sys/termios.h> for Nexus apps (picolibc's <termios.h> includes it and has none). The console
 * (descriptors 0..2) is the one terminal: the kernel edits its input a line at a time and echoes
 * it, and an app cannot change that. tcgetattr says so; tcsetattr accepts exactly those modes
 * and refuses any other (lib/libnexus/termios.c). Values are Linux's.
 */
#ifndef NEXUS_SYS_TERMIOS_H
#define NEXUS_SYS_TERMIOS_H

typedef unsigned char cc_t;
typedef unsigned int speed_t;
typedef unsigned int tcflag_t;

#define NCCS 32

struct termios {
    tcflag_t c_iflag;
    tcflag_t c_oflag;
    tcflag_t c_cflag;
    tcflag_t c_lflag;
    cc_t c_line;
    cc_t c_cc[NCCS];
};

/* c_lflag */
#define ISIG 0000001
#define ICANON 0000002
#define ECHO 0000010
#define ECHOE 0000020
#define ECHOK 0000040
#define ECHONL 0000100

/* tcsetattr's optional_actions */
#define TCSANOW 0
#define TCSADRAIN 1
#define TCSAFLUSH 2

int tcgetattr(int fd, struct termios *t);
int tcsetattr(int fd, int optional_actions, const struct termios *t);

#endif
