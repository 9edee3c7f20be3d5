/* nsgate export: write one session as asciicast v2, JSON lines or an HTML
 * review page (cli.md). Verifies first as replay does; the output carries
 * the verdict. Events are streamed twice (the terminal size comes from the
 * first resize), never loaded whole. */
#include "cmd_store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nsgate/escrow.h"
#include "nsgate/export.h"
#include "nsgate/reveal.h"
#include "nsgate/verify.h"

static const char usage[] =
    "Usage: nsgate export [--db FILE] [--keys DIR | --key FILE] [-f asciicast|jsonl|html]\n"
    "                     [-o FILE] [--force] [--reveal --escrow-key FILE] SESSION\n"
    "       nsgate export -f jsonl --follow [--cursor FILE] [-o FILE] [SESSION]\n"
    "\n"
    "Writes a session for other tools: asciicast v2 (default, for asciinema), JSON lines\n"
    "(metadata, then every event with its data in base64 and its chain hash, for a SIEM)\n"
    "or one self-contained HTML review page. Verifies the session first: a TAMPERED one\n"
    "is refused unless --force (then marked as tampered, exit 1); an INCOMPLETE one is\n"
    "exported with a warning (exit 2). -o FILE must not exist (--force replaces a regular\n"
    "file you own); without -o the export goes to standard output.\n"
    "--reveal --escrow-key FILE puts masked input (typed at password prompts) in place of\n"
    "its stars, opened with the escrow secret key in FILE (made by nsgate keygen --escrow;\n"
    "read with your own rights); jsonl adds it to each escrowed event as \"revealed\".\n"
    "--follow writes the evidence stream as it is sealed: of SESSION until it ends, or of\n"
    "every session and the ledger until stopped (SIGTERM). --cursor FILE keeps the place\n"
    "across restarts (with -o FILE each record is written once). nsgate verify --jsonl\n"
    "verifies what it wrote.\n";

struct export_opts {
    struct ng_cmd_source src;
    const char *out, *escrow_key, *cursor;
    int reveal, follow, fmt_given;
    enum ng_export_format fmt;
    int force;
    const char *session;
};

enum { OPT_FORCE = 256, OPT_REVEAL, OPT_ESCROW_KEY, OPT_FOLLOW, OPT_CURSOR };

static const struct ng_optdef export_opts_def[] = {
    NG_SOURCE_OPTDEFS,
    {'f', 'f', "format", NG_OPT_ARG},
    {'o', 'o', "output", NG_OPT_ARG},
    {OPT_FORCE, 0, "force", 0},
    {OPT_REVEAL, 0, "reveal", 0},
    {OPT_ESCROW_KEY, 0, "escrow-key", NG_OPT_ARG},
    {OPT_FOLLOW, 0, "follow", 0},
    {OPT_CURSOR, 0, "cursor", NG_OPT_ARG},
    {'h', 'h', "help", 0},
    {0, 0, NULL, 0},
};

const struct ng_cmdspec ng_spec_export = {.name = "export",
                                          .opts = export_opts_def,
                                          .flags = NG_CMD_PERMUTE,
                                          .min_operands = 0,
                                          .max_operands = 1,
                                          .operand = "SESSION"};

static int export_opt(const struct ng_optval *v, void *ctx)
{
    struct export_opts *o = ctx;

    if (ng_cmd_source_opt(v, &o->src))
        return 0;
    switch (v->id) {
    case 'f':
        if (ng_export_parse_format(v->arg, &o->fmt) < 0)
            return ng_err("-f wants asciicast, jsonl or html, not '%s'", v->arg), -EINVAL;
        o->fmt_given = 1;
        return 0;
    case 'o':
        o->out = v->arg;
        return 0;
    case OPT_FORCE:
        o->force = 1;
        return 0;
    case OPT_REVEAL:
        o->reveal = 1;
        return 0;
    case OPT_ESCROW_KEY:
        o->escrow_key = v->arg;
        return 0;
    case OPT_FOLLOW:
        o->follow = 1;
        return 0;
    case OPT_CURSOR:
        o->cursor = v->arg;
        return 0;
    default:
        return 0;
    }
}

