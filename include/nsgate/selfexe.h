/* CVE-2019-5736: the host's nsgate binary must never be reachable from inside
 * a target as /proc/self/exe. enter re-executes itself from a sealed memfd
 * copy before anything else, as runc does; the copy carries a patched marker
 * so it knows what it is without /proc, and refuses to run unless started by
 * nsgate itself (a target whose /bin/sh links to /proc/self/exe, or a
 * "#!/proc/self/exe" script, only reaches the copy, which exits 126). */
#ifndef NSGATE_SELFEXE_H
#define NSGATE_SELFEXE_H

#include <sys/types.h>

#define NG_SELFEXE_ARG "--nsgate-sealed-copy"
#define NG_SELFEXE_FD  3

/* Is this process image the sealed copy? */
int ng_selfexe_is_copy(void);

/* In the copy: check the hand-shake (argv[1] and descriptor 3 being the
 * sealed memfd this image runs from), then drop argv[1] and close fd 3.
 * Returns 0, or -EPERM when the copy was started by anything else. */
int ng_selfexe_accept(int *argc, char ***argv);

/* In the original: copy /proc/self/exe into a sealed memfd and execute it
 * with argv (plus the hand-shake) and envp. Returns only on error. */
int ng_selfexe_reexec(char **argv, char **envp);

/* Device and inode of the image this process runs from (for the check that
 * the program about to be executed is not nsgate itself). */
int ng_selfexe_identity(dev_t *dev, ino_t *ino);

#endif
