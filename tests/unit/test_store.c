/* The session store against real SQLite files in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../src/store/store_int.h"
#include "nsgate/chain.h"
#include "nsgate/store.h"

static char tmpdir[64];
static char dbpath[128];
#define LATEST (ng_store_migrations[ng_store_nmigrations - 1].version)

static int setup(void **state)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/ng-store-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(dbpath, sizeof(dbpath), "%s/db/sessions.db", tmpdir);
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static char arg0[] = "/bin/sh", arg1[] = "-c", arg2[] = "echo \xff\xfe";
static char *const test_argv[] = {arg0, arg1, arg2, NULL};
static const uint32_t test_groups[] = {10, 20};

static void fill_header(struct ng_session_header *h, const char *user, pid_t pid,
                        const char *container)
{
    memset(h, 0, sizeof(*h));
    h->host = "host1";
    h->user_name = user;
    h->uid = 1000;
    h->gid = 1000;
    h->groups = test_groups;
    h->ngroups = 2;
    h->login_uid = -1;
    h->audit_session = 7;
    h->target_pid = pid;
    h->container = container;
    h->comm = "sleep";
    h->ns = (1u << NG_NS_NET) | (1u << NG_NS_PID);
    h->ns_ino[NG_NS_NET] = 4026531993u;
    h->ns_ino[NG_NS_PID] = 4026531836u;
    h->program = "/bin/sh";
    h->argv = test_argv;
    h->run_as_groups = test_groups;
    h->run_as_ngroups = 1;
    h->reason = "INC-1";
    h->rule = "ops";
    memset(h->policy_hash, 0x5a, sizeof(h->policy_hash));
    h->record_input = 1;
    h->pty = 1;
}

static struct ng_session *begin(struct ng_store *s, const char *user, pid_t pid,
                                const char *container)
{
    struct ng_session_header h;
    struct ng_session *sess = NULL;

    fill_header(&h, user, pid, container);
    assert_int_equal(ng_store_session_begin(s, &h, &sess), 0);
    ng_store_session_coalesce(sess, 0); /* one event per call, unless a test says */
    return sess;
}

static void test_schema_file_matches(void **state)
{
    for (size_t i = 0; i < ng_store_nmigrations; i++) {
        char path[4096], *src = strdup(__FILE__);
        snprintf(path, sizeof(path), "%s/../../schema/%s", dirname(src),
                 ng_store_migrations[i].name);
        free(src);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        static char buf[65536];
        size_t n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        assert_int_equal(n, strlen(ng_store_migrations[i].sql));
        assert_memory_equal(buf, ng_store_migrations[i].sql, n);
        /* numbered by their file, increasing (a number may be skipped) */
        assert_int_equal(ng_store_migrations[i].version, atoi(ng_store_migrations[i].name));
        assert_true(i == 0 || ng_store_migrations[i].version > ng_store_migrations[i - 1].version);
    }
}

