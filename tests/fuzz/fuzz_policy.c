/* Fuzz the policy: parse, resolve against the fake user database, lint, and
 * decide one fixed request (caller alice, a container target, net+mnt, no
 * user namespace entered). Everything allocated is freed, so LSan flags a
 * leak on any path. */
#include "nsgate/policy.h"
#include "../fake_userdb.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decide_fixed(const struct ng_policy *p)
{
    static const struct ng_idset caller = {
        .uid = 1000, .gid = 1000, .ngroups = 1, .groups = {2000}};
    static const uint32_t dbg[] = {1000, 2000, 10};
    static const struct ng_proc_status target = {.uid = {0, 0, 0, 0},
                                                 .gid = {0, 0, 0, 0},
                                                 .cap_prm = 0x1ff,
                                                 .cap_eff = 0x1ff,
                                                 .cap_bnd = ~0ULL};
    struct ng_attrs attrs = {
        .v = {[NG_ATTR_CONTAINER] =
                  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
              [NG_ATTR_CGROUP] = "/system.slice/docker-0123.scope",
              [NG_ATTR_COMM] = "nginx",
              [NG_ATTR_EXE] = "/usr/sbin/nginx",
              [NG_ATTR_UID] = "0",
              [NG_ATTR_PID] = "4242"}};
    struct ng_policy_request req;
    struct ng_policy_decision dec;

    for (int variant = 0; variant < 2; variant++) {
        memset(&req, 0, sizeof(req));
        req.caller = &caller;
        req.db_groups = dbg;
        req.ndb_groups = 3;
        req.attrs = &attrs;
        req.ns = variant ? (1u << NG_NS_NET) : (1u << NG_NS_NET) | (1u << NG_NS_MNT);
        req.program = variant ? "/usr/sbin/ip" : NULL;
        req.reason = variant ? "INC-1234 packet loss" : NULL;
        req.mnt_stays_host = variant;
        req.target_own_userns = 1;
        req.cred.target = &target;
        req.cred.all_caps = (1ULL << 41) - 1;
        req.cred.in_target_userns = 0;
        int r = ng_policy_decide(p, &req, &dec);
        /* Invariants: an error never allows; an allow names an allow rule. */
        if ((r < 0 && dec.allow) ||
            (dec.allow && (dec.rule_index < 0 || p->rules[dec.rule_index].kind != NG_POLICY_ALLOW)))
            abort();
        ng_policy_decision_free(&dec);
    }
}

/* policy.md "Characters": whatever parses holds only printable ASCII in
 * its names, paths, patterns and values. */
static void ascii_only(const char *s)
{
    for (; s && *s; s++)
        if (*s < 0x20 || *s > 0x7e)
            abort();
}

static void check_chars(const struct ng_policy *p)
{
    ascii_only(p->shell);
    for (size_t i = 0; i < p->nrules; i++) {
        const struct ng_policy_rule *r = &p->rules[i];
        ascii_only(r->name);
        ascii_only(r->reason_pattern);
        for (size_t k = 0; k < r->nusers; k++)
            ascii_only(r->users[k].name);
        for (size_t k = 0; k < r->ntargets; k++)
            ascii_only(r->targets[k].glob);
        for (size_t k = 0; k < r->ncommands; k++)
            ascii_only(r->commands[k]);
        for (size_t k = 0; k < r->nsetenv; k++)
            ascii_only(r->setenv[k]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ng_policy *p = NULL;
    struct ng_policy_msgs errs = {0}, warns = {0};

    if (ng_policy_parse((const char *)data, size, "fuzz.ini", &p, &errs) == 0) {
        check_chars(p);
        if (ng_policy_resolve(p, &fake_userdb, &errs, &warns) == 0) {
            if (ng_policy_lint(p, &warns) < 0)
                abort(); /* only -ENOMEM, which the fuzzer does not inject */
            decide_fixed(p);
        }
        ng_policy_free(p);
    }
    ng_policy_msgs_free(&errs);
    ng_policy_msgs_free(&warns);
    return 0;
}
