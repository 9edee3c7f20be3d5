/* Kernel audit events with libaudit (spec/audit.md). The MUST list is in
 * include/nsgate/audit.h. No logging, no exit. */
#include "nsgate/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <libaudit.h>
#include <linux/capability.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

/* How long one wait for the kernel's reply to an audit status request may
 * take (it answers at once; a lost reply must not hang a session). */
#define NG_AUDIT_REPLY_MS 2000

/* The inode of the initial user namespace (PROC_USER_INIT_INO, fixed by the
 * kernel since 3.8). A full identity uid_map alone does not prove it: root
 * can make a child namespace with the same map. */
#define NG_USER_INIT_INO 0xEFFFFFFDU

/* ---- Encoding ---- */

int ng_audit_needs_encoding(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        /* libaudit tests str[i] < 0x21 on a plain char, which catches bytes
         * >= 0x80 only where char is signed: test them explicitly. ' would
         * end the kernel's msg='...' quoting; = and backslash confuse naive
         * field splitters. */
        if (c < 0x21 || c >= 0x7F || c == '"' || c == '\'' || c == '=' || c == '\\')
            return 1;
    }
    return 0;
}

/* A bounded string builder: the first error sticks and later appends are
 * ignored, so a builder checks once at the end. */
struct sb {
    char *buf;
    size_t size;
    size_t len;
    int err;
};

__attribute__((format(printf, 2, 3))) static void sb_fmt(struct sb *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->err)
        return;
    va_start(ap, fmt);
    n = vsnprintf(b->buf + b->len, b->size - b->len, fmt, ap);
    va_end(ap);
    if (n < 0)
        b->err = -EINVAL;
    else if ((size_t)n >= b->size - b->len)
        b->err = -ENOBUFS;
    else
        b->len += (size_t)n;
}

/* Characters of a bare token: no space, quote, '=' or control byte, so it
 * reads the same in raw logs and in ausearch -i. */
static int token_safe(const char *s, size_t max)
{
    size_t n = 0;

    if (!s || !*s)
        return 0;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        if (n >= max)
            return 0;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("._,:+-@", c)))
            return 0;
    }
    return 1;
}

static void sb_token(struct sb *b, const char *name, const char *v)
{
    if (!b->err && !token_safe(v, 128))
        b->err = -EINVAL;
    sb_fmt(b, " %s=%s", name, v);
}

/* Lowercase hex of a hash or key: 2..256 digits, even. */
static void sb_hex(struct sb *b, const char *name, const char *v)
{
    size_t n = v ? strlen(v) : 0;

    if (!b->err && (n < 2 || n > 256 || n % 2 || !ng_is_lower_hex(v, n)))
        b->err = -EINVAL;
    sb_fmt(b, " %s=%s", name, v);
}

/* A session ID as ng_uuid_format writes it: 8-4-4-4-12 lowercase hex. */
static int uuid_ok(const char *v)
{
    if (!v || strlen(v) != 36)
        return 0;
    for (size_t i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? v[i] != '-' : !ng_is_lower_hex(v + i, 1))
            return 0;
    }
    return 1;
}

static void sb_uuid(struct sb *b, const char *v)
{
    if (!b->err && !uuid_ok(v))
        b->err = -EINVAL;
    sb_fmt(b, " uuid=%s", v);
}

/* A free-text value: cut to cap bytes (ending in "..."), then written by
 * audit_encode_nv_string, or as hex by audit_encode_value when only our
 * stricter test asks for it. The cut is made on the raw bytes, before any
 * encoding, so a hex value always holds whole bytes; a cut value is followed
 * by NAME_len=FULL (its whole length in bytes), since a value can itself end
 * in "...". NULL is written "?" (unknown), which an encoded or quoted "?"
 * cannot be confused with. */
