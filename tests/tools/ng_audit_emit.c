/* Test driver for the audit module (never installed): sends one event with
 * the given field values, or runs the availability check, so the
 * integration test can compare what a real auditd wrote.
 *
 *   ng_audit_emit check required|best-effort
 *   ng_audit_emit parse FILE...   (summary of what the log parser reads)
 *   ng_audit_emit [--print] authz|start|checkpoint|end|error|key NAME=VALUE... [-- ARGV...]
 *
 * --print writes the message text instead of sending it. Exit 0 on success,
 * 1 on failure (message on stderr), 2 on usage errors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nsgate/audit.h"
#include "nsgate/auditlog.h"

struct vals {
    const char *acct, *rule, *ns, *uuid, *container, *reason, *hdr, *head, *what, *fp, *op;
    long long opid, seqno, epoch, exit_status, allowed, ok;
    char **argv;
};

static int set_val(struct vals *v, const char *arg)
{
    static const char *const names[] = {"acct", "rule", "ns",   "uuid", "container", "reason",
                                        "hdr",  "head", "what", "fp",   "op"};
    const char **slots[] = {&v->acct, &v->rule, &v->ns,   &v->uuid, &v->container, &v->reason,
                            &v->hdr,  &v->head, &v->what, &v->fp,   &v->op};
    static const char *const nnames[] = {"opid", "seqno", "epoch", "exit", "allowed", "ok"};
    long long *nslots[] = {&v->opid, &v->seqno, &v->epoch, &v->exit_status, &v->allowed, &v->ok};
    const char *eq = strchr(arg, '=');

    if (!eq)
        return -1;
    size_t n = (size_t)(eq - arg);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i]) == n && !strncmp(arg, names[i], n)) {
            *slots[i] = eq + 1;
            return 0;
        }
    for (size_t i = 0; i < sizeof(nnames) / sizeof(nnames[0]); i++)
        if (strlen(nnames[i]) == n && !strncmp(arg, nnames[i], n)) {
            *nslots[i] = strtoll(eq + 1, NULL, 10);
            return 0;
        }
    return -1;
}

static int run_check(const char *mode)
{
    struct ng_audit a;
    const char *why = NULL;
    int required = strcmp(mode, "best-effort") != 0;

    if (ng_audit_open(&a) < 0) {
        /* ng_audit_check says why */
    }
    int r = ng_audit_check(&a, required, &why);
    ng_audit_close(&a);
    if (r < 0) {
        printf("fail: %s (%s)\n", why, strerror(-r));
        return 1;
    }
    printf(why ? "warn: %s\n" : "ok\n", why ? why : "");
    return 0;
}

/* Build (print) or send the event; returns a negative errno or >= 0. */
static int emit(const char *ev, const struct vals *v, const struct ng_audit *a, char *buf,
                size_t size)
{
    if (!strcmp(ev, "authz")) {
        struct ng_audit_authz e = {v->acct, v->rule, (pid_t)v->opid,
                                   v->ns,   v->uuid, (int)v->allowed};
        return a ? ng_audit_log_authz(a, &e) : ng_audit_fmt_authz(&e, buf, size);
    }
    if (!strcmp(ev, "start")) {
        struct ng_audit_start e = {v->acct,      v->opid ? (pid_t)v->opid : 1,
                                   v->container, v->argv,
                                   v->reason,    v->uuid,
                                   v->hdr,       (int)v->ok};
        return a ? ng_audit_log_start(a, &e) : ng_audit_fmt_start(&e, buf, size);
    }
    if (!strcmp(ev, "checkpoint")) {
        struct ng_audit_checkpoint e = {v->uuid, (uint64_t)v->seqno, v->head, (uint64_t)v->epoch};
        return a ? ng_audit_log_checkpoint(a, &e) : ng_audit_fmt_checkpoint(&e, buf, size);
    }
    if (!strcmp(ev, "end")) {
        struct ng_audit_end e = {
            v->acct, v->uuid, (uint64_t)v->seqno, v->head, (int)v->exit_status, v->reason};
        return a ? ng_audit_log_end(a, &e) : ng_audit_fmt_end(&e, buf, size);
    }
    if (!strcmp(ev, "error")) {
        struct ng_audit_error e = {v->uuid, v->what};
        return a ? ng_audit_log_error(a, &e) : ng_audit_fmt_error(&e, buf, size);
    }
    if (!strcmp(ev, "key")) {
        struct ng_audit_key e = {v->op && !strcmp(v->op, "destroy") ? NG_AUDIT_KEY_DESTROY
                                                                    : NG_AUDIT_KEY_CREATE,
                                 v->fp, (uint64_t)v->epoch};
        return a ? ng_audit_log_key(a, &e) : ng_audit_fmt_key(&e, buf, size);
    }
    return -ENOSYS;
}

