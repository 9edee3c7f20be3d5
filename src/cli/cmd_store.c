/* Opening the store and finding a session for the reading commands, with
 * the messages and exit statuses of cli.md. */
#include "cmd_store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nsgate/escrow.h"
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

int ng_cmd_start(const struct ng_cmdspec *spec, const char *usage, int argc, char **argv,
                 const struct ng_caller *caller, int (*opt)(const struct ng_optval *, void *),
                 void *ctx, char ***operands, int *noperands)
{
    static struct ng_optlist list; /* operands may point into it: lives on */
    struct ng_optlist *l = &list;
    char err[512];

    if (spec->flags & NG_CMD_READER) {
        int st = ng_cmd_drop(caller);
        if (st)
            return st;
    }
    if (ng_optparse(spec, argc, argv, l, err, sizeof(err)) < 0) {
        ng_err("%s", err);
        fputs(usage, stderr);
        return NG_EXIT_USAGE;
    }
    if (ng_optlist_has(l, 'h')) {
        fputs(usage, stdout);
        return NG_CMD_DONE;
    }
    for (size_t i = 0; i < l->n; i++) {
        if (opt(&l->v[i], ctx) < 0) {
            fputs(usage, stderr);
            return NG_EXIT_USAGE;
        }
    }
    *operands = l->operands;
    *noperands = l->noperands;
    return 0;
}

int ng_cmd_source_opt(const struct ng_optval *v, struct ng_cmd_source *src)
{
    const char **slot = v->id == NG_OPT_DB     ? &src->db
                        : v->id == NG_OPT_KEYS ? &src->keys
                        : v->id == NG_OPT_KEY  ? &src->key
                                               : NULL;
    if (!slot)
        return 0;
    *slot = v->arg;
    return 1;
}

