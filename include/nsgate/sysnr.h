/* System call numbers newer than some C libraries' headers know (x86-64 and
 * arm64 share these: the numbers of the generic table). */
#ifndef NSGATE_SYSNR_H
#define NSGATE_SYSNR_H

#include <sys/syscall.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

#endif