/* What a path that is not a regular file is, for a message. */
static const char *file_kind(mode_t m)
{
    return S_ISLNK(m)    ? "a symbolic link"
           : S_ISFIFO(m) ? "a FIFO"
           : S_ISCHR(m)  ? "a character device"
           : S_ISBLK(m)  ? "a block device"
           : S_ISDIR(m)  ? "a directory"
           : S_ISSOCK(m) ? "a socket"
           : S_ISREG(m)  ? "a regular file"
                         : "not a regular file";
}

/* --force: the existing file is looked at through an O_PATH descriptor
 * (opening a device or FIFO has effects of its own), checked, then opened
 * for writing through that same descriptor, so what is truncated is what
 * was checked. A regular file the caller owns with no other hard link (a
 * link planted to a file elsewhere would be truncated too). */
static int replace_output(const char *path)
{
    char proc[64];
    struct stat st, st2;
    int pfd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);

    if (pfd < 0 || fstat(pfd, &st) < 0) {
        ng_err("cannot replace %s: %s", path, strerror(errno));
        ng_closep(&pfd);
        return -1;
    }
    if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || st.st_nlink != 1) {
        ng_err("refusing to replace %s: it is %s%s; --force replaces only a regular file you own "
               "with one link",
               path, file_kind(st.st_mode),
               !S_ISREG(st.st_mode)     ? ""
               : st.st_uid != geteuid() ? " owned by someone else"
                                        : " with other hard links");
        close(pfd);
        return -1;
    }
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
    int fd = open(proc, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0 && errno == ENOENT) /* no /proc: by name, then compared below */
        fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    close(pfd);
    if (fd >= 0 && (fstat(fd, &st2) < 0 || st2.st_dev != st.st_dev || st2.st_ino != st.st_ino)) {
        close(fd);
        errno = ESTALE; /* replaced while we looked */
        fd = -1;
    }
    if (fd < 0 || ftruncate(fd, 0) < 0 || fcntl(fd, F_SETFL, 0) < 0) {
        ng_err("cannot replace %s: %s", path, strerror(errno));
        ng_closep(&fd);
        return -1;
    }
    return fd;
}

/* -o FILE: a new file, created with O_EXCL|O_NOFOLLOW (never through a
 * symlink, never a FIFO or device that is already there); with --force an
 * existing regular file the caller owns is replaced (replace_output).
 * *created says whether to remove it when the export fails. */
static int open_output(const char *path, int force, int *created)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0640);
    struct stat st;

    *created = fd >= 0;
    if (fd >= 0 || errno != EEXIST) {
        if (fd < 0)
            ng_err("cannot create %s: %s", path, strerror(errno));
        return fd;
    }
    if (force)
        return replace_output(path);
    if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode))
        ng_err("refusing to write to %s: it is %s; export writes a new file", path,
               file_kind(st.st_mode));
    else
        ng_err("cannot create %s: it exists (--force replaces a regular file you own)", path);
    return -1;
}

static int next_event(void *arg, struct ng_event *ev)
{
    return ng_store_events_next(arg, ev);
}

/* The session's events, which html --reveal reads twice. */
struct event_src {
    struct ng_store *s;
    const uint8_t *id;
    struct ng_event_iter *it;
};

static int src_next(void *arg, struct ng_event *ev)
{
    return ng_store_events_next(((struct event_src *)arg)->it, ev);
}

static int src_restart(void *arg)
{
    struct event_src *src = arg;

    ng_store_events_end(src->it);
    src->it = NULL;
    return ng_store_events_begin(src->s, src->id, &src->it);
}

static int write_file(void *arg, const void *buf, size_t len)
{
    return fwrite(buf, 1, len, arg) == len ? 0 : -EIO;
}

