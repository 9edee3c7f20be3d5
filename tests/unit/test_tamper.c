/* The tamper suite (integrity.md property 1): on a recorded multi-session
 * store, change in turn every column of every covered table (read from the
 * schema itself, so a column added later is covered without editing this
 * file) in sampled rows -- values and their storage types -- and make the
 * structural changes (rows deleted, copied, swapped, moved between sessions,
 * seals swapped, a session deleted, a late seal, a view or a trigger), each
 * on a fresh copy, and check the verdict names the right session, word and
 * sequence number. NG_TAMPER_SEED=FILE also writes the fuzz seed (root key
 * followed by the database). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "nsgate/seal.h"
#include "../adversarial/ledger_forge.h"
#include "minirec.h"
#include <errno.h>

#define LEN_NS (3600 * NG_FSKEY_SEC_NS) /* three certificates, room for a late seal */

struct world {
    char tmp[64], keys[96], db[128], work[128];
    uint8_t root[32];
    uint8_t ids[4][16]; /* sessions in start order */
    int nmut;
};

static struct world W;

static void xsql(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void xsql(const char *path, const char *fmt, ...)
{
    char q[2048], *err = NULL;
    sqlite3 *d;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q, sizeof(q), fmt, ap);
    va_end(ap);
    assert_int_equal(sqlite3_open(path, &d), SQLITE_OK);
    if (sqlite3_exec(d, q, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", q, err);
    sqlite3_close(d);
}

static void hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
}

static void uuid(const uint8_t *id, char out[NG_UUID_STR])
{
    if (id)
        ng_uuid_format(id, out);
    else
        strcpy(out, REC_LEDGER);
}

static char wdb[192];

/* A fresh copy of the recorded store to mutate. */
static void fresh(void)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir '%s' && cp '%s' '%s'", W.work, W.work, W.db,
             wdb);
    assert_int_equal(system(cmd), 0);
}

static const char *work_db(void)
{
    return wdb;
}

/* The verdict must contain want (one of several lines). */
static void expect(const char *label, const char *want, const char *alt)
{
    struct rec_out o;
    int r = rec_verify(work_db(), W.root, 0, &o);
    W.nmut++;
    if (r < 0)
        fail_msg("%s: verify failed: %d", label, r);
    if (!strstr(o.buf, want) && !(alt && strstr(o.buf, alt)))
        fail_msg("%s: expected '%s'%s%s in:\n%s", label, want, alt ? " or " : "", alt ? alt : "",
                 o.buf);
    free(o.buf);
}