static void check_chain(const uint8_t id[16], int64_t want_events)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    uint8_t head[32], h[32];
    int64_t n = 0;

    assert_int_equal(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT * FROM sessions WHERE id=?", -1, &st, NULL), 0);
    sqlite3_bind_blob(st, 1, id, 16, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(ng_store_header_hash(st, head), 0);
    int hc = 0;
    while (hc < sqlite3_column_count(st) && strcmp(sqlite3_column_name(st, hc), "header_hash"))
        hc++;
    assert_true(hc < sqlite3_column_count(st));
    assert_memory_equal(sqlite3_column_blob(st, hc), head, 32);
    sqlite3_finalize(st);
    sqlite3_close(db);
    /* the events as readers get them: data from its block where it is in one */
    struct ng_store *r;
    struct ng_event_iter *it;
    struct ng_event ev;
    assert_int_equal(ng_store_open_readonly(dbpath, &r), 0);
    assert_int_equal(ng_store_events_begin(r, id, &it), 0);
    while (ng_store_events_next(it, &ev) == 1) {
        assert_int_equal(ev.seq, ++n);
        ng_chain_event_hash(id, n, ev.t_ns, ev.kind, ev.data, ev.len, head, h);
        assert_memory_equal(ev.hash, h, 32);
        memcpy(head, h, 32);
    }
    ng_store_events_end(it);
    ng_store_close(r);
    assert_int_equal(n, want_events);
}

static const struct ng_session_info *list_one(struct ng_store *r, const uint8_t *id,
                                              struct ng_session_iter **it)
{
    struct ng_session_filter f = {.id = id};
    const struct ng_session_info *info = NULL;

    assert_int_equal(ng_store_sessions_begin(r, &f, it), 0);
    assert_int_equal(ng_store_sessions_next(*it, &info), 1);
    return info;
}

static void test_record_and_read_back(void **state)
{
    static const char bin[] = "a\0b\xff\xfe\x1b]0;x\x07";
    struct ng_store *s, *r;
    struct ng_session_iter *it;
    struct ng_event_iter *ei;
    struct ng_event ev;
    uint8_t id[16], head[32];

    assert_int_equal(ng_store_open(dbpath, &s), 0);
    assert_int_equal(ng_store_version(s), LATEST);
    struct ng_session *sess = begin(s, "alice", 42, "abcdef012345");
    memcpy(id, ng_store_session_id(sess), 16);
    assert_int_equal(id[6] >> 4, 4); /* UUID v4 */
    assert_int_equal(id[8] & 0xc0, 0x80);
    assert_int_equal(ng_store_event(sess, 'o', bin, sizeof(bin) - 1), 0);
    assert_int_equal(ng_store_event(sess, 'e', "", 0), 0);
    assert_int_equal(ng_store_event(sess, 'r', "80x24", 5), 0);
    assert_int_equal(ng_store_event(sess, 'x', "", 0), -EINVAL);
    assert_int_equal(ng_store_event(sess, 'q', "", 0), -EINVAL);
    assert_int_equal(ng_store_session_seq(sess, NULL), 3);
    assert_int_equal(ng_store_session_committed(sess, head), 0);
    assert_memory_equal(head, ng_store_session_header_hash(sess), 32);

    assert_int_equal(ng_store_open_readonly(dbpath, &r), 0);
    const struct ng_session_info *info = list_one(r, id, &it);
    assert_int_equal(info->state, NG_STATE_OPEN);
    assert_int_equal(info->last_seq, 0); /* still buffered */
    ng_store_sessions_end(it);

    assert_int_equal(ng_store_session_end(sess, 3, "exit"), 0);
    assert_int_equal(ng_store_session_committed(sess, NULL), 4);
    assert_int_equal(ng_store_event(sess, 'o', "late", 4), -EINVAL);
    assert_int_equal(ng_store_session_end(sess, 0, "again"), -EINVAL);
    ng_store_session_free(sess);

    info = list_one(r, id, &it);
    assert_int_equal(info->state, NG_STATE_INCOMPLETE); /* not sealed */
    assert_string_equal(info->user_name, "alice");
    assert_string_equal(info->container, "abcdef012345");
    assert_int_equal(info->target_pid, 42);
    assert_int_equal(info->ns, (1u << NG_NS_NET) | (1u << NG_NS_PID));
    assert_int_equal(info->argv_len, sizeof("/bin/sh-cecho \xff\xfe") - 1 + 3);
    assert_memory_equal(info->argv, "/bin/sh\0-c\0echo \xff\xfe\0", info->argv_len);
    assert_true(info->has_end);
    assert_int_equal(info->exit_status, 3);
    assert_string_equal(info->end_reason, "exit");
    assert_true(info->end_ns >= info->start_ns);
    assert_int_equal(info->last_seq, 4);
    ng_store_sessions_end(it);

    assert_int_equal(ng_store_events_begin(r, id, &ei), 0);
    assert_int_equal(ng_store_events_next(ei, &ev), 1);
    assert_int_equal(ev.kind, 'o');
    assert_int_equal(ev.len, sizeof(bin) - 1);
    assert_memory_equal(ev.data, bin, ev.len);
    assert_int_equal(ng_store_events_next(ei, &ev), 1);
    assert_int_equal(ev.kind, 'e');
    assert_int_equal(ev.len, 0);
    assert_int_equal(ng_store_events_next(ei, &ev), 1);
    assert_int_equal(ev.kind, 'r');
    assert_int_equal(ng_store_events_next(ei, &ev), 1);
    assert_int_equal(ev.kind, 'x');
    assert_int_equal(ev.seq, 4);
    assert_int_equal(ng_store_events_next(ei, &ev), 0);
    ng_store_events_end(ei);
    check_chain(id, 4);

    /* Seals are numbered per chain; one covering the exit event makes the
     * session sealed, a later heartbeat over an earlier seq would not. */
    struct ng_seal_fields seal = {.last_seq = 3, .wall_ns = 1, .boot_ns = 1};
    uint8_t sig[NG_SEAL_SIG_BYTES] = {0};
    memcpy(seal.chain_id, id, 16);
    assert_int_equal(ng_store_add_seal(s, &seal, sig), 0);
    info = list_one(r, id, &it);
    assert_int_equal(info->state, NG_STATE_INCOMPLETE); /* tail not sealed */
    ng_store_sessions_end(it);
    seal.last_seq = 4;
    assert_int_equal(ng_store_add_seal(s, &seal, sig), 0);
    assert_int_equal(ng_store_add_seal(r, &seal, sig), -EROFS);
    seal.epoch = UINT64_MAX;
    assert_int_equal(ng_store_add_seal(s, &seal, sig), -ERANGE);
    info = list_one(r, id, &it);
    assert_int_equal(info->state, NG_STATE_SEALED);
    ng_store_sessions_end(it);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(s->db,
                                        "SELECT group_concat(sealno || ':' || seq) "
                                        "FROM seals WHERE session = ?",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_blob(st, 1, id, 16, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "1:3,2:4");
    sqlite3_finalize(st);
    ng_store_close(r);
    ng_store_close(s);
}

static void test_batching(void **state)
{
    static uint8_t chunk[1024], big[NG_STORE_BATCH_BYTES + 1024];
    const int64_t n = NG_STORE_BATCH_BYTES / 1024; /* chunks that fill the buffer */
    struct ng_store *s;
    uint8_t head[32], head2[32];

    memset(chunk, 'z', sizeof(chunk));
    memset(big, 'B', sizeof(big));
    assert_int_equal(ng_store_open(dbpath, &s), 0);
    struct ng_session *sess = begin(s, "bob", 1, NULL);
    for (int64_t i = 0; i < n; i++)
        assert_int_equal(ng_store_event(sess, 'o', chunk, sizeof(chunk)), 0);
    /* Exactly the buffer's size buffered: nothing written yet. */
    assert_int_equal(ng_store_session_committed(sess, NULL), 0);
    assert_int_equal(ng_store_event(sess, 'o', chunk, sizeof(chunk)), 0);
    assert_int_equal(ng_store_session_committed(sess, NULL), n);
    assert_int_equal(ng_store_session_seq(sess, head), n + 1);
    assert_int_equal(ng_store_flush(sess), 0);
    assert_int_equal(ng_store_session_committed(sess, head2), n + 1);
    assert_memory_equal(head, head2, 32);
    /* Bigger than the buffer: written at once, in a batch of its own. */
    assert_int_equal(ng_store_event(sess, 'o', big, sizeof(big)), 0);
    assert_int_equal(ng_store_session_committed(sess, NULL), n + 2);
    assert_int_equal(ng_store_event(sess, 'o', big, NG_STORE_EVENT_MAX + 1), -EMSGSIZE);
    assert_int_equal(ng_store_session_end(sess, 0, "exit"), 0);
    check_chain(ng_store_session_id(sess), n + 3);
    /* Schema 5: the two batches of the buffer are compressed blocks (the
     * repeated bytes to almost nothing), their rows' data empty; the event
     * bigger than the buffer stays in its row. */
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(s->db,
                                        "SELECT count(*), sum(raw_len), sum(length(data)), "
                                        "min(first_seq), max(last_seq) FROM event_blocks "
                                        "WHERE session = ?",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_blob(st, 1, ng_store_session_id(sess), 16, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(st, 0), 2);
    assert_int_equal(sqlite3_column_int64(st, 1), (n + 1) * 1024);
    assert_true(sqlite3_column_int64(st, 2) < 4096);
    assert_int_equal(sqlite3_column_int64(st, 3), 1);
    assert_int_equal(sqlite3_column_int64(st, 4), n + 1);
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(s->db,
                                        "SELECT sum(block_len IS NOT NULL), sum(length(data)) "
                                        "FROM events WHERE session = ? AND seq <= ?",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_blob(st, 1, ng_store_session_id(sess), 16, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, n + 2);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(st, 0), n + 1);
    assert_int_equal(sqlite3_column_int64(st, 1), sizeof(big));
    sqlite3_finalize(st);
    ng_store_session_free(sess);
    ng_store_close(s);
}

/* A follower resuming after a seq inside a compressed block (a seal can
 * fall within a batch): the events after it, with their exact bytes, for
 * every place it can resume; and the same through a store with blocks and
 * rows of their own between them ('r' events keep their data in the row). */
static void test_resume_inside_block(void **state)
{
    struct ng_store *s, *rd;
    struct ng_event_iter *it;
    struct ng_event ev;
    uint8_t chunk[100];
    const int64_t n = 40;

    assert_int_equal(ng_store_open(dbpath, &s), 0);
    struct ng_session *sess = begin(s, "bob", 1, NULL);
    for (int64_t i = 1; i <= n; i++) {
        memset(chunk, (int)('a' + i % 26), sizeof(chunk));
        if (i % 7 == 0)
            assert_int_equal(ng_store_event(sess, 'r', "80x24", 5), 0);
        else
            assert_int_equal(ng_store_event(sess, 'o', chunk, (size_t)i), 0);
        if (i % 16 == 0)
            assert_int_equal(ng_store_flush(sess), 0); /* blocks 1..16, 17..32, 33.. */
    }
    assert_int_equal(ng_store_flush(sess), 0);
    assert_int_equal(ng_store_open_readonly(dbpath, &rd), 0);
    for (int64_t after = 0; after <= n; after++) {
        int64_t want = after + 1;
        assert_int_equal(ng_store_events_after(rd, ng_store_session_id(sess), after, &it), 0);
        while (ng_store_events_next(it, &ev) == 1) {
            assert_int_equal(ev.seq, want);
            if (want % 7 == 0) {
                assert_int_equal(ev.kind, 'r');
            } else {
                assert_int_equal(ev.len, (size_t)want);
                assert_int_equal(ev.data[0], 'a' + want % 26);
            }
            want++;
        }
        assert_int_equal(want, n + 1);
        ng_store_events_end(it);
    }
    ng_store_close(rd);
    assert_int_equal(ng_store_session_end(sess, 0, "exit"), 0);
    ng_store_session_free(sess);
    ng_store_close(s);
}

/* Output read in quick succession joins the open event (up to 64 KiB, of
 * the same kind, while the window lasts); anything else closes it. */
static void test_coalescing(void **state)
{
    static uint8_t chunk[4096];
    struct ng_store *s;
    struct ng_event_iter *ei;
    struct ng_event ev;
    uint8_t id[16];

    for (size_t j = 0; j < sizeof(chunk); j++)
        chunk[j] = (uint8_t)('a' + j % 26);
    assert_int_equal(ng_store_open(dbpath, &s), 0);
    struct ng_session *sess = begin(s, "dave", 1, NULL);
    ng_store_session_coalesce(sess, 3600LL * 1000000000LL); /* a window no test outlasts */
    memcpy(id, ng_store_session_id(sess), 16);
    for (int i = 0; i < 20; i++) /* 80 KiB: 16 reads fill one event, 4 the next */
        assert_int_equal(ng_store_event(sess, 'o', chunk, sizeof(chunk)), 0);
    assert_int_equal(ng_store_session_seq(sess, NULL), 2);
    assert_int_equal(ng_store_event(sess, 'e', "err", 3), 0); /* another kind: a new event */
    assert_int_equal(ng_store_event(sess, 'i', "k", 1), 0);   /* input never grows */
    assert_int_equal(ng_store_event(sess, 'i', "l", 1), 0);
    assert_int_equal(ng_store_event(sess, 'o', chunk, 10), 0);
    assert_int_equal(ng_store_flush(sess), 0); /* a flush closes the open event */
    assert_int_equal(ng_store_event(sess, 'o', chunk, 10), 0);
    ng_store_session_coalesce(sess, 0);
    assert_int_equal(ng_store_event(sess, 'o', chunk, 10), 0);
    assert_int_equal(ng_store_session_end(sess, 0, "exit"), 0);
    check_chain(id, 9);
    ng_store_session_free(sess);
    ng_store_close(s);

    struct ng_store *r;
    static const size_t want[] = {65536, 16384, 3, 1, 1, 10, 10, 10};
    static const char kinds[] = "ooeiiooo";
    assert_int_equal(ng_store_open_readonly(dbpath, &r), 0);
    assert_int_equal(ng_store_events_begin(r, id, &ei), 0);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(ng_store_events_next(ei, &ev), 1);
        assert_int_equal(ev.len, want[i]);
        assert_int_equal(ev.kind, kinds[i]);
        if (ev.kind == 'o')
            for (size_t j = 0; j < ev.len; j++)
                assert_int_equal(ev.data[j], 'a' + j % sizeof(chunk) % 26);
    }
    ng_store_events_end(ei);
    ng_store_close(r);
}

static void disk_full(int async)
{
    static uint8_t chunk[64 * 1024];
    struct ng_store *s, *r;
    int rc = 0, i;
    uint8_t id[16];

    srand(7); /* noise: compressed blocks as big as the data */
    for (size_t j = 0; j < sizeof(chunk); j++)
        chunk[j] = (uint8_t)rand();
    assert_int_equal(ng_store_open(dbpath, &s), 0);
    struct ng_session *sess = begin(s, "carol", 1, NULL);
    if (async)
        ng_store_session_async(sess);
    memcpy(id, ng_store_session_id(sess), 16);
    assert_int_equal(ng_store_event(sess, 'o', "kept", 4), 0);
    assert_int_equal(ng_store_flush(sess), 0);
    /* The file may grow only a little more: SQLITE_FULL, as on a full disk. */
    sqlite3_stmt *st;
    char sql[64];
    assert_int_equal(sqlite3_prepare_v2(s->db, "PRAGMA page_count", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %d", sqlite3_column_int(st, 0) + 40);
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_exec(s->db, sql, NULL, NULL, NULL), SQLITE_OK);
    for (i = 0; i < 200 && rc == 0; i++)
        rc = ng_store_event(sess, 'o', chunk, sizeof(chunk));
    assert_int_equal(rc, -ENOSPC);
    assert_int_equal(ng_store_event(sess, 'o', "x", 1), -ENOSPC); /* sticky */
    int64_t committed = ng_store_session_committed(sess, NULL);
    assert_true(committed >= 1);
    int end_rc = ng_store_session_end(sess, 74, "storage"); /* may or may not fit */
    assert_true(end_rc == 0 || end_rc == -ENOSPC);
    ng_store_session_free(sess);
    ng_store_close(s);

    /* Everything committed is readable and chains. */
    assert_int_equal(ng_store_open_readonly(dbpath, &r), 0);
    struct ng_event_iter *ei;
    struct ng_event ev;
    assert_int_equal(ng_store_events_begin(r, id, &ei), 0);
    assert_int_equal(ng_store_events_next(ei, &ev), 1);
    assert_memory_equal(ev.data, "kept", 4);
    int64_t n = 1;
    while (ng_store_events_next(ei, &ev) == 1)
        n++;
    ng_store_events_end(ei);
    ng_store_close(r);
    assert_int_equal(n, committed + (end_rc == 0));
    check_chain(id, n);
}

static void test_disk_full(void **state)
{
    (void)state;
    disk_full(0);
}

/* The same failure met while a batch is prepared on the worker thread:
 * nothing after the last commit is kept, the end chains onto it. */
static void test_disk_full_async(void **state)
{
    (void)state;
    disk_full(1);
}

/* One session's events, the same for every caller: output of text and of
 * noise in pieces of many sizes, input, resizes, commands, big events. */
static void feed(struct ng_session *sess)
{
    static uint8_t big[NG_STORE_BATCH_BYTES + 4096], piece[70000];
    uint32_t x = 12345;

    for (size_t j = 0; j < sizeof(big); j++)
        big[j] = (uint8_t)('A' + j % 23);
    for (int i = 0; i < 3000; i++) {
        size_t len = (size_t)(i * 7919 % (int)sizeof(piece));
        for (size_t j = 0; j < len; j++) {
            x = x * 1103515245u + 12345u;
            piece[j] = i % 3 ? (uint8_t)(x >> 24) : (uint8_t)('a' + j % 26);
        }
        char kind = "ooeoir"[i % 6];
        assert_int_equal(ng_store_event(sess, kind, piece, kind == 'r' ? 5 : len), 0);
        if (i % 1000 == 999)
            assert_int_equal(ng_store_event(sess, 'o', big, sizeof(big)), 0);
        if (i == 1500)
            assert_int_equal(ng_store_flush(sess), 0);
    }
}

static int64_t read_all(struct ng_store *r, const uint8_t *id, uint8_t digest[32])
{
    struct ng_event_iter *it;
    struct ng_event ev;
    crypto_generichash_state h;
    int64_t n = 0;

    crypto_generichash_init(&h, NULL, 0, 32);
    assert_int_equal(ng_store_events_begin(r, id, &it), 0);
    while (ng_store_events_next(it, &ev) == 1) {
        n++;
        if (ev.kind != 'x') {
            crypto_generichash_update(&h, (const uint8_t *)&ev.kind, 1);
            crypto_generichash_update(&h, ev.data, ev.len);
        }
    }
    ng_store_events_end(it);
    crypto_generichash_final(&h, digest, 32);
    return n;
}

/* Batches prepared on the worker thread (ng_store_session_async) give the
 * same events, a chain that verifies, commits one batch behind at most,
 * and everything committed after a flush. */
static void test_async_batches(void **state)
{
    static uint8_t chunk[4096];
    struct ng_store *s, *r;
    uint8_t id[2][16], d[2][32], head[32], head2[32];
    int64_t n[2];

    (void)state;
    memset(chunk, 'q', sizeof(chunk));
    assert_int_equal(ng_store_open(dbpath, &s), 0);
    for (int a = 0; a < 2; a++) {
        struct ng_session *sess = begin(s, "erin", 1, NULL);
        if (a)
            ng_store_session_async(sess);
        memcpy(id[a], ng_store_session_id(sess), 16);
        feed(sess);
        assert_int_equal(ng_store_session_end(sess, 0, "exit"), 0);
        ng_store_session_free(sess);
    }
    /* The lag: three full batches and one event queued; the third batch is
     * with the worker, the two before it committed (written here, all
     * three would be). */
    struct ng_session *sess = begin(s, "erin", 1, NULL);
    ng_store_session_async(sess);
    const int64_t per = NG_STORE_BATCH_BYTES / sizeof(chunk);
    for (int64_t i = 0; i < 3 * per + 1; i++)
        assert_int_equal(ng_store_event(sess, 'o', chunk, sizeof(chunk)), 0);
    int64_t c = ng_store_session_committed(sess, NULL);
    assert_int_equal(c, 2 * per);
    assert_int_equal(ng_store_session_seq(sess, head), 3 * per + 1);
    assert_int_equal(ng_store_flush(sess), 0);
    assert_int_equal(ng_store_session_committed(sess, head2), 3 * per + 1);
    assert_memory_equal(head, head2, 32);
    assert_int_equal(ng_store_session_end(sess, 0, "exit"), 0);
    uint8_t id3[16];
    memcpy(id3, ng_store_session_id(sess), 16);
    ng_store_session_free(sess);
    ng_store_close(s);

    assert_int_equal(ng_store_open_readonly(dbpath, &r), 0);
    for (int a = 0; a < 2; a++)
        n[a] = read_all(r, id[a], d[a]);
    ng_store_close(r);
    assert_int_equal(n[0], n[1]);
    assert_memory_equal(d[0], d[1], 32);
    check_chain(id[0], n[0]);
    check_chain(id[1], n[1]);
    check_chain(id3, 3 * per + 2);
}

/* The batch thread's checkpoint connection opens the database by its path
 * again: a file put in its place meanwhile is refused, not checkpointed. */
static void test_peer_identity(void **state)
{
    char other[160];
    struct ng_store *s, *o;
    sqlite3 *peer = NULL;

    (void)state;
    snprintf(other, sizeof(other), "%s/db/other.db", tmpdir);
    assert_int_equal(ng_store_open(dbpath, &s), 0);
    assert_int_equal(ng_store_open_peer(s, &peer), 0);
    sqlite3_close_v2(peer);
    assert_int_equal(ng_store_open(other, &o), 0);
    ng_store_close(o);
    char moved[160];
    snprintf(moved, sizeof(moved), "%s.moved", dbpath);
    assert_int_equal(rename(dbpath, moved), 0);
    assert_int_equal(rename(other, dbpath), 0);
    peer = NULL;
    assert_int_equal(ng_store_open_peer(s, &peer), -ESTALE);
    assert_null(peer);
    ng_store_close(s);
    assert_int_equal(rename(moved, dbpath), 0);
}

static void test_path_checks(void **state)
{
    char link[160], gw[160], other[160];
    struct ng_store *s;

    /* A symlink at the database path. */
    snprintf(other, sizeof(other), "%s/other.db", tmpdir);
    snprintf(link, sizeof(link), "%s/db/link.db", tmpdir);
    assert_int_equal(ng_store_open(dbpath, &s), 0);
    ng_store_close(s);
    assert_int_equal(symlink(dbpath, link), 0);
    assert_int_equal(ng_store_open(link, &s), -ELOOP);
    assert_int_equal(ng_store_open_readonly(link, &s), -ELOOP);
    assert_int_equal(unlink(link), 0);
    assert_int_equal(symlink(other, link), 0); /* dangling: not created through it */
    assert_int_equal(ng_store_open(link, &s), -ELOOP);
    assert_int_equal(access(other, F_OK), -1);
    assert_int_equal(unlink(link), 0);

    /* A group-writable or other-writable directory. */
    snprintf(gw, sizeof(gw), "%s/gw", tmpdir);
    assert_int_equal(mkdir(gw, 0700), 0);
    assert_int_equal(chmod(gw, 0770), 0);
    snprintf(gw, sizeof(gw), "%s/gw/sessions.db", tmpdir);
    assert_int_equal(ng_store_open(gw, &s), -EPERM);
    snprintf(gw, sizeof(gw), "%s/gw", tmpdir);
    assert_int_equal(chmod(gw, 0702), 0);
    snprintf(gw, sizeof(gw), "%s/gw/sessions.db", tmpdir);
    assert_int_equal(ng_store_open(gw, &s), -EPERM);

    /* A missing directory is created 0700. */
    struct stat st;
    snprintf(gw, sizeof(gw), "%s/new/s.db", tmpdir);
    assert_int_equal(ng_store_open(gw, &s), 0);
    ng_store_close(s);
    snprintf(gw, sizeof(gw), "%s/new", tmpdir);
    assert_int_equal(stat(gw, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);

    /* Readers: no such file. */
    snprintf(gw, sizeof(gw), "%s/new/none.db", tmpdir);
    assert_int_equal(ng_store_open_readonly(gw, &s), -ENOENT);
}

static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* The compiled rows (generated at build time) are what this SQLite makes of
 * the migrations, and a store of the newest version takes the fast path. */
static void test_schema_rows_compiled(void **state)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    size_t n = 0;
    char p[160];
    struct ng_store *s;

    assert_int_equal(ng_store_schema_rows_version, LATEST);
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    for (size_t i = 0; i < ng_store_nmigrations; i++)
        assert_int_equal(sqlite3_exec(db, ng_store_migrations[i].sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, NG_STORE_SCHEMA_ROWS, -1, &st, NULL), SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const struct ng_store_schema_row *row = &ng_store_schema_rows[n++];
        const char *want[4] = {row->type, row->name, row->tbl_name, row->sql};
        assert_true(n <= ng_store_nschema_rows);
        for (int c = 0; c < 4; c++) {
            const char *got = (const char *)sqlite3_column_text(st, c);
            assert_true(!got == !want[c]);
            if (got)
                assert_string_equal(got, want[c]);
        }
    }
    assert_int_equal(n, ng_store_nschema_rows);
    sqlite3_finalize(st);
    sqlite3_close(db);

    snprintf(p, sizeof(p), "%s/v/fast.db", tmpdir);
    assert_int_equal(ng_store_open(p, &s), 0);
    assert_true(s->schema_fast);
    assert_true(s->cmd_index);
    ng_store_close(s);
    assert_int_equal(ng_store_open_readonly(p, &s), 0);
    assert_true(s->schema_fast);
    /* A reader knows which file it opened (a follower's rotation check). */
    struct stat sb;
    uint64_t dev, ino;
    assert_int_equal(stat(p, &sb), 0);
    ng_store_file_id(s, &dev, &ino);
    assert_true(dev == (uint64_t)sb.st_dev && ino == (uint64_t)sb.st_ino);
    ng_store_close(s);
    /* Without the command index the full check decides (and accepts). */
    raw_exec(p, "DROP TABLE cache_commands");
    assert_int_equal(ng_store_open_readonly(p, &s), 0);
    assert_false(s->schema_fast);
    assert_false(s->cmd_index);
    ng_store_close(s);
    /* A store whose text differs from the compiled rows only in what a
     * different SQLite might write is still the full check's to decide:
     * here a changed table, refused. */
    raw_exec(p, "PRAGMA writable_schema = ON; UPDATE sqlite_schema SET sql = "
                "replace(sql, 'STRICT', 'STRICT ') WHERE name = 'certs'");
    assert_int_equal(ng_store_open_readonly(p, &s), -EBADMSG);
}

static void test_schema_versions(void **state)
{
    char p[160];
    struct ng_store *s;

    snprintf(p, sizeof(p), "%s/v/s.db", tmpdir);
    assert_int_equal(ng_store_open(p, &s), 0);
    ng_store_close(s);
    /* Extra cache_ tables are derived data: accepted. */
    raw_exec(p, "CREATE TABLE cache_extra(x)");
    assert_int_equal(ng_store_open_readonly(p, &s), 0);
    ng_store_close(s);
    /* So is the command index: dropped, the store still opens (both ways). */
    raw_exec(p, "DROP TABLE cache_commands");
    assert_int_equal(ng_store_open_readonly(p, &s), 0);
    ng_store_close(s);
    assert_int_equal(ng_store_open(p, &s), 0);
    ng_store_close(s);
    /* A view, a trigger or a changed table is not the shipped schema. */
    raw_exec(p, "CREATE VIEW cache_v AS SELECT 1");
    assert_int_equal(ng_store_open_readonly(p, &s), -EBADMSG);
    raw_exec(p, "DROP VIEW cache_v; CREATE TRIGGER t AFTER INSERT ON events BEGIN SELECT 1; END");
    assert_int_equal(ng_store_open_readonly(p, &s), -EBADMSG);
    assert_int_equal(ng_store_open(p, &s), -EBADMSG);
    raw_exec(p, "DROP TRIGGER t; ALTER TABLE events ADD COLUMN evil TEXT");
    assert_int_equal(ng_store_open_readonly(p, &s), -EBADMSG);

    /* A newer version is refused by recorders and readers. */
    snprintf(p, sizeof(p), "%s/v/n.db", tmpdir);
    assert_int_equal(ng_store_open(p, &s), 0);
    ng_store_close(s);
    char newer[64];
    snprintf(newer, sizeof(newer), "PRAGMA user_version = %d", LATEST + 1);
    raw_exec(p, newer);
    assert_int_equal(ng_store_open(p, &s), -EPROTONOSUPPORT);
    assert_int_equal(ng_store_open_readonly(p, &s), -EPROTONOSUPPORT);

    /* Some other application's database. */
    snprintf(p, sizeof(p), "%s/v/o.db", tmpdir);
    raw_exec(p, "CREATE TABLE t(x)");
    assert_int_equal(ng_store_open(p, &s), -EBADMSG);
    raw_exec(p, "PRAGMA application_id = 7");
    assert_int_equal(ng_store_open_readonly(p, &s), -EBADMSG);
}

static void set_id(struct ng_store *s, const uint8_t *old, const char *hex)
{
    char sql[200];
    sqlite3_stmt *st;
    snprintf(sql, sizeof(sql), "UPDATE sessions SET id = X'%s' WHERE id = ?", hex);
    assert_int_equal(sqlite3_prepare_v2(s->db, sql, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_blob(st, 1, old, 16, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
}

static void test_prefix_lookup(void **state)
{
    char p[160], text[NG_UUID_STR];
    struct ng_store *s;
    uint8_t id[16];
    static const char *ids[] = {
        "12345678aaaa4aaa8aaaaaaaaaaaaaaa", "12345678bbbb4bbb8bbbbbbbbbbbbbbb",
        "9abcdef0000040008000000000000000", "ffffffffffff4fff8fffffffffffffff"};

    snprintf(p, sizeof(p), "%s/p/s.db", tmpdir);
    assert_int_equal(ng_store_open(p, &s), 0);
    for (size_t i = 0; i < 4; i++) {
        struct ng_session *sess = begin(s, "dave", 1, NULL);
        assert_int_equal(ng_store_session_end(sess, 0, "exit"), 0);
        set_id(s, ng_store_session_id(sess), ids[i]);
        ng_store_session_free(sess);
    }
    assert_int_equal(ng_store_find_session(s, "123456", id), -ENOTUNIQ);
    assert_int_equal(ng_store_find_session(s, "12345678-a", id), 0);
    ng_uuid_format(id, text);
    assert_string_equal(text, "12345678-aaaa-4aaa-8aaa-aaaaaaaaaaaa");
    assert_int_equal(ng_store_find_session(s, "12345678BBBB", id), 0);
    assert_int_equal(id[4], 0xbb);
    assert_int_equal(ng_store_find_session(s, "9abcdef0-0000-4000-8000-000000000000", id), 0);
    assert_int_equal(ng_store_find_session(s, "ffffff", id), 0);
    assert_int_equal(id[15], 0xff);
    assert_int_equal(ng_store_find_session(s, "12345", id), -EINVAL);
    assert_int_equal(ng_store_find_session(s, "1234567-8", id), -EINVAL);
    assert_int_equal(ng_store_find_session(s, "12345g", id), -EINVAL);
    assert_int_equal(ng_store_find_session(s, "000000", id), -ENOENT);
    assert_int_equal(ng_store_find_session(s, "9abcdf", id), -ENOENT);
    ng_store_close(s);
}

static int count(struct ng_store *r, const struct ng_session_filter *f)
{
    struct ng_session_iter *it;
    const struct ng_session_info *info;
    int n = 0, rc;
    int64_t prev = INT64_MAX;

    assert_int_equal(ng_store_sessions_begin(r, f, &it), 0);
    while ((rc = ng_store_sessions_next(it, &info)) == 1) {
        assert_true(info->start_ns <= prev); /* newest first */
        prev = info->start_ns;
        n++;
    }
    assert_int_equal(rc, 0);
    ng_store_sessions_end(it);
    return n;
}

static void test_filters_and_grep(void **state)
{
    char p[160];
    struct ng_store *s, *r;
    uint8_t a[16], b[16];

    snprintf(p, sizeof(p), "%s/f/s.db", tmpdir);
    assert_int_equal(ng_store_open(p, &s), 0);
    struct ng_session *sa = begin(s, "erin", 100, "0123456789ab");
    struct ng_session *sb = begin(s, "frank", 200, NULL);
    memcpy(a, ng_store_session_id(sa), 16);
    memcpy(b, ng_store_session_id(sb), 16);
    /* Two recorders, one file, interleaved. */
    assert_int_equal(ng_store_event(sa, 'o', "hel", 3), 0);
    assert_int_equal(ng_store_event(sb, 'o', "nothing", 7), 0);
    assert_int_equal(ng_store_flush(sb), 0);
    assert_int_equal(ng_store_event(sa, 'o', "LO Wor\0ld", 9), 0);
    assert_int_equal(ng_store_session_end(sa, 0, "exit"), 0);
    assert_int_equal(ng_store_session_end(sb, 0, "exit"), 0);
    ng_store_session_free(sa);
    ng_store_session_free(sb);

    assert_int_equal(ng_store_open_readonly(p, &r), 0);
    struct ng_session_filter f = {0};
    assert_int_equal(count(r, &f), 2);
    f.user = "erin";
    assert_int_equal(count(r, &f), 1);
    f.user = NULL;
    f.target = "200";
    assert_int_equal(count(r, &f), 1);
    f.target = "01234";
    assert_int_equal(count(r, &f), 1);
    f.target = "1234";
    assert_int_equal(count(r, &f), 0);
    f.target = NULL;
    f.since_ns = ng_store_clock_ns(CLOCK_REALTIME) + 1000000000LL;
    assert_int_equal(count(r, &f), 0);
    f.since_ns = 0;
    f.until_ns = 1;
    assert_int_equal(count(r, &f), 0);

    assert_int_equal(ng_store_session_grep(r, a, "hello wor", 9), 1); /* across events */
    assert_int_equal(ng_store_session_grep(r, a, "wor\0l", 5), 1);
    assert_int_equal(ng_store_session_grep(r, a, "exit", 4), 0); /* x events not searched */
    assert_int_equal(ng_store_session_grep(r, b, "hello", 5), 0);
    assert_int_equal(ng_store_session_grep(r, b, "NOTH", 4), 1);
    ng_store_close(r);
    ng_store_close(s);
}

static void test_certs_and_ledger(void **state)
{
    char p[160];
    struct ng_store *s;
    uint8_t root[32], other[32], id[16], v[32], h1[32], h2[32], h[32], zero[32] = {0};
    struct ng_fskey_cert c = {.epoch = 0, .start_ns = 1000};
    int64_t seq;

    memset(root, 1, sizeof(root));
    memset(other, 2, sizeof(other));
    memset(c.pk, 3, sizeof(c.pk));
    memset(c.sig, 4, sizeof(c.sig));
    snprintf(p, sizeof(p), "%s/k/s.db", tmpdir);
    assert_int_equal(ng_store_open(p, &s), 0);
    assert_int_equal(ng_store_add_cert(s, root, 900, &c), 0);
    assert_int_equal(ng_store_add_cert(s, root, 900, &c), 0);      /* copied again: fine */
    assert_int_equal(ng_store_add_cert(s, root, 60, &c), -EEXIST); /* other length */
    c.sig[0] ^= 1;
    assert_int_equal(ng_store_add_cert(s, root, 900, &c), -EEXIST); /* other cert */
    assert_int_equal(ng_store_add_cert(s, other, 900, &c), 0);      /* another root */
    c.epoch = 1;
    assert_int_equal(ng_store_add_cert(s, root, 900, &c), 0);

    memset(id, 9, sizeof(id));
    memset(v, 7, sizeof(v));
    assert_int_equal(ng_store_ledger_append(s, id, NG_LEDGER_START, 0, v, &seq, h1), 0);
    assert_int_equal(seq, 1);
    assert_int_equal(ng_store_ledger_append(s, id, NG_LEDGER_END, 5, v, &seq, h2), 0);
    assert_int_equal(seq, 2);
    assert_int_equal(ng_store_ledger_append(s, id, 7, 5, v, &seq, h), -EINVAL);

    /* The stored entries chain as chain.h says. */
    sqlite3_stmt *st;
    assert_int_equal(
        sqlite3_prepare_v2(s->db, "SELECT wall_ns, hash FROM ledger ORDER BY seq", -1, &st, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    ng_chain_ledger_hash(1, id, "start", sqlite3_column_int64(st, 0), 0, v, zero, h);
    assert_memory_equal(h, h1, 32);
    assert_memory_equal(sqlite3_column_blob(st, 1), h1, 32);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    ng_chain_ledger_hash(2, id, "end", sqlite3_column_int64(st, 0), 5, v, h1, h);
    assert_memory_equal(h, h2, 32);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    ng_store_close(s);
}

static void test_reviewers_group(void **state)
{
    char d[160], f[256];
    struct ng_store *s;
    struct stat st;

    if (geteuid() != 0)
        skip(); /* chown to a foreign group needs root */
    snprintf(d, sizeof(d), "%s/rg", tmpdir);
    assert_int_equal(mkdir(d, 0750), 0);
    assert_int_equal(chown(d, 0, 12345), 0);
    assert_int_equal(chmod(d, 0750), 0);
    snprintf(f, sizeof(f), "%s/s.db", d);
    assert_int_equal(ng_store_open(f, &s), 0);
    struct ng_session *sess = begin(s, "gina", 1, NULL);
    assert_int_equal(ng_store_event(sess, 'o', "x", 1), 0);
    assert_int_equal(ng_store_flush(sess), 0);
    const char *files[] = {"s.db", "s.db-wal", "s.db-shm", "s.db-live"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(f, sizeof(f), "%s/%s", d, files[i]);
        assert_int_equal(lstat(f, &st), 0);
        assert_int_equal(st.st_gid, 12345);
        assert_int_equal(st.st_mode & 07777, i == 3 ? 0750 : 0640);
    }
    char idtext[NG_UUID_STR];
    ng_uuid_format(ng_store_session_id(sess), idtext);
    snprintf(f, sizeof(f), "%s/s.db-live/%s", d, idtext);
    assert_int_equal(lstat(f, &st), 0);
    assert_int_equal(st.st_gid, 12345);
    assert_int_equal(st.st_mode & 07777, 0640);
    ng_store_session_free(sess);
    ng_store_close(s);
}

/* Many recorders, one file: every session complete, every chain intact. */
static void test_concurrent_recorders(void **state)
{
    enum { PROCS = 8, EVENTS = 300 };
    char p[160];
    struct ng_store *s;

    snprintf(p, sizeof(p), "%s/c/s.db", tmpdir);
    assert_int_equal(ng_store_open(p, &s), 0); /* created once, before the race */
    ng_store_close(s);
    for (int i = 0; i < PROCS; i++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            static uint8_t chunk[2048];
            int rc = ng_store_open(p, &s);
            struct ng_session_header h;
            struct ng_session *sess = NULL;
            fill_header(&h, "conc", 1, NULL);
            int64_t lseq;
            uint8_t lhash[32];
            rc = rc ?: ng_store_session_begin(s, &h, &sess);
            if (rc == 0)
                ng_store_session_coalesce(sess, 0);
            rc = rc
                     ?: ng_store_ledger_append(s, ng_store_session_id(sess), NG_LEDGER_START, 0,
                                               ng_store_session_header_hash(sess), &lseq, lhash);
            for (int k = 0; rc == 0 && k < EVENTS; k++) {
                rc = ng_store_event(sess, 'o', chunk, sizeof(chunk));
                if (rc == 0 && k % 50 == 0)
                    rc = ng_store_flush(sess);
            }
            rc = rc ?: ng_store_session_end(sess, 0, "exit");
            uint8_t head[32];
            int64_t last = sess ? ng_store_session_committed(sess, head) : 0;
            rc = rc
                     ?: ng_store_ledger_append(s, ng_store_session_id(sess), NG_LEDGER_END, last,
                                               head, &lseq, lhash);
            _exit(rc == 0 ? 0 : 1);
        }
    }
    for (int i = 0; i < PROCS; i++) {
        int status;
        assert_true(wait(&status) > 0);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    struct ng_session_iter *it;
    const struct ng_session_info *info;
    struct ng_session_filter f = {0};
    int n = 0;
    assert_int_equal(ng_store_open_readonly(p, &s), 0);
    assert_int_equal(ng_store_sessions_begin(s, &f, &it), 0);
    while (ng_store_sessions_next(it, &info) == 1) {
        assert_int_equal(info->last_seq, EVENTS + 1);
        assert_true(info->has_end);
        n++;
    }
    ng_store_sessions_end(it);
    ng_store_close(s);
    assert_int_equal(n, PROCS);

    /* The ledger: 2 entries per session, seq 1..2*PROCS, each chained onto
     * the one before, although the recorders appended at the same time. */
    sqlite3 *db;
    sqlite3_stmt *st;
    uint8_t prev[32] = {0}, hh[32];
    int64_t seq = 0;
    assert_int_equal(sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT seq, session, kind, wall_ns, event_seq, "
                                        "value, hash FROM ledger ORDER BY seq",
                                        -1, &st, NULL),
                     SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        assert_int_equal(sqlite3_column_int64(st, 0), ++seq);
        ng_chain_ledger_hash(seq, sqlite3_column_blob(st, 1),
                             (const char *)sqlite3_column_text(st, 2), sqlite3_column_int64(st, 3),
                             sqlite3_column_int64(st, 4), sqlite3_column_blob(st, 5), prev, hh);
        assert_memory_equal(sqlite3_column_blob(st, 6), hh, 32);
        memcpy(prev, hh, 32);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    assert_int_equal(seq, 2 * PROCS);
}

static void add_cmd(struct ng_session *sess, const char *argv_json)
{
    char buf[512];
    int n = snprintf(buf, sizeof(buf),
                     "{\"t_ns\":1,\"pid\":2,\"ppid\":1,\"uid\":0,\"gid\":0,\"cwd\":\"/\","
                     "\"path\":\"x\",\"exe\":null,\"argv\":%s,\"result\":0,\"verified\":true}",
                     argv_json);
    assert_int_equal(ng_store_event(sess, 'c', buf, (size_t)n), 0);
}

/* Found sessions by command, in order, as a string of users. */
static void search(const char *path, const char *glob, const char *want)
{
    struct ng_store *r;
    struct ng_session_iter *it;
    const struct ng_session_info *in;
    struct ng_session_filter f = {.command = glob};
    char got[256] = "";

    assert_int_equal(ng_store_open_readonly(path, &r), 0);
    assert_int_equal(ng_store_sessions_begin(r, &f, &it), 0);
    while (ng_store_sessions_next(it, &in) == 1)
        snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s(%lld)", *got ? " " : "",
                 in->user_name, (long long)in->commands);
    ng_store_sessions_end(it);
    ng_store_close(r);
    assert_string_equal(got, want);
}

/* sessions --command: answered by the index, re-checked against the covered
 * events (a rewritten index row adds nothing), and without the index by the
 * covered events alone. */
static void test_command_search(void **state)
{
    char p[160], sql[512];
    struct ng_store *s;
    struct ng_session *a, *b;

    snprintf(p, sizeof(p), "%s/c/s.db", tmpdir);
    assert_int_equal(ng_store_open(p, &s), 0);
    a = begin(s, "alice", 1, NULL);
    add_cmd(a, "[\"ls\",\"-la\",\"/etc\"]");
    add_cmd(a, "[\"cat\",\"/etc/shadow\"]");
    assert_int_equal(ng_store_session_end(a, 0, "exit"), 0);
    ng_store_session_free(a);
    b = begin(s, "bob", 2, NULL);
    add_cmd(b, "[\"rm\",\"-rf\",\"/tmp/x y\"]");
    add_cmd(b, "[\"echo\",\"\\\\xff\"]");
    assert_int_equal(ng_store_event(b, 'o', "cat /etc/shadow", 15), 0); /* output, not a command */
    assert_int_equal(ng_store_session_end(b, 0, "exit"), 0);
    ng_store_session_free(b);
    ng_store_close(s);

    search(p, "*shadow*", "alice(2)");
    search(p, "rm -rf *", "bob(2)");
    search(p, "rm -rf '/tmp/x y'", "bob(2)");
    search(p, "echo $'\\xff'", "bob(2)");
    search(p, "*/etc*", "alice(2)");
    search(p, "*", "bob(2) alice(2)");
    search(p, "*nothing*", "");
    /* The index rewritten to name bob for shadow: the covered events say no. */
    snprintf(sql, sizeof(sql),
             "UPDATE cache_commands SET line = 'cat /etc/shadow' WHERE line LIKE 'rm%%'");
    raw_exec(p, sql);
    search(p, "*shadow*", "alice(2)");
    /* ... and with no index at all, the covered events answer. */
    raw_exec(p, "DROP TABLE cache_commands");
    search(p, "*shadow*", "alice(2)");
    search(p, "rm -rf *", "bob(2)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_file_matches),
        cmocka_unit_test(test_record_and_read_back),
        cmocka_unit_test(test_batching),
        cmocka_unit_test(test_resume_inside_block),
        cmocka_unit_test(test_coalescing),
        cmocka_unit_test(test_disk_full),
        cmocka_unit_test(test_disk_full_async),
        cmocka_unit_test(test_async_batches),
        cmocka_unit_test(test_peer_identity),
        cmocka_unit_test(test_path_checks),
        cmocka_unit_test(test_schema_versions),
        cmocka_unit_test(test_schema_rows_compiled),
        cmocka_unit_test(test_prefix_lookup),
        cmocka_unit_test(test_filters_and_grep),
        cmocka_unit_test(test_certs_and_ledger),
        cmocka_unit_test(test_reviewers_group),
        cmocka_unit_test(test_concurrent_recorders),
        cmocka_unit_test(test_command_search),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
