/* nsgate keygen: create the forward-secure sealing keys, or bring them to the
 * current epoch (cli.md "nsgate keygen", integrity.md property 3). The audit
 * module reports CRYPTO_KEY_USER from what ng_fskey_create and
 * ng_fskey_advance return (fskey.h: struct ng_fskey_created/advanced). */
#include "cmd_int.h"
#include "cmd_store_int.h"
#include "nsgate/audit.h"
#include "nsgate/escrow.h"
#include "nsgate/fskey.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char keygen_usage[] =
    "Usage: nsgate keygen [--keys DIR] [--epoch DURATION] [--force]\n"
    "       nsgate keygen --advance [--keys DIR]\n"
    "       nsgate keygen --escrow FILE\n"
    "\n"
    "Create the forward-secure sealing keys and print the root public key (64 hex\n"
    "digits) on standard output: keep it off this host, verify needs it.\n"
    "\n"
    "  --keys DIR         key directory (default " NG_FSKEY_DEFAULT_DIR ")\n"
    "  --epoch DURATION   key lifetime before it is replaced and erased, 10s..7d\n"
    "                     (integer and unit ms, s, m, h or d; default 15m)\n"
    "  --force            replace existing keys (the old root key and certificates\n"
    "                     are kept in DIR/retired/)\n"
    "  --advance          bring the keys to the current epoch, erasing every past\n"
    "                     one (run by nsgate-keygen-advance.timer)\n"
    "Root only.\n"
    "\n"
    "  --escrow FILE      create an escrow key pair for masked input instead: the\n"
    "                     secret goes to the new file FILE (mode 0600; an existing\n"
    "                     file or symlink is refused), the public key (64 hex digits)\n"
    "                     to standard output, for the policy's mask_escrow. Anyone\n"
    "                     may run it; it runs with your own rights. Keep FILE off\n"
    "                     the hosts whose sessions it can reveal.\n";

struct keygen_opts {
    const char *escrow;
    const char *dir;
    uint64_t epoch_ns;
    int force, advance, epoch_given, keys_given;
};

/* DURATION as in policy.md: an integer with a unit ms s m h d. */
static int parse_duration(const char *s, uint64_t *ret_ns)
{
    static const struct {
        const char *unit;
        uint64_t ns;
    } units[] = {{"ms", UINT64_C(1000000)},
                 {"s", NG_FSKEY_SEC_NS},
                 {"m", 60 * NG_FSKEY_SEC_NS},
                 {"h", 3600 * NG_FSKEY_SEC_NS},
                 {"d", 86400 * NG_FSKEY_SEC_NS}};
    char digits[24];
    size_t n = strspn(s, "0123456789");
    uint64_t v;

    if (n == 0 || n >= sizeof(digits))
        return -EINVAL;
    memcpy(digits, s, n);
    digits[n] = '\0';
    for (size_t i = 0; i < NG_ARRAY_SIZE(units); i++) {
        if (strcmp(s + n, units[i].unit) != 0)
            continue;
        if (ng_parse_u64(digits, 0, UINT64_MAX / units[i].ns, &v) < 0)
            return -ERANGE;
        *ret_ns = v * units[i].ns;
        return 0;
    }
    return -EINVAL;
}

enum { OPT_KEYS = 256, OPT_EPOCH, OPT_FORCE, OPT_ADVANCE, OPT_ESCROW };

static const struct ng_optdef keygen_opts_def[] = {
    {OPT_KEYS, 0, "keys", NG_OPT_ARG},
    {OPT_EPOCH, 0, "epoch", NG_OPT_ARG},
    {OPT_FORCE, 0, "force", 0},
    {OPT_ADVANCE, 0, "advance", 0},
    {OPT_ESCROW, 0, "escrow", NG_OPT_ARG},
    {'h', 'h', "help", 0},
    {0, 0, NULL, 0},
};

/* Not a reader: root only, and it keeps its privileges (--escrow drops them
 * itself before it opens anything). */
const struct ng_cmdspec ng_spec_keygen = {
    .name = "keygen", .opts = keygen_opts_def, .flags = NG_CMD_PERMUTE};

