/* Opening the store and finding a session for the reading commands, with
 * the messages and exit statuses of cli.md. */
#include "cmd_store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nsgate/harden.h"

int ng_cmd_drop(const struct ng_caller *caller)
{
    uid_t ru, eu, su;
    gid_t rg, eg, sg;

    /* Started without privilege (not setuid, not root): nothing to drop,
     * and setgroups would fail with EPERM. */
    if (getresuid(&ru, &eu, &su) == 0 && getresgid(&rg, &eg, &sg) == 0 && ru != 0 && ru == eu &&
        eu == su && rg == eg && eg == sg && !caller->setuid_start)
        return 0;
    int r = ng_harden_drop_to_caller(caller);

    if (r < 0) {
        ng_err("cannot drop privileges: %s", strerror(-r));
        return NG_EXIT_INTERNAL;
    }
    return 0;
}

int ng_cmd_store_open(const char *path, struct ng_store **ret)
{
    int r = ng_store_open_readonly(path, ret);

    switch (r) {
    case 0:
        return 0;
    case -ENOENT:
        ng_err("no session database at %s", path);
        return NG_EXIT_NOINPUT;
    case -ELOOP:
        ng_err("%s is a symbolic link: refusing to open it", path);
        return NG_EXIT_NOINPUT;
    case -EACCES:
    case -EPERM:
        ng_err("cannot read %s: permission denied (reviewers need read access to the "
               "database and its -wal and -shm files)",
               path);
        return NG_EXIT_NOINPUT;
    case -EPROTONOSUPPORT:
        ng_err("%s was written by a newer nsgate (schema version unknown here): "
               "use that version to read it",
               path);
        return NG_EXIT_STORAGE;
    case -EBADMSG:
        ng_err("%s is not an nsgate session store, is damaged, or has a schema nsgate "
               "did not ship",
               path);
        return NG_EXIT_STORAGE;
    default:
        ng_err("cannot open %s: %s", path, strerror(-r));
        return NG_EXIT_STORAGE;
    }
}

int ng_cmd_store_find(struct ng_store *s, const char *prefix, uint8_t id[NG_STORE_ID_LEN])
{
    int r = ng_store_find_session(s, prefix, id);

    switch (r) {
    case 0:
        return 0;
    case -EINVAL:
        ng_err("'%s' is not a session ID or a prefix of at least %d characters of one", prefix,
               NG_STORE_PREFIX_MIN);
        return NG_EXIT_USAGE;
    case -ENOENT:
        ng_err("no session %s", prefix);
        return NG_EXIT_NOINPUT;
    case -ENOTUNIQ:
        ng_err("session prefix %s is ambiguous: give more characters (nsgate sessions lists "
               "them)",
               prefix);
        return NG_EXIT_USAGE;
    default:
        ng_err("cannot read the session store: %s", strerror(-r));
        return NG_EXIT_STORAGE;
    }
}

const char *ng_cmd_default_db(void)
{
    const char *e = getenv("NSGATE_DB");
    return e && *e && getuid() == 0 ? e : NG_DEFAULT_DB;
}
