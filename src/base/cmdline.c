/* Command events: escaping, parsing and the quoted command line (see
 * cmdline.h). */
#include "nsgate/cmdline.h"
#include "nsgate/text.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- escaping ------------------------------------------------------------ */

char *ng_cmd_escape(const void *p, size_t len)
{
    const unsigned char *u = p;
    char *out;
    size_t o = 0;

    if (len > (SIZE_MAX - 1) / 4)
        return NULL;
    out = malloc(len * 4 + 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < len;) {
        size_t n = ng_utf8_seq_len(u + i, len - i);
        if (n == 0 || u[i] == '\0') { /* a NUL too: the text is a C string */
            snprintf(out + o, 5, "\\x%02x", u[i]);
            o += 4;
            i++;
        } else if (n == 1 && u[i] == '\\') {
            out[o++] = '\\';
            out[o++] = '\\';
            i++;
        } else {
            memcpy(out + o, u + i, n);
            o += n;
            i += n;
        }
    }
    out[o] = '\0';
    return out;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int ng_cmd_unescape(const char *s, size_t n, uint8_t **ret, size_t *ret_len)
{
    uint8_t *out = malloc(n + 1);
    size_t o = 0;

    if (!out)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\') {
            out[o++] = (uint8_t)s[i];
            continue;
        }
        if (i + 1 < n && s[i + 1] == '\\') {
            out[o++] = '\\';
            i++;
        } else if (i + 3 < n && s[i + 1] == 'x' && hexval(s[i + 2]) >= 0 && hexval(s[i + 3]) >= 0) {
            out[o++] = (uint8_t)(hexval(s[i + 2]) << 4 | hexval(s[i + 3]));
            i += 3;
        } else {
            free(out);
            return -EINVAL;
        }
    }
    out[o] = '\0';
    *ret = out;
    *ret_len = o;
    return 0;
}

/* ---- parsing ------------------------------------------------------------- */

static int get_bytes(json_t *o, const char *key, int required, uint8_t **ret, size_t *ret_len)
{
    json_t *v = json_object_get(o, key);

    if (!v || json_is_null(v))
        return required ? -EBADMSG : 0;
    if (!json_is_string(v))
        return -EBADMSG;
    int r = ng_cmd_unescape(json_string_value(v), json_string_length(v), ret, ret_len);
    return r == -EINVAL ? -EBADMSG : r;
}

static int64_t get_int(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) && json_integer_value(v) >= 0 ? json_integer_value(v) : -1;
}

/* argv: an array of escaped strings, joined NUL-separated. */
static int get_argv(json_t *o, struct ng_cmd *c)
{
    json_t *a = json_object_get(o, "argv"), *v;
    size_t i, total = 0;

    if (!json_is_array(a))
        return -EBADMSG;
    json_array_foreach(a, i, v)
    {
        if (!json_is_string(v))
            return -EBADMSG;
        total += json_string_length(v) + 1;
    }
    c->argv = malloc(total + 1);
    if (!c->argv)
        return -ENOMEM;
    json_array_foreach(a, i, v)
    {
        uint8_t *b;
        size_t n;
        int r = ng_cmd_unescape(json_string_value(v), json_string_length(v), &b, &n);
        if (r < 0)
            return r == -EINVAL ? -EBADMSG : r;
        /* An argument holds no NUL (execve); a decoded \x00 would move the
         * argument boundaries, so it is not a well-formed event. */
        int nul = memchr(b, '\0', n) != NULL;
        if (!nul) {
            memcpy(c->argv + c->argv_len, b, n + 1);
            c->argv_len += n + 1;
            c->argc++;
        }
        free(b);
        if (nul)
            return -EBADMSG;
    }
    c->argv[c->argv_len] = '\0';
    return 0;
}

static int parse_obj(json_t *o, struct ng_cmd *c)
{
    json_t *res = json_object_get(o, "result");
    int r;

    if (!json_is_object(o))
        return -EBADMSG;
    c->t_ns = get_int(o, "t_ns");
    c->pid = get_int(o, "pid");
    c->ppid = get_int(o, "ppid");
    c->host_pid = get_int(o, "host_pid");
    c->host_ppid = get_int(o, "host_ppid");
    c->uid = get_int(o, "uid");
    c->gid = get_int(o, "gid");
    c->result = json_is_integer(res) && json_integer_value(res) >= 0 ? json_integer_value(res) : -1;
    c->truncated = json_is_true(json_object_get(o, "truncated"));
    c->verified = json_is_true(json_object_get(o, "verified"));
    if ((r = get_bytes(o, "path", 1, &c->path, &c->path_len)) < 0 ||
        (r = get_bytes(o, "cwd", 0, &c->cwd, &c->cwd_len)) < 0 ||
        (r = get_bytes(o, "exe", 0, &c->exe, &c->exe_len)) < 0)
        return r;
    return get_argv(o, c);
}