/* The two passes over the events: the size, then the export. */
static int run_export(struct ng_store *s, struct ng_export_in *in, enum ng_export_format fmt,
                      FILE *f)
{
    struct ng_event_iter *it;
    int r = ng_store_events_begin(s, in->info->id, &it);

    if (r < 0)
        return r;
    r = ng_export_first_size(next_event, it, &in->width, &in->height);
    ng_store_events_end(it);
    if (r < 0)
        return r;
    struct event_src src = {s, in->info->id, NULL};
    r = ng_store_events_begin(s, in->info->id, &src.it);
    if (r < 0)
        return r;
    in->next = src_next;
    in->next_arg = &src;
    in->restart = src_restart;
    struct ng_event_iter *cit = NULL;
    if (fmt == NG_EXPORT_HTML && (r = ng_store_commands_begin(s, in->info->id, &cit)) == 0) {
        in->cmd_next = next_event;
        in->cmd_arg = cit;
    }
    if (r == 0)
        r = ng_export_write(fmt, in, write_file, f);
    ng_store_events_end(cit);
    ng_store_events_end(src.it);
    return r;
}

/* The session's metadata row, then the export to its destination. */
static int export_session(struct ng_store *s, struct ng_export_in *in, const uint8_t *id,
                          const struct export_opts *o)
{
    struct ng_session_filter filt = {.id = id};
    struct ng_session_iter *sit = NULL;
    int created = 0, fd = STDOUT_FILENO, r = ng_store_sessions_begin(s, &filt, &sit);

    if (r == 0) {
        r = ng_store_sessions_next(sit, &in->info);
        r = r == 0 ? -ENOENT : r < 0 ? r : 0;
    }
    if (r == 0 && o->out && (fd = open_output(o->out, o->force, &created)) < 0)
        r = -ECANCELED; /* reported */
    FILE *f = r == 0 ? fdopen(fd == STDOUT_FILENO ? dup(fd) : fd, "w") : NULL;
    if (r == 0 && !f)
        r = -errno;
    if (r == 0)
        r = run_export(s, in, o->fmt, f);
    if (f && fclose(f) != 0 && r == 0)
        r = -errno;
    else if (!f && fd > STDOUT_FILENO)
        close(fd);
    if (r < 0 && created)
        unlink(o->out); /* no half-written export left behind */
    if (sit)
        ng_store_sessions_end(sit);
    return r;
}

/* The session's escrow key for the metadata, and the reveal state when
 * --reveal can reveal. 0 or an exit status. */
static int escrow_setup(struct ng_store *s, const uint8_t *id, const struct export_opts *o,
                        const struct ng_escrow_secret *ek, const char *text,
                        struct ng_export_in *in, uint8_t pk[NG_STORE_ESCROW_PK_LEN],
                        struct ng_reveal *rv)
{
    int reveal = 0, r = ng_store_session_escrow(s, id, pk);

    if (r < 0) {
        ng_err("cannot read the escrow key of session %s: %s", text, strerror(-r));
        return NG_EXIT_STORAGE;
    }
    in->mask_escrow = r == 1 ? pk : NULL;
    if (!ek)
        return 0;
    r = ng_cmd_escrow_match(s, id, ek, o->escrow_key, text, &reveal);
    if (r == 0 && reveal) {
        ng_reveal_init(rv, ek);
        in->reveal = rv;
    }
    return r;
}

