/* Every look at a recorded session is logged (cli.md "Reviews", audit.md):
 * replay and export (and watch) send TRUSTED_APP op=nsgate-review while the
 * process still holds the privilege to, then drop it for good. The store
 * is opened before that: with the caller's own rights (a setuid start acts
 * as the caller for the open), or -- mediated mode, the caller in the
 * policy's reviewers groups -- with root's, so a root-only store can be
 * reviewed only through nsgate, and every look is on record. Nothing else
 * is done with the privilege. review_audit = required refuses a look whose
 * record cannot be sent (75); best-effort warns. A host without a policy
 * file (an auditor's own machine reading an exported copy) sends nothing. */
#include "cmd_store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nsgate/harden.h"
#include "nsgate/policy.h"
#include "nsgate/uuid.h"

/* Is the caller in one of the reviewers groups (its gid or groups as it
 * started)? Names that do not resolve match nobody. */
static int is_reviewer(const struct ng_policy *p, const struct ng_caller *c)
{
    for (size_t i = 0; i < p->nreviewers; i++) {
        uint32_t gid;
        if (ng_policy_userdb_system.group_gid(ng_policy_userdb_system.ctx, p->reviewers[i], &gid) <
            0)
            continue;
        if (c->gid == gid)
            return 1;
        for (size_t k = 0; k < c->ngroups; k++)
            if (c->groups[k] == gid)
                return 1;
    }
    return 0;
}

/* The policy's review keys. No policy file: not an nsgate host, nothing to
 * account for. A policy that cannot be read or parsed, or is unsafe (owner,
 * mode): its defaults (best-effort, no reviewers), with a warning. */
static void review_policy(struct ng_review *rv)
{
    const char *env = getenv("NSGATE_POLICY"); /* kept for real root only (harden.c) */
    const char *path = env && *env && getuid() == 0 && !rv->caller->setuid_start ? env
                                                                                 : NSGATE_SYSCONFDIR
                           "/policy.ini";
    struct ng_policy_msgs errs = {0};
    struct ng_policy *p = NULL;
    const char *why = NULL;
    char *buf = NULL;
    size_t len;
    /* checked as enter checks it: an unsafe file grants no reviewer */
    int r = ng_policy_load(path, 0, &buf, &len, &why);

    if (r == -ENOENT)
        return;
    rv->host = 1;
    if (r == 0)
        r = ng_policy_parse(buf, len, path, &p, &errs);
    if (r == 0) {
        rv->required = p->review_audit_required;
        rv->mediated = rv->caller->setuid_start && is_reviewer(p, rv->caller);
    } else if (r != -EACCES) { /* unreadable to a caller without privilege: no reviewer either */
        ng_warn("policy %s cannot be read (%s): reviews are logged best-effort", path,
                why ? why : strerror(-r));
    }
    ng_policy_msgs_free(&errs);
    ng_policy_free(p);
    free(buf);
}

void ng_review_begin(struct ng_review *rv, const struct ng_caller *caller)
{
    memset(rv, 0, sizeof(*rv));
    rv->caller = caller;
    rv->audit.fd = -1;
    review_policy(rv);
    /* A start without privilege cannot write audit records: said when the
     * record is due. */
    if (rv->host && (getuid() == 0 || caller->setuid_start))
        rv->open_err = ng_audit_open(&rv->audit);
    else if (rv->host)
        rv->open_err = -EPERM;
}

/* The host's store (the default one, or NSGATE_DB for real root) is what
 * mediated mode opens as root (by that name only) and what review_audit =
 * required guards (by any name); a --db elsewhere is opened with the
 * caller's rights and its looks logged best-effort. The session is found in the same window, so
 * every file the store opens is opened with the same rights. */
/* The final drop, and non-dumpable after it: a store opened with root's
 * rights (mediated mode) must not be reachable through /proc/PID/fd or
 * ptrace by the reviewer whose process this now is, whatever
 * fs.suid_dumpable says. */
static int drop_for_good(const struct ng_caller *caller)
{
    int st = ng_cmd_drop(caller);

    if (st == 0 && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
        ng_err("cannot make the reader non-dumpable");
        return NG_EXIT_INTERNAL;
    }
    return st;
}

/* Another name of the host's store (a second slash, a ./) is the host's
 * store too, so review_audit = required cannot be stepped around: the same
 * file, looked at with the caller's rights. */
