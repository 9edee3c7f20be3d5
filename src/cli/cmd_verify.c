/* nsgate verify (cli.md): one line per session, then the ledger's line.
 * Exit 0 all OK, 2 something INCOMPLETE, 1 anything TAMPERED or MISSING.
 * The root key should come from the auditor (--key FILE); one read from
 * this host proves nothing against root on it, and we say so. */
#include "cmd_verify_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nsgate/auditlog.h"
#include "nsgate/seal.h"
#include "nsgate/verify.h"

static const char usage[] =
    "Usage: nsgate verify [--db FILE] [--keys DIR | --key FILE] [--audit-log FILE]...\n"
    "                     [SESSION...]\n"
    "       nsgate verify --jsonl [--keys DIR | --key FILE...] FILE...\n"
    "\n"
    "Proves that recorded sessions are exactly what was recorded. --key FILE holds the\n"
    "root public key as keygen printed it (64 hex digits); keep it off the host.\n"
    "--audit-log FILE (auditd logs, raw or enriched, rotated files one by one, .gz too)\n"
    "anchors the newest data.\n"
    "--jsonl verifies evidence streams (export --follow) without the store: one or many\n"
    "hosts' files (- for standard input), --key once per host's root key.\n"
    "Exit 0: all OK, 2: something incomplete, 1: something tampered or missing.\n";

#define MAX_LOGS 64

struct verify_opts {
    struct ng_cmd_source src;
    const char *logs[MAX_LOGS];
    size_t nlogs;
    const char *keys[NG_VERIFY_MAX_KEYS];
    size_t nkeys;
    int jsonl, db_given;
    char **sessions;
    int nsessions;
};

enum { OPT_AUDIT_LOG = 256, OPT_JSONL };

static const struct ng_optdef verify_opts_def[] = {
    NG_SOURCE_OPTDEFS,
    {OPT_AUDIT_LOG, 0, "audit-log", NG_OPT_ARG},
    {OPT_JSONL, 0, "jsonl", 0},
    {'h', 'h', "help", 0},
    {0, 0, NULL, 0},
};

const struct ng_cmdspec ng_spec_verify = {.name = "verify",
                                          .opts = verify_opts_def,
                                          .flags = NG_CMD_PERMUTE | NG_CMD_READER,
                                          .max_operands = -1,
                                          .operand = "SESSION"};

static int verify_opt(const struct ng_optval *v, void *ctx)
{
    struct verify_opts *o = ctx;

    if (v->id == NG_OPT_KEY) { /* --jsonl takes one per host */
        if (o->nkeys == NG_VERIFY_MAX_KEYS) {
            ng_err("at most %d --key files", NG_VERIFY_MAX_KEYS);
            return -EINVAL;
        }
        o->keys[o->nkeys++] = v->arg;
    }
    if (v->id == OPT_JSONL)
        o->jsonl = 1;
    if (v->id == NG_OPT_DB)
        o->db_given = 1;
    if (ng_cmd_source_opt(v, &o->src) || v->id != OPT_AUDIT_LOG)
        return 0;
    if (o->nlogs == MAX_LOGS) {
        ng_err("at most %d --audit-log files", MAX_LOGS);
        return -EINVAL;
    }
    o->logs[o->nlogs++] = v->arg;
    return 0;
}

int ng_verify_print(void *arg, const struct ng_verify_result *res)
{
    struct run *run = arg;
    struct ng_verify_result own;
    char id[NG_UUID_STR];

    if (run->group) { /* a stream's records that could not be stored */
        run->lines++;
        own = *res;
        ng_verify_apply_findings(run, &own);
        res = &own;
    }
    ng_uuid_format(res->id, id);
    switch (res->word) {
    case NG_VERIFY_OK:
        printf("OK %s events=%lld root=%s\n", id, (long long)res->events, run->root16);
        break;
    case NG_VERIFY_INCOMPLETE:
        run->incomplete = 1;
        printf("INCOMPLETE %s events=%lld sealed=%lld\n", id, (long long)res->events,
               (long long)(res->sealed < 0 ? 0 : res->sealed));
        break;
    case NG_VERIFY_MISSING:
        run->tampered = 1;
        printf("MISSING %s: %s\n", id, res->what);
        break;
    case NG_VERIFY_TAMPERED:
    default:
        run->tampered = 1;
        printf("TAMPERED %s seq=%lld: %s\n", id, (long long)res->seq, res->what);
        break;
    }
    return 0;
}

int ng_verify_one(void *arg, const uint8_t id[NG_STORE_ID_LEN])
{
    struct run *run = arg;
    struct ng_verify_result res;
    struct ng_verify_point *pts = NULL;
    size_t n = 0;
    int r = run->log ? ng_verify_audit_points(run->log, id, &pts, &n) : 0;

    if (r == 0)
        r = ng_verify_session(run->v, id, pts, n, &res);
    if (r == 0 && run->log)
        ng_verify_audit_session(run->log, pts, n, &res);
    free(pts);
    return r < 0 ? r : ng_verify_print(run, &res);
}

void ng_verify_print_ledger(struct run *run, const struct ng_verify_result *res)
{
    if (res->word == NG_VERIFY_OK)
        printf("LEDGER OK entries=%lld\n", (long long)res->events);
    else if (res->word == NG_VERIFY_INCOMPLETE)
        printf("LEDGER INCOMPLETE entries=%lld sealed=%lld\n", (long long)res->events,
               (long long)(res->sealed < 0 ? 0 : res->sealed));
    else
        printf("LEDGER TAMPERED seq=%lld: %s\n", (long long)res->seq, res->what);
    run->incomplete |= res->word == NG_VERIFY_INCOMPLETE;
    run->tampered |= res->word != NG_VERIFY_OK && res->word != NG_VERIFY_INCOMPLETE;
}

