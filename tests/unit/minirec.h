/* A mini recorder (store + sealer + real key directory) and an in-process
 * verify that prints what `nsgate verify` prints, for the verify, sealer and
 * tamper tests and the fuzz seed. Header-only (one executable per test). */
#ifndef NSGATE_TEST_MINIREC_H
#define NSGATE_TEST_MINIREC_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nsgate/sealer.h"
#include "nsgate/store.h"
#include "nsgate/verify.h"

#define REC_EPOCH_NS (10 * NG_FSKEY_SEC_NS)

static char rec_arg0[] = "/bin/sh", rec_arg1[] = "-c", rec_arg2[] = "echo \xff";
static char *const rec_argv[] = {rec_arg0, rec_arg1, rec_arg2, NULL};
static const uint32_t rec_groups[] = {10, 20};

/* Keys whose epoch 0 started 2.5 epochs ago: the first seal certifies
 * epochs 1 and 2, so the store holds a chain of three certificates. */
__attribute__((unused)) static int rec_keys(const char *dir, uint64_t back_ns)
{
    struct ng_fskey_created c;
    return ng_fskey_create(dir, REC_EPOCH_NS, 0, ng_fskey_now_ns() - back_ns, &c);
}

__attribute__((unused)) static int rec_begin(struct ng_store *s, struct ng_sealer *sl,
                                             const char *user, struct ng_session **ret)
{
    struct ng_session_header h;
    memset(&h, 0, sizeof(h));
    h.host = "host1";
    h.user_name = user;
    h.uid = 1000;
    h.gid = 1000;
    h.groups = rec_groups;
    h.ngroups = 2;
    h.login_uid = 1000;
    h.audit_session = 7;
    h.tty = "/dev/pts/1";
    h.target_pid = 4242;
    h.container = "0123456789abcdef";
    h.cgroup = "/system.slice/x";
    h.exe = "/usr/bin/sleep";
    h.comm = "sleep";
    h.target_uid = "0";
    h.ns = (1u << NG_NS_NET) | (1u << NG_NS_PID);
    h.ns_ino[NG_NS_NET] = 4026531993u;
    h.ns_ino[NG_NS_PID] = 4026531836u;
    h.program = "/bin/sh";
    h.argv = rec_argv;
    h.run_as_groups = rec_groups;
    h.run_as_ngroups = 1;
    h.run_as_caps = "none";
    h.reason = "INC-1";
    h.rule = "ops";
    memset(h.policy_hash, 0x5a, sizeof(h.policy_hash));
    h.record_input = 1;
    h.record_commands = 1;
    h.pty = 1;
    int r = ng_store_session_begin(s, &h, ret);
    if (r == 0)
        ng_store_session_coalesce(*ret, 0); /* one event per call */
    return r < 0 ? r : ng_sealer_session_start(sl, *ret);
}

/* n output events, a tick after every `every` of them. */
__attribute__((unused)) static int rec_events(struct ng_sealer *sl, struct ng_session *sess, int n,
                                              int every)
{
    char buf[256];
    for (int i = 0; i < n; i++) {
        int len = snprintf(buf, sizeof(buf),
                           "line %d of output, long enough that a batch fills a block\r\n", i);
        char kind = i % 5 == 4 ? 'i' : 'o';
        if (i % 6 == 2) { /* a command event, as the command recorder writes them */
            len = snprintf(buf, sizeof(buf),
                           "{\"t_ns\":%d,\"pid\":%d,\"ppid\":1,\"uid\":0,\"gid\":0,\"cwd\":\"/\","
                           "\"path\":\"/bin/ls\",\"exe\":\"/usr/bin/ls\",\"argv\":[\"ls\",\"-l\","
                           "\"/tmp/%d\"],\"result\":0,\"verified\":true}",
                           i, 100 + i, i);
            kind = 'c';
        }
        int r = ng_store_event(sess, kind, buf, (size_t)len);
        if (r == 0 && every && (i + 1) % every == 0)
            r = ng_sealer_tick(sl, sess, 1000, NULL);
        if (r < 0)
            return r;
    }
    return 0;
}

/* A whole session: begin, events, end, free. */
__attribute__((unused)) static int rec_session(struct ng_store *s, struct ng_sealer *sl,
                                               const char *user, int n)
{
    struct ng_session *sess;
    int r = rec_begin(s, sl, user, &sess);
    if (r == 0)
        r = rec_events(sl, sess, n, 4);
    if (r == 0)
        r = ng_sealer_session_end(sl, sess, 0, "exit");
    ng_store_session_free(sess);
    return r;
}

struct rec_out {
    char *buf;
    size_t len, cap;
    int tampered, incomplete;
};

__attribute__((unused)) static void rec_printf(struct rec_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
__attribute__((unused)) static void rec_printf(struct rec_out *o, const char *fmt, ...)
{
    va_list ap;
    char line[512];
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (o->len + (size_t)n + 1 > o->cap) {
        o->cap = (o->cap + (size_t)n + 1) * 2;
        o->buf = realloc(o->buf, o->cap);
    }
    memcpy(o->buf + o->len, line, (size_t)n + 1);
    o->len += (size_t)n;
}

__attribute__((unused)) static int rec_print(void *arg, const struct ng_verify_result *res)
{
    struct rec_out *o = arg;
    char id[NG_UUID_STR];
    ng_uuid_format(res->id, id);
    switch (res->word) {
    case NG_VERIFY_OK:
        rec_printf(o, "OK %s events=%lld\n", id, (long long)res->events);
        break;
    case NG_VERIFY_INCOMPLETE:
        o->incomplete = 1;
        rec_printf(o, "INCOMPLETE %s events=%lld sealed=%lld\n", id, (long long)res->events,
                   (long long)res->sealed);
        break;
    case NG_VERIFY_MISSING:
        o->tampered = 1;
        rec_printf(o, "MISSING %s: %s\n", id, res->what);
        break;
    default:
        o->tampered = 1;
        rec_printf(o, "TAMPERED %s seq=%lld: %s\n", id, (long long)res->seq, res->what);
        break;
    }
    return 0;
}

/* Verify the whole store at db (sessions, missing, ledger) into o.
 * Returns 0, or the negative errno of opening or reading. */
__attribute__((unused)) static int rec_verify(const char *db, const uint8_t root[32],
                                              uint64_t interval_ns, struct rec_out *o)
{
    struct ng_store *s;
    struct ng_verifier *v;
    struct ng_verify_result led;
    struct ng_verify_opts opts = {.seal_interval_ns = interval_ns};
    memset(o, 0, sizeof(*o));
    int r = ng_store_open_readonly(db, &s);
    if (r < 0)
        return r;
    r = ng_verify_new(s, root, &opts, &v);
    if (r == 0) {
        r = ng_verify_all(v, rec_print, o);
        if (r == 0)
            r = ng_verify_missing(v, rec_print, o);
        if (r == 0)
            r = ng_verify_ledger(v, &led);
        if (r == 0) {
            struct ng_verify_result l2 = led;
            memset(l2.id, 0xff, sizeof(l2.id)); /* the ledger line: id ffff... */
            rec_print(o, &l2);
        }
        ng_verify_free(v);
    }
    ng_store_close(s);
    return r;
}

#define REC_LEDGER "ffffffff-ffff-ffff-ffff-ffffffffffff"

#endif