int ng_cmd_source_open(const struct ng_cmd_source *src, uint8_t root[NG_FSKEY_PK_BYTES],
                       struct ng_store **ret)
{
    int st = ng_cmd_root_key(src->keys, src->key, root);
    return st ? st : ng_cmd_store_open(src->db, ret);
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

const char *ng_cmd_default_keys(void)
{
    const char *e = getenv("NSGATE_KEYS");
    return e && *e && getuid() == 0 ? e : NG_FSKEY_DEFAULT_DIR;
}

/* The root key: one line of 64 hex digits, as keygen printed it. */
static int read_key_file(const char *path, uint8_t root[NG_FSKEY_PK_BYTES])
{
    char buf[160];
    size_t bin;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

    ng_closep(&fd);
    if (n < 0) {
        ng_err("cannot read the root key from %s: %s", path, strerror(errno));
        return NG_EXIT_NOINPUT;
    }
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    if (strlen(buf) != 2 * NG_FSKEY_PK_BYTES ||
        sodium_hex2bin(root, NG_FSKEY_PK_BYTES, buf, strlen(buf), NULL, &bin, NULL) != 0 ||
        bin != NG_FSKEY_PK_BYTES) {
        ng_err("%s does not hold a root key (one line of 64 hex digits, as keygen printed it)",
               path);
        return NG_EXIT_USAGE;
    }
    return 0;
}

int ng_cmd_root_key(const char *keys, const char *key, uint8_t root[NG_FSKEY_PK_BYTES])
{
    struct ng_fskey_cert *certs = NULL;
    const char *dir = keys ? keys : ng_cmd_default_keys();
    uint64_t len;
    size_t n;

    if (key)
        return read_key_file(key, root);
    if (!keys)
        ng_warn("root key read from this host's key directory %s: that proves nothing against "
                "someone who is root on this host; verify with --key FILE holding the key "
                "kept off the host",
                dir);
    int r = ng_fskey_read_public(dir, root, &len, &certs, &n);
    free(certs);
    if (r < 0) {
        ng_err("cannot read the root key from %s: %s (give --key FILE)", dir, strerror(-r));
        return NG_EXIT_NOINPUT;
    }
    return 0;
}

int ng_cmd_verify_first(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN],
                        const uint8_t root[NG_FSKEY_PK_BYTES], int force, const char *verb,
                        const char *text, struct ng_verify_result *res)
{
    struct ng_verify_result own;
    struct ng_verifier *v;
    int r = ng_verify_new(s, root, NULL, &v);

    if (!res)
        res = &own;
    if (r == 0)
        r = ng_verify_session(v, id, NULL, 0, res);
    ng_verify_free(v);
    if (r < 0)
        return r;
    switch (res->word) {
    case NG_VERIFY_OK:
        return 0;
    case NG_VERIFY_INCOMPLETE:
        ng_warn("session %s is INCOMPLETE: %lld events, sealed up to %lld; what follows is "
                "not proven",
                text, (long long)res->events, (long long)(res->sealed < 0 ? 0 : res->sealed));
        return 2;
    case NG_VERIFY_MISSING:
    case NG_VERIFY_TAMPERED:
    default:
        if (force)
            ng_warn("session %s is TAMPERED at seq=%lld: %s; %s anyway (--force), marked as "
                    "tampered: do not trust what follows",
                    text, (long long)res->seq, res->what, verb);
        else
            ng_err("session %s is TAMPERED at seq=%lld: %s; no %s of it (--force overrides, "
                   "marked as tampered)",
                   text, (long long)res->seq, res->what, verb);
        return 1;
    }
}
int ng_cmd_escrow_key(const char *path, struct ng_escrow_secret **ret)
{
    int r = ng_escrow_read_secret(path, ret);

    switch (r) {
    case 0:
        return 0;
    case -EPERM:
        ng_err("%s can be read or written by group or other: an escrow secret key must be "
               "private to you (chmod 600 it)",
               path);
        return NG_EXIT_USAGE;
    case -EMEDIUMTYPE:
        ng_err("%s holds a public key: --escrow-key wants the secret key file that nsgate "
               "keygen --escrow wrote",
               path);
        return NG_EXIT_USAGE;
    case -EINVAL:
    case -EFBIG:
        ng_err("%s does not hold an escrow secret key (the one line nsgate keygen --escrow "
               "wrote)",
               path);
        return NG_EXIT_USAGE;
    default:
        ng_err("cannot read the escrow secret key %s: %s", path, strerror(-r));
        return NG_EXIT_NOINPUT;
    }
}

int ng_cmd_escrow_match(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN],
                        const struct ng_escrow_secret *key, const char *path, const char *text,
                        int *reveal)
{
    uint8_t pk[NG_STORE_ESCROW_PK_LEN];
    char want[17], have[17];
    int r = ng_store_session_escrow(s, id, pk);

    *reveal = 0;
    if (r < 0) {
        ng_err("cannot read the escrow key of session %s: %s", text, strerror(-r));
        return NG_EXIT_STORAGE;
    }
    if (r == 0) {
        ng_warn("session %s has no escrowed input: its policy named no mask_escrow, so masked "
                "input was kept as stars only and cannot be revealed",
                text);
        return 0;
    }
    if (sodium_memcmp(pk, key->pk, sizeof(pk)) != 0) {
        ng_escrow_short_hex(pk, want);
        ng_escrow_short_hex(key->pk, have);
        ng_err("the escrow key in %s (public key %s...) is not the one session %s was escrowed "
               "to (%s...): nothing revealed",
               path, have, text, want);
        return NG_EXIT_USAGE;
    }
    *reveal = 1;
    return 0;
}

int ng_cmd_reveal_error(int err, int64_t seq, const char *path, const char *text)
{
    if (err == -EBADMSG)
        ng_err("session %s: the escrowed input at seq=%lld does not open with the key in %s: "
               "the box is damaged (verify says TAMPERED) or sealed to another key; nothing "
               "of it is shown",
               text, (long long)seq, path);
    else
        ng_err("session %s: an escrowed input event at seq=%lld is out of place (not right "
               "after the masked input it stands for): nothing of it is shown",
               text, (long long)seq);
    return 1;
}
