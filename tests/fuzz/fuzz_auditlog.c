/* Fuzz the audit log reader (libauparse under nsgate's checks): one input
 * is several lines, each parsed alone and all fed to a collection that is
 * then sorted and walked; an input that starts as gzip does is read as a
 * compressed rotated log file instead. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "nsgate/auditlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ng_auditlog *log;
    struct ng_auditlog_rec rec;
    struct ng_auditlog_time t;
    const char *p = (const char *)data, *end = p + size;

    if (ng_auditlog_new(&log) < 0)
        return 0;
    if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
        int fd = memfd_create("fuzz.gz", MFD_CLOEXEC);
        if (fd >= 0 && write(fd, data, size) == (ssize_t)size && ng_auditlog_add_fd(log, fd) < 0)
            p = end; /* a damaged stream is an error, not a crash */
        if (fd >= 0)
            close(fd);
        p = end;
    }
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (ng_auditlog_parse_line(p, len, &rec, &t) == 1 && rec.uuid[36] != '\0')
            __builtin_trap();
        if (ng_auditlog_add_line(log, p, len) < 0)
            break;
        p += len + 1;
    }
    if (ng_auditlog_finish(log) == 0) {
        for (size_t i = 0; i < ng_auditlog_nsessions(log); i++) {
            const struct ng_auditlog_session *s = ng_auditlog_session_at(log, i);
            if (ng_auditlog_find(log, s->uuid) != s)
                __builtin_trap();
        }
        for (size_t i = 0; i < ng_auditlog_nkeys(log); i++)
            (void)ng_auditlog_key_at(log, i);
    }
    ng_auditlog_free(log);
    return 0;
}