static void sb_text(struct sb *b, const char *name, const char *v, size_t len, size_t full,
                    size_t cap)
{
    char cut[NG_AUDIT_CMD_MAX + 1];
    char hex[2 * NG_AUDIT_CMD_MAX + 1];
    char *enc;

    if (b->err)
        return;
    if (!v) {
        sb_fmt(b, " %s=?", name);
        return;
    }
    if (cap >= sizeof(cut) || cap < 4) {
        b->err = -EINVAL;
        return;
    }
    /* Always a NUL-terminated copy: audit_encode_nv_string ignores vlen
     * when it quotes and prints up to the NUL. */
    if (len > cap) {
        memcpy(cut, v, cap - 3);
        memcpy(cut + cap - 3, "...", 3);
        len = cap;
    } else {
        memcpy(cut, v, len);
    }
    cut[len] = '\0';
    v = cut;
    if (ng_audit_needs_encoding(v, len) && !audit_value_needs_encoding(v, (unsigned)len)) {
        audit_encode_value(hex, v, (unsigned)len);
        sb_fmt(b, " %s=%s", name, hex);
        if (full > cap)
            sb_fmt(b, " %s_len=%zu", name, full);
        return;
    }
    /* vlen 0 would make libaudit take strlen: the same for a string. */
    enc = audit_encode_nv_string(name, v, (unsigned)len);
    if (!enc) {
        b->err = -ENOMEM;
        return;
    }
    sb_fmt(b, " %s", enc);
    free(enc);
    if (full > cap)
        sb_fmt(b, " %s_len=%zu", name, full);
}

static void sb_str(struct sb *b, const char *name, const char *v, size_t cap)
{
    size_t full = v ? strlen(v) : 0;

    sb_text(b, name, v, full > cap ? cap + 1 : full, full, cap);
}

/* argv joined with single spaces into out (cap + 1 bytes at most, so a
 * longer command is seen as longer and cut by sb_text); *full is the
 * length of the whole joined command. */
static size_t join_argv(char *const *argv, char *out, size_t cap, size_t *full)
{
    size_t len = 0;

    *full = 0;
    for (size_t i = 0; argv[i]; i++) {
        size_t n = strlen(argv[i]);
        *full += n + (i > 0);
        if (i > 0 && len <= cap)
            out[len++] = ' ';
        for (size_t k = 0; k < n && len <= cap; k++)
            out[len++] = argv[i][k];
    }
    return len;
}

static int sb_start(struct sb *b, char *buf, size_t size, const char *op)
{
    b->buf = buf;
    b->size = size;
    b->len = 0;
    b->err = buf && size ? 0 : -EINVAL;
    sb_fmt(b, "op=%s", op);
    return b->err;
}

static int sb_end(struct sb *b)
{
    if (b->err) {
        if (b->buf && b->size)
            b->buf[0] = '\0';
        return b->err;
    }
    return b->len > (size_t)NG_AUDIT_MSG_MAX ? -ENOBUFS : (int)b->len;
}

/* ---- Builders ---- */

int ng_audit_fmt_authz(const struct ng_audit_authz *e, char *buf, size_t size)
{
    struct sb b;

    sb_start(&b, buf, size, "nsgate-authz");
    sb_str(&b, "acct", e->acct, NG_AUDIT_ACCT_MAX);
    sb_token(&b, "rule", e->rule ? e->rule : "-");
    sb_fmt(&b, " opid=%d", (int)e->opid);
    sb_token(&b, "nsgate_ns", e->ns);
    if (e->allowed)
        sb_uuid(&b, e->uuid);
    if (e->opid <= 0 && !b.err)
        b.err = -EINVAL;
    return sb_end(&b);
}

int ng_audit_fmt_start(const struct ng_audit_start *e, char *buf, size_t size)
{
    char cmd[NG_AUDIT_CMD_MAX + 1];
    size_t full = 0;
    struct sb b;

    sb_start(&b, buf, size, "nsgate-session-open");
    sb_str(&b, "acct", e->acct, NG_AUDIT_ACCT_MAX);
    sb_fmt(&b, " opid=%d", (int)e->opid);
    sb_str(&b, "container", e->container, NG_AUDIT_CONTAINER_MAX);
    if (e->argv) {
        size_t len = join_argv(e->argv, cmd, NG_AUDIT_CMD_MAX, &full);
        sb_text(&b, "cmd", cmd, len, full, NG_AUDIT_CMD_MAX);
    } else {
        sb_text(&b, "cmd", NULL, 0, 0, NG_AUDIT_CMD_MAX);
    }
    sb_str(&b, "reason", e->reason, NG_AUDIT_REASON_MAX);
    sb_uuid(&b, e->uuid);
    sb_hex(&b, "hdr", e->hdr);
    if (e->opid <= 0 && !b.err)
        b.err = -EINVAL;
    return sb_end(&b);
}