static int load_logs(const struct verify_opts *o, struct ng_auditlog **ret)
{
    struct ng_auditlog *log;
    int r;

    *ret = NULL;
    if (o->nlogs == 0) {
        ng_warn("no --audit-log: the end of the ledger is not anchored (deleting the newest "
                "sessions, or rolling back the whole store, cannot be detected)");
        return 0;
    }
    r = ng_auditlog_new(&log);
    for (size_t i = 0; r == 0 && i < o->nlogs; i++) {
        r = ng_auditlog_add_file(log, o->logs[i]);
        if (r < 0)
            ng_err("cannot read audit log %s: %s", o->logs[i], strerror(-r));
    }
    if (r == 0)
        r = ng_auditlog_finish(log);
    if (r < 0) {
        ng_auditlog_free(log);
        return r == -ENOENT || r == -EACCES ? NG_EXIT_NOINPUT : NG_EXIT_INTERNAL;
    }
    *ret = log;
    return 0;
}

/* Keys made by an earlier release signed no epoch length (docs/integrity.md
 * "Certificates"): said once, on standard error; the verdicts stand. */
static void note_epoch_len(const struct ng_verifier *v)
{
    const struct ng_seal_epoch *ep;
    size_t n = ng_verify_epochs(v, &ep);

    if (n > 0 && !ep[n - 1].len_signed)
        ng_warn("the epoch length is not signed by this root key (keys made by an earlier "
                "nsgate release): it is checked against the certificates' start times only, "
                "until the next epoch change signs it");
}

/* Named sessions (unique prefixes), or every session and then the rows
 * and ledger entries naming sessions the store lacks. */
static int sessions(const struct verify_opts *o, struct ng_store *s, struct run *run)
{
    uint8_t id[NG_STORE_ID_LEN];
    int r = 0;

    if (o->nsessions == 0) {
        r = ng_verify_list(run->v, ng_verify_one, run);
        if (r == 0)
            r = ng_verify_missing(run->v, ng_verify_print, run);
        return r == 0 && run->log ? ng_verify_audit_missing(run->v, run->log, ng_verify_print, run)
                                  : r;
    }
    for (int i = 0; i < o->nsessions && r == 0; i++) {
        int st = ng_cmd_store_find(s, o->sessions[i], id);
        if (st)
            return st;
        r = ng_verify_one(run, id);
    }
    return r;
}

/* --jsonl FILE...: exported evidence streams (cmd_verify_jsonl.c). */
static int jsonl(const struct verify_opts *o)
{
    if (o->db_given || o->nlogs) {
        ng_err("--jsonl verifies streams: not with --db or --audit-log");
        return NG_EXIT_USAGE;
    }
    if (o->nsessions == 0) {
        ng_err("--jsonl wants the stream files (- for standard input)");
        return NG_EXIT_USAGE;
    }
    return ng_verify_jsonl((const char *const *)o->sessions, (size_t)o->nsessions, o->src.keys,
                           o->keys, o->nkeys);
}

int ng_cmd_verify(int argc, char **argv, const struct ng_caller *caller)
{
    struct verify_opts o = {.src.db = ng_cmd_default_db()};
    struct run run = {0};
    struct ng_verify_result ledger;
    uint8_t root[NG_FSKEY_PK_BYTES];
    struct ng_store *s = NULL;
    int st, r;

    st = ng_cmd_start(&ng_spec_verify, usage, argc, argv, caller, verify_opt, &o, &o.sessions,
                      &o.nsessions);
    if (st)
        return st < 0 ? 0 : st;
    if (o.src.keys && o.src.key) {
        ng_err("give either --keys DIR or --key FILE, not both");
        return NG_EXIT_USAGE;
    }
    if (o.jsonl)
        return jsonl(&o);
    if (o.nkeys > 1) {
        ng_err("--key is given once, except with --jsonl (one per host)");
        return NG_EXIT_USAGE;
    }
    st = ng_cmd_source_open(&o.src, root, &s);
    if (st)
        return st;
    sodium_bin2hex(run.root16, sizeof(run.root16), root, 8);
    st = load_logs(&o, &run.log);
    r = st ? 0 : ng_verify_new(s, root, NULL, &run.v);
    if (!st && r == 0)
        note_epoch_len(run.v);
    if (!st && r == 0)
        r = sessions(&o, s, &run);
    if (r > 0) /* an exit status from finding a named session */
        st = r, r = 0;
    if (!st && r == 0) {
        r = ng_verify_ledger(run.v, &ledger);
        if (r == 0 && run.log)
            ng_verify_audit_keys(run.v, run.log, &ledger);
        if (r == 0)
            ng_verify_print_ledger(&run, &ledger);
    }
    ng_verify_free(run.v);
    ng_auditlog_free(run.log);
    ng_store_close(s);
    if (st)
        return st;
    if (r < 0 || fflush(stdout) != 0) {
        ng_err("verification could not finish: %s", strerror(r < 0 ? -r : errno));
        return NG_EXIT_STORAGE;
    }
    return run.tampered ? 1 : run.incomplete ? 2 : 0;
}
