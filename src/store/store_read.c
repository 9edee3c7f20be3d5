/* Reading the store: listing sessions, streaming a session's events, prefix
 * lookup, search. The file is hostile (integrity.md 6): every value is
 * checked for its type and size before use, nothing is trusted to be
 * bounded, and nothing is loaded whole. */
#include "nsgate/store_rows.h"
#include "store_int.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ng_store_state_name(enum ng_session_state st)
{
    switch (st) {
    case NG_STATE_SEALED:
        return "sealed";
    case NG_STATE_OPEN:
        return "open";
    case NG_STATE_INCOMPLETE:
        return "incomplete";
    default:
        return "incomplete";
    }
}

/* ---- prefix lookup ------------------------------------------------------- */

/* Hex digits of a text-form prefix: dashes only where the text form has
 * them (8, 13, 18, 23), optional. Returns the digit count or -EINVAL. */
static int prefix_digits(const char *prefix, char digits[33])
{
    size_t len = strlen(prefix), n = 0;

    if (len < NG_STORE_PREFIX_MIN || len > 36)
        return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        char c = prefix[i];
        if (c == '-' && (i == 8 || i == 13 || i == 18 || i == 23))
            continue;
        if (!isxdigit((unsigned char)c) || n == 32)
            return -EINVAL;
        digits[n++] = (char)tolower((unsigned char)c);
    }
    digits[n] = '\0';
    return (int)n;
}

static void hex_to_id(const char *digits, uint8_t id[NG_STORE_ID_LEN])
{
    for (int i = 0; i < NG_STORE_ID_LEN; i++) {
        char pair[3] = {digits[2 * i], digits[2 * i + 1], '\0'};
        id[i] = (uint8_t)strtoul(pair, NULL, 16);
    }
}

/* The IDs with this prefix are the range [lo, hi): lo pads the digits with
 * 0, hi is the prefix plus one, padded (none when the prefix is all f). */
static int prefix_range(const char *prefix, uint8_t lo[16], uint8_t hi[16], int *has_hi)
{
    char d[33], up[33];
    int n = prefix_digits(prefix, d);

    if (n < 0)
        return n;
    memset(d + n, '0', (size_t)(32 - n));
    d[32] = '\0';
    hex_to_id(d, lo);
    memcpy(up, d, sizeof(up));
    *has_hi = 0;
    for (int i = n - 1; i >= 0; i--) {
        if (up[i] != 'f') {
            up[i] = up[i] == '9' ? 'a' : (char)(up[i] + 1);
            *has_hi = 1;
            break;
        }
        up[i] = '0';
    }
    hex_to_id(up, hi);
    return 0;
}

