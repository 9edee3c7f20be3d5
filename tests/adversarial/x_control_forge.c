/* x_control_forge SOCKET VERB UID USER [then VERB2 UID2 USER2]: talk to a
 * session's control socket (control.h) as whoever runs it, without nsgate:
 * connect, send a well-formed request claiming UID and USER (reader=1),
 * print the answer ("connect: ERRNO-TEXT", "reply: TEXT"). With "then",
 * send a second request on the same connection (a registered watcher's
 * connection, which the recorder must treat as one request only) and say
 * whether the recorder closed it ("closed") or kept it ("open"). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "nsgate/control.h"

static int ask(int fd, const char *verb, const char *uid, const char *user)
{
    struct ng_control_request q = {0};
    char msg[NG_CONTROL_MSG_MAX + 1];
    size_t len;

    snprintf(q.verb, sizeof(q.verb), "%s", verb);
    q.uid = (uint32_t)strtoul(uid, NULL, 10);
    q.gid = q.uid;
    q.reader = 1;
    snprintf(q.user, sizeof(q.user), "%s", user);
    snprintf(q.text, sizeof(q.text), "forged");
    if (ng_control_request_format(&q, msg, sizeof(msg), &len) < 0)
        return fprintf(stderr, "cannot format\n"), -1;
    return send(fd, msg, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char reply[300];

    if ((argc != 5 && argc != 9) || strlen(argv[1]) >= sizeof(sa.sun_path))
        return fprintf(stderr, "usage: x_control_forge SOCKET VERB UID USER [then V U N]\n"), 2;
    memcpy(sa.sun_path, argv[1], strlen(argv[1]) + 1);
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return printf("connect: %s\n", strerror(errno)), 0;
    struct pollfd p = {fd, POLLIN, 0};
    /* the recorder may answer (and close) before the request is sent: the
     * answer is read whether or not the send went through */
    (void)ask(fd, argv[2], argv[3], argv[4]);
    ssize_t n = poll(&p, 1, 5000) == 1 ? recv(fd, reply, sizeof(reply) - 1, 0) : -1;
    if (n < 0)
        return printf("reply: none\n"), 0;
    reply[n] = '\0';
    printf("reply: %s\n", reply);
    if (argc == 9) {
        if (ask(fd, argv[6], argv[7], argv[8]) < 0)
            return printf("closed\n"), 0;
        usleep(500000);
        p.revents = 0;
        int closed = poll(&p, 1, 0) == 1 && recv(fd, reply, sizeof(reply), MSG_DONTWAIT) <= 0;
        printf("%s\n", closed ? "closed" : "open");
    }
    fflush(stdout);
    return 0;
}