int ng_audit_fmt_checkpoint(const struct ng_audit_checkpoint *e, char *buf, size_t size)
{
    struct sb b;

    sb_start(&b, buf, size, "nsgate-checkpoint");
    sb_uuid(&b, e->uuid);
    sb_fmt(&b, " seqno=%llu", (unsigned long long)e->seqno);
    sb_hex(&b, "head", e->head);
    sb_fmt(&b, " epoch=%llu", (unsigned long long)e->epoch);
    return sb_end(&b);
}

int ng_audit_fmt_end(const struct ng_audit_end *e, char *buf, size_t size)
{
    struct sb b;

    sb_start(&b, buf, size, "nsgate-session-close");
    sb_str(&b, "acct", e->acct, NG_AUDIT_ACCT_MAX);
    sb_uuid(&b, e->uuid);
    sb_fmt(&b, " seqno=%llu", (unsigned long long)e->seqno);
    sb_hex(&b, "head", e->head);
    sb_fmt(&b, " exit=%d", e->exit_status);
    sb_str(&b, "reason", e->reason, NG_AUDIT_REASON_MAX);
    /* A negative exit would read as an errno name in ausearch -i. */
    if (e->exit_status < 0 && !b.err)
        b.err = -EINVAL;
    return sb_end(&b);
}

int ng_audit_fmt_error(const struct ng_audit_error *e, char *buf, size_t size)
{
    struct sb b;

    sb_start(&b, buf, size, "nsgate-error");
    if (e->uuid)
        sb_uuid(&b, e->uuid);
    else
        sb_fmt(&b, " uuid=?");
    sb_str(&b, "what", e->what, NG_AUDIT_WHAT_MAX);
    return sb_end(&b);
}

int ng_audit_fmt_review(const struct ng_audit_review *e, char *buf, size_t size)
{
    struct sb b;

    sb_start(&b, buf, size, "nsgate-review");
    /* act is nsgate's word: one of the three, never a caller's */
    if (!e->act || (strcmp(e->act, "replay") != 0 && strcmp(e->act, "export") != 0 &&
                    strcmp(e->act, "watch") != 0)) {
        b.err = b.err ? b.err : -EINVAL;
        return sb_end(&b);
    }
    sb_fmt(&b, " act=%s", e->act);
    sb_uuid(&b, e->uuid);
    sb_str(&b, "acct", e->acct, NG_AUDIT_ACCT_MAX);
    sb_fmt(&b, " viewer_uid=%u viewer_auid=%u", (unsigned)e->uid, (unsigned)e->auid);
    return sb_end(&b);
}

int ng_audit_fmt_key(const struct ng_audit_key *e, char *buf, size_t size)
{
    struct sb b;

    switch (e->op) {
    case NG_AUDIT_KEY_CREATE:
        sb_start(&b, buf, size, "create");
        break;
    case NG_AUDIT_KEY_DESTROY:
        sb_start(&b, buf, size, "destroy");
        break;
    default:
        return -EINVAL;
    }
    sb_fmt(&b, " kind=nsgate-seal");
    sb_hex(&b, "fp", e->fp);
    sb_fmt(&b, " epoch=%llu", (unsigned long long)e->epoch);
    return sb_end(&b);
}

/* Two-person control: action is nsgate's own word, the rest as above. */
int ng_audit_fmt_control(const struct ng_audit_control *e, char *buf, size_t size)
{
    struct sb b;

    sb_start(&b, buf, size, "nsgate-control");
    sb_token(&b, "action", e->action);
    sb_str(&b, "acct", e->acct, NG_AUDIT_ACCT_MAX);
    if (e->uid >= 0)
        sb_fmt(&b, " nsgate_uid=%lld", (long long)e->uid);
    else
        sb_fmt(&b, " nsgate_uid=?");
    sb_uuid(&b, e->uuid);
    sb_str(&b, "reason", e->text, NG_AUDIT_REASON_MAX);
    return sb_end(&b);
}

/* ---- Connection, checks ---- */

static void fill_hostname(struct ng_audit *a)
{
    struct utsname u;

    strcpy(a->hostname, "?");
    if (uname(&u) == 0 && strlen(u.nodename) < sizeof(a->hostname) &&
        token_safe(u.nodename, sizeof(a->hostname) - 1) && !strchr(u.nodename, ','))
        strcpy(a->hostname, u.nodename);
}

