/* Command-line parsing (cli.md). Pure: argv in, a struct or a usage message
 * out; nothing printed, nothing opened. */
#ifndef NSGATE_OPTS_H
#define NSGATE_OPTS_H

#include "nsgate/ns.h"
#include "nsgate/optparse.h"

#include <stddef.h>
#include <sys/types.h>

enum ng_pty_mode { NG_PTY_AUTO = 0, NG_PTY_FORCE, NG_PTY_NEVER };

struct ng_enter_opts {
    pid_t target_pid;      /* -t, 0 when not given */
    const char *container; /* --container: ID prefix or name */
    const char *pod;       /* --pod NAMESPACE/POD[/CONTAINER] */
    ng_nsset ns;           /* requested namespaces */
    int all_ns;            /* -a */
    const char *reason;    /* -r */
    const char *wd;        /* -w */
    enum ng_pty_mode pty;
    int quiet;
    const char *policy_path; /* root only */
    const char *db_path;     /* root only */
    const char *keys_dir;    /* root only */
    int help;
    char **argv; /* program and args, NULL when none (policy shell) */
    int argc;
};

/* Parse "enter" options; argv[0] is "enter". Returns 0, or -EINVAL with a
 * message in err (usage, exit 64). */
int ng_opts_parse_enter(int argc, char **argv, struct ng_enter_opts *ret, char *err, size_t errsz);

/* A container ID or prefix: 4 to 64 lowercase hex digits. */
int ng_opts_valid_container_prefix(const char *s);
/* --container: such a prefix or an engine's container name (engines.h). */
int ng_opts_valid_container(const char *s);
/* --pod: NAMESPACE/POD[/CONTAINER] (pods.h). */
int ng_opts_valid_pod(const char *s);

extern const char ng_enter_usage[];
extern const struct ng_cmdspec ng_spec_enter;

#endif
