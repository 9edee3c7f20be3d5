/* The ledger forger (issue: a later root rewrites the ledger with only the
 * current key), run as root against a real store and its real key
 * directory:
 *
 *   x_ledger_forge delete|renumber|reorder|retime|reseal DB KEYS UUID
 *     delete    remove session UUID, renumber the ledger after it, new times
 *     renumber  the same, keeping the entries' times
 *     reorder   swap UUID's last ledger entry with the next one, new times
 *     retime    give UUID's entries and all later ones new times
 *     reseal    change nothing, re-seal the ledger from UUID on
 *   each followed by one ledger seal made with the current epoch's key;
 *   x_ledger_forge certs-len KEYS DELTA
 *     add DELTA nanoseconds to the epoch length in KEYS/certs' header.
 *
 * Exit 0 when the forgery was written (whether verify notices is the test's
 * business), 1 when it could not be made. */
#include <fcntl.h>
#include <unistd.h>

#include "ledger_forge.h"
#include "nsgate/be.h"
#include "nsgate/uuid.h"

static int parse_uuid(const char *s, uint8_t id[16])
{
    size_t n = 0;
    for (; *s && n < 32; s++) {
        if (*s == '-')
            continue;
        unsigned v;
        if (sscanf(s, "%1x", &v) != 1)
            return -1;
        id[n / 2] = (uint8_t)(n % 2 ? id[n / 2] | v : v << 4);
        n++;
    }
    return n == 32 && !*s ? 0 : -1;
}

/* The certs header's epoch length (offset 16, u64 big-endian). */
static int certs_len(const char *keys, long long delta)
{
    char path[4096];
    uint8_t b[8];
    snprintf(path, sizeof(path), "%s/certs", keys);
    int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 || pread(fd, b, 8, 16) != 8) {
        perror(path);
        return 1;
    }
    ng_be64_put(b, ng_be64_get(b) + (uint64_t)delta);
    int r = pwrite(fd, b, 8, 16) == 8 && fsync(fd) == 0 ? 0 : 1;
    close(fd);
    return r;
}

int main(int argc, char **argv)
{
    static const char *const modes[] = {"delete", "renumber", "reorder", "retime", "reseal"};
    static const enum forge_what what[] = {FORGE_DELETE, FORGE_DELETE, FORGE_REORDER, FORGE_RETIME,
                                           FORGE_RESEAL};
    struct forge_opts o = {0};
    char err[512];
    size_t m = 0;

    if (argc == 4 && strcmp(argv[1], "certs-len") == 0)
        return certs_len(argv[2], atoll(argv[3]));
    while (argc == 5 && m < sizeof(modes) / sizeof(modes[0]) && strcmp(argv[1], modes[m]) != 0)
        m++;
    if (argc != 5 || m == sizeof(modes) / sizeof(modes[0]) || parse_uuid(argv[4], o.victim) < 0) {
        fprintf(stderr, "usage: x_ledger_forge delete|renumber|reorder|retime|reseal DB KEYS "
                        "UUID | certs-len KEYS DELTA\n");
        return 1;
    }
    o.db = argv[2];
    o.keys = argv[3];
    o.what = what[m];
    o.keep_times = m == 1 || m == 4;
    if (forge_ledger(&o, err, sizeof(err)) < 0) {
        fprintf(stderr, "x_ledger_forge: %s\n", err);
        return 1;
    }
    printf("forged: %s %s\n", modes[m], argv[4]);
    return 0;
}
