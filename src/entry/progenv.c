/* Environment of the entered program (see progenv.h). */
#include "nsgate/progenv.h"
#include "nsgate/program.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int plain_value(const char *v, const char *extra)
{
    size_t n = strlen(v);
    if (n < 1 || n > 64)
        return 0;
    for (const char *p = v; *p; p++) {
        char c = *p;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              strchr(extra, c)))
            return 0;
    }
    return 1;
}

static int lc_name(const char *kv, size_t namelen)
{
    static const char *const names[] = {
        "LANG",       "LC_ALL",       "LC_CTYPE",       "LC_COLLATE",        "LC_MESSAGES",
        "LC_NUMERIC", "LC_TIME",      "LC_MONETARY",    "LC_PAPER",          "LC_NAME",
        "LC_ADDRESS", "LC_TELEPHONE", "LC_MEASUREMENT", "LC_IDENTIFICATION",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i]) == namelen && strncmp(kv, names[i], namelen) == 0)
            return 1;
    return 0;
}

static int add(struct ng_env *e, const char *name, const char *value)
{
    size_t nl = strlen(name);
    /* A later setenv of the same name replaces the earlier entry. */
    for (size_t i = 0; i < e->n; i++) {
        if (strncmp(e->v[i], name, nl) == 0 && e->v[i][nl] == '=') {
            free(e->v[i]);
            e->v[i] = e->v[--e->n];
            e->v[e->n] = NULL;
            break;
        }
    }
    if (e->n >= NG_ENV_MAX)
        return -E2BIG;
    size_t len = nl + 1 + strlen(value) + 1;
    char *s = malloc(len);
    if (!s)
        return -ENOMEM;
    snprintf(s, len, "%s=%s", name, value);
    e->v[e->n++] = s;
    e->v[e->n] = NULL;
    return 0;
}

static int add_kv(struct ng_env *e, const char *kv)
{
    const char *eq = strchr(kv, '=');
    char name[128];
    if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof(name))
        return -EINVAL;
    memcpy(name, kv, (size_t)(eq - kv));
    name[eq - kv] = '\0';
    /* Defence in depth: the policy parser already refuses these names. */
    if (strncmp(name, "LD_", 3) == 0 || strncmp(name, "NSGATE_", 7) == 0)
        return -EINVAL;
    return add(e, name, eq + 1);
}

static int from_caller(struct ng_env *e, char *const *caller_env)
{
    for (size_t i = 0; caller_env && caller_env[i]; i++) {
        const char *kv = caller_env[i], *eq = strchr(kv, '=');
        if (!eq)
            continue;
        size_t nl = (size_t)(eq - kv);
        char name[32];
        int r = 0;
        if (nl == 4 && strncmp(kv, "TERM", 4) == 0 && plain_value(eq + 1, "._+-"))
            r = add(e, "TERM", eq + 1);
        else if (nl < sizeof(name) && lc_name(kv, nl) && plain_value(eq + 1, "._@+-")) {
            memcpy(name, kv, nl);
            name[nl] = '\0';
            r = add(e, name, eq + 1);
        }
        if (r < 0)
            return r;
    }
    return 0;
}

int ng_env_build(struct ng_env *e, char *const *caller_env, uint32_t uid, const char *session,
                 const char *const *setenv, size_t nsetenv)
{
    int r;

    memset(e, 0, sizeof(*e));
    r = from_caller(e, caller_env);
    if (r == 0)
        r = add(e, "PATH", NG_PROGRAM_PATH);
    if (r == 0)
        r = add(e, "HOME", uid == 0 ? "/root" : "/");
    if (r == 0 && session)
        r = add(e, "NSGATE_SESSION", session);
    for (size_t i = 0; r == 0 && i < nsetenv; i++)
        r = add_kv(e, setenv[i]);
    if (r < 0)
        ng_env_free(e);
    return r;
}

void ng_env_free(struct ng_env *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->v[i]);
    memset(e, 0, sizeof(*e));
}
