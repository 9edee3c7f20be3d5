/* mask_escrow key files (policy.md "mask_escrow"): read with the policy
 * file's own checks, parsed, and pointed at from every section's
 * constraints; check's warning when masked input would be unrecoverable. */
#include "policy_int.h"
#include "nsgate/escrow.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int load_one(const struct ng_policy *p, struct ng_policy_escrow *e, unsigned flags,
                    struct ng_policy_msgs *errs, struct ng_policy_msgs *warns)
{
    char *buf = NULL;
    size_t len = 0;
    const char *why = NULL;
    int r = ng_policy_load(e->file, flags, &buf, &len, &why);

    if (r == -ENOMEM)
        return r;
    if (r == -EACCES && (flags & NG_POLICY_LOAD_UNREADABLE_OK))
        return ng_policy_msg_add(warns, "%s:%zu: mask_escrow %s cannot be read with your rights",
                                 p->file, e->line, e->file);
    if (r < 0) {
        r = ng_policy_msg_add(errs, "%s:%zu: mask_escrow %s %s%s", p->file, e->line, e->file,
                              why ? "" : "cannot be read: ", why ? why : strerror(-r));
        return r < 0 ? r : -EINVAL;
    }
    if (why && (r = ng_policy_msg_add(warns, "%s:%zu: mask_escrow %s %s: enter would refuse it",
                                      p->file, e->line, e->file, why)) < 0) {
        free(buf);
        return r;
    }
    r = ng_escrow_parse_public(buf, len, e->pk);
    free(buf);
    if (r < 0) {
        r = ng_policy_msg_add(errs, "%s:%zu: mask_escrow %s %s", p->file, e->line, e->file,
                              r == -EKEYREJECTED
                                  ? "holds a key nothing can be sealed to (a low-order point)"
                                  : "does not hold an escrow public key (64 hex digits, as "
                                    "nsgate keygen --escrow printed it)");
        return r < 0 ? r : -EINVAL;
    }
    e->loaded = 1;
    return 0;
}

static void point(const struct ng_policy *p, struct ng_constraints *c)
{
    c->mask_escrow = NULL;
    for (size_t i = 0; c->mask_escrow_file && i < p->nescrows; i++)
        if (p->escrows[i]->file == c->mask_escrow_file && p->escrows[i]->loaded)
            c->mask_escrow = p->escrows[i]->pk;
}

int ng_policy_load_escrow(struct ng_policy *p, unsigned flags, struct ng_policy_msgs *errs,
                          struct ng_policy_msgs *warns)
{
    int bad = 0;

    for (size_t i = 0; i < p->nescrows; i++) {
        int r = load_one(p, p->escrows[i], flags, errs, warns);
        if (r == -ENOMEM)
            return r;
        bad |= r < 0;
    }
    point(p, &p->defaults);
    for (size_t i = 0; i < p->nrules; i++)
        point(p, &p->rules[i].c);
    return bad ? -EINVAL : 0;
}

int ng_policy_lint_escrow(const struct ng_policy *p, struct ng_policy_msgs *warns)
{
    int r = 0;

    if (p->nescrows == 0)
        return ng_policy_msg_add(warns,
                                 "%s: no mask_escrow: masked input (typed at password prompts) "
                                 "is unrecoverable, stored as stars only, so a command hidden "
                                 "behind a fake prompt is lost (policy.md \"mask_escrow\")",
                                 p->file);
    for (size_t i = 0; r == 0 && i < p->nrules; i++) {
        const struct ng_policy_rule *rule = &p->rules[i];
        if (rule->kind == NG_POLICY_ALLOW && rule->c.record_input && !rule->c.mask_escrow_file)
            r = ng_policy_msg_add(warns,
                                  "%s:%zu: [allow %s] has no mask_escrow: masked input of its "
                                  "sessions is unrecoverable, stored as stars only",
                                  p->file, rule->line, rule->name);
    }
    return r;
}
