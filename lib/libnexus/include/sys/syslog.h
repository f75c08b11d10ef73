/* <sys/syslog.h>: the BSD spelling of <syslog.h> (lib/libnexus/include/syslog.h), which some
 * programs include (mosquitto's conf_includedir.c). */
#include <syslog.h>
