/* Fuzz target: verify on a hostile database file (integrity.md 6: never
 * crash, never hang). The input is the root key (32 bytes) followed by the
 * database file; the seed (tests/fuzz/corpus/verify/) is a recorded store
 * with its real root key (NG_TAMPER_SEED=FILE test_tamper writes one). */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nsgate/verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sink(void *arg, const struct ng_verify_result *res)
{
    (void)arg;
    (void)res;
    return 0;
}

static void run(const char *path, const uint8_t root[NG_FSKEY_PK_BYTES])
{
    struct ng_store *s;
    struct ng_verifier *v;
    struct ng_verify_result res;

    if (ng_store_open_readonly(path, &s) < 0)
        return;
    if (ng_verify_new(s, root, NULL, &v) == 0) {
        (void)!ng_verify_all(v, sink, NULL);
        (void)!ng_verify_missing(v, sink, NULL);
        (void)!ng_verify_ledger(v, &res);
        ng_verify_free(v);
    }
    ng_store_close(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char dir[] = "/tmp/ng-fuzz-verify-XXXXXX", path[64], aux[80];
    static const char *suffix[] = {"-wal", "-shm", "-journal", "-live"};

    if (size < NG_FSKEY_PK_BYTES || !mkdtemp(dir))
        return 0;
    snprintf(path, sizeof(path), "%s/s.db", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        size_t n = size - NG_FSKEY_PK_BYTES;
        int ok = write(fd, data + NG_FSKEY_PK_BYTES, n) == (ssize_t)n;
        close(fd);
        if (ok)
            run(path, data);
    }
    unlink(path);
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        snprintf(aux, sizeof(aux), "%s%s", path, suffix[i]);
        unlink(aux);
    }
    rmdir(dir);
    return 0;
}