/* The caller's terminal as libaudit would name it, but checked here: only
 * a /dev path of plain characters. */
static void fill_tty(struct ng_audit *a)
{
    char path[64];

    strcpy(a->tty, "?");
    for (int fd = 0; fd <= 2; fd++) {
        if (ttyname_r(fd, path, sizeof(path)) != 0 || strncmp(path, "/dev/", 5) != 0)
            continue;
        const char *name = path + 5;
        if (strlen(name) >= sizeof(a->tty) || !*name)
            continue;
        if (strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_.-") !=
            strlen(name))
            continue;
        strcpy(a->tty, name);
        return;
    }
}

int ng_audit_open(struct ng_audit *a)
{
    a->open_errno = 0;
    fill_hostname(a);
    fill_tty(a);
    errno = 0;
    a->fd = audit_open();
    if (a->fd < 0) {
        a->open_errno = errno > 0 ? errno : EIO;
        a->fd = -1;
        return -a->open_errno;
    }
    /* libaudit opens with SOCK_CLOEXEC on current versions; make sure. */
    (void)fcntl(a->fd, F_SETFD, FD_CLOEXEC);
    return 0;
}

void ng_audit_close(struct ng_audit *a)
{
    if (a->fd >= 0)
        audit_close(a->fd);
    a->fd = -1;
}

int ng_audit_status(int fd, int *enabled, uint32_t *daemon_pid)
{
    struct audit_reply rep;
    int r;

    if (fd < 0)
        return -EBADF;
    r = audit_request_status(fd);
    if (r <= 0)
        return r < 0 ? r : -EIO;
    /* The kernel answers at once; poll so a lost reply cannot hang us. */
    for (int tries = 0; tries < 8; tries++) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int n = poll(&p, 1, NG_AUDIT_REPLY_MS);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -ETIMEDOUT;
        r = audit_get_reply(fd, &rep, GET_REPLY_NONBLOCKING, 0);
        if (r == -EAGAIN || r == 0)
            continue;
        if (r < 0)
            return r;
        if (rep.type == NLMSG_ERROR && rep.error && rep.error->error)
            return rep.error->error < 0 ? rep.error->error : -EIO;
        if (rep.type == AUDIT_GET && rep.status) {
            *enabled = (int)rep.status->enabled;
            *daemon_pid = rep.status->pid;
            return 0;
        }
    }
    return -EPROTO;
}

static int in_initial_userns(void)
{
    struct stat st;

    if (stat("/proc/self/ns/user", &st) < 0)
        return 0;
    return st.st_ino == NG_USER_INIT_INO;
}

static int has_cap_audit_write(void)
{
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct d[2];

    memset(d, 0, sizeof(d));
    if (syscall(SYS_capget, &h, d) < 0)
        return 0;
    return (d[CAP_AUDIT_WRITE / 32].effective & (1U << (CAP_AUDIT_WRITE % 32))) != 0;
}

static int check_socket(const struct ng_audit *a, const char **why)
{
    if (a->fd >= 0)
        return 0;
    switch (a->open_errno) {
    case EPROTONOSUPPORT:
    case EAFNOSUPPORT:
    case EINVAL:
        *why = "the kernel has no audit support";
        return -EPROTONOSUPPORT;
    default:
        *why = "cannot open the kernel audit socket";
        return a->open_errno > 0 ? -a->open_errno : -EBADF;
    }
}

static int check_all(const struct ng_audit *a, const char **why)
{
    int r = check_socket(a, why);

    if (r < 0)
        return r;
    if (!in_initial_userns()) {
        *why = "nsgate is not in the initial user namespace (its audit records would be dropped)";
        return -EPERM;
    }
    if (!has_cap_audit_write()) {
        *why = "nsgate lacks CAP_AUDIT_WRITE";
        return -EPERM;
    }
    r = audit_is_enabled(a->fd);
    if (r < 0) {
        *why = "cannot read the kernel audit status";
        return -EIO;
    }
    if (r == 0) {
        *why = "kernel auditing is disabled (auditctl -e 0)";
        return -ENOLINK;
    }
    return ng_audit_still_available(a, why);
}