int ng_store_find_session(struct ng_store *s, const char *prefix, uint8_t ret_id[NG_STORE_ID_LEN])
{
    uint8_t lo[16], hi[16], found[16] = {0};
    int has_hi, rc, n = 0;
    sqlite3_stmt *st;
    int r = prefix_range(prefix, lo, hi, &has_hi);

    if (r < 0)
        return r;
    r = ng_store_prepare(s,
                         "SELECT id FROM sessions WHERE id >= ?1 AND (?2 IS NULL OR id < ?2) "
                         "ORDER BY id LIMIT 2",
                         &st);
    if (r < 0)
        return r;
    sqlite3_bind_blob(st, 1, lo, 16, SQLITE_STATIC);
    if (has_hi)
        sqlite3_bind_blob(st, 2, hi, 16, SQLITE_STATIC);
    while ((rc = ng_store_step(s, st)) == SQLITE_ROW) {
        if (sqlite3_column_type(st, 0) != SQLITE_BLOB || sqlite3_column_bytes(st, 0) != 16) {
            r = -EBADMSG;
            break;
        }
        if (n++ == 0)
            memcpy(found, sqlite3_column_blob(st, 0), 16);
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = ng_store_errno(s->db, rc);
    sqlite3_finalize(st);
    if (r < 0)
        return r;
    if (n == 0)
        return -ENOENT;
    if (n > 1)
        return -ENOTUNIQ;
    memcpy(ret_id, found, 16);
    return 0;
}

/* ---- sessions ------------------------------------------------------------ */

struct ng_session_iter {
    struct ng_store *s;
    sqlite3_stmt *list, *last, *seal;
    struct ng_session_info info;
    char *end_reason;
    char *command;                /* the --command glob, or NULL */
    struct ng_cmd_match *matches; /* what the index says (with cmd_index) */
    size_t nmatches;
};

#define LIST_SQL                                                                                   \
    "SELECT id, start_ns, host, user_name, tty, target_container, program, reason, rule, "         \
    "uid, gid, target_pid, argv, record_input, mode, ns_user, ns_cgroup, ns_ipc, ns_uts, "         \
    "ns_net, ns_pid, ns_mnt, ns_time, %s FROM sessions "                                           \
    "WHERE (?1 IS NULL OR id = ?1) AND (?2 IS NULL OR user_name = ?2) "                            \
    "AND (?3 IS NULL OR target_pid = ?4 OR substr(target_container, 1, length(?3)) = ?3) "         \
    "AND (?5 = 0 OR start_ns >= ?5) AND (?6 = 0 OR start_ns <= ?6) "                               \
    "ORDER BY start_ns DESC, id"
#define LIST_NS_COL 15
#define LIST_RC_COL 23

static int is_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

int ng_store_sessions_begin(struct ng_store *s, const struct ng_session_filter *f,
                            struct ng_session_iter **ret)
{
    struct ng_session_iter *it = calloc(1, sizeof(*it));
    int r = it ? 0 : -ENOMEM;

    if (r == 0) {
        char sql[sizeof(LIST_SQL) + 32];
        it->s = s;
        /* record_commands is a column from schema 4 on */
        snprintf(sql, sizeof(sql), LIST_SQL, s->version >= 4 ? "record_commands" : "NULL");
        r = ng_store_prepare(s, sql, &it->list);
    }
    if (r == 0 && f->command && !(it->command = strdup(f->command)))
        r = -ENOMEM;
    if (r == 0 && f->command && s->cmd_index)
        r = ng_store_cmd_candidates(s, f->command, &it->matches, &it->nmatches);
    if (r == 0)
        r = ng_store_prepare(s,
                             "SELECT seq, kind, data FROM events WHERE session = ? "
                             "ORDER BY seq DESC LIMIT 1",
                             &it->last);
    if (r == 0)
        r = ng_store_prepare(s,
                             "SELECT seq FROM seals WHERE session = ? "
                             "ORDER BY sealno DESC LIMIT 1",
                             &it->seal);
    if (r < 0) {
        ng_store_sessions_end(it);
        return r;
    }
    if (f->id)
        sqlite3_bind_blob(it->list, 1, f->id, NG_STORE_ID_LEN, SQLITE_TRANSIENT);
    if (f->user)
        sqlite3_bind_text(it->list, 2, f->user, -1, SQLITE_TRANSIENT);
    if (f->target) {
        sqlite3_bind_text(it->list, 3, f->target, -1, SQLITE_TRANSIENT);
        if (is_digits(f->target) && strlen(f->target) < 12)
            sqlite3_bind_int64(it->list, 4, strtoll(f->target, NULL, 10));
    }
    sqlite3_bind_int64(it->list, 5, f->since_ns);
    sqlite3_bind_int64(it->list, 6, f->until_ns);
    *ret = it;
    return 0;
}

static const char *col_text(sqlite3_stmt *st, int col)
{
    /* NULL stays NULL; any other type is shown as SQLite's text of it. */
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        return NULL;
    return (const char *)sqlite3_column_text(st, col);
}

/* The end of a session is what its covered 'x' event says, if its last
 * event is a well-formed one; never the cache_session_end copy. */
static void parse_end(struct ng_session_iter *it, const void *data, size_t len)
{
    json_t *o = json_loadb(data, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *e = json_object_get(o, "end_ns"), *x = json_object_get(o, "exit");
    json_t *why = json_object_get(o, "reason");

    if (json_is_integer(e) && json_is_integer(x) && json_is_string(why) &&
        json_integer_value(x) >= INT32_MIN && json_integer_value(x) <= INT32_MAX) {
        it->end_reason = strdup(json_string_value(why));
        if (it->end_reason) {
            it->info.has_end = 1;
            it->info.end_ns = json_integer_value(e);
            it->info.exit_status = (int)json_integer_value(x);
            it->info.end_reason = it->end_reason;
        }
    }
    json_decref(o);
}

static int read_tail(struct ng_session_iter *it)
{
    struct ng_session_info *in = &it->info;
    int64_t sealed = -1;
    int rc;

    sqlite3_reset(it->last);
    sqlite3_bind_blob(it->last, 1, in->id, NG_STORE_ID_LEN, SQLITE_STATIC);
    rc = ng_store_step(it->s, it->last);
    if (rc == SQLITE_ROW) {
        const char *kind = col_text(it->last, 1);
        in->last_seq = sqlite3_column_int64(it->last, 0);
        if (kind && strcmp(kind, "x") == 0 && sqlite3_column_type(it->last, 2) == SQLITE_BLOB)
            parse_end(it, sqlite3_column_blob(it->last, 2),
                      (size_t)sqlite3_column_bytes(it->last, 2));
    } else if (rc != SQLITE_DONE) {
        return ng_store_errno(it->s->db, rc);
    }
    sqlite3_reset(it->seal);
    sqlite3_bind_blob(it->seal, 1, in->id, NG_STORE_ID_LEN, SQLITE_STATIC);
    rc = ng_store_step(it->s, it->seal);
    if (rc == SQLITE_ROW)
        sealed = sqlite3_column_int64(it->seal, 0);
    else if (rc != SQLITE_DONE)
        return ng_store_errno(it->s->db, rc);
    if (ng_store_live_held(it->s, in->id))
        in->state = NG_STATE_OPEN;
    else if (in->has_end && sealed == in->last_seq)
        in->state = NG_STATE_SEALED;
    else
        in->state = NG_STATE_INCOMPLETE;
    return 0;
}

static int read_row(struct ng_session_iter *it)
{
    sqlite3_stmt *st = it->list;
    struct ng_session_info *in = &it->info;
    const char *mode;

    if (sqlite3_column_type(st, 0) != SQLITE_BLOB || sqlite3_column_bytes(st, 0) != 16)
        return -EBADMSG;
    memcpy(in->id, sqlite3_column_blob(st, 0), 16);
    in->start_ns = sqlite3_column_int64(st, 1);
    in->host = col_text(st, 2);
    in->user_name = col_text(st, 3);
    in->tty = col_text(st, 4);
    in->container = col_text(st, 5);
    in->program = col_text(st, 6);
    in->reason = col_text(st, 7);
    in->rule = col_text(st, 8);
    in->uid = sqlite3_column_int64(st, 9);
    in->gid = sqlite3_column_int64(st, 10);
    in->target_pid = sqlite3_column_int64(st, 11);
    in->argv = sqlite3_column_type(st, 12) == SQLITE_BLOB ? sqlite3_column_blob(st, 12) : NULL;
    in->argv_len = in->argv ? (size_t)sqlite3_column_bytes(st, 12) : 0;
    in->record_input = sqlite3_column_int(st, 13) != 0;
    mode = col_text(st, 14);
    in->pty = mode && strcmp(mode, "pty") == 0;
    for (int n = 0; n < NG_NS_COUNT; n++)
        if (sqlite3_column_type(st, LIST_NS_COL + n) != SQLITE_NULL)
            in->ns |= 1u << n;
    in->record_commands = sqlite3_column_type(st, LIST_RC_COL) == SQLITE_INTEGER
                              ? sqlite3_column_int(st, LIST_RC_COL) != 0
                              : -1;
    int r = ng_store_command_count(it->s, in->id, &in->commands);
    return r < 0 ? r : read_tail(it);
}

/* --command: the index names the candidates (when there is one), the
 * covered events decide. 1 keep, 0 skip, < 0 error. */
static int command_filter(struct ng_session_iter *it, const uint8_t id[NG_STORE_ID_LEN])
{
    const struct ng_cmd_match *m = NULL;

    if (!it->command)
        return 1;
    if (it->s->cmd_index && !(m = ng_store_cmd_find(it->matches, it->nmatches, id)))
        return 0;
    return ng_store_cmd_session_matches(it->s, id, m ? m->seq : 0, it->command);
}

int ng_store_sessions_next(struct ng_session_iter *it, const struct ng_session_info **ret)
{
    int rc, r;

    free(it->end_reason);
    it->end_reason = NULL;
    memset(&it->info, 0, sizeof(it->info));
    for (;;) {
        rc = ng_store_step(it->s, it->list);
        if (rc == SQLITE_DONE)
            return 0;
        if (rc != SQLITE_ROW)
            return ng_store_errno(it->s->db, rc);
        if (sqlite3_column_type(it->list, 0) != SQLITE_BLOB ||
            sqlite3_column_bytes(it->list, 0) != 16)
            return -EBADMSG;
        r = command_filter(it, sqlite3_column_blob(it->list, 0));
        if (r < 0)
            return r;
        if (r == 1)
            break;
    }
    r = read_row(it);
    if (r < 0)
        return r;
    *ret = &it->info;
    return 1;
}

void ng_store_sessions_end(struct ng_session_iter *it)
{
    if (!it)
        return;
    sqlite3_finalize(it->list);
    sqlite3_finalize(it->last);
    sqlite3_finalize(it->seal);
    free(it->end_reason);
    free(it->command);
    free(it->matches);
    free(it);
}

/* ---- events -------------------------------------------------------------- */

struct ng_event_iter {
    struct ng_store *s;
    sqlite3_stmt *st;
    uint8_t id[NG_STORE_ID_LEN];
    struct ng_store_blocks *blocks; /* opened at the first event held in one */
    int64_t from;                   /* the first seq the query returns (blocks start there) */
    int64_t skip_to;                /* events up to this seq are read but not returned */
};

int ng_store_events_query(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN], const char *where,
                          struct ng_event_iter **ret)
{
    struct ng_event_iter *it = calloc(1, sizeof(*it));
    /* block_len is a column from schema 5 on */
    const char *cols = s->version >= 5
                           ? "SELECT seq, t_ns, kind, data, hash, block_len FROM events "
                           : "SELECT seq, t_ns, kind, data, hash FROM events ";
    char *sql = NULL;
    int r;

    if (!it || asprintf(&sql, "%s%s", cols, where) < 0) {
        free(it);
        return -ENOMEM;
    }
    it->s = s;
    memcpy(it->id, id, NG_STORE_ID_LEN);
    r = ng_store_prepare(s, sql, &it->st);
    free(sql);
    if (r < 0) {
        free(it);
        return r;
    }
    sqlite3_bind_blob(it->st, 1, id, NG_STORE_ID_LEN, SQLITE_TRANSIENT);
    *ret = it;
    return 0;
}

void ng_store_events_bind_seq(struct ng_event_iter *it, int64_t seq)
{
    sqlite3_bind_int64(it->st, 2, seq);
}

void ng_store_events_resume(struct ng_event_iter *it, int64_t from, int64_t after)
{
    sqlite3_bind_int64(it->st, 2, from);
    it->from = from;
    it->skip_to = after;
}

int ng_store_events_begin(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN],
                          struct ng_event_iter **ret)
{
    return ng_store_events_query(s, id,
                                 "WHERE session = ? "
                                 "ORDER BY seq",
                                 ret);
}

