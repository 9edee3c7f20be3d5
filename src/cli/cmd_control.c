/* nsgate approve, reject, terminate (two-person control, control.h): the
 * caller's request, with the identity saved at the setuid start, to the
 * recorder of a live session over its control socket, which only root can
 * reach; the recorder decides. Also the watch's registration. */
#include "cmd_control_int.h"
#include "cmd_store_int.h"

#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "nsgate/control.h"
#include "nsgate/policy.h"

static const char usage[] =
    "Usage: nsgate approve [--db FILE] [-r TEXT] SESSION\n"
    "       nsgate reject [--db FILE] [-r TEXT] SESSION\n"
    "       nsgate terminate [--db FILE] -r TEXT SESSION\n"
    "\n"
    "approve and reject release or refuse a session waiting for approval (run by an\n"
    "approver of its rule, never by the requester); terminate ends a running session\n"
    "as max_session would (root, or an approver of its rule). SESSION is a session ID\n"
    "or a unique prefix of at least 6 characters; TEXT is recorded and audited.\n";

struct control_opts {
    const char *db, *text, *session;
};

static const struct ng_optdef control_opts_def[] = {
    {NG_OPT_DB, 0, "db", NG_OPT_ARG},
    {'r', 'r', "reason", NG_OPT_ARG},
    {'h', 'h', "help", 0},
    {0, 0, NULL, 0},
};

const struct ng_cmdspec ng_spec_control = {.name = "approve",
                                           .opts = control_opts_def,
                                           .flags = NG_CMD_PERMUTE,
                                           .min_operands = 1,
                                           .max_operands = 1,
                                           .operand = "SESSION"};

static int control_opt(const struct ng_optval *v, void *ctx)
{
    struct control_opts *o = ctx;

    if (v->id == NG_OPT_DB)
        o->db = v->arg;
    else if (v->id == 'r')
        o->text = v->arg;
    return 0;
}

/* The request the caller's identity makes (saved before the ids became 0). */
static void fill_request(struct ng_control_request *q, const struct ng_caller *caller,
                         const char *verb, int reader, const char *text)
{
    struct passwd pw, *res = NULL;
    char buf[4096];

    memset(q, 0, sizeof(*q));
    snprintf(q->verb, sizeof(q->verb), "%s", verb);
    q->uid = caller->uid;
    q->gid = caller->gid;
    for (size_t i = 0; i < caller->ngroups && i < NG_CONTROL_GROUPS; i++)
        q->groups[q->ngroups++] = caller->groups[i];
    q->reader = reader;
    if (getpwuid_r(caller->uid, &pw, buf, sizeof(buf), &res) == 0 && res &&
        strlen(pw.pw_name) < sizeof(q->user))
        snprintf(q->user, sizeof(q->user), "%s", pw.pw_name);
    else
        snprintf(q->user, sizeof(q->user), "#%u", (unsigned)caller->uid);
    snprintf(q->text, sizeof(q->text), "%s", text ? text : "");
}

int ng_cmd_control_ask(const char *db, const uint8_t id[NG_STORE_ID_LEN],
                       const struct ng_caller *caller, const char *verb, int reader,
                       const char *text, int *ret_fd, char *reply, size_t size)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct ng_control_request q;
    char msg[NG_CONTROL_MSG_MAX + 1], idt[NG_UUID_STR];
    size_t len;

    ng_uuid_format(id, idt);
    fill_request(&q, caller, verb, reader, text);
    if (ng_control_request_format(&q, msg, sizeof(msg), &len) < 0)
        return -EINVAL;
    int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s-live/%s.sock", db, idt);
    if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct pollfd p = {fd, POLLIN, 0};
    int r = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
    if (r == 0 && send(fd, msg, len, MSG_NOSIGNAL) != (ssize_t)len)
        r = -errno;
    if (r == 0 && poll(&p, 1, 10000) != 1)
        r = -ETIMEDOUT;
    ssize_t got = r == 0 ? recv(fd, reply, size - 1, 0) : -1;
    if (r == 0 && got <= 0)
        r = got == 0 ? -ECONNRESET : -errno;
    if (r < 0) {
        close(fd);
        return r;
    }
    reply[got] = '\0';
    if (ret_fd)
        *ret_fd = fd;
    else
        close(fd);
    return strncmp(reply, "ok", 2) == 0 ? 0 : -EPERM;
}

int ng_cmd_control_find(const char *db, const char *prefix, uint8_t id[NG_STORE_ID_LEN])
{
    int r = ng_store_live_find(db, prefix, id);

    if (r == -EINVAL)
        return ng_err("'%s' is not a session ID or a prefix of at least %d characters", prefix,
                      NG_STORE_PREFIX_MIN),
               NG_EXIT_USAGE;
    if (r == -ENOTUNIQ)
        return ng_err("'%s' names more than one live session: give more of the ID", prefix),
               NG_EXIT_USAGE;
    if (r < 0)
        return ng_err("no live session %s (running or waiting for approval)", prefix),
               NG_EXIT_NOINPUT;
    return 0;
}

static int run(const char *verb, const struct control_opts *o, const struct ng_caller *caller)
{
    uint8_t id[NG_STORE_ID_LEN];
    char reply[256], text[NG_UUID_STR];
    int st = ng_cmd_control_find(o->db, o->session, id);

    if (st)
        return st;
    ng_uuid_format(id, text);
    int r = ng_cmd_control_ask(o->db, id, caller, verb, 0, o->text, NULL, reply, sizeof(reply));
    if (r == -EPERM)
        return ng_err("%s of session %s refused: %s", verb, text, reply + 3), NG_EXIT_DENIED;
    if (r < 0)
        return ng_err("cannot reach session %s: %s", text, strerror(-r)), NG_EXIT_TARGET;
    fprintf(stderr, "nsgate: session %s %s\n", text,
            strcmp(verb, "approve") == 0  ? "approved"
            : strcmp(verb, "reject") == 0 ? "rejected"
                                          : "terminated");
    return 0;
}

int ng_cmd_control(int argc, char **argv, const struct ng_caller *caller)
{
    struct control_opts o = {.db = ng_cmd_default_db()};
    char **operands;
    int n;
    const char *verb = argv[0];

    int st =
        ng_cmd_start(&ng_spec_control, usage, argc, argv, caller, control_opt, &o, &operands, &n);
    if (st)
        return st < 0 ? 0 : st;
    o.session = operands[0];
    if (caller->uid != 0 && o.db != ng_cmd_default_db())
        return ng_err("--db is for root only"), NG_EXIT_DENIED;
    if (o.text && !ng_policy_valid_reason(o.text))
        return ng_err("-r: the text must be 1 to 512 bytes of printable UTF-8"), NG_EXIT_USAGE;
    if (strcmp(verb, "terminate") == 0 && !o.text)
        return ng_err("terminate needs -r TEXT: why the session is ended"), NG_EXIT_USAGE;
    return run(verb, &o, caller);
}