int ng_audit_check(const struct ng_audit *a, int required, const char **why)
{
    const char *w = NULL;
    int r = check_all(a, &w);

    if (r < 0 && !w)
        w = "the audit trail is unavailable";
    *why = r < 0 ? w : NULL;
    return required ? r : 0;
}

int ng_audit_still_available(const struct ng_audit *a, const char **why)
{
    int enabled = 0;
    uint32_t pid = 0;
    int r = ng_audit_status(a->fd, &enabled, &pid);

    *why = NULL;
    if (r < 0) {
        *why = "cannot read the kernel audit status";
        return r;
    }
    if (enabled < 1) {
        *why = "kernel auditing is disabled (auditctl -e 0)";
        return -ENOLINK;
    }
    if (pid == 0) {
        /* Records would reach only the kernel log, not the shipped trail. */
        *why = "no audit daemon is registered";
        return -ENOLINK;
    }
    return 0;
}

/* ---- Senders ---- */

static int send_msg(const struct ng_audit *a, int type, const char *msg, int ok)
{
    int r;

    if (!a || a->fd < 0)
        return -EBADF;
    errno = 0;
    /* addr "?" is passed so libaudit never resolves the host name. */
    r = audit_log_user_message(a->fd, type, msg, a->hostname, "?", a->tty, ok ? 1 : 0);
    if (r > 0)
        return 0;
    if (r < 0)
        return r;
    return errno > 0 ? -errno : -EIO;
}

int ng_audit_log_authz(const struct ng_audit *a, const struct ng_audit_authz *e)
{
    char msg[NG_AUDIT_MSG_MAX + 1];
    int r = ng_audit_fmt_authz(e, msg, sizeof(msg));
    return r < 0 ? r : send_msg(a, AUDIT_USER_ACCT, msg, e->allowed);
}

int ng_audit_log_start(const struct ng_audit *a, const struct ng_audit_start *e)
{
    char msg[NG_AUDIT_MSG_MAX + 1];
    int r = ng_audit_fmt_start(e, msg, sizeof(msg));
    return r < 0 ? r : send_msg(a, AUDIT_USER_START, msg, e->ok);
}

int ng_audit_log_checkpoint(const struct ng_audit *a, const struct ng_audit_checkpoint *e)
{
    char msg[NG_AUDIT_MSG_MAX + 1];
    int r = ng_audit_fmt_checkpoint(e, msg, sizeof(msg));
    return r < 0 ? r : send_msg(a, AUDIT_TRUSTED_APP, msg, 1);
}

int ng_audit_log_end(const struct ng_audit *a, const struct ng_audit_end *e)
{
    char msg[NG_AUDIT_MSG_MAX + 1];
    int r = ng_audit_fmt_end(e, msg, sizeof(msg));
    return r < 0 ? r : send_msg(a, AUDIT_USER_END, msg, 1);
}

int ng_audit_log_error(const struct ng_audit *a, const struct ng_audit_error *e)
{
    char msg[NG_AUDIT_MSG_MAX + 1];
    int r = ng_audit_fmt_error(e, msg, sizeof(msg));
    return r < 0 ? r : send_msg(a, AUDIT_USER_ERR, msg, 0);
}

int ng_audit_log_control(const struct ng_audit *a, const struct ng_audit_control *e)
{
    char msg[NG_AUDIT_MSG_MAX + 1];
    int r = ng_audit_fmt_control(e, msg, sizeof(msg));
    return r < 0 ? r : send_msg(a, AUDIT_USER_ACCT, msg, e->ok);
}

int ng_audit_log_key(const struct ng_audit *a, const struct ng_audit_key *e)
{
    char msg[NG_AUDIT_MSG_MAX + 1];
    int r = ng_audit_fmt_key(e, msg, sizeof(msg));
    return r < 0 ? r : send_msg(a, AUDIT_CRYPTO_KEY_USER, msg, 1);
}

int ng_audit_log_review(const struct ng_audit *a, const struct ng_audit_review *e)
{
    char msg[NG_AUDIT_MSG_MAX + 1];
    int r = ng_audit_fmt_review(e, msg, sizeof(msg));
    return r < 0 ? r : send_msg(a, AUDIT_TRUSTED_APP, msg, 1);
}
