/* Reading audit logs for the cross-check (spec/audit.md "Cross-check",
 * integrity.md property 5) and the review listing (sessions --views), with
 * libauparse (auditlog.c). Pure: lines in, records out; the only I/O is
 * reading the files the caller names (gzip-compressed ones too). The
 * comparison with the store belongs to verify.
 *
 * The log is treated as hostile text: every line is bounded
 * (NG_AUDITLOG_LINE_MAX), every field is checked for its form, a field
 * that appears twice makes the line malformed, and hex-encoded values are
 * decoded into bounded buffers. A malformed line is counted, never fatal. */
#ifndef NSGATE_AUDITLOG_H
#define NSGATE_AUDITLOG_H

#include <stddef.h>
#include <stdint.h>

#include "nsgate/util.h"

#define NG_AUDITLOG_LINE_MAX    16384 /* longer lines are skipped (counted) */
#define NG_AUDITLOG_MAX_RECORDS (1U << 21)
#define NG_AUDITLOG_HEX_MAX     128 /* hdr, head, fp: up to 64 bytes */
#define NG_AUDITLOG_TEXT_MAX    64  /* decoded acct and end reason, cut */
/* A gzip-compressed log is read up to this many decompressed bytes. */
#define NG_AUDITLOG_GZ_MAX (UINT64_C(16) << 30)

enum ng_auditlog_kind {
    NG_AUDITLOG_NONE = 0,
    NG_AUDITLOG_START,      /* USER_START op=nsgate-session-open */
    NG_AUDITLOG_CHECKPOINT, /* TRUSTED_APP op=nsgate-checkpoint */
    NG_AUDITLOG_END,        /* USER_END op=nsgate-session-close */
    NG_AUDITLOG_AUTHZ,      /* USER_ACCT op=nsgate-authz */
    NG_AUDITLOG_ERROR,      /* USER_ERR op=nsgate-error */
    NG_AUDITLOG_KEY_CREATE, /* CRYPTO_KEY_USER op=create kind=nsgate-seal */
    NG_AUDITLOG_KEY_DESTROY,
    NG_AUDITLOG_REVIEW, /* TRUSTED_APP op=nsgate-review: a look at a session */
};

/* The record's audit(SEC.MSEC:SERIAL) stamp. */
struct ng_auditlog_time {
    int64_t sec;
    uint32_t msec;
    uint64_t serial;
};

/* One nsgate record. Fields a kind does not carry are zero / "". */
struct ng_auditlog_rec {
    enum ng_auditlog_kind kind;
    struct ng_auditlog_time t;
    int res;       /* 1 = success, 0 = failed */
    uint32_t auid; /* kernel's auid; 4294967295 = unset */
    char uuid[37]; /* session ID; "" for keys, denied decisions, uuid=? */
    /* hdr (START), head (CHECKPOINT, END) or fp (KEY_*): lowercase hex */
    char hash[NG_AUDITLOG_HEX_MAX + 1];
    uint64_t seqno;                        /* CHECKPOINT, END */
    uint64_t epoch;                        /* CHECKPOINT, KEY_* */
    int exit_status;                       /* END */
    char acct[NG_AUDITLOG_TEXT_MAX + 1];   /* decoded (AUTHZ, START, END) */
    char reason[NG_AUDITLOG_TEXT_MAX + 1]; /* decoded end reason (END) */
    char act[8];                           /* REVIEW: replay, export or watch */
    uint32_t viewer_uid, viewer_auid;      /* REVIEW: the viewer's, as nsgate logged them */
};

/* Parse one line (without or with its '\n'). Returns 1 and fills *rec for
 * an nsgate record; 0 for any other well-formed audit line (only *t is
 * filled, for the log's time span); -EBADMSG for a line of an nsgate
 * operation missing a field or with a bad one (*t filled); -EINVAL for a
 * line that is not an audit record. */
int ng_auditlog_parse_line(const char *line, size_t len, struct ng_auditlog_rec *rec,
                           struct ng_auditlog_time *t) NG_MUST_CHECK;

/* What the log says about one session. Pointers stay valid until
 * ng_auditlog_free. Arrays are in time order (sec, msec, serial). */
struct ng_auditlog_session {
    char uuid[37];
    const struct ng_auditlog_rec *starts; /* usually 1; 0 = never seen to start */
    size_t nstarts;                       /* > 1: differing starts (suspect) */
    const struct ng_auditlog_rec *checkpoints;
    size_t ncheckpoints;
    const struct ng_auditlog_rec *ends; /* 0 = still open or end lost */
    size_t nends;
    const struct ng_auditlog_rec *authz; /* the allowing decision(s) */
    size_t nauthz;
    size_t nerrors;                        /* USER_ERR records naming the session */
    const struct ng_auditlog_rec *reviews; /* op=nsgate-review: every look, in time order */
    size_t nreviews;
};

struct ng_auditlog_stats {
    uint64_t lines;                      /* lines read */
    uint64_t records;                    /* nsgate records kept */
    uint64_t malformed;                  /* not an audit record */
    uint64_t bad;                        /* nsgate operation with a missing or bad field */
    uint64_t long_lines;                 /* longer than NG_AUDITLOG_LINE_MAX */
    uint64_t duplicates;                 /* identical records seen twice (overlapping files) */
    uint64_t denied;                     /* denied decisions (carry no session ID) */
    int empty;                           /* no audit line at all: no time span */
    struct ng_auditlog_time first, last; /* time span of every audit line */
};

struct ng_auditlog;

int ng_auditlog_new(struct ng_auditlog **ret) NG_MUST_CHECK;
void ng_auditlog_free(struct ng_auditlog *log);
/* Feed lines, files or descriptors in any order (rotated files one by one:
 * audit.log.3, audit.log, audit.log.1 ...; a regular file that starts with
 * gzip's magic is decompressed: audit.log.2.gz); records are ordered by their
 * stamps at ng_auditlog_finish. 0, -ENOMEM, -E2BIG (too many records), or
 * the errno of open/read. Feeding after finish is -EINVAL. */
int ng_auditlog_add_line(struct ng_auditlog *log, const char *line, size_t len) NG_MUST_CHECK;
int ng_auditlog_add_fd(struct ng_auditlog *log, int fd) NG_MUST_CHECK;
int ng_auditlog_add_file(struct ng_auditlog *log, const char *path) NG_MUST_CHECK;
/* Sort, drop exact duplicates, group by session. 0 or -ENOMEM. */
int ng_auditlog_finish(struct ng_auditlog *log) NG_MUST_CHECK;

/* After finish: sessions in uuid order, keys (create and destroy) in
 * (epoch, time) order, and the counters. */
size_t ng_auditlog_nsessions(const struct ng_auditlog *log);
const struct ng_auditlog_session *ng_auditlog_session_at(const struct ng_auditlog *log, size_t i);
const struct ng_auditlog_session *ng_auditlog_find(const struct ng_auditlog *log, const char *uuid);
size_t ng_auditlog_nkeys(const struct ng_auditlog *log);
const struct ng_auditlog_rec *ng_auditlog_key_at(const struct ng_auditlog *log, size_t i);
void ng_auditlog_get_stats(const struct ng_auditlog *log, struct ng_auditlog_stats *out);

/* Order of two stamps: by second, millisecond, then serial. */
int ng_auditlog_time_cmp(const struct ng_auditlog_time *a, const struct ng_auditlog_time *b);

#endif
