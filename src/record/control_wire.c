/* The one message a control client sends (control.h): pure, bounded. */
#include "nsgate/control.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC "nsgate-control-1"

static const char *const verbs[] = {"approve", "reject", "terminate", "watch", "moderate"};

static int known_verb(const char *v)
{
    for (size_t i = 0; i < NG_ARRAY_SIZE(verbs); i++)
        if (strcmp(v, verbs[i]) == 0)
            return 1;
    return 0;
}

/* Printable ASCII and UTF-8 beyond it, no control byte (C0, DEL); checked
 * again by the recorder, which writes it into events and audit records. */
static int plain(const char *s, int allow_empty)
{
    if (!allow_empty && !*s)
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

int ng_control_request_format(const struct ng_control_request *q, char *buf, size_t size,
                              size_t *len)
{
    char groups[NG_CONTROL_GROUPS * 11 + 1];
    size_t o = 0;

    if (!known_verb(q->verb) || !plain(q->user, 0) || !plain(q->text, 1) ||
        q->ngroups > NG_CONTROL_GROUPS || strlen(q->text) > NG_CONTROL_TEXT_MAX)
        return -EINVAL;
    groups[0] = '\0';
    for (size_t i = 0; i < q->ngroups; i++)
        o += (size_t)snprintf(groups + o, sizeof(groups) - o, "%s%u", i ? "," : "",
                              (unsigned)q->groups[i]);
    int n = snprintf(buf, size, MAGIC "\n%s\n%u\n%u\n%s\n%d\n%s\n%s", q->verb, (unsigned)q->uid,
                     (unsigned)q->gid, groups, q->reader ? 1 : 0, q->user, q->text);
    if (n < 0 || (size_t)n >= size)
        return -EINVAL;
    *len = (size_t)n;
    return 0;
}

static int parse_u32(const char *s, uint32_t *ret)
{
    char *end;

    if (!*s || strlen(s) > 10 || s[0] == '-' || s[0] == '+' || s[0] == ' ')
        return -EINVAL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v > UINT32_MAX)
        return -EINVAL;
    *ret = (uint32_t)v;
    return 0;
}

static int parse_groups(char *s, struct ng_control_request *q)
{
    q->ngroups = 0;
    for (char *save = NULL, *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (q->ngroups == NG_CONTROL_GROUPS || parse_u32(t, &q->groups[q->ngroups]) < 0)
            return -EINVAL;
        q->ngroups++;
    }
    return 0;
}

int ng_control_request_parse(const char *buf, size_t len, struct ng_control_request *q)
{
    char msg[NG_CONTROL_MSG_MAX + 1], *f[8];
    size_t n = 0;

    if (len == 0 || len > NG_CONTROL_MSG_MAX || memchr(buf, '\0', len))
        return -EINVAL;
    memcpy(msg, buf, len);
    msg[len] = '\0';
    /* seven newlines: the text (last) may not hold one */
    for (char *p = msg; n < 8; n++) {
        f[n] = p;
        char *nl = n < 7 ? strchr(p, '\n') : NULL;
        if (n < 7 && !nl)
            return -EINVAL;
        if (nl) {
            *nl = '\0';
            p = nl + 1;
        }
    }
    if (strchr(f[7], '\n') || strcmp(f[0], MAGIC) != 0 || !known_verb(f[1]) ||
        strlen(f[1]) >= sizeof(q->verb) || strlen(f[6]) >= sizeof(q->user) ||
        strlen(f[7]) > NG_CONTROL_TEXT_MAX || !plain(f[6], 0) || !plain(f[7], 1) ||
        (strcmp(f[5], "0") != 0 && strcmp(f[5], "1") != 0))
        return -EINVAL;
    memset(q, 0, sizeof(*q));
    if (parse_u32(f[2], &q->uid) < 0 || parse_u32(f[3], &q->gid) < 0 || parse_groups(f[4], q) < 0)
        return -EINVAL;
    snprintf(q->verb, sizeof(q->verb), "%s", f[1]);
    q->reader = f[5][0] == '1';
    snprintf(q->user, sizeof(q->user), "%s", f[6]);
    snprintf(q->text, sizeof(q->text), "%s", f[7]);
    return 0;
}
