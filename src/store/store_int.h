/* Internals shared by the store's source files (store.c opening and
 * schema, store_record.c the recorder, store_read.c the readers,
 * store_live.c the open-session locks). Not a public header. */
#ifndef NSGATE_STORE_INTERNAL_H
#define NSGATE_STORE_INTERNAL_H

#include "nsgate/store.h"

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#define NG_STORE_APPLICATION_ID 1853056884 /* "nsgt" */
#define NG_STORE_BUSY_MS        10000
/* SQLite's default automatic checkpoint, in WAL pages. */
#define NG_STORE_WAL_PAGES 1000
/* ng_store_open: opens refused with SQLITE_BUSY sooner than this after
 * they began are tried again, up to NG_STORE_OPEN_TRIES in all */
#define NG_STORE_QUICK_BUSY_NS (1000LL * 1000 * 1000)
#define NG_STORE_OPEN_TRIES    5
/* a new store's page size, in bytes (store.c configure_recorder) */
#define NG_STORE_PAGE_SIZE "8192"
/* A reader statement step running longer than this is interrupted. */
#define NG_STORE_STEP_NS (10LL * 1000000000LL)

struct ng_store_migration {
    int version;
    const char *name; /* file under schema/ */
    const char *sql;
};
extern const struct ng_store_migration ng_store_migrations[];
extern const size_t ng_store_nmigrations;

/* What the schema check compares: every object but SQLite's own, by name. */
#define NG_STORE_SCHEMA_ROWS                                                                       \
    "SELECT type, name, tbl_name, sql FROM sqlite_schema "                                         \
    "WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"

/* Its rows for the newest shipped version as this build's SQLite writes them
 * (store_schema_rows.c, generated at build time by src/store/gen/, which runs
 * the migrations in memory): the schema check's fast path (store.c). A NULL
 * member is an SQL NULL. */
struct ng_store_schema_row {
    const char *type, *name, *tbl_name, *sql;
};
extern const struct ng_store_schema_row ng_store_schema_rows[];
extern const size_t ng_store_nschema_rows;
extern const int ng_store_schema_rows_version;

struct ng_store {
    sqlite3 *db;
    int readonly;
    int version;
    int live_dirfd;        /* <db>-live/, -1 when absent (readers) */
    int cmd_index;         /* cache_commands is there, exactly as shipped */
    int schema_fast;       /* the last schema check took the compiled rows */
    int64_t step_deadline; /* CLOCK_MONOTONIC ns, readers only */
    int wal_pages;         /* recorders: the WAL's size after the last commit */
    int64_t wal_written;   /* ... and the pages this connection wrote to it */
    /* A recorder's automatic checkpoint handed to the session's batch
     * thread (store_record.c): 1 when it took it. */
    int (*ckpt_handoff)(void *ctx);
    void *ckpt_ctx;
    dev_t dev; /* recorders: the database file as checked at the open */
    ino_t ino;
};

/* Recorders: a second read-write connection to the same database file (its
 * identity checked again), hardened like the first, for the batch thread's
 * checkpoints (store_record.c). */
int ng_store_open_peer(struct ng_store *s, sqlite3 **ret) NG_MUST_CHECK;

/* The header hash (chain.h) over the current row of st, a "SELECT * FROM
 * sessions" (or any row whose column names are the sessions columns). 0,
 * -EBADMSG when the row has no header_hash column, -ENOMEM. */
int ng_store_header_hash(sqlite3_stmt *st, uint8_t out[NG_HASH_LEN]) NG_MUST_CHECK;
/* Add column col of st's current row with its storage class. */
int ng_store_hash_column(struct ng_hash *h, sqlite3_stmt *st, int col) NG_MUST_CHECK;

/* Map an SQLite result to a negative errno (store.h). */
int ng_store_errno(sqlite3 *db, int rc);
int ng_store_exec(struct ng_store *s, const char *sql) NG_MUST_CHECK;
void ng_store_rollback(struct ng_store *s);
/* sqlite3_step with the reader's time budget armed. */
int ng_store_step(struct ng_store *s, sqlite3_stmt *st);
int ng_store_prepare(struct ng_store *s, const char *sql, sqlite3_stmt **ret) NG_MUST_CHECK;
int64_t ng_store_clock_ns(clockid_t clk);
/* Give a new file or directory the database directory's group, and group
 * read (and search) access when that directory grants it. */
int ng_store_share_with_dir(int fd, const struct stat *dir, mode_t private_mode) NG_MUST_CHECK;

/* A prepared events query: the columns of ng_store_events_begin, then
 * where (its first parameter the session ID; bind_seq sets parameter 2).
 * Events held in blocks get their data from them. */
int ng_store_events_query(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN], const char *where,
                          struct ng_event_iter **ret) NG_MUST_CHECK;
void ng_store_events_bind_seq(struct ng_event_iter *it, int64_t seq);
/* A query "... seq >= ?2": start at from (a block's first event, or
 * after + 1) and return only the events after after. */
void ng_store_events_resume(struct ng_event_iter *it, int64_t from, int64_t after);

/* Command search (store_cmds.c): the sessions the index says ran a command
 * matching glob, sorted by ID, each with the first such event's seq. */
struct ng_cmd_match {
    uint8_t id[NG_STORE_ID_LEN];
    int64_t seq;
};
int ng_store_cmd_candidates(struct ng_store *s, const char *glob, struct ng_cmd_match **ret,
                            size_t *ret_n) NG_MUST_CHECK;
const struct ng_cmd_match *ng_store_cmd_find(const struct ng_cmd_match *v, size_t n,
                                             const uint8_t id[NG_STORE_ID_LEN]);
/* Did the session run a command matching glob, by its covered events? The
 * event at hint_seq (> 0: what the index named) is looked at first. */
int ng_store_cmd_session_matches(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN],
                                 int64_t hint_seq, const char *glob) NG_MUST_CHECK;

/* Compressed event data (store_block.c, schema 5). The recorder packs the
 * data of a batch's 'o', 'i' and 'e' events into one zstd frame. */
#define NG_BLOCK_LEVEL 1
/* after a block that compressed below this share of its size */
#define NG_BLOCK_LEVEL_TEXT   6
#define NG_BLOCK_TEXT_PERCENT 40
struct ng_block_piece {
    const uint8_t *data;
    size_t len;
};
struct ng_block_writer;
int ng_block_writer_new(struct ng_block_writer **ret) NG_MUST_CHECK;
void ng_block_writer_free(struct ng_block_writer *w);
/* One frame of the n pieces, at most NG_STORE_BATCH_BYTES in all; *ret is
 * valid until the call after next (two output buffers, used in turn). */
int ng_block_compress(struct ng_block_writer *w, const struct ng_block_piece *p, size_t n,
                      const uint8_t **ret, size_t *ret_len) NG_MUST_CHECK;

/* Open-session locks (store_live.c): one file per live session in the
 * directory "<db>-live", holding an flock for as long as the recorder runs. */
/* create: the database directory's stat (the lock directory is created
 * with its group); NULL for readers, which only open it. */
int ng_store_live_open_dir(const char *db_path, const struct stat *create,
                           int *ret_fd) NG_MUST_CHECK;
int ng_store_live_acquire(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN],
                          int *ret_fd) NG_MUST_CHECK;
void ng_store_live_release(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN], int fd);
int ng_store_live_held(const struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN]);
/* The session's lock file (store_record.c), where its live note is kept. */
int ng_store_session_live_fd(const struct ng_session *sess);

#endif