static int64_t q_int(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int64_t q_int(const char *path, const char *fmt, ...)
{
    char q[1024];
    sqlite3 *d;
    sqlite3_stmt *st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q, sizeof(q), fmt, ap);
    va_end(ap);
    assert_int_equal(sqlite3_open(path, &d), SQLITE_OK);
    if (sqlite3_prepare_v2(d, q, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", q, sqlite3_errmsg(d));
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(d);
    return v;
}

/* Set one cell to expr, bypassing STRICT, column affinity and CHECK as an
 * attacker editing the file would: for the update the table is declared
 * with untyped (BLOB affinity) columns, then its exact schema text is
 * restored (the readers compare it). A rowid alias (INTEGER PRIMARY KEY)
 * lives in the rowid and cannot hold another type at all. */
static void set_cell(const char *table, const char *col, int64_t rowid, const char *expr)
{
    fresh();
    xsql(wdb,
         "PRAGMA writable_schema=ON; CREATE TABLE keep AS SELECT sql FROM sqlite_schema WHERE name "
         "= '%s';"
         "UPDATE sqlite_schema SET sql = replace(replace(replace(replace(substr(sql, 1, "
         "length(sql) - 7), "
         "' INTEGER PRIMARY KEY', ' INTPK'), ' INTEGER', ' BLOB'), ' TEXT', ' BLOB'), ' INTPK', "
         "' INTEGER PRIMARY KEY') WHERE name = '%s'",
         table, table);
    xsql(wdb,
         "PRAGMA ignore_check_constraints=ON; UPDATE \"%s\" SET \"%s\" = %s WHERE rowid = %lld",
         table, col, expr, (long long)rowid);
    xsql(wdb,
         "PRAGMA writable_schema=ON; UPDATE sqlite_schema SET sql = (SELECT sql FROM keep) "
         "WHERE name = '%s'; DROP TABLE keep",
         table);
}

/* What verify must say when row `rowid` of table changes (any column). */
static void want_for(sqlite3 *d, const char *table, const char *col, int64_t rowid, char *want,
                     char *alt)
{
    char sql[256], id[NG_UUID_STR];
    sqlite3_stmt *st;
    const uint8_t *sid = NULL;
    int64_t a = 0, b = 0;

    *alt = '\0';
    if (strcmp(table, "roots") == 0 || strcmp(table, "certs") == 0) {
        ng_uuid_format(W.ids[0], id);
        sprintf(want, "TAMPERED %s seq=0: ", id);
        return;
    }
    if (strcmp(table, "sessions") == 0)
        snprintf(sql, sizeof(sql), "SELECT id, 0 FROM sessions WHERE rowid = %lld",
                 (long long)rowid);
    else if (strcmp(table, "events") == 0)
        snprintf(sql, sizeof(sql), "SELECT session, seq FROM events WHERE rowid = %lld",
                 (long long)rowid);
    else if (strcmp(table, "seals") == 0)
        snprintf(sql, sizeof(sql),
                 "SELECT session, coalesce((SELECT p.seq FROM seals p WHERE p.session = s.session "
                 "AND p.sealno = s.sealno - 1), iif(s.session = zeroblob(16), 0, -1)) + 1, "
                 "s.sealno = (SELECT max(sealno) FROM seals m WHERE m.session = s.session) "
                 "FROM seals s WHERE rowid = %lld",
                 (long long)rowid);
    else if (strcmp(table, "ledger") == 0)
        snprintf(sql, sizeof(sql), "SELECT NULL, seq FROM ledger WHERE rowid = %lld",
                 (long long)rowid);
    else
        fail_msg("no expectation for covered table %s: teach the tamper suite", table);
    assert_int_equal(sqlite3_prepare_v2(d, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    if (sqlite3_column_type(st, 0) == SQLITE_BLOB) {
        sid = sqlite3_column_blob(st, 0);
        if (memcmp(sid, ng_seal_ledger_id, 16) == 0)
            sid = NULL;
    }
    uuid(sid, id);
    a = sqlite3_column_int64(st, 1);
    b = sqlite3_column_count(st) > 2 ? sqlite3_column_int64(st, 2) : 0;
    sqlite3_finalize(st);
    if (strcmp(table, "sessions") == 0 && strcmp(col, "id") == 0)
        sprintf(want, "MISSING %s: ", id);
    else
        sprintf(want, "TAMPERED %s seq=%lld: ", id, (long long)a);
    if (b && strcmp(col, "session") == 0) /* the last seal moved away */
        sprintf(alt, "INCOMPLETE %s ", id);
}

/* Every mutation of one cell: a changed value, and a changed storage type. */
static void mutate_cell(sqlite3 *d, const char *table, const char *col, int64_t rowid,
                        int rowid_alias)
{
    char q[256], e1[200], e2[200], want[128], alt[128], label[160];
    sqlite3_stmt *st;

    snprintf(q, sizeof(q), "SELECT \"%s\" FROM \"%s\" WHERE rowid = %lld", col, table,
             (long long)rowid);
    assert_int_equal(sqlite3_prepare_v2(d, q, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const char *extra = NULL;
    switch (sqlite3_column_type(st, 0)) {
    case SQLITE_INTEGER:
        sprintf(e1, "\"%s\" + 1000003", col);
        sprintf(e2, "CAST(\"%s\" AS TEXT)", col); /* 5 -> '5' */
        break;
    case SQLITE_TEXT:
        sprintf(e1, "\"%s\" || 'x'", col);
        sprintf(e2, "CAST(\"%s\" AS BLOB)", col);
        break;
    case SQLITE_BLOB: {
        int n = sqlite3_column_bytes(st, 0);
        uint8_t b[64] = {0};
        char h[130];
        memcpy(b, sqlite3_column_blob(st, 0), n > 64 ? 64 : (size_t)n);
        b[0] ^= 0x01;
        hex(b, n > 64 ? 64 : (size_t)n, h);
        if (n <= 64)
            sprintf(e1, "x'%s'", n ? h : "00");
        else
            sprintf(e1, "\"%s\" || x'00'", col);
        sprintf(e2, "upper(hex(\"%s\"))", col); /* blob -> hex text, both cases */
        extra = "lower";
        break;
    }
    default:
        sprintf(e1, "5");
        sprintf(e2, "'5'");
        break;
    }
    sqlite3_finalize(st);
    want_for(d, table, col, rowid, want, alt);
    const char *exprs[3] = {e1, e2, NULL};
    char e3[200];
    if (extra) {
        snprintf(e3, sizeof(e3), "%s(hex(\"%s\"))", extra, col);
        exprs[2] = e3;
    }
    if (rowid_alias) /* its value is the rowid: no other storage type exists */
        exprs[1] = NULL;
    for (int i = 0; i < 3; i++) {
        if (!exprs[i])
            continue;
        set_cell(table, col, rowid, exprs[i]);
        snprintf(label, sizeof(label), "%s.%s rowid %lld = %s", table, col, (long long)rowid,
                 exprs[i]);
        expect(label, want, *alt ? alt : NULL);
    }
}

/* Every column of every covered table, from the schema. */
static void test_every_cell(void **state)
{
    sqlite3 *d;
    sqlite3_stmt *tables, *cols;
    int ntables = 0;

    assert_int_equal(sqlite3_open_v2(W.db, &d, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(d,
                                        "SELECT name FROM sqlite_schema WHERE type = 'table' AND "
                                        "name NOT LIKE 'cache\\_%' ESCAPE '\\' AND name NOT LIKE "
                                        "'sqlite\\_%' ESCAPE '\\' ORDER BY name",
                                        -1, &tables, NULL),
                     SQLITE_OK);
    while (sqlite3_step(tables) == SQLITE_ROW) {
        char t[64], q[320];
        snprintf(t, sizeof(t), "%s", (const char *)sqlite3_column_text(tables, 0));
        int64_t lo = q_int(W.db, "SELECT min(rowid) FROM \"%s\"", t);
        int64_t hi = q_int(W.db, "SELECT max(rowid) FROM \"%s\"", t);
        int64_t rows[3] = {lo, lo + (hi - lo) / 2, hi};
        assert_true(lo > 0);
        ntables++;
        snprintf(q, sizeof(q),
                 "SELECT name, pk = 1 AND upper(type) = 'INTEGER' AND (SELECT count(*) FROM "
                 "pragma_table_info('%s') WHERE pk > 0) = 1 FROM pragma_table_info('%s')",
                 t, t);
        assert_int_equal(sqlite3_prepare_v2(d, q, -1, &cols, NULL), SQLITE_OK);
        while (sqlite3_step(cols) == SQLITE_ROW) {
            char c[64];
            snprintf(c, sizeof(c), "%s", (const char *)sqlite3_column_text(cols, 0));
            for (int i = 0; i < 3; i++)
                if (i == 0 || rows[i] != rows[i - 1])
                    mutate_cell(d, t, c, rows[i], sqlite3_column_int(cols, 1));
        }
        sqlite3_finalize(cols);
    }
    sqlite3_finalize(tables);
    sqlite3_close(d);
    assert_int_equal(ntables, 6);
}

static void ids_text(int i, char out[NG_UUID_STR])
{
    ng_uuid_format(W.ids[i], out);
}

static void test_structure(void **state)
{
    char a[NG_UUID_STR], b[NG_UUID_STR], w[160], w2[160];
    char ha[33], hb[33];
    int64_t na, nb;

    ids_text(0, a);
    ids_text(1, b);
    hex(W.ids[0], 16, ha);
    hex(W.ids[1], 16, hb);
    na = q_int(W.db, "SELECT max(seq) FROM events WHERE session = x'%s'", ha);
    nb = q_int(W.db, "SELECT max(seq) FROM events WHERE session = x'%s'", hb);

    fresh(); /* delete a row */
    xsql(wdb, "DELETE FROM events WHERE session = x'%s' AND seq = 6", ha);
    snprintf(w, sizeof(w), "TAMPERED %s seq=6: ", a);
    expect("delete event", w, NULL);

    fresh(); /* insert a copied row */
    xsql(wdb,
         "INSERT INTO events SELECT session, %lld, t_ns, kind, data, hash FROM events "
         "WHERE session = x'%s' AND seq = 3",
         (long long)na + 1, ha);
    snprintf(w, sizeof(w), "TAMPERED %s seq=%lld: ", a, (long long)na + 1);
    expect("copied event", w, NULL);

    fresh(); /* swap two events */
    xsql(wdb,
         "PRAGMA ignore_check_constraints=ON; UPDATE events SET seq = -seq WHERE session = x'%s' "
         "AND seq IN (3, 4);"
         "UPDATE events SET seq = 7 + seq WHERE session = x'%s' AND seq IN (-3, -4)",
         ha, ha);
    snprintf(w, sizeof(w), "TAMPERED %s seq=3: ", a);
    expect("swap events", w, NULL);

    fresh(); /* move an event to another session */
    xsql(wdb, "UPDATE events SET session = x'%s', seq = %lld WHERE session = x'%s' AND seq = 2", hb,
         (long long)nb + 1, ha);
    snprintf(w, sizeof(w), "TAMPERED %s seq=2: ", a);
    snprintf(w2, sizeof(w2), "TAMPERED %s seq=%lld: ", b, (long long)nb + 1);
    expect("move event (from)", w, NULL);
    expect("move event (to)", w2, NULL);

    fresh(); /* swap seals between sessions */
    xsql(wdb,
         "PRAGMA ignore_check_constraints=ON; UPDATE seals SET session = x'00' WHERE session = "
         "x'%s' AND sealno = 2;"
         "UPDATE seals SET session = x'%s' WHERE session = x'%s' AND sealno = 2;"
         "UPDATE seals SET session = x'%s' WHERE session = x'00'",
         ha, ha, hb, hb);
    snprintf(w, sizeof(w), "TAMPERED %s seq=1: seal 2: ", a);
    snprintf(w2, sizeof(w2), "TAMPERED %s seq=1: seal 2: ", b);
    expect("swap seals (a)", w, NULL);
    expect("swap seals (b)", w2, NULL);

    fresh(); /* delete a whole session that later ledger entries follow */
    xsql(wdb,
         "DELETE FROM sessions WHERE id = x'%s'; DELETE FROM events WHERE session = x'%s';"
         "DELETE FROM seals WHERE session = x'%s'",
         ha, ha, ha);
    snprintf(w, sizeof(w), "MISSING %s: in the ledger", a);
    expect("delete session", w, NULL);

    fresh(); /* a seal deleted at the end leaves the data incomplete, never OK */
    xsql(wdb,
         "DELETE FROM seals WHERE session = x'%s' AND sealno = (SELECT max(sealno) FROM "
         "seals WHERE session = x'%s')",
         ha, ha);
    snprintf(w, sizeof(w), "INCOMPLETE %s ", a);
    expect("delete last seal", w, NULL);
}

/* One byte of a command event changed: TAMPERED at its seq. The search
 * index of commands is derived data: changing it is no tampering (readers
 * re-check what it names against the covered event, test_store). */
static void test_command_event(void **state)
{
    char a[NG_UUID_STR], ha[33], w[160];

    ids_text(0, a);
    hex(W.ids[0], 16, ha);
    int64_t seq =
        q_int(W.db, "SELECT min(seq) FROM events WHERE session = x'%s' AND kind = 'c'", ha);
    assert_true(seq > 0);
    fresh();
    /* "ls" -> "ks" in argv: a single byte */
    xsql(wdb,
         "UPDATE events SET data = CAST(replace(CAST(data AS TEXT), '\"ls\",', '\"ks\",') AS BLOB) "
         "WHERE session = x'%s' AND seq = %lld",
         ha, (long long)seq);
    assert_int_equal(
        q_int(wdb, "SELECT length(data) FROM events WHERE session = x'%s' AND seq = %lld", ha,
              (long long)seq),
        q_int(W.db, "SELECT length(data) FROM events WHERE session = x'%s' AND seq = %lld", ha,
              (long long)seq));
    snprintf(w, sizeof(w), "TAMPERED %s seq=%lld", a, (long long)seq);
    expect("one byte of a command event", w, NULL);
    /* its kind turned into output: also TAMPERED */
    fresh();
    xsql(wdb, "UPDATE events SET kind = 'o' WHERE session = x'%s' AND seq = %lld", ha,
         (long long)seq);
    expect("a command event's kind", w, NULL);
    /* the index row rewritten: no verdict changes */
    fresh();
    assert_true(q_int(wdb, "SELECT count(*) FROM cache_commands WHERE session = x'%s'", ha) > 0);
    xsql(wdb, "UPDATE cache_commands SET line = 'rm -rf /' WHERE session = x'%s'", ha);
    snprintf(w, sizeof(w), "OK %s ", a);
    expect("the command index rewritten", w, NULL);
}

/* A view or a trigger in the file: the reader refuses the store. */
static void test_schema_objects(void **state)
{
    static const char *const objs[] = {
        "CREATE TRIGGER t AFTER INSERT ON events BEGIN SELECT 1; END",
        "CREATE VIEW v AS SELECT 1",
        ("PRAGMA writable_schema=ON; UPDATE sqlite_schema SET type = 'view', "
         "sql = 'CREATE VIEW seals AS SELECT * FROM sessions' WHERE name = 'seals'"),
    };
    struct rec_out o;
    for (size_t i = 0; i < NG_ARRAY_SIZE(objs); i++) {
        fresh();
        xsql(wdb, "%s", objs[i]);
        assert_int_equal(rec_verify(wdb, W.root, 0, &o), -EBADMSG);
    }
}

/* Events appended to an interrupted session hours after its last seal and
 * sealed then (the key state three hours on): a late seal. */
static void test_late_seal(void **state)
{
    char cmd[512], keys2[160], d[NG_UUID_STR], hd[33], w[160];
    struct ng_fskey *k;
    struct ng_store *s;
    struct ng_seal_fields f = {0}, prev;
    uint8_t sig[64], psig[64], head[32];
    uint64_t later = ng_fskey_now_ns() + 3 * 3600 * NG_FSKEY_SEC_NS;

    fresh();
    snprintf(keys2, sizeof(keys2), "%s/keys2", W.tmp);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' && cp -a '%s' '%s'", keys2, W.keys, keys2);
    assert_int_equal(system(cmd), 0);
    ids_text(3, d);
    hex(W.ids[3], 16, hd);
    int64_t n = q_int(wdb, "SELECT max(seq) FROM events WHERE session = x'%s'", hd);
    int64_t t = q_int(wdb, "SELECT max(t_ns) FROM events WHERE session = x'%s'", hd);
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(wdb, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT hash FROM events WHERE session = ? AND seq = ?",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_blob(st, 1, W.ids[3], 16, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, n);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    ng_chain_event_hash(W.ids[3], n + 1, t + (int64_t)(3 * 3600 * NG_FSKEY_SEC_NS), 'o', "rm -rf /",
                        8, sqlite3_column_blob(st, 0), head);
    sqlite3_finalize(st);
    assert_int_equal(
        sqlite3_prepare_v2(db, "INSERT INTO events VALUES (?, ?, ?, 'o', x'726d202d7266202f', ?)",
                           -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_blob(st, 1, W.ids[3], 16, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, n + 1);
    sqlite3_bind_int64(st, 3, t + (int64_t)(3 * 3600 * NG_FSKEY_SEC_NS));
    sqlite3_bind_blob(st, 4, head, 32, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);

    assert_int_equal(ng_store_open(wdb, &s), 0);
    assert_int_equal(ng_fskey_open(keys2, &k, NULL), 0);
    assert_int_equal(ng_fskey_lock_current(k, later, NULL), 0);
    struct ng_fskey_info info;
    ng_fskey_info(k, &info);
    for (uint64_t e = 0; e <= info.epoch; e++) {
        struct ng_fskey_cert c;
        assert_int_equal(ng_fskey_read_cert(k, e, &c), 0);
        assert_int_equal(ng_store_add_cert(s, info.root_pk, info.epoch_len_ns, &c), 0);
    }
    assert_int_equal(ng_store_last_seal(s, W.ids[3], &prev, psig), 0);
    memcpy(f.chain_id, W.ids[3], 16);
    f.last_seq = (uint64_t)n + 1;
    memcpy(f.head, head, 32);
    ng_seal_hash(&prev, psig, f.prev_seal);
    f.wall_ns = later;
    f.boot_ns = prev.boot_ns + (later - prev.wall_ns);
    f.epoch = info.epoch;
    assert_int_equal(ng_seal_sign(k, &f, sig), 0);
    assert_int_equal(ng_store_add_seal(s, &f, sig), 0);
    ng_fskey_unlock(k);
    ng_fskey_close(k);
    ng_store_close(s);
    int64_t sealed = (int64_t)prev.last_seq;
    snprintf(w, sizeof(w), "TAMPERED %s seq=%lld: seal ", d, (long long)sealed + 1);
    expect("late seal", w, NULL);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", keys2);
    assert_int_equal(system(cmd), 0);
}

/* The ledger forger (tests/adversarial/ledger_forge.h) as a root of one
 * epoch later would run it: a copy of the key directory taken to epoch 3
 * (every session here was sealed in epoch 2), bob (entries 3 and 4 of
 * alice 1-2, bob 3-4, carol 5-6, dave 7) the victim. */
static void forged(enum forge_what what, int keep_times, const char *label, const char *want)
{
    char cmd[512], keys2[160], err[256];
    struct forge_opts o = {.db = wdb, .what = what, .keep_times = keep_times};

    fresh();
    snprintf(keys2, sizeof(keys2), "%s/keys2", W.tmp);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' && cp -a '%s' '%s'", keys2, W.keys, keys2);
    assert_int_equal(system(cmd), 0);
    o.keys = keys2;
    memcpy(o.victim, W.ids[1], 16);
    o.now_ns = ng_fskey_now_ns() + LEN_NS;
    if (forge_ledger(&o, err, sizeof(err)) < 0)
        fail_msg("%s: the forger failed: %s", label, err);
    expect(label, want, NULL);
}

/* A later root holding only the current epoch's secret cannot delete,
 * reorder, re-time or renumber ledger entries of earlier epochs: the
 * rewritten tail is either dated in its old epoch (and sealed by the wrong
 * key: a late seal) or re-dated (and no longer matches its session's own
 * seals). The first seq named is the first entry rewritten. */
static void test_ledger_forgery(void **state)
{
    char bob[NG_UUID_STR], carol[NG_UUID_STR], w[256];

    ids_text(1, bob);
    ids_text(2, carol);
    snprintf(w, sizeof(w),
             "TAMPERED " REC_LEDGER " seq=3: session %s has a start entry not dated just before "
             "the session's first seal",
             carol);
    forged(FORGE_DELETE, 0, "delete bob, rebuild the ledger, new times", w);
    forged(FORGE_DELETE, 1, "delete bob, renumber, old times",
           "TAMPERED " REC_LEDGER " seq=3: seal 3: late seal");
    snprintf(w, sizeof(w), "TAMPERED " REC_LEDGER " seq=4: session %s has a start entry", carol);
    forged(FORGE_REORDER, 0, "swap bob's end and carol's start, new times", w);
    forged(FORGE_REORDER, 1, "swap bob's end and carol's start, old times",
           "TAMPERED " REC_LEDGER " seq=4: seal 4: late seal");
    snprintf(w, sizeof(w), "TAMPERED " REC_LEDGER " seq=3: session %s has a start entry", bob);
    forged(FORGE_RETIME, 0, "re-time from bob's start on", w);
    forged(FORGE_RESEAL, 1, "re-seal from bob's start on with the current key",
           "TAMPERED " REC_LEDGER " seq=3: seal 3: late seal");
}

/* Ledger rows changed by hand (no re-sealing): each rule names its row. */
static void test_ledger_rules(void **state)
{
    char carol[NG_UUID_STR], w[256], hc[33];

    ids_text(2, carol);
    hex(W.ids[2], 16, hc);
    /* the epoch length, one nanosecond more: its certificates sign it */
    fresh();
    xsql(wdb, "UPDATE roots SET epoch_len_ns = epoch_len_ns + 1");
    expect("epoch length + 1 ns",
           "TAMPERED " REC_LEDGER " seq=1: seal 1: certificate of epoch 0: epoch length differs",
           NULL);
    /* carol's final seal moved two minutes back: her own line fails (the
     * signature), and her end entry is no longer pinned by a seal of hers */
    fresh();
    xsql(wdb,
         "UPDATE seals SET wall_ns = wall_ns - 120000000000 WHERE session = x'%s' AND "
         "sealno = (SELECT max(sealno) FROM seals WHERE session = x'%s')",
         hc, hc);
    snprintf(w, sizeof(w), "TAMPERED %s seq=", carol);
    expect("carol's final seal moved back two minutes (its own verdict)", w, NULL);
    snprintf(w, sizeof(w),
             "TAMPERED " REC_LEDGER " seq=6: session %s has an entry not dated just after the "
             "session's seal it names",
             carol);
    expect("carol's final seal moved back two minutes (the ledger's end entry)", w, NULL);

    /* a heartbeat seal after carol's final one, by the current key: what
     * pinning a re-timed end entry would need; the recorder never does it */
    struct ng_store *st;
    struct ng_fskey *k;
    struct ng_fskey_info ki;
    struct ng_seal_fields prev, f;
    uint8_t psig[64], sig[64];
    fresh();
    assert_int_equal(ng_store_open(wdb, &st), 0);
    assert_int_equal(ng_store_last_seal(st, W.ids[2], &prev, psig), 0);
    assert_int_equal(ng_fskey_open(W.keys, &k, NULL), 0);
    assert_int_equal(ng_fskey_lock_current(k, ng_fskey_now_ns(), NULL), 0);
    ng_fskey_info(k, &ki);
    f = prev;
    ng_seal_hash(&prev, psig, f.prev_seal);
    f.wall_ns = ng_fskey_now_ns();
    f.boot_ns = prev.boot_ns + (f.wall_ns - prev.wall_ns);
    f.epoch = ki.epoch;
    assert_int_equal(ng_seal_sign(k, &f, sig), 0);
    ng_fskey_unlock(k);
    ng_fskey_close(k);
    assert_int_equal(ng_store_add_seal(st, &f, sig), 0);
    ng_store_close(st);
    int64_t n = q_int(wdb, "SELECT max(seq) FROM events WHERE session = x'%s'", hc);
    snprintf(w, sizeof(w), "TAMPERED %s seq=%lld: seal ", carol, (long long)n + 1);
    expect("a seal after carol's final seal", w, NULL);
    expect("a seal after carol's final seal (why)", "a seal after the session's final seal", NULL);
}

static void write_seed(const char *path)
{
    static uint8_t buf[4 << 20];
    FILE *in = fopen(W.db, "rb");
    assert_non_null(in);
    size_t len = fread(buf, 1, sizeof(buf), in);
    fclose(in);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(W.root, 1, 32, f), 32);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    fclose(f);
}

static int setup(void **state)
{
    struct ng_store *s;
    struct ng_sealer *sl;
    struct ng_session *k;
    struct ng_fskey_cert *c;
    uint64_t len;
    size_t n;
    sqlite3 *d;
    sqlite3_stmt *st;
    struct rec_out o;

    strcpy(W.tmp, "/tmp/ng_tamper_XXXXXX");
    assert_non_null(mkdtemp(W.tmp));
    snprintf(W.keys, sizeof(W.keys), "%s/keys", W.tmp);
    snprintf(W.db, sizeof(W.db), "%s/db/sessions.db", W.tmp);
    snprintf(W.work, sizeof(W.work), "%s/work", W.tmp);
    snprintf(wdb, sizeof(wdb), "%s/work/sessions.db", W.tmp);
    struct ng_fskey_created cr;
    assert_int_equal(ng_fskey_create(W.keys, LEN_NS, 0, ng_fskey_now_ns() - 5 * LEN_NS / 2, &cr),
                     0);
    assert_int_equal(ng_store_open(W.db, &s), 0);
    assert_int_equal(ng_sealer_open(s, W.keys, &sl), 0);
    assert_int_equal(rec_session(s, sl, "alice", 12), 0);
    assert_int_equal(rec_session(s, sl, "bob", 8), 0);
    assert_int_equal(rec_session(s, sl, "carol", 5), 0);
    assert_int_equal(rec_begin(s, sl, "dave", &k), 0); /* killed */
    assert_int_equal(rec_events(sl, k, 4, 2), 0);
    ng_store_session_free(k);
    ng_sealer_close(sl);
    ng_store_close(s);
    assert_int_equal(ng_fskey_read_public(W.keys, W.root, &len, &c, &n), 0);
    free(c);
    assert_int_equal(sqlite3_open(W.db, &d), SQLITE_OK);
    /* one file, no WAL beside it, so a plain copy is the whole store */
    assert_int_equal(sqlite3_exec(d, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(d, "SELECT id FROM sessions ORDER BY start_ns", -1, &st, NULL),
        SQLITE_OK);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        memcpy(W.ids[i], sqlite3_column_blob(st, 0), 16);
    }
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_exec(d, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(d);
    assert_int_equal(rec_verify(W.db, W.root, 0, &o), 0);
    assert_false(o.tampered);
    assert_int_equal(o.incomplete, 1); /* dave */
    free(o.buf);
    if (getenv("NG_TAMPER_SEED"))
        write_seed(getenv("NG_TAMPER_SEED"));
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    fprintf(stderr, "tamper suite: %d mutations checked\n", W.nmut);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", W.tmp);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_cell),     cmocka_unit_test(test_structure),
        cmocka_unit_test(test_schema_objects), cmocka_unit_test(test_command_event),
        cmocka_unit_test(test_late_seal),      cmocka_unit_test(test_ledger_forgery),
        cmocka_unit_test(test_ledger_rules),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
