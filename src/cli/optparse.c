/* The table-driven option parser of every subcommand (optparse.h). */
#include "nsgate/optparse.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errsz, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static int add(struct ng_optlist *l, int id, const char *arg, char *err, size_t errsz)
{
    if (l->n == NG_OPTLIST_MAX)
        return fail(err, errsz, "too many options");
    l->v[l->n].id = id;
    l->v[l->n].arg = arg;
    l->n++;
    return 0;
}

/* An exact long name, else the one option it is an unambiguous prefix of. */
static const struct ng_optdef *find_long(const struct ng_optdef *o, const char *name, size_t len,
                                         int *ambiguous)
{
    const struct ng_optdef *hit = NULL;
    int n = 0;

    *ambiguous = 0;
    for (; o->id; o++) {
        if (!o->longopt || strncmp(o->longopt, name, len) != 0)
            continue;
        if (o->longopt[len] == '\0')
            return o;
        hit = o;
        n++;
    }
    *ambiguous = n > 1;
    return n == 1 ? hit : NULL;
}

/* "--name", "--name=value" or "--name value"; *i moves past what it used. */
static int long_opt(const struct ng_cmdspec *spec, int argc, char **argv, int *i,
                    struct ng_optlist *l, char *err, size_t errsz)
{
    const char *name = argv[*i] + 2, *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    int ambiguous;
    const struct ng_optdef *o = find_long(spec->opts, name, len, &ambiguous);

    if (!o)
        return fail(err, errsz, "%s option: --%.*s (see nsgate %s --help)",
                    ambiguous ? "ambiguous" : "unknown", (int)(len > 64 ? 64 : len), name,
                    spec->name);
    if (!(o->flags & NG_OPT_ARG)) {
        if (eq)
            return fail(err, errsz, "--%s takes no argument", o->longopt);
        return add(l, o->id, NULL, err, errsz);
    }
    if (eq)
        return add(l, o->id, eq + 1, err, errsz);
    if (*i + 1 >= argc)
        return fail(err, errsz, "--%s needs an argument", o->longopt);
    ++*i;
    return add(l, o->id, argv[*i], err, errsz);
}

/* "-abc" (flags) or "-xVALUE" / "-x VALUE". */
static int short_opts(const struct ng_cmdspec *spec, int argc, char **argv, int *i,
                      struct ng_optlist *l, char *err, size_t errsz)
{
    for (const char *p = argv[*i] + 1; *p; p++) {
        const struct ng_optdef *o = spec->opts;
        while (o->id && o->shortopt != *p)
            o++;
        if (!o->id) {
            unsigned char c = (unsigned char)*p;
            if (c < 0x20 || c >= 0x7f)
                return fail(err, errsz, "unknown option: -\\x%02x (see nsgate %s --help)", c,
                            spec->name);
            return fail(err, errsz, "unknown option: -%c (see nsgate %s --help)", *p, spec->name);
        }
        if (!(o->flags & NG_OPT_ARG)) {
            int r = add(l, o->id, NULL, err, errsz);
            if (r < 0)
                return r;
            continue;
        }
        if (p[1])
            return add(l, o->id, p + 1, err, errsz);
        if (*i + 1 >= argc)
            return fail(err, errsz, "-%c needs an argument", *p);
        ++*i;
        return add(l, o->id, argv[*i], err, errsz);
    }
    return 0;
}

static int operand(const struct ng_cmdspec *spec, struct ng_optlist *l, char *arg, char *err,
                   size_t errsz)
{
    if (l->noperands == NG_OPTLIST_MAX)
        return fail(err, errsz, "too many arguments");
    l->operand_buf[l->noperands++] = arg;
    return 0;
}

int ng_optparse(const struct ng_cmdspec *spec, int argc, char **argv, struct ng_optlist *out,
                char *err, size_t errsz)
{
    int i, r = 0;

    memset(out, 0, sizeof(*out));
    err[0] = '\0';
    for (i = 1; i < argc && r == 0; i++) {
        char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (a[0] != '-' || a[1] == '\0') {
            if (!(spec->flags & NG_CMD_PERMUTE))
                break; /* the program and its arguments start here */
            r = operand(spec, out, a, err, errsz);
        } else if (a[1] == '-') {
            r = long_opt(spec, argc, argv, &i, out, err, errsz);
        } else {
            r = short_opts(spec, argc, argv, &i, out, err, errsz);
        }
    }
    if (r < 0)
        return r;
    if (spec->flags & NG_CMD_PERMUTE) {
        for (; i < argc; i++)
            if ((r = operand(spec, out, argv[i], err, errsz)) < 0)
                return r;
        out->operands = out->operand_buf;
    } else {
        out->operands = argv + i;
        out->noperands = argc - i;
    }
    if (ng_optlist_has(out, 'h'))
        return 0; /* --help: nothing else is looked at */
    if (out->noperands < spec->min_operands ||
        (spec->max_operands >= 0 && out->noperands > spec->max_operands)) {
        if (spec->max_operands == 0)
            return fail(err, errsz, "nsgate %s takes no argument but options: %s", spec->name,
                        out->operands[0]);
        if (spec->min_operands == spec->max_operands)
            return fail(err, errsz, "nsgate %s wants exactly %d %s", spec->name, spec->min_operands,
                        spec->operand);
        return fail(err, errsz, "nsgate %s wants %s %d %s", spec->name,
                    out->noperands < spec->min_operands ? "at least" : "at most",
                    out->noperands < spec->min_operands ? spec->min_operands : spec->max_operands,
                    spec->operand);
    }
    return 0;
}

int ng_optlist_has(const struct ng_optlist *l, int id)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].id == id)
            return 1;
    return 0;
}