int ng_cmd_parse(const void *json, size_t len, struct ng_cmd *ret)
{
    json_error_t err;
    json_t *o;
    int r;

    memset(ret, 0, sizeof(*ret));
    /* Events are at most 1 MiB (store.h); jansson refuses deep nesting. */
    o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
    if (!o)
        return -EBADMSG;
    r = parse_obj(o, ret);
    json_decref(o);
    if (r < 0)
        ng_cmd_free(ret);
    return r;
}

void ng_cmd_free(struct ng_cmd *c)
{
    free(c->cwd);
    free(c->path);
    free(c->exe);
    free(c->argv);
    memset(c, 0, sizeof(*c));
}

/* ---- quoting ------------------------------------------------------------- */

static int plain_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("_@%+=:,./-", c) != NULL;
}

/* A character that must not reach a terminal as it is: C0, DEL, C1, and the
 * bidirectional-text controls (they reorder what the reviewer sees). */
static int unsafe_char(const unsigned char *s, size_t n)
{
    if (n == 1)
        return s[0] < 0x20 || s[0] == 0x7f;
    if (n == 2)
        return s[0] == 0xc2 && s[1] <= 0x9f;
    if (n == 3 && s[0] == 0xe2) {
        unsigned cp = (unsigned)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
        cp |= 0x2000;
        return cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
               (cp >= 0x2066 && cp <= 0x2069);
    }
    return 0;
}

/* 0: plain word, 1: '...', 2: $'...' */
static int word_style(const uint8_t *w, size_t n)
{
    int style = n == 0 ? 1 : 0;

    for (size_t i = 0; i < n;) {
        size_t k = ng_utf8_seq_len(w + i, n - i);
        if (k == 0 || unsafe_char(w + i, k))
            return 2;
        if (k > 1 || !plain_byte(w[i]))
            style = 1;
        if (w[i] == '\'')
            return 2;
        i += k;
    }
    return style;
}

static size_t quote_word(const uint8_t *w, size_t n, char *out)
{
    int style = word_style(w, n);
    size_t o = 0;

    if (style == 0) {
        memcpy(out, w, n);
        return n;
    }
    if (style == 1) {
        out[o++] = '\'';
        memcpy(out + o, w, n);
        o += n;
        out[o++] = '\'';
        return o;
    }
    out[o++] = '$';
    out[o++] = '\'';
    for (size_t i = 0; i < n;) {
        size_t k = ng_utf8_seq_len(w + i, n - i);
        if (k == 1 && (w[i] == '\\' || w[i] == '\'')) {
            out[o++] = '\\';
            out[o++] = (char)w[i++];
        } else if (k == 0 || unsafe_char(w + i, k)) {
            for (size_t m = 0; m < (k ? k : 1); m++, i++)
                o += (size_t)snprintf(out + o, 5, "\\x%02x", w[i]);
        } else {
            memcpy(out + o, w + i, k);
            o += k;
            i += k;
        }
    }
    out[o++] = '\'';
    return o;
}

char *ng_cmd_quote(const uint8_t *argv, size_t len)
{
    char *out;
    size_t o = 0;

    /* Worst case: every byte as \xNN, plus $'' and a space per word. */
    if (len > (SIZE_MAX - 1) / 8)
        return NULL;
    out = malloc(len * 4 + len * 4 + 4);
    if (!out)
        return NULL;
    for (size_t i = 0; i < len;) {
        const uint8_t *nul = memchr(argv + i, '\0', len - i);
        size_t n = nul ? (size_t)(nul - (argv + i)) : len - i;
        if (o)
            out[o++] = ' ';
        o += quote_word(argv + i, n, out + o);
        i += n + 1;
    }
    out[o] = '\0';
    return out;
}

const char *ng_cmd_errno_name(int64_t e)
{
    if (e <= 0 || e > 4095)
        return NULL;
    return strerrorname_np((int)e);
}
