/* Fuzz target: verify --jsonl on a hostile evidence stream (stream.h; the
 * lines are hostile input: never crash, never hang). The input is a stream
 * file: it is cut into lines as verify --jsonl cuts it, each line goes to
 * the stream reader, and every scratch store the reader builds is then
 * verified under the root key its own root record names (so that a seed
 * made by the real follower verifies and the verifier is reached deep), or
 * under a zero key when it names none. The seeds (tests/fuzz/corpus/stream/)
 * are lines written by export -f jsonl --follow. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nsgate/store.h"
#include "nsgate/stream.h"
#include "nsgate/verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* As verify --jsonl: a longer line is skipped and reported. */
#define LINE_MAX_BYTES (2 * NG_STORE_EVENT_MAX)

static char dir[] = "/tmp/ng-fuzz-stream-XXXXXX";

/* Whatever an input left in the scratch directory (the reader removes its
 * stores; this catches anything it did not). */
static void clean(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[sizeof(dir) + 300];

    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        if (unlink(p) < 0)
            (void)rmdir(p);
    }
    closedir(d);
}

static void remove_dir(void)
{
    clean();
    (void)rmdir(dir);
}

static int sink(void *arg, const struct ng_verify_result *res)
{
    (void)arg;
    (void)res;
    return 0;
}

static int one(void *arg, const uint8_t id[NG_STORE_ID_LEN])
{
    struct ng_verify_result res;

    return ng_verify_session(arg, id, NULL, 0, &res) < 0 ? -1 : 0;
}

static void verify_group(const struct ng_stream_group *g)
{
    static const uint8_t zero[NG_FSKEY_PK_BYTES];
    struct ng_store *s;
    struct ng_verifier *v;
    struct ng_verify_result res;

    if (ng_store_open_readonly(g->db, &s) < 0)
        return;
    if (ng_verify_new(s, g->have_root ? g->root : zero, NULL, &v) == 0) {
        (void)!ng_verify_list(v, one, v);
        (void)!ng_verify_missing(v, sink, NULL);
        if (g->has_ledger)
            (void)!ng_verify_ledger(v, &res);
        ng_verify_free(v);
    }
    ng_store_close(s);
}

static void run(const uint8_t *data, size_t size)
{
    struct ng_stream_reader *rd;
    struct ng_stream_group *g;
    const struct ng_stream_finding *o;
    size_t n = 0, no = 0, lineno = 0;
    char where[32];
    int r;

    if (ng_stream_reader_new(dir, &rd) < 0)
        return;
    r = 0;
    for (size_t at = 0; r == 0 && at < size;) {
        const uint8_t *nl = memchr(data + at, '\n', size - at);
        size_t len = (nl ? (size_t)(nl - data) : size) - at;
        snprintf(where, sizeof(where), "fuzz:%zu", ++lineno);
        r = len > LINE_MAX_BYTES ? ng_stream_reader_line(rd, "x", 1, where)
                                 : ng_stream_reader_line(rd, (const char *)data + at, len, where);
        at += len + 1;
    }
    if (r == 0 && ng_stream_reader_finish(rd, &g, &n) == 0)
        for (size_t i = 0; i < n; i++)
            verify_group(&g[i]);
    o = ng_stream_reader_orphans(rd, &no);
    for (size_t i = 0; i < no; i++)
        (void)strlen(o[i].what);
    ng_stream_reader_free(rd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;

    if (!ready) {
        if (!mkdtemp(dir))
            abort();
        atexit(remove_dir);
        ready = 1;
    }
    run(data, size);
    clean();
    return 0;
}