/* The event's data is in a block (schema 5): its row's data is empty and
 * block_len says how many bytes of the block are its. */
static int block_data(struct ng_event_iter *it, struct ng_event *ret)
{
    sqlite3_stmt *st = it->st;
    int r = 0;

    if (sqlite3_column_type(st, 5) != SQLITE_INTEGER || sqlite3_column_int64(st, 5) < 0 ||
        ret->len != 0)
        return -EBADMSG;
    if (!it->blocks)
        r = ng_store_blocks_open_from(it->s, it->id, it->from, &it->blocks);
    if (r == 0)
        r = ng_store_blocks_take(it->blocks, ret->seq, (size_t)sqlite3_column_int64(st, 5),
                                 &ret->data);
    if (r < 0)
        return r;
    ret->len = (size_t)sqlite3_column_int64(st, 5);
    return 1;
}

static int event_next(struct ng_event_iter *it, struct ng_event *ret);

/* Events up to skip_to (a resumed block's first ones) are decoded, so the
 * block hands out the right bytes, and passed over. */
int ng_store_events_next(struct ng_event_iter *it, struct ng_event *ret)
{
    int r;

    while ((r = event_next(it, ret)) == 1 && ret->seq <= it->skip_to)
        ;
    return r;
}

static int event_next(struct ng_event_iter *it, struct ng_event *ret)
{
    sqlite3_stmt *st = it->st;
    int rc = ng_store_step(it->s, st);

    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW)
        return ng_store_errno(it->s->db, rc);
    const char *kind = col_text(st, 2);
    if (sqlite3_column_type(st, 0) != SQLITE_INTEGER ||
        sqlite3_column_type(st, 1) != SQLITE_INTEGER || !kind || strlen(kind) != 1 ||
        sqlite3_column_type(st, 3) != SQLITE_BLOB || sqlite3_column_type(st, 4) != SQLITE_BLOB)
        return -EBADMSG;
    ret->seq = sqlite3_column_int64(st, 0);
    ret->t_ns = sqlite3_column_int64(st, 1);
    ret->kind = kind[0];
    ret->data = sqlite3_column_blob(st, 3);
    ret->len = (size_t)sqlite3_column_bytes(st, 3);
    ret->hash = sqlite3_column_blob(st, 4);
    ret->hash_len = (size_t)sqlite3_column_bytes(st, 4);
    if (sqlite3_column_count(st) > 5 && sqlite3_column_type(st, 5) != SQLITE_NULL)
        return block_data(it, ret);
    return 1;
}

