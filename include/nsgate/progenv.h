/* The program's environment, built from scratch (security.md): TERM and
 * LANG/LC_* from the caller when their values are plain, PATH fixed, HOME by
 * uid, NSGATE_SESSION, the rule's setenv; never LD_* from anywhere. Pure. */
#ifndef NSGATE_PROGENV_H
#define NSGATE_PROGENV_H

#include <stddef.h>
#include <stdint.h>

#define NG_ENV_MAX 64

struct ng_env {
    char *v[NG_ENV_MAX + 1]; /* NULL-terminated, each malloc'd */
    size_t n;
};

/* caller_env: nsgate's own (already allow-listed) environment. Returns 0 or
 * -ENOMEM / -E2BIG. */
int ng_env_build(struct ng_env *e, char *const *caller_env, uint32_t uid, const char *session,
                 const char *const *setenv, size_t nsetenv);
void ng_env_free(struct ng_env *e);

#endif
