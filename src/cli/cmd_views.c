/* nsgate sessions --views SESSION --audit-log FILE...: every look at a
 * session (replay, export, watch) as the audit trail holds it
 * (op=nsgate-review records, cli.md "Reviews"), from logs read with
 * libauparse (auditlog.h): raw or enriched, rotated, gzip-compressed. No
 * store is needed: an auditor runs it on the collector's logs. */
#include "cmd_store_int.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nsgate/auditlog.h"
#include "nsgate/text.h"
#include "nsgate/timearg.h"

/* The one session of the log whose ID is session or starts with it
 * (case-insensitive, at least NG_STORE_PREFIX_MIN characters). 0, or an
 * exit status (said why). */
static int find(const struct ng_auditlog *log, const char *session,
                const struct ng_auditlog_session **ret)
{
    size_t len = strlen(session), hits = 0;

    for (size_t i = 0; i < len; i++)
        if (!isxdigit((unsigned char)session[i]) && session[i] != '-')
            len = 0;
    if (len < NG_STORE_PREFIX_MIN || len > 36) {
        ng_err("'%s' is not a session ID or a prefix of at least %d characters of one", session,
               NG_STORE_PREFIX_MIN);
        return NG_EXIT_USAGE;
    }
    *ret = NULL;
    for (size_t i = 0; i < ng_auditlog_nsessions(log); i++) {
        const struct ng_auditlog_session *s = ng_auditlog_session_at(log, i);
        if (strncasecmp(s->uuid, session, len) == 0 && s->nreviews > 0) {
            *ret = s;
            hits++;
        }
    }
    if (hits > 1) {
        ng_err("session prefix %s is ambiguous in the audit log: give more characters", session);
        return NG_EXIT_USAGE;
    }
    return 0;
}

static int print_view(const struct ng_auditlog_rec *r, int json)
{
    char when[48];
    int64_t ns = r->t.sec * 1000000000LL + (int64_t)r->t.msec * 1000000LL;
    char *acct = ng_escape_str(r->acct);
    int st;

    ng_format_time_utc(ns, when, sizeof(when));
    if (!acct)
        return -ENOMEM;
    if (json) {
        json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:b}", "time", when, "act", r->act,
                              "session", r->uuid, "user", acct, "uid", (json_int_t)r->viewer_uid,
                              "auid", (json_int_t)r->viewer_auid, "serial", (json_int_t)r->t.serial,
                              "logged", r->res == 1);
        char *text = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
        json_decref(o);
        st = text && puts(text) >= 0 ? 0 : -EIO;
        free(text);
    } else {
        char auid[16] = "unset";
        if (r->viewer_auid != UINT32_MAX)
            snprintf(auid, sizeof(auid), "%u", r->viewer_auid);
        st = printf("%-30s  %-6s  %-16s  %10u  %10s  %s\n", when, r->act, acct, r->viewer_uid, auid,
                    r->uuid) < 0
                 ? -EIO
                 : 0;
    }
    free(acct);
    return st;
}

int ng_cmd_views(const char *session, const char *const *logs, size_t nlogs, int json)
{
    struct ng_auditlog *log;
    const struct ng_auditlog_session *s = NULL;
    struct ng_auditlog_stats st;
    int r = ng_auditlog_new(&log);

    for (size_t i = 0; r == 0 && i < nlogs; i++) {
        r = ng_auditlog_add_file(log, logs[i]);
        if (r < 0)
            ng_err("cannot read audit log %s: %s", logs[i], strerror(-r));
    }
    if (r == 0)
        r = ng_auditlog_finish(log);
    if (r < 0) {
        ng_auditlog_free(log);
        return r == -ENOENT || r == -EACCES || r == -EBADMSG ? NG_EXIT_NOINPUT : NG_EXIT_INTERNAL;
    }
    int ex = find(log, session, &s);
    ng_auditlog_get_stats(log, &st);
    if (st.malformed || st.bad || st.long_lines)
        ng_warn("the audit log holds %llu lines that are not audit records, %llu malformed "
                "nsgate records and %llu overlong lines (skipped)",
                (unsigned long long)st.malformed, (unsigned long long)st.bad,
                (unsigned long long)st.long_lines);
    if (ex == 0 && !json)
        printf("%-30s  %-6s  %-16s  %10s  %10s  %s\n", "TIME", "ACT", "VIEWER", "UID", "AUID",
               "SESSION");
    for (size_t i = 0; ex == 0 && s && i < s->nreviews; i++)
        if (print_view(&s->reviews[i], json) < 0)
            ex = NG_EXIT_INTERNAL;
    if (ex == 0 && !s)
        ng_warn("no review of a session %s in the audit log", session);
    if (fflush(stdout) != 0 && ex == 0)
        ex = NG_EXIT_INTERNAL;
    ng_auditlog_free(log);
    return ex;
}