static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;

    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

int ng_review_open(struct ng_review *rv, const char *db, const char *session, struct ng_store **ret,
                   uint8_t id[NG_STORE_ID_LEN])
{
    int by_name = strcmp(db, ng_cmd_default_db()) == 0;
    int as_caller = !(rv->mediated && by_name) && rv->caller->setuid_start, st;

    if (as_caller && ng_harden_act_as_caller(rv->caller, 1) < 0) {
        ng_err("cannot take the caller's rights to open %s", db);
        return NG_EXIT_INTERNAL;
    }
    rv->host_store = by_name || same_file(db, ng_cmd_default_db());
    st = ng_cmd_store_open(db, ret);
    if (st == 0 && (st = ng_cmd_store_find(*ret, session, id)) != 0)
        ng_store_close(*ret);
    if (as_caller && ng_harden_act_as_caller(rv->caller, 0) < 0) {
        if (st == 0)
            ng_store_close(*ret);
        ng_err("cannot take back the rights to log the review");
        return NG_EXIT_INTERNAL;
    }
    return st;
}

int ng_review_list_store(struct ng_review *rv, const char *db, int searches, struct ng_store **ret)
{
    int mediated = rv->mediated && strcmp(db, ng_cmd_default_db()) == 0, st = 0;

    ng_review_end(rv); /* a listing sends no record */
    if (mediated && searches) {
        st = drop_for_good(rv->caller);
        ng_err("--grep and --command search what sessions recorded: a reviewer of this store "
               "looks at recordings with replay or export, each look logged");
        return st ? st : NG_EXIT_DENIED;
    }
    if (!mediated && (st = drop_for_good(rv->caller)) != 0)
        return st;
    st = ng_cmd_store_open(db, ret);
    if (mediated) {
        int dr = drop_for_good(rv->caller);
        if (dr && st == 0)
            ng_store_close(*ret);
        st = dr ? dr : st;
    }
    return st;
}

static void viewer(const struct ng_caller *c, char *name, size_t size, uint32_t *auid)
{
    struct passwd pw, *res = NULL;
    char buf[1024], id[32];
    uint64_t v;

    snprintf(name, size, "#%u", (unsigned)c->uid);
    if (getpwuid_r(c->uid, &pw, buf, sizeof(buf), &res) == 0 && res)
        snprintf(name, size, "%s", pw.pw_name);
    *auid = UINT32_MAX;
    if (ng_read_file_at(AT_FDCWD, "/proc/self/loginuid", id, sizeof(id)) > 0) {
        id[strcspn(id, "\n")] = '\0';
        if (ng_parse_u64(id, 0, UINT32_MAX, &v) == 0)
            *auid = (uint32_t)v;
    }
}

int ng_review_note(struct ng_review *rv, const char *act, const uint8_t id[NG_STORE_ID_LEN])
{
    char uuid[NG_UUID_STR], name[256];
    const char *why = NULL;
    int r = rv->open_err;

    if (!rv->host)
        return 0;
    if (r == 0) {
        struct ng_audit_review e = {.act = act, .uuid = uuid, .acct = name, .uid = rv->caller->uid};
        ng_uuid_format(id, uuid);
        viewer(rv->caller, name, sizeof(name), &e.auid);
        r = ng_audit_check(&rv->audit, 1, &why);
        if (r == 0)
            r = ng_audit_log_review(&rv->audit, &e);
    }
    if (r == 0)
        return 0;
    if (!why)
        why =
            r == -EPERM ? "nsgate runs without the privilege to write audit records" : strerror(-r);
    if (rv->required && rv->host_store) {
        ng_err("%s refused: review_audit = required and the review cannot be logged (%s)", act,
               why);
        return NG_EXIT_AUDIT;
    }
    ng_warn("this %s is not logged to the audit trail: %s", act, why);
    return 0;
}

int ng_review_log(struct ng_review *rv, const char *act, const uint8_t id[NG_STORE_ID_LEN])
{
    int st = ng_review_note(rv, act, id);

    ng_audit_close(&rv->audit);
    /* The record is out (or cannot be): privileges go now, whatever follows. */
    int dr = drop_for_good(rv->caller);
    return dr ? dr : st;
}

void ng_review_end(struct ng_review *rv)
{
    ng_audit_close(&rv->audit);
}