void ng_store_events_end(struct ng_event_iter *it)
{
    if (!it)
        return;
    sqlite3_finalize(it->st);
    ng_store_blocks_close(it->blocks);
    free(it);
}

/* ---- escrow -------------------------------------------------------------- */

int ng_store_session_escrow(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN],
                            uint8_t ret[NG_STORE_ESCROW_PK_LEN])
{
    sqlite3_stmt *st;
    int r;

    if (ng_store_version(s) < 2) /* readers never migrate: no such column */
        return 0;
    r = ng_store_prepare(s, "SELECT mask_escrow FROM sessions WHERE id = ?", &st);
    if (r < 0)
        return r;
    sqlite3_bind_blob(st, 1, id, NG_STORE_ID_LEN, SQLITE_STATIC);
    int rc = ng_store_step(s, st);
    if (rc == SQLITE_DONE)
        r = -ENOENT;
    else if (rc != SQLITE_ROW)
        r = ng_store_errno(s->db, rc);
    else if (sqlite3_column_type(st, 0) == SQLITE_NULL)
        r = 0;
    else if (sqlite3_column_type(st, 0) != SQLITE_BLOB ||
             sqlite3_column_bytes(st, 0) != NG_STORE_ESCROW_PK_LEN)
        r = -EBADMSG;
    else {
        memcpy(ret, sqlite3_column_blob(st, 0), NG_STORE_ESCROW_PK_LEN);
        r = 1;
    }
    sqlite3_finalize(st);
    return r;
}