static int keygen_opt(const struct ng_optval *v, void *ctx)
{
    struct keygen_opts *o = ctx;

    switch (v->id) {
    case OPT_KEYS:
        o->dir = v->arg;
        o->keys_given = 1;
        return 0;
    case OPT_FORCE:
        o->force = 1;
        return 0;
    case OPT_ADVANCE:
        o->advance = 1;
        return 0;
    case OPT_ESCROW:
        o->escrow = v->arg;
        return 0;
    case OPT_EPOCH:
        o->epoch_given = 1;
        if (parse_duration(v->arg, &o->epoch_ns) < 0 || o->epoch_ns < NG_FSKEY_MIN_EPOCH_NS ||
            o->epoch_ns > NG_FSKEY_MAX_EPOCH_NS)
            return ng_err("--epoch wants a duration from 10s to 7d, like 15m: %s", v->arg), -EINVAL;
        return 0;
    default:
        return 0;
    }
}

int ng_cmd_keygen_wants_escrow(int argc, char **argv)
{
    struct ng_optlist l;
    char err[256];

    return ng_optparse(&ng_spec_keygen, argc, argv, &l, err, sizeof(err)) == 0 &&
           ng_optlist_has(&l, OPT_ESCROW) && !ng_optlist_has(&l, 'h');
}

/* keygen --escrow FILE: with the caller's own rights (privileges dropped
 * before FILE is opened, so the setuid bit never creates a file anywhere). */
static int do_escrow(const struct keygen_opts *o, const struct ng_caller *caller)
{
    uint8_t pk[NG_ESCROW_KEY_BYTES];
    char hex[2 * NG_ESCROW_KEY_BYTES + 1];
    int st = ng_cmd_drop(caller);

    if (st)
        return st;
    int r = ng_escrow_keygen(o->escrow, pk);
    if (r < 0) {
        ng_err("cannot create the escrow secret key file %s: %s%s", o->escrow, strerror(-r),
               r == -EEXIST ? " (keygen --escrow never replaces a file or follows a symlink: "
                              "name a new file)"
                            : "");
        return r == -EEXIST                  ? NG_EXIT_USAGE
               : r == -ENOENT                ? NG_EXIT_NOINPUT
               : r == -EACCES || r == -EPERM ? NG_EXIT_DENIED
                                             : NG_EXIT_STORAGE;
    }
    sodium_bin2hex(hex, sizeof(hex), pk, sizeof(pk));
    if (printf("%s\n", hex) < 0 || fflush(stdout) != 0) {
        ng_err("cannot write the escrow public key to standard output");
        return NG_EXIT_INTERNAL;
    }
    ng_warn("escrow secret key written to %s: whoever holds it can read every masked input "
            "recorded with this key; keep it off the hosts it reveals, and put the public key "
            "(standard output) in the file the policy's mask_escrow names",
            o->escrow);
    return 0;
}

/* The message for a key directory problem, by errno. */
static int key_error(const char *what, const char *dir, int r)
{
    switch (-r) {
    case ELOOP:
        ng_err("%s: %s or a file in it is a symlink: refused", what, dir);
        break;
    case EPERM:
        ng_err("%s: %s or a file in it is not owned by root or is writable by group or "
               "other: fix its ownership and mode (0700 directory, 0600 files)",
               what, dir);
        break;
    case ENOENT:
        ng_err("%s: no keys in %s: run nsgate keygen first", what, dir);
        return NG_EXIT_NOINPUT;
    case EBADMSG:
        ng_err("%s: the key state in %s is damaged or inconsistent: nothing can be sealed "
               "until nsgate keygen --force makes new keys",
               what, dir);
        break;
    case ERANGE:
        ng_err("%s: the clock is more than %llu epochs past the key state in %s: check the "
               "clock, or make new keys with nsgate keygen --force",
               what, (unsigned long long)NG_FSKEY_MAX_CATCHUP, dir);
        break;
    default:
        ng_err("%s: %s: %s", what, dir, strerror(-r));
        break;
    }
    return NG_EXIT_INTERNAL;
}

static void warn_fs(unsigned warnings, const char *dir)
{
    if (warnings & NG_FSKEY_WARN_COW_FS)
        ng_warn("%s is on a copy-on-write or snapshotting filesystem: old epoch secrets "
                "may survive in old blocks or snapshots, which defeats forward security; "
                "keep the keys on a plain filesystem (ext4, xfs) without snapshots",
                dir);
}

/* CRYPTO_KEY_USER records are best-effort for keygen (cli.md): a warning
 * when they cannot be written. */
