/* Commands in the store (schema 4): a session's command timeline, and the
 * search behind sessions --command. The search reads the derived index
 * cache_commands (FTS5 trigram over the shell-quoted command line), then
 * re-checks every session it names against the covered 'c' event itself
 * (integrity.md 1: a cache is re-checked wherever it is shown), so a
 * tampered index can hide a session from a search but never add one. A
 * store without a usable index (older, dropped, another SQLite's text) is
 * searched through the covered events (events_commands) instead. */
#include "store_int.h"

#include "nsgate/cmdline.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int ng_store_commands_begin(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN],
                            struct ng_event_iter **ret)
{
    return ng_store_events_query(s, id, "WHERE session = ? AND kind = 'c' ORDER BY seq", ret);
}

int ng_store_command_count(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN], int64_t *ret)
{
    sqlite3_stmt *st;
    int r =
        ng_store_prepare(s, "SELECT count(*) FROM events WHERE session = ? AND kind = 'c'", &st);

    if (r < 0)
        return r;
    sqlite3_bind_blob(st, 1, id, NG_STORE_ID_LEN, SQLITE_STATIC);
    int rc = ng_store_step(s, st);
    if (rc == SQLITE_ROW)
        *ret = sqlite3_column_int64(st, 0);
    else
        r = ng_store_errno(s->db, rc);
    sqlite3_finalize(st);
    return r;
}

/* Does this event's command line match glob? 1, 0, or < 0. */
static int event_matches(const struct ng_event *ev, const char *glob)
{
    struct ng_cmd c;

    if (ev->kind != 'c' || ng_cmd_parse(ev->data, ev->len, &c) < 0)
        return 0;
    char *line = ng_cmd_quote(c.argv, c.argv_len);
    ng_cmd_free(&c);
    if (!line)
        return -ENOMEM;
    int m = sqlite3_strglob(glob, line) == 0;
    free(line);
    return m;
}

/* The covered event (id, seq), checked against glob. */
static int hint_matches(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN], int64_t seq,
                        const char *glob)
{
    struct ng_event_iter *it;
    struct ng_event ev;
    int r = ng_store_events_query(s, id, "WHERE session = ?1 AND seq = ?2", &it);

    if (r < 0)
        return r;
    ng_store_events_bind_seq(it, seq);
    r = ng_store_events_next(it, &ev);
    if (r == 1)
        r = event_matches(&ev, glob);
    ng_store_events_end(it);
    return r;
}

int ng_store_cmd_session_matches(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN],
                                 int64_t hint_seq, const char *glob)
{
    struct ng_event_iter *it;
    struct ng_event ev;
    int r = hint_seq > 0 ? hint_matches(s, id, hint_seq, glob) : 0;

    if (r != 0)
        return r;
    /* No hint, or the index named an event that does not match: the
     * session's covered command events decide. */
    r = ng_store_commands_begin(s, id, &it);
    int found = 0;
    while (r == 0 && !found && (r = ng_store_events_next(it, &ev)) == 1) {
        r = event_matches(&ev, glob);
        found = r == 1;
        r = r < 0 ? r : 0;
    }
    ng_store_events_end(it);
    return r < 0 ? r : found;
}

static int cmp_match(const void *a, const void *b)
{
    return memcmp(((const struct ng_cmd_match *)a)->id, ((const struct ng_cmd_match *)b)->id,
                  NG_STORE_ID_LEN);
}

int ng_store_cmd_candidates(struct ng_store *s, const char *glob, struct ng_cmd_match **ret,
                            size_t *ret_n)
{
    struct ng_cmd_match *v = NULL;
    size_t n = 0, cap = 0;
    sqlite3_stmt *st;
    int rc, r = ng_store_prepare(s,
                                 "SELECT session, min(seq) FROM cache_commands WHERE line "
                                 "GLOB ?1 GROUP BY session",
                                 &st);

    if (r < 0)
        return r;
    sqlite3_bind_text(st, 1, glob, -1, SQLITE_STATIC);
    while ((rc = ng_store_step(s, st)) == SQLITE_ROW) {
        /* Derived data: a malformed row names nothing. */
        if (sqlite3_column_type(st, 0) != SQLITE_BLOB ||
            sqlite3_column_bytes(st, 0) != NG_STORE_ID_LEN)
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            struct ng_cmd_match *nv = realloc(v, ncap * sizeof(*v));
            if (!nv) {
                r = -ENOMEM;
                break;
            }
            v = nv;
            cap = ncap;
        }
        memcpy(v[n].id, sqlite3_column_blob(st, 0), NG_STORE_ID_LEN);
        v[n].seq = sqlite3_column_int64(st, 1);
        n++;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = ng_store_errno(s->db, rc);
    sqlite3_finalize(st);
    if (r < 0) {
        free(v);
        return r;
    }
    if (n > 1)
        qsort(v, n, sizeof(*v), cmp_match);
    *ret = v;
    *ret_n = n;
    return 0;
}

const struct ng_cmd_match *ng_store_cmd_find(const struct ng_cmd_match *v, size_t n,
                                             const uint8_t id[NG_STORE_ID_LEN])
{
    struct ng_cmd_match key;

    memcpy(key.id, id, NG_STORE_ID_LEN);
    return n ? bsearch(&key, v, n, sizeof(*v), cmp_match) : NULL;
}
