/* Fuzz target: the store's readers on a hostile database file (integrity.md
 * 6: never crash, never hang). The input is written to a private file and
 * read the way sessions and replay read it. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nsgate/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_all(struct ng_store *s)
{
    struct ng_session_filter f = {0};
    struct ng_session_iter *it;
    const struct ng_session_info *in;
    uint8_t id[NG_STORE_ID_LEN];

    if (ng_store_sessions_begin(s, &f, &it) < 0)
        return;
    for (int n = 0; n < 64 && ng_store_sessions_next(it, &in) == 1; n++) {
        struct ng_event_iter *ei;
        struct ng_event ev;
        if (ng_store_session_grep(s, in->id, "abc", 3) < 0)
            continue;
        if (ng_store_events_begin(s, in->id, &ei) < 0)
            continue;
        for (int k = 0; k < 4096 && ng_store_events_next(ei, &ev) == 1; k++)
            ;
        ng_store_events_end(ei);
    }
    ng_store_sessions_end(it);
    (void)!ng_store_find_session(s, "000000", id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char dir[] = "/tmp/ng-fuzz-store-XXXXXX", path[64], aux[80];
    static const char *suffix[] = {"-wal", "-shm", "-journal", "-live"};
    struct ng_store *s;

    if (!mkdtemp(dir))
        return 0;
    snprintf(path, sizeof(path), "%s/s.db", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        int ok = write(fd, data, size) == (ssize_t)size;
        close(fd);
        if (ok && ng_store_open_readonly(path, &s) == 0) {
            read_all(s);
            ng_store_close(s);
        }
    }
    unlink(path);
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        snprintf(aux, sizeof(aux), "%s%s", path, suffix[i]);
        unlink(aux);
    }
    rmdir(dir);
    return 0;
}