static void audit_key(enum ng_audit_key_op op, const uint8_t pk[NG_FSKEY_PK_BYTES], uint64_t epoch)
{
    struct ng_audit a;
    const char *why = NULL;
    char fp[2 * NG_FSKEY_PK_BYTES + 1];

    sodium_bin2hex(fp, sizeof(fp), pk, NG_FSKEY_PK_BYTES);
    struct ng_audit_key e = {.op = op, .fp = fp, .epoch = epoch};
    int opened = ng_audit_open(&a);
    if (opened < 0 || ng_audit_check(&a, 1, &why) < 0 || ng_audit_log_key(&a, &e) < 0)
        ng_warn("the key %s (epoch %llu) could not be written to the audit trail%s%s", fp,
                (unsigned long long)epoch, why ? ": " : "", why ? why : "");
    ng_audit_close(&a);
}

static int do_create(const struct keygen_opts *o)
{
    char hex[2 * NG_FSKEY_PK_BYTES + 1];
    struct ng_fskey_created c;
    int r = ng_fskey_create(o->dir, o->epoch_ns, o->force, ng_fskey_now_ns(), &c);

    if (r == -EEXIST) {
        ng_err("keys already exist in %s: give --force to replace them (the old root key "
               "and certificates are kept in %s/retired/)",
               o->dir, o->dir);
        return NG_EXIT_USAGE;
    }
    if (r == -ENOENT) {
        ng_err("cannot create keys: the directory that should hold %s does not exist", o->dir);
        return NG_EXIT_NOINPUT;
    }
    if (r < 0)
        return key_error("cannot create keys", o->dir, r);
    warn_fs(c.warnings, o->dir);
    if (c.retired_valid) {
        sodium_bin2hex(hex, sizeof(hex), c.retired.root_pk, NG_FSKEY_PK_BYTES);
        ng_warn("replaced the keys with root %s (at epoch %llu); its certificates are in "
                "%s/retired/",
                hex, (unsigned long long)c.retired.epoch, o->dir);
    }
    if (c.retired_valid)
        audit_key(NG_AUDIT_KEY_DESTROY, c.retired.pk, c.retired.epoch);
    audit_key(NG_AUDIT_KEY_CREATE, c.root_pk, 0);
    sodium_bin2hex(hex, sizeof(hex), c.root_pk, NG_FSKEY_PK_BYTES);
    if (printf("%s\n", hex) < 0 || fflush(stdout) != 0) {
        ng_err("cannot write the root public key to standard output");
        return NG_EXIT_INTERNAL;
    }
    return 0;
}

static int do_advance(const struct keygen_opts *o)
{
    struct ng_fskey *k;
    struct ng_fskey_advanced adv;
    unsigned warnings = 0;
    int r = ng_fskey_open(o->dir, &k, &warnings);

    if (r < 0)
        return key_error("cannot open keys", o->dir, r);
    warn_fs(warnings, o->dir);
    r = ng_fskey_advance(k, ng_fskey_now_ns(), &adv);
    for (uint64_t e = adv.from_epoch + 1; r == 0 && e <= adv.to_epoch; e++) {
        struct ng_fskey_cert c;
        if (ng_fskey_read_cert(k, e, &c) == 0)
            audit_key(NG_AUDIT_KEY_CREATE, c.pk, e);
    }
    ng_fskey_close(k);
    if (r < 0)
        return key_error("cannot advance keys", o->dir, r);
    return 0;
}

int ng_cmd_keygen(int argc, char **argv, const struct ng_caller *caller)
{
    const char *env = getenv("NSGATE_KEYS"); /* kept for real root only */
    struct keygen_opts o = {.dir = env && *env && getuid() == 0 ? env : NG_FSKEY_DEFAULT_DIR,
                            .epoch_ns = NG_FSKEY_DEFAULT_EPOCH_NS};
    char **operands;
    int n, st = ng_cmd_start(&ng_spec_keygen, keygen_usage, argc, argv, caller, keygen_opt, &o,
                             &operands, &n);

    if (st)
        return st < 0 ? 0 : st;
    if (o.escrow && (o.advance || o.force || o.epoch_given || o.keys_given)) {
        ng_err("keygen --escrow takes no other option (see nsgate keygen --help)");
        return NG_EXIT_USAGE;
    }
    if (o.advance && (o.force || o.epoch_given)) {
        ng_err("keygen --advance takes only --keys (see nsgate keygen --help)");
        return NG_EXIT_USAGE;
    }
    if (o.escrow)
        return do_escrow(&o, caller);
    if (caller->uid != 0) {
        ng_err("keygen is for root only: run it as root");
        return NG_EXIT_DENIED;
    }
    return o.advance ? do_advance(&o) : do_create(&o);
}
