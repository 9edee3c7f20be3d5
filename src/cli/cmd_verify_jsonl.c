/* nsgate verify --jsonl FILE... (cli.md, stream.h): evidence streams
 * verified without the store. The records of each root key (each host) are
 * put back into a scratch store in a private directory, which is then
 * verified like the host's own store: the same checks, words and exit
 * codes. Records that cannot be stored (malformed, or a second, different
 * record for one row) make their session TAMPERED; a line that is no
 * record at all is reported as "TAMPERED - seq=0: FILE:LINE: ...". */
#include "cmd_verify_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The longest line read: one event of NG_STORE_EVENT_MAX bytes in base64
 * with its fields; a longer one is a finding, and skipped. */
#define LINE_MAX_BYTES (2 * NG_STORE_EVENT_MAX)

void ng_verify_apply_findings(struct run *run, struct ng_verify_result *res)
{
    const struct ng_stream_group *g = run->group;

    for (size_t i = 0; i < g->nfindings; i++) {
        const struct ng_stream_finding *f = &g->findings[i];
        if (memcmp(f->id, res->id, NG_STORE_ID_LEN) != 0)
            continue;
        run->said[i] = 1;
        if (res->word == NG_VERIFY_MISSING ||
            (res->word == NG_VERIFY_TAMPERED && res->seq <= f->seq))
            continue;
        res->word = NG_VERIFY_TAMPERED;
        res->seq = f->seq;
        snprintf(res->what, sizeof(res->what), "%s", f->what);
    }
}

/* ---- reading the files ---------------------------------------------------- */

struct lines {
    char *buf;
    size_t len, cap;
    int skipping; /* inside a line longer than LINE_MAX_BYTES */
};

static int feed_line(struct ng_stream_reader *rd, struct lines *l, const char *name, size_t no)
{
    char where[512];

    snprintf(where, sizeof(where), "%s:%zu", name, no);
    if (l->skipping) {
        l->skipping = 0;
        l->len = 0;
        return ng_stream_reader_line(rd, "x", 1, where); /* "not a JSON object" */
    }
    int r = ng_stream_reader_line(rd, l->buf, l->len, where);
    l->len = 0;
    return r;
}

static int append(struct lines *l, const char *p, size_t n)
{
    if (l->skipping)
        return 0;
    if (l->len + n > LINE_MAX_BYTES) {
        l->skipping = 1;
        return 0;
    }
    if (l->len + n > l->cap) {
        size_t cap = l->cap ? l->cap : 65536;
        while (cap < l->len + n)
            cap *= 2;
        char *b = realloc(l->buf, cap);
        if (!b)
            return -ENOMEM;
        l->buf = b;
        l->cap = cap;
    }
    memcpy(l->buf + l->len, p, n);
    l->len += n;
    return 0;
}

/* Every line of one file (a last line without its newline too: a cut
 * record is reported, not dropped). */
static int read_file(struct ng_stream_reader *rd, const char *name, struct lines *l)
{
    int fd = strcmp(name, "-") == 0 ? dup(STDIN_FILENO) : open(name, O_RDONLY | O_CLOEXEC);
    static char chunk[1 << 16];
    size_t no = 0;
    ssize_t n;
    int r = 0;

    if (fd < 0)
        return -errno;
    l->len = 0;
    l->skipping = 0;
    while (r == 0 && (n = read(fd, chunk, sizeof(chunk))) > 0) {
        for (char *p = chunk, *end = chunk + n; r == 0 && p < end;) {
            char *nl = memchr(p, '\n', (size_t)(end - p));
            r = append(l, p, (size_t)((nl ? nl : end) - p));
            if (r == 0 && nl)
                r = feed_line(rd, l, name, ++no);
            p = nl ? nl + 1 : end;
        }
    }
    if (r == 0 && n < 0)
        r = -errno;
    if (r == 0 && (l->len || l->skipping))
        r = feed_line(rd, l, name, ++no);
    close(fd);
    return r;
}

/* ---- verifying the groups ------------------------------------------------- */

static int load_keys(const char *keys_dir, const char *const *files, size_t n,
                     uint8_t (*roots)[NG_FSKEY_PK_BYTES], size_t *nroots)
{
    *nroots = 0;
    if (n == 0) {
        *nroots = 1;
        return ng_cmd_root_key(keys_dir, NULL, roots[0]);
    }
    for (size_t i = 0; i < n; i++) {
        int st = ng_cmd_root_key(NULL, files[i], roots[i]);
        if (st)
            return st;
        *nroots = i + 1;
    }
    return 0;
}

/* The key for a group: the one given whose first 8 bytes the group names;
 * else the first (the group's own claim is never trusted). */
static const uint8_t *key_for(const struct ng_stream_group *g, uint8_t (*roots)[NG_FSKEY_PK_BYTES],
                              size_t n)
{
    char r16[17];

    for (size_t i = 0; i < n; i++) {
        sodium_bin2hex(r16, sizeof(r16), roots[i], 8);
        if (strcmp(r16, g->root16) == 0)
            return roots[i];
    }
    return roots[0];
}

/* Findings no verdict line took: sessions the stream names nowhere else,
 * and records naming no session (a root key, a certificate) when there is
 * no ledger line to carry them (a stream of one session). */
