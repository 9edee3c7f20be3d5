/* Small helpers shared by every module: bounded number parsing, cleanup. */
#ifndef NSGATE_UTIL_H
#define NSGATE_UTIL_H

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <unistd.h>

#define NG_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NG_MUST_CHECK    __attribute__((warn_unused_result))

/* Parse a decimal number in [min, max]. No sign, no spaces, no empty string,
 * no leading '+', no overflow. Returns 0 or -EINVAL / -ERANGE. */
int ng_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret) NG_MUST_CHECK;
/* A uid or gid: decimal, rejecting (uid_t)-1 (CVE-2019-14287). */
int ng_parse_id(const char *s, uint32_t *ret) NG_MUST_CHECK;
/* A PID: 1 .. 2^22 (PID_MAX_LIMIT). */
int ng_parse_pid(const char *s, pid_t *ret) NG_MUST_CHECK;

/* Close a descriptor and set it to -1, keeping errno. */
void ng_closep(int *fd);
void ng_freep(void *p);
#define ng_autoclose __attribute__((cleanup(ng_closep)))
#define ng_autofree  __attribute__((cleanup(ng_freep)))

/* Read a whole small file relative to dirfd into buf (NUL-terminated).
 * Returns length or a negative errno; -EFBIG when it does not fit. */
ssize_t ng_read_file_at(int dirfd, const char *path, char *buf, size_t size) NG_MUST_CHECK;
/* PATH (relative to dirfd) as a directory stream, opened close-on-exec with
 * O_DIRECTORY and the extra open flags (O_NOFOLLOW...); NULL with errno set,
 * and no descriptor left open, on failure. */
DIR *ng_opendir_at(int dirfd, const char *path, int flags);
/* Write all of buf, retrying on EINTR and short writes. */
int ng_write_all(int fd, const void *buf, size_t len) NG_MUST_CHECK;

/* Is the string a hex string of exactly n lowercase digits? */
int ng_is_lower_hex(const char *s, size_t n);

#endif