static void print_session(const struct ng_auditlog_session *s)
{
    printf("session %s starts=%zu checkpoints=%zu ends=%zu authz=%zu errors=%zu\n", s->uuid,
           s->nstarts, s->ncheckpoints, s->nends, s->nauthz, s->nerrors);
    for (size_t i = 0; i < s->nstarts; i++)
        printf("  start hdr=%s auid=%u acct=%s res=%d\n", s->starts[i].hash, s->starts[i].auid,
               s->starts[i].acct, s->starts[i].res);
    for (size_t i = 0; i < s->ncheckpoints; i++)
        printf("  checkpoint seqno=%llu head=%s epoch=%llu\n",
               (unsigned long long)s->checkpoints[i].seqno, s->checkpoints[i].hash,
               (unsigned long long)s->checkpoints[i].epoch);
    for (size_t i = 0; i < s->nends; i++)
        printf("  end seqno=%llu head=%s exit=%d reason=%s\n", (unsigned long long)s->ends[i].seqno,
               s->ends[i].hash, s->ends[i].exit_status, s->ends[i].reason);
}

static int run_parse(int argc, char **argv)
{
    struct ng_auditlog *log;
    struct ng_auditlog_stats st;
    int r = ng_auditlog_new(&log);

    for (int i = 0; r == 0 && i < argc; i++)
        r = ng_auditlog_add_file(log, argv[i]);
    if (r == 0)
        r = ng_auditlog_finish(log);
    if (r < 0) {
        fprintf(stderr, "ng_audit_emit: parse: %s\n", strerror(-r));
        ng_auditlog_free(log);
        return 1;
    }
    for (size_t i = 0; i < ng_auditlog_nsessions(log); i++)
        print_session(ng_auditlog_session_at(log, i));
    for (size_t i = 0; i < ng_auditlog_nkeys(log); i++) {
        const struct ng_auditlog_rec *k = ng_auditlog_key_at(log, i);
        printf("key %s epoch=%llu fp=%s\n",
               k->kind == NG_AUDITLOG_KEY_CREATE ? "create" : "destroy",
               (unsigned long long)k->epoch, k->hash);
    }
    ng_auditlog_get_stats(log, &st);
    printf("lines=%llu records=%llu malformed=%llu bad=%llu denied=%llu duplicates=%llu\n",
           (unsigned long long)st.lines, (unsigned long long)st.records,
           (unsigned long long)st.malformed, (unsigned long long)st.bad,
           (unsigned long long)st.denied, (unsigned long long)st.duplicates);
    ng_auditlog_free(log);
    return 0;
}

int main(int argc, char **argv)
{
    struct vals v;
    char buf[NG_AUDIT_MSG_MAX + 1];
    int print = 0, i = 1, r;

    memset(&v, 0, sizeof(v));
    v.ok = 1;
    if (argc == 3 && !strcmp(argv[1], "check"))
        return run_check(argv[2]);
    if (argc >= 3 && !strcmp(argv[1], "parse"))
        return run_parse(argc - 2, argv + 2);
    if (i < argc && !strcmp(argv[i], "--print")) {
        print = 1;
        i++;
    }
    if (i >= argc)
        return 2;
    const char *ev = argv[i++];
    for (; i < argc; i++) {
        if (!strcmp(argv[i], "--")) {
            v.argv = argv + i + 1;
            break;
        }
        if (set_val(&v, argv[i]) < 0) {
            fprintf(stderr, "ng_audit_emit: bad argument %s\n", argv[i]);
            return 2;
        }
    }
    if (print) {
        r = emit(ev, &v, NULL, buf, sizeof(buf));
        if (r >= 0)
            printf("%s\n", buf);
    } else {
        struct ng_audit a;
        r = ng_audit_open(&a);
        if (r >= 0)
            r = emit(ev, &v, &a, buf, sizeof(buf));
        ng_audit_close(&a);
    }
    if (r < 0) {
        fprintf(stderr, "ng_audit_emit: %s: %s\n", ev, strerror(-r));
        return 1;
    }
    return 0;
}