/* Verified, then exported. */
static int export_verified(struct ng_store *s, const uint8_t *id, const uint8_t *root,
                           const struct export_opts *o, const struct ng_escrow_secret *ek,
                           const char *text)
{
    struct ng_verify_result res;
    struct ng_reveal rv;
    uint8_t pk[NG_STORE_ESCROW_PK_LEN];
    struct ng_export_in in = {.verdict = &res, .root_pk = root};
    int st = escrow_setup(s, id, o, ek, text, &in, pk, &rv);

    if (st)
        return st;
    int verdict = ng_cmd_verify_first(s, id, root, o->force, "export", text, &res);
    int r = verdict < 0 ? verdict : 0;
    struct ng_export_evidence *ev = NULL;
    /* jsonl and html carry the evidence that proves them (export.h) */
    if (r == 0 && (verdict != 1 || o->force) && o->fmt != NG_EXPORT_ASCIICAST &&
        (r = ng_export_evidence_load(s, id, root, &ev)) == 0)
        in.evidence = ev;
    if (r == 0 && (verdict != 1 || o->force))
        r = export_session(s, &in, id, o);
    ng_export_evidence_free(ev);
    if (r == -ECANCELED)
        return NG_EXIT_STORAGE; /* the output could not be created: said why */
    if (r < 0 && in.reveal && rv.bad_seq)
        return ng_cmd_reveal_error(r, rv.bad_seq, o->escrow_key, text);
    if (r < 0) {
        ng_err("export of %s failed: %s", text, strerror(-r));
        return NG_EXIT_STORAGE;
    }
    return verdict;
}

/* --follow: the evidence stream (cmd_follow.c). */
static int follow(const struct export_opts *o, const char *session, const struct ng_caller *caller)
{
    struct ng_follow_opts f = {
        .src = o->src, .out = o->out, .cursor = o->cursor, .session = session};

    if (!o->follow || (o->fmt_given && o->fmt != NG_EXPORT_JSONL) || o->reveal || o->force) {
        ng_err("--follow writes JSON lines (-f jsonl) and takes --cursor FILE and -o FILE; "
               "not --reveal or --force");
        return NG_EXIT_USAGE;
    }
    return ng_cmd_follow(&f, caller);
}

int ng_cmd_export(int argc, char **argv, const struct ng_caller *caller)
{
    struct export_opts o = {.src.db = ng_cmd_default_db(), .fmt = NG_EXPORT_ASCIICAST};
    char text[NG_UUID_STR];
    uint8_t id[NG_STORE_ID_LEN] = {0}, root[NG_FSKEY_PK_BYTES];
    struct ng_escrow_secret *ek = NULL;
    struct ng_store *s;
    /* Before any file is opened: a non-root caller works with its own rights. */
    char **operands;
    int n, st = ng_cmd_start(&ng_spec_export, usage, argc, argv, caller, export_opt, &o, &operands,
                             &n);

    if (st)
        return st < 0 ? 0 : st;
    if (o.follow || o.cursor)
        return follow(&o, n ? operands[0] : NULL, caller);
    if (n != 1) {
        ng_err("export: give the SESSION to export");
        fputs(usage, stderr);
        return NG_EXIT_USAGE;
    }
    o.session = operands[0];
    if (o.reveal != (o.escrow_key != NULL)) {
        ng_err("--reveal and --escrow-key FILE go together");
        return NG_EXIT_USAGE;
    }
    /* Not a plain reader: the look is logged before privileges drop
     * (cmd_review.c); the store is opened and the session found first. */
    struct ng_review rv;
    ng_review_begin(&rv, caller);
    st = ng_review_open(&rv, o.src.db, o.session, &s, id);
    if (st) {
        ng_review_end(&rv);
        return ng_cmd_drop(caller) ? NG_EXIT_INTERNAL : st;
    }
    st = ng_review_log(&rv, "export", id);
    /* After the drop: the keys are read with the caller's own rights. */
    if (st == 0)
        st = ng_cmd_root_key(o.src.keys, o.src.key, root);
    if (st == 0 && o.reveal)
        st = ng_cmd_escrow_key(o.escrow_key, &ek);
    ng_uuid_format(id, text);
    if (st == 0)
        st = export_verified(s, id, root, &o, ek, text);
    ng_store_close(s);
    ng_escrow_secret_free(ek);
    return st;
}