static void print_unsaid(struct run *run)
{
    const struct ng_stream_group *g = run->group;

    for (size_t i = 0; i < g->nfindings; i++) {
        if (run->said[i])
            continue;
        if (sodium_is_zero(g->findings[i].id, NG_STORE_ID_LEN)) {
            if (!g->has_ledger) {
                printf("TAMPERED - seq=%lld: %s\n", (long long)g->findings[i].seq,
                       g->findings[i].what);
                run->tampered = 1;
                run->lines++;
            }
            continue;
        }
        struct ng_verify_result res = {.word = NG_VERIFY_TAMPERED, .sealed = -1};
        memcpy(res.id, g->findings[i].id, NG_STORE_ID_LEN);
        (void)ng_verify_print(run, &res);
    }
}

static int verify_group(const struct ng_stream_group *g, const uint8_t *root, struct run *run)
{
    struct ng_store *s = NULL;
    struct ng_verify_result ledger;
    int r = ng_store_open_readonly(g->db, &s);

    run->group = g;
    run->lines = 0;
    run->said = calloc(g->nfindings + 1, 1);
    sodium_bin2hex(run->root16, sizeof(run->root16), root, 8);
    if (r == 0 && !run->said)
        r = -ENOMEM;
    if (r == 0)
        r = ng_verify_new(s, root, NULL, &run->v);
    if (r == 0)
        r = ng_verify_list(run->v, ng_verify_one, run);
    if (r == 0)
        r = ng_verify_missing(run->v, ng_verify_print, run);
    if (r == 0)
        print_unsaid(run);
    if (r == 0 && !g->has_ledger && run->lines == 0 && g->records == g->key_records &&
        g->have_root && sodium_memcmp(g->root, root, NG_FSKEY_PK_BYTES) == 0) {
        /* a follower's poll between a new store's key chain and its first
         * session: nothing sealed yet, as an empty stream; the key chain
         * of a root key not given is reported below */
        ng_warn("root %s: the key chain only, no session sealed yet",
                g->root16[0] ? g->root16 : "?");
    } else if (r == 0 && !g->has_ledger && run->lines == 0) {
        /* records no verdict speaks for (events whose header is gone, say):
         * not evidence of anything, and not to be passed over in silence */
        printf("TAMPERED - seq=0: root %s: %d record(s) that no session or ledger uses\n",
               g->root16[0] ? g->root16 : "?", g->records);
        run->tampered = 1;
    }
    if (r == 0 && g->has_ledger && (r = ng_verify_ledger(run->v, &ledger)) == 0) {
        ng_verify_apply_findings(run, &ledger);
        ng_verify_print_ledger(run, &ledger);
    }
    ng_verify_free(run->v);
    run->v = NULL;
    free(run->said);
    run->said = NULL;
    ng_store_close(s);
    return r;
}

static int verify_all(struct ng_stream_reader *rd, uint8_t (*roots)[NG_FSKEY_PK_BYTES],
                      size_t nroots, struct run *run)
{
    struct ng_stream_group *g;
    const struct ng_stream_finding *o;
    size_t n, no;
    int r = ng_stream_reader_finish(rd, &g, &n);

    for (size_t i = 0; r == 0 && i < n; i++)
        r = verify_group(&g[i], key_for(&g[i], roots, nroots), run);
    o = ng_stream_reader_orphans(rd, &no);
    for (size_t i = 0; r == 0 && i < no; i++) {
        printf("TAMPERED - seq=0: %s\n", o[i].what);
        run->tampered = 1;
    }
    if (r == 0 && n == 0 && no == 0)
        ng_warn("the streams hold no records");
    return r;
}

static int scratch_dir(char *dir, size_t size)
{
    const char *t = getenv("TMPDIR");

    if (!t || t[0] != '/')
        t = "/tmp";
    if (snprintf(dir, size, "%s/nsgate-verify-XXXXXX", t) >= (int)size || !mkdtemp(dir))
        return -errno ? -errno : -ENAMETOOLONG;
    return 0;
}

int ng_verify_jsonl(const char *const *files, size_t nfiles, const char *keys_dir,
                    const char *const *keys, size_t nkeys)
{
    uint8_t roots[NG_VERIFY_MAX_KEYS][NG_FSKEY_PK_BYTES];
    struct ng_stream_reader *rd = NULL;
    struct lines l = {0};
    struct run run = {0};
    char dir[4096];
    size_t nroots;
    int r, st = load_keys(keys_dir, keys, nkeys, roots, &nroots);

    if (st)
        return st;
    r = scratch_dir(dir, sizeof(dir));
    if (r < 0) {
        ng_err("cannot make a scratch directory: %s", strerror(-r));
        return NG_EXIT_INTERNAL;
    }
    r = ng_stream_reader_new(dir, &rd);
    for (size_t i = 0; r == 0 && i < nfiles; i++) {
        r = read_file(rd, files[i], &l);
        if (r == -ENOENT || r == -EACCES) {
            ng_err("cannot read %s: %s", files[i], strerror(-r));
            st = NG_EXIT_NOINPUT;
        }
    }
    if (r == 0)
        r = verify_all(rd, roots, nroots, &run);
    ng_stream_reader_free(rd);
    (void)rmdir(dir);
    free(l.buf);
    if (st)
        return st;
    if (r < 0 || fflush(stdout) != 0) {
        ng_err("verification could not finish: %s", strerror(r < 0 ? -r : errno));
        return NG_EXIT_STORAGE;
    }
    return run.tampered ? 1 : run.incomplete ? 2 : 0;
}
