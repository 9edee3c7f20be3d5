/* Pure computation of the program's credentials (policy.md run_as and
 * capabilities). No I/O. */
#include "nsgate/credplan.h"

#include <errno.h>
#include <string.h>

static int map_in(const struct ng_credplan_in *in, const char *map, uint32_t host, uint32_t *ret)
{
    if (!in->enter_userns) {
        *ret = host;
        return 0;
    }
    return ng_idmap_to_inside(map, host, ret) < 0 ? -ERANGE : 0;
}

static int map_out(const struct ng_credplan_in *in, const char *map, uint32_t inside, uint32_t *ret)
{
    if (!in->enter_userns) {
        *ret = inside;
        return 0;
    }
    return ng_idmap_to_outside(map, inside, ret) < 0 ? -ERANGE : 0;
}

/* Host ids of the chosen identity, for run_as kinds given in host terms. */
static int pick_host_ids(const struct ng_credplan_in *in, struct ng_idset *h)
{
    memset(h, 0, sizeof(*h));
    if (in->c->run_as == NG_RUN_AS_TARGET) {
        h->uid = in->target->uid[0];
        h->gid = in->target->gid[0];
        h->ngroups = in->target->ngroups;
        memcpy(h->groups, in->target->groups, h->ngroups * sizeof(h->groups[0]));
    } else {
        *h = *in->caller;
    }
    return 0;
}

static int ids_from_host(const struct ng_credplan_in *in, struct ng_creds *cr)
{
    int r = pick_host_ids(in, &cr->host);
    if (r < 0)
        return r;
    cr->ids.ngroups = cr->host.ngroups;
    if (map_in(in, in->uid_map, cr->host.uid, &cr->ids.uid) < 0 ||
        map_in(in, in->gid_map, cr->host.gid, &cr->ids.gid) < 0)
        return -ERANGE;
    for (size_t i = 0; i < cr->host.ngroups; i++)
        if (map_in(in, in->gid_map, cr->host.groups[i], &cr->ids.groups[i]) < 0)
            return -ERANGE;
    return 0;
}

static int ids_from_inside(const struct ng_credplan_in *in, struct ng_creds *cr)
{
    const struct ng_constraints *c = in->c;

    memset(&cr->ids, 0, sizeof(cr->ids));
    if (c->run_as == NG_RUN_AS_IDS) {
        cr->ids.uid = c->uid;
        cr->ids.gid = c->has_gid ? c->gid : c->uid;
        if (c->has_gid) {
            cr->ids.ngroups = 1;
            cr->ids.groups[0] = c->gid;
        }
    }
    cr->host.ngroups = cr->ids.ngroups;
    if (map_out(in, in->uid_map, cr->ids.uid, &cr->host.uid) < 0 ||
        map_out(in, in->gid_map, cr->ids.gid, &cr->host.gid) < 0)
        return -ERANGE;
    for (size_t i = 0; i < cr->ids.ngroups; i++)
        if (map_out(in, in->gid_map, cr->ids.groups[i], &cr->host.groups[i]) < 0)
            return -ERANGE;
    return 0;
}

static void plan_caps(const struct ng_credplan_in *in, struct ng_creds *cr)
{
    const struct ng_constraints *c = in->c;
    uint64_t all = in->all_caps, set = 0;
    enum ng_caps kind = c->caps;

    if (kind == NG_CAPS_TARGET && !in->in_target_userns)
        kind = NG_CAPS_NONE; /* policy.md: target acts as none outside its user ns */
    if (kind == NG_CAPS_TARGET) {
        cr->inh = in->target->cap_inh & all;
        cr->prm = in->target->cap_prm & all;
        cr->eff = in->target->cap_eff & all;
        cr->bnd = in->target->cap_bnd & all;
        cr->amb = in->target->cap_amb & all;
        return;
    }
    if (kind == NG_CAPS_KEEP)
        set = all;
    else if (kind == NG_CAPS_LIST)
        set = c->cap_list & all;
    cr->prm = cr->eff = cr->bnd = cr->inh = set;
    /* A non-root program keeps capabilities across execve only as ambient
     * ones; uid 0 gets its permitted set from inheritable | bounding. */
    cr->amb = cr->ids.uid != 0 ? set : 0;
    cr->noroot = cr->ids.uid == 0 && set == 0;
}

/* confinement = target (policy.md): nothing outside the target's bounding
 * set survives, whatever capabilities says, and the target's no_new_privs
 * is kept. (uid 0 regains only inheritable | bounding at execve, and both
 * are inside the target's bounding set now.) */
static void confine_to_target(const struct ng_credplan_in *in, struct ng_creds *cr)
{
    uint64_t b = in->target->cap_bnd;

    cr->bnd &= b;
    cr->inh &= b;
    cr->prm &= b;
    cr->eff &= b;
    cr->amb &= b;
    if (in->target->no_new_privs == 1)
        cr->no_new_privs = 1;
}

int ng_credplan_compute(const struct ng_credplan_in *in, struct ng_creds *ret)
{
    struct ng_creds cr;
    int r;

    if (!in || !in->c || !in->target || !in->caller)
        return -EINVAL;
    if (in->enter_userns && (!in->uid_map || !in->gid_map))
        return -EINVAL;
    memset(&cr, 0, sizeof(cr));
    switch (in->c->run_as) {
    case NG_RUN_AS_TARGET:
    case NG_RUN_AS_CALLER:
        r = ids_from_host(in, &cr);
        break;
    case NG_RUN_AS_ROOT:
    case NG_RUN_AS_IDS:
        r = ids_from_inside(in, &cr);
        break;
    default:
        return -EINVAL;
    }
    if (r < 0)
        return r;
    plan_caps(in, &cr);
    cr.no_new_privs = in->c->no_new_privs;
    if (in->c->confinement == NG_CONFINE_TARGET)
        confine_to_target(in, &cr);
    *ret = cr;
    return 0;
}

static int has_group(const struct ng_idset *s, uint32_t g)
{
    if (s->gid == g)
        return 1;
    for (size_t i = 0; i < s->ngroups; i++)
        if (s->groups[i] == g)
            return 1;
    return 0;
}

int ng_creds_exceed_caller(const struct ng_creds *cr, const struct ng_idset *caller)
{
    if (cr->host.uid != caller->uid || cr->host.gid != caller->gid)
        return 1;
    for (size_t i = 0; i < cr->host.ngroups; i++)
        if (!has_group(caller, cr->host.groups[i]))
            return 1;
    return (cr->prm | cr->eff | cr->amb) != 0;
}