/* ---- search -------------------------------------------------------------- */

/* Knuth-Morris-Pratt over the concatenated stream, so a match split across
 * two reads of the relay (two events) is found; ASCII case folded. */
static size_t kmp_feed(const uint8_t *pat, const size_t *fail, size_t m, size_t state,
                       const uint8_t *p, size_t len, int *found)
{
    for (size_t i = 0; i < len && !*found; i++) {
        int c = tolower(p[i]);
        while (state > 0 && pat[state] != c)
            state = fail[state - 1];
        if (pat[state] == c)
            state++;
        if (state == m)
            *found = 1;
    }
    return state;
}

static int kmp_prepare(const char *needle, size_t m, uint8_t **ret_pat, size_t **ret_fail)
{
    uint8_t *pat = malloc(m);
    size_t *fail = malloc(m * sizeof(*fail));

    if (!pat || !fail) {
        free(pat);
        free(fail);
        return -ENOMEM;
    }
    for (size_t i = 0; i < m; i++)
        pat[i] = (uint8_t)tolower((unsigned char)needle[i]);
    fail[0] = 0;
    for (size_t i = 1, k = 0; i < m; i++) {
        while (k > 0 && pat[i] != pat[k])
            k = fail[k - 1];
        if (pat[i] == pat[k])
            k++;
        fail[i] = k;
    }
    *ret_pat = pat;
    *ret_fail = fail;
    return 0;
}

int ng_store_session_grep(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN], const char *needle,
                          size_t len)
{
    struct ng_event_iter *it = NULL;
    struct ng_event ev;
    uint8_t *pat;
    size_t *fail, state = 0;
    int found = 0, r;

    if (len == 0)
        return 1;
    r = kmp_prepare(needle, len, &pat, &fail);
    if (r < 0)
        return r;
    r = ng_store_events_query(s, id,
                              "WHERE session = ? "
                              "AND kind IN ('o', 'e', 'i') ORDER BY seq",
                              &it);
    while (r == 0 && !found && (r = ng_store_events_next(it, &ev)) == 1) {
        state = kmp_feed(pat, fail, len, state, ev.data, ev.len, &found);
        r = 0;
    }
    ng_store_events_end(it);
    free(pat);
    free(fail);
    return r < 0 ? r : found;
}
