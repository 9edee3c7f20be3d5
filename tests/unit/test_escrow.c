/* Escrow of masked input: key file parsing, sealed boxes, keygen's file
 * rules, the readers' framing check (reveal.c), the policy key mask_escrow
 * and its key files, and the recorder sealing masked chunks behind a real
 * pty whose slave has echo off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pty.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "nsgate/escrow.h"
#include "nsgate/policy.h"
#include "nsgate/recorder.h"
#include "nsgate/reveal.h"
#include "nsgate/store.h"
#include "tmpdir.h"

static const char pub_hex[] = "3fe8cc6284650216be1b53a9814dc1aa078d4de80f5786b2384941b85fe6320c";

static void write_file(const char *dir, const char *name, const char *text, mode_t mode)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

/* ---- key text ------------------------------------------------------------ */

static void test_parse_public(void **state)
{
    uint8_t pk[32], zero[32] = {0};
    char text[80];

    assert_int_equal(ng_escrow_parse_public(pub_hex, 64, pk), 0);
    assert_int_equal(pk[0], 0x3f);
    snprintf(text, sizeof(text), "%s\n", pub_hex);
    assert_int_equal(ng_escrow_parse_public(text, 65, pk), 0); /* one newline */
    for (char *p = text; *p; p++)
        *p = (char)(*p >= 'a' && *p <= 'f' ? *p - 32 : *p);
    assert_int_equal(ng_escrow_parse_public(text, 65, pk), 0); /* either case */
    snprintf(text, sizeof(text), "%s\n\n", pub_hex);
    assert_int_equal(ng_escrow_parse_public(text, 66, pk), -EINVAL);
    snprintf(text, sizeof(text), "%s\r\n", pub_hex); /* CRLF: not a key line */
    assert_int_equal(ng_escrow_parse_public(text, 66, pk), -EINVAL);
    assert_int_equal(ng_escrow_parse_public(pub_hex, 63, pk), -EINVAL);
    snprintf(text, sizeof(text), " %s", pub_hex);
    assert_int_equal(ng_escrow_parse_public(text, 65, pk), -EINVAL);
    snprintf(text, sizeof(text), "%s", pub_hex);
    text[10] = 'g';
    assert_int_equal(ng_escrow_parse_public(text, 64, pk), -EINVAL);
    text[10] = '\0';
    assert_int_equal(ng_escrow_parse_public(text, 64, pk), -EINVAL);
    /* A low-order point: nothing can be sealed to it. */
    char zhex[65];
    sodium_bin2hex(zhex, sizeof(zhex), zero, 32);
    assert_int_equal(ng_escrow_parse_public(zhex, 64, pk), -EKEYREJECTED);
}

static void test_secret_format(void **state)
{
    struct ng_escrow_secret k, back;
    char line[NG_ESCROW_SECRET_LINE + 1], bad[NG_ESCROW_SECRET_LINE + 1];

    crypto_box_keypair(k.pk, k.sk);
    ng_escrow_format_secret(k.sk, line);
    assert_int_equal(strlen(line), NG_ESCROW_SECRET_LINE);
    assert_memory_equal(line, "NSGATE-ESCROW-SECRET-KEY-1 ", 27);
    assert_int_equal(line[NG_ESCROW_SECRET_LINE - 1], '\n');
    assert_int_equal(ng_escrow_parse_secret(line, strlen(line), &back), 0);
    assert_memory_equal(back.sk, k.sk, 32);
    assert_memory_equal(back.pk, k.pk, 32); /* derived from the secret */
    assert_int_equal(ng_escrow_parse_secret(line, strlen(line) - 1, &back), 0); /* no newline */
    memcpy(bad, line, sizeof(bad));
    bad[3] = 'x';
    assert_int_equal(ng_escrow_parse_secret(bad, strlen(bad), &back), -EINVAL);
    memcpy(bad, line, sizeof(bad));
    bad[40] = 'z';
    assert_int_equal(ng_escrow_parse_secret(bad, strlen(bad), &back), -EINVAL);
    assert_int_equal(ng_escrow_parse_secret(line, 30, &back), -EINVAL);
    /* The public key file named by mistake. */
    assert_int_equal(ng_escrow_parse_secret(pub_hex, 64, &back), -EMEDIUMTYPE);
}

static void test_seal_open(void **state)
{
    struct ng_escrow_secret k, other;
    uint8_t box[64 + NG_ESCROW_SEAL_BYTES], out[64], box2[sizeof(box)];
    const char msg[] = "rm -rf /data; history -c";
    size_t n = strlen(msg);

    crypto_box_keypair(k.pk, k.sk);
    crypto_box_keypair(other.pk, other.sk);
    assert_int_equal(ng_escrow_seal(k.pk, msg, n, box), 0);
    assert_null(memmem(box, n + NG_ESCROW_SEAL_BYTES, "rm -rf", 6));
    assert_int_equal(ng_escrow_seal(k.pk, msg, n, box2), 0);
    assert_memory_not_equal(box, box2, n + NG_ESCROW_SEAL_BYTES); /* a fresh key per box */
    assert_int_equal(ng_escrow_open(&k, box, n + NG_ESCROW_SEAL_BYTES, out), (ssize_t)n);
    assert_memory_equal(out, msg, n);
    memset(out, 0x55, sizeof(out));
    assert_int_equal(ng_escrow_open(&other, box, n + NG_ESCROW_SEAL_BYTES, out), -EBADMSG);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(out[i], 0); /* nothing that could be taken for input */
    for (size_t i = 0; i < n + NG_ESCROW_SEAL_BYTES; i++) {
        box[i] ^= 0x01; /* every single changed bit */
        assert_int_equal(ng_escrow_open(&k, box, n + NG_ESCROW_SEAL_BYTES, out), -EBADMSG);
        box[i] ^= 0x01;
    }
    assert_int_equal(ng_escrow_open(&k, box, n + NG_ESCROW_SEAL_BYTES - 1, out), -EBADMSG);
    assert_int_equal(ng_escrow_open(&k, box, NG_ESCROW_SEAL_BYTES - 1, out), -EBADMSG);
}

/* ---- files --------------------------------------------------------------- */

static void test_keygen_file(void **state)
{
    struct fx *x = *state;
    char path[PATH_MAX], link[PATH_MAX], target[PATH_MAX];
    uint8_t pk[32], pk2[32];
    struct ng_escrow_secret *k = NULL;
    struct stat st;

    snprintf(path, sizeof(path), "%s/escrow.sk", x->tmp);
    mode_t old = umask(0);
    assert_int_equal(ng_escrow_keygen(path, pk), 0);
    umask(old);
    assert_int_equal(lstat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_size, NG_ESCROW_SECRET_LINE);
    assert_int_equal(ng_escrow_read_secret(path, &k), 0);
    assert_memory_equal(k->pk, pk, 32);
    ng_escrow_secret_free(k);
    /* Never replaced, never through a symlink (dangling or not). */
    assert_int_equal(ng_escrow_keygen(path, pk2), -EEXIST);
    snprintf(link, sizeof(link), "%s/link.sk", x->tmp);
    snprintf(target, sizeof(target), "%s/elsewhere", x->tmp);
    assert_int_equal(symlink(target, link), 0);
    assert_int_equal(ng_escrow_keygen(link, pk2), -EEXIST);
    assert_int_equal(access(target, F_OK), -1);
    snprintf(path, sizeof(path), "%s/no/such/dir", x->tmp);
    assert_int_equal(ng_escrow_keygen(path, pk2), -ENOENT);
}

static void test_read_secret_rules(void **state)
{
    struct fx *x = *state;
    struct ng_escrow_secret k0, *k = NULL;
    char path[PATH_MAX], line[NG_ESCROW_SECRET_LINE + 1], big[1024];

    crypto_box_keypair(k0.pk, k0.sk);
    ng_escrow_format_secret(k0.sk, line);
    write_file(x->tmp, "sk", line, 0600);
    snprintf(path, sizeof(path), "%s/sk", x->tmp);
    assert_int_equal(ng_escrow_read_secret(path, &k), 0);
    assert_memory_equal(k->sk, k0.sk, 32);
    ng_escrow_secret_free(k);
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(ng_escrow_read_secret(path, &k), -EPERM); /* group may read it */
    assert_int_equal(chmod(path, 0602), 0);
    assert_int_equal(ng_escrow_read_secret(path, &k), -EPERM);
    write_file(x->tmp, "pub", pub_hex, 0644);
    snprintf(path, sizeof(path), "%s/pub", x->tmp);
    assert_int_equal(ng_escrow_read_secret(path, &k), -EMEDIUMTYPE); /* said as such */
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    write_file(x->tmp, "big", big, 0600);
    snprintf(path, sizeof(path), "%s/big", x->tmp);
    assert_int_equal(ng_escrow_read_secret(path, &k), -EFBIG);
    snprintf(path, sizeof(path), "%s/fifo", x->tmp);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(ng_escrow_read_secret(path, &k), -EINVAL); /* no hang on a FIFO */
    snprintf(path, sizeof(path), "%s/none", x->tmp);
    assert_int_equal(ng_escrow_read_secret(path, &k), -ENOENT);
}

/* ---- framing (reveal.c) ------------------------------------------------------ */

struct evs {
    struct ng_event ev[16];
    uint8_t data[16][400];
    int n;
};

static void add(struct evs *e, char kind, const void *p, size_t len)
{
    assert_true(e->n < 16 && len <= sizeof(e->data[0]));
    memcpy(e->data[e->n], p, len);
    e->ev[e->n] = (struct ng_event){
        .seq = e->n + 1, .t_ns = e->n * 1000, .kind = kind, .data = e->data[e->n], .len = len};
    e->n++;
}

static void add_masked(struct evs *e, const uint8_t *pk, const char *typed)
{
    uint8_t box[300];
    char stars[256];
    size_t n = strlen(typed);
    memset(stars, '*', n);
    add(e, 'i', stars, n);
    assert_int_equal(ng_escrow_seal(pk, typed, n, box), 0);
    add(e, 'k', box, n + NG_ESCROW_SEAL_BYTES);
}

static void test_reveal_stretch(void **state)
{
    struct ng_escrow_secret k;
    struct ng_reveal rv;
    struct evs e = {0};
    int f[16];

    crypto_box_keypair(k.pk, k.sk);
    add(&e, 'o', "Password: ", 10);
    add_masked(&e, k.pk, "eval ");
    add_masked(&e, k.pk, "id>x");
    add(&e, 'm', "masked 9", 8);
    add(&e, 'i', "***\r", 4); /* typed stars, no box: not masked */
    add(&e, 'i', "***", 3);   /* stars with no box after them */
    add(&e, 'o', "ok", 2);
    ng_reveal_init(&rv, &k);
    for (int i = 0; i < e.n; i++) {
        f[i] = ng_reveal_feed(&rv, &e.ev[i]);
        if (i == 2) {
            assert_int_equal(f[i], NG_REVEAL_OPENED);
            assert_int_equal(rv.plain_len, 5);
            assert_memory_equal(rv.plain, "eval ", 5);
        }
        if (i == 5) { /* the marker: the stretch is complete */
            assert_int_equal(f[i], NG_REVEAL_STRETCH_END);
            assert_true(ng_reveal_is_mask_marker(&e.ev[i]));
            assert_int_equal(rv.done_len, 9);
            assert_memory_equal(rv.done, "eval id>x", 9);
        }
    }
    assert_int_equal(f[0], 0);
    assert_int_equal(f[4], NG_REVEAL_OPENED);
    assert_int_equal(f[6], 0);
    assert_int_equal(f[7], 0);
    assert_int_equal(f[8], 0); /* nothing was pending */
    assert_int_equal(ng_reveal_finish(&rv), 0);
    assert_int_equal(rv.bad_seq, 0);
}

static void test_reveal_unterminated(void **state)
{
    struct ng_escrow_secret k;
    struct ng_reveal rv;
    struct evs e = {0};

    crypto_box_keypair(k.pk, k.sk);
    add_masked(&e, k.pk, "secret");
    ng_reveal_init(&rv, &k);
    for (int i = 0; i < e.n; i++)
        assert_true(ng_reveal_feed(&rv, &e.ev[i]) >= 0);
    /* The session ended inside the stretch: the end shows it. */
    assert_int_equal(ng_reveal_finish(&rv), NG_REVEAL_STRETCH_END);
    assert_memory_equal(rv.done, "secret", 6);
}

/* Feed everything; return the first error. */
static int feed_all(struct ng_reveal *rv, struct evs *e)
{
    for (int i = 0; i < e->n; i++) {
        int r = ng_reveal_feed(rv, &e->ev[i]);
        if (r < 0)
            return r;
    }
    return 0;
}

static void test_reveal_out_of_frame(void **state)
{
    struct ng_escrow_secret k, other;
    struct ng_reveal rv;
    uint8_t box[100];
    struct evs e;

    crypto_box_keypair(k.pk, k.sk);
    crypto_box_keypair(other.pk, other.sk);
    /* A box with no stars before it. */
    memset(&e, 0, sizeof(e));
    add(&e, 'o', "x", 1);
    assert_int_equal(ng_escrow_seal(k.pk, "ab", 2, box), 0);
    add(&e, 'k', box, 2 + NG_ESCROW_SEAL_BYTES);
    ng_reveal_init(&rv, &k);
    assert_int_equal(feed_all(&rv, &e), -EPROTO);
    assert_int_equal(rv.bad_seq, 2);
    /* A box of another length than its stars. */
    memset(&e, 0, sizeof(e));
    add(&e, 'i', "***", 3);
    add(&e, 'k', box, 2 + NG_ESCROW_SEAL_BYTES);
    ng_reveal_init(&rv, &k);
    assert_int_equal(feed_all(&rv, &e), -EPROTO);
    /* Two boxes for the same stars. */
    memset(&e, 0, sizeof(e));
    add(&e, 'i', "**", 2);
    add(&e, 'k', box, 2 + NG_ESCROW_SEAL_BYTES);
    add(&e, 'k', box, 2 + NG_ESCROW_SEAL_BYTES);
    ng_reveal_init(&rv, &k);
    assert_int_equal(feed_all(&rv, &e), -EPROTO);
    assert_int_equal(rv.bad_seq, 3);
    /* Another key: the box does not open, nothing revealed. */
    memset(&e, 0, sizeof(e));
    add(&e, 'i', "**", 2);
    add(&e, 'k', box, 2 + NG_ESCROW_SEAL_BYTES);
    ng_reveal_init(&rv, &other);
    assert_int_equal(feed_all(&rv, &e), -EBADMSG);
    assert_int_equal(rv.bad_seq, 2);
    assert_int_equal(rv.stretch_len, 0);
    /* More than one stretch can hold without a marker. */
    memset(&e, 0, sizeof(e));
    char typed[200];
    memset(typed, 'a', sizeof(typed) - 1);
    typed[sizeof(typed) - 1] = '\0';
    add_masked(&e, k.pk, typed);
    add_masked(&e, k.pk, typed);
    ng_reveal_init(&rv, &k);
    assert_int_equal(feed_all(&rv, &e), -EPROTO);
}

/* ---- the policy key ------------------------------------------------------- */

static const char policy_fmt[] = "[defaults]\nmask_escrow = %s/d.pub\n"
                                 "[allow a]\nusers = *\ntargets = *\nnamespaces = net\n"
                                 "[allow b]\nusers = *\ntargets = *\nnamespaces = net\n"
                                 "mask_escrow = %s/b.pub\n"
                                 "[deny c]\nusers = *\ntargets = *\n";

static struct ng_policy *parse(const char *text, struct ng_policy_msgs *errs)
{
    struct ng_policy *p = NULL;
    int r = ng_policy_parse(text, strlen(text), "p.ini", &p, errs);
    return r == 0 ? p : NULL;
}

static void test_policy_key(void **state)
{
    struct fx *x = *state;
    struct ng_policy_msgs errs = {0}, warns = {0};
    char text[1024], keytext[80];

    snprintf(text, sizeof(text), policy_fmt, x->tmp, x->tmp);
    struct ng_policy *p = parse(text, &errs);
    assert_non_null(p);
    assert_int_equal(p->nescrows, 2);
    assert_non_null(p->rules[0].c.mask_escrow_file); /* from [defaults] */
    assert_string_equal(p->rules[0].c.mask_escrow_file, p->defaults.mask_escrow_file);
    assert_string_not_equal(p->rules[1].c.mask_escrow_file, p->defaults.mask_escrow_file);
    assert_null(p->rules[0].c.mask_escrow); /* not read yet */
    /* Missing files: an error naming the policy line, the file and why. */
    assert_int_equal(ng_policy_load_escrow(p, 0, &errs, &warns), -EINVAL);
    assert_int_equal(errs.n, 2);
    assert_non_null(strstr(errs.v[0], "p.ini:2: mask_escrow "));
    assert_non_null(strstr(errs.v[1], "p.ini:11: mask_escrow "));
    ng_policy_msgs_free(&errs);
    snprintf(keytext, sizeof(keytext), "%s\n", pub_hex);
    write_file(x->tmp, "d.pub", keytext, 0644);
    write_file(x->tmp, "b.pub", "0011\n", 0644);
    assert_int_equal(ng_policy_load_escrow(p, 0, &errs, &warns), -EINVAL);
    assert_int_equal(errs.n, 1);
    assert_non_null(strstr(errs.v[0], "does not hold an escrow public key"));
    ng_policy_msgs_free(&errs);
    write_file(x->tmp, "b.pub", keytext, 0664); /* group-writable: unsafe */
    assert_int_equal(ng_policy_load_escrow(p, 0, &errs, &warns), -EINVAL);
    assert_non_null(strstr(errs.v[0], "is writable by group or other"));
    ng_policy_msgs_free(&errs);
    /* check reads it anyway, with a warning. */
    assert_int_equal(ng_policy_load_escrow(p, NG_POLICY_LOAD_UNSAFE_OK, &errs, &warns), 0);
    assert_int_equal(warns.n, 1);
    ng_policy_msgs_free(&warns);
    assert_int_equal(chmod(strcat(strcpy(text, x->tmp), "/b.pub"), 0644), 0);
    assert_int_equal(ng_policy_load_escrow(p, 0, &errs, &warns), 0);
    assert_int_equal(errs.n + warns.n, 0);
    assert_non_null(p->defaults.mask_escrow);
    assert_ptr_equal(p->rules[0].c.mask_escrow, p->defaults.mask_escrow);
    assert_non_null(p->rules[1].c.mask_escrow);
    assert_int_equal(p->rules[0].c.mask_escrow[0], 0x3f);
    assert_int_equal(ng_policy_lint_escrow(p, &warns), 0);
    assert_int_equal(warns.n, 0);
    ng_policy_free(p);
}

static void test_policy_key_symlink_and_lint(void **state)
{
    struct fx *x = *state;
    struct ng_policy_msgs errs = {0}, warns = {0};
    char text[512], path[PATH_MAX], keytext[80];

    snprintf(keytext, sizeof(keytext), "%s\n", pub_hex);
    write_file(x->tmp, "real.pub", keytext, 0644);
    snprintf(path, sizeof(path), "%s/real.pub", x->tmp);
    snprintf(text, sizeof(text), "%s/link.pub", x->tmp);
    assert_int_equal(symlink(path, text), 0);
    snprintf(text, sizeof(text),
             "[allow a]\nusers = *\ntargets = *\nnamespaces = net\nmask_escrow = %s/link.pub\n"
             "[allow b]\nusers = *\ntargets = *\nnamespaces = net\n"
             "[allow c]\nusers = *\ntargets = *\nnamespaces = net\nrecord_input = no\n",
             x->tmp);
    struct ng_policy *p = parse(text, &errs);
    assert_non_null(p);
    assert_int_equal(ng_policy_load_escrow(p, NG_POLICY_LOAD_UNSAFE_OK, &errs, &warns), -EINVAL);
    assert_non_null(strstr(errs.v[0], "is a symbolic link"));
    ng_policy_msgs_free(&errs);
    /* Only the rule that records input without escrow is warned about. */
    assert_int_equal(ng_policy_lint_escrow(p, &warns), 0);
    assert_int_equal(warns.n, 1);
    assert_non_null(strstr(warns.v[0], "[allow b] has no mask_escrow"));
    ng_policy_msgs_free(&warns);
    ng_policy_free(p);
    /* No escrow anywhere: one warning for the whole policy. */
    p = parse("[allow a]\nusers = *\ntargets = *\nnamespaces = net\n", &errs);
    assert_non_null(p);
    assert_int_equal(ng_policy_lint_escrow(p, &warns), 0);
    assert_int_equal(warns.n, 1);
    assert_non_null(strstr(warns.v[0], "unrecoverable"));
    ng_policy_msgs_free(&warns);
    ng_policy_free(p);
}

static void test_policy_key_errors(void **state)
{
    struct ng_policy_msgs errs = {0};

    assert_null(parse("[defaults]\nmask_escrow = relative.pub\n", &errs));
    assert_non_null(strstr(errs.v[0], "absolute, normalized path"));
    ng_policy_msgs_free(&errs);
    assert_null(parse("[deny d]\nusers = *\ntargets = *\nmask_escrow = /k.pub\n", &errs));
    assert_non_null(strstr(errs.v[0], "not allowed in deny rules"));
    ng_policy_msgs_free(&errs);
    assert_null(parse("[defaults]\nmask_escrow = /a.pub\nmask_escrow = /b.pub\n", &errs));
    ng_policy_msgs_free(&errs);
}

/* ---- the recorder ------------------------------------------------------------ */

static char arg0[] = "/bin/sh";
static char *const argv0[] = {arg0, NULL};

static void test_recorder_seals(void **state)
{
    struct fx *x = *state;
    struct ng_escrow_secret k;
    struct ng_store *s;
    struct ng_session *sess;
    struct ng_session_header h;
    struct ng_recorder r;
    struct termios t;
    char db[PATH_MAX];
    int master, slave;

    crypto_box_keypair(k.pk, k.sk);
    snprintf(db, sizeof(db), "%s/s.db", x->tmp);
    assert_int_equal(ng_store_open(db, &s), 0);
    memset(&h, 0, sizeof(h));
    h.host = "h";
    h.user_name = "u";
    h.program = "/bin/sh";
    h.argv = argv0;
    h.rule = "r";
    h.record_input = 1;
    h.pty = 1;
    h.mask_escrow = k.pk;
    assert_int_equal(ng_store_session_begin(s, &h, &sess), 0);
    assert_int_equal(openpty(&master, &slave, NULL, NULL, NULL), 0);
    assert_int_equal(tcgetattr(slave, &t), 0);
    t.c_lflag = (t.c_lflag & ~(tcflag_t)ECHO) | ICANON;
    assert_int_equal(tcsetattr(slave, TCSANOW, &t), 0);
    assert_int_equal(ng_recorder_init(&r, sess, 1, master), 0);
    r.escrow_pk = k.pk;
    assert_int_equal(ng_recorder_record(&r, 'o', "Password: ", 10), 0);
    assert_int_equal(ng_recorder_record(&r, 'i', "rm -", 4), 0);
    assert_int_equal(ng_recorder_record(&r, 'i', "rf x\rls\r", 8), 0);
    ng_recorder_free(&r);
    assert_int_equal(ng_store_session_end(sess, 0, "exit"), 0);
    ng_store_session_free(sess);
    close(master);
    close(slave);

    /* o, i ****, k, i ****, k, m masked 8, i "ls\r", x */
    struct ng_reveal rv;
    struct ng_event_iter *it;
    struct ng_event ev;
    char kinds[16] = "";
    size_t nk = 0;
    uint8_t id[NG_STORE_ID_LEN], pk[32];
    struct ng_session_iter *si;
    const struct ng_session_info *info;
    struct ng_session_filter filt = {0};
    assert_int_equal(ng_store_sessions_begin(s, &filt, &si), 0);
    assert_int_equal(ng_store_sessions_next(si, &info), 1);
    memcpy(id, info->id, sizeof(id));
    ng_store_sessions_end(si);
    assert_int_equal(ng_store_session_escrow(s, id, pk), 1);
    assert_memory_equal(pk, k.pk, 32);
    ng_reveal_init(&rv, &k);
    assert_int_equal(ng_store_events_begin(s, id, &it), 0);
    while (ng_store_events_next(it, &ev) == 1 && nk < sizeof(kinds) - 1) {
        kinds[nk++] = ev.kind;
        assert_null(memmem(ev.data, ev.len, "rm -", 4));
        int f = ng_reveal_feed(&rv, &ev);
        assert_true(f >= 0);
        if (ev.kind == 'm') {
            assert_int_equal(f, NG_REVEAL_STRETCH_END);
            assert_int_equal(rv.done_len, 8);
            assert_memory_equal(rv.done, "rm -rf x", 8);
        }
    }
    ng_store_events_end(it);
    assert_string_equal(kinds, "oikikmix");
    ng_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_public),
        cmocka_unit_test(test_secret_format),
        cmocka_unit_test(test_seal_open),
        cmocka_unit_test_setup_teardown(test_keygen_file, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_read_secret_rules, fx_setup, fx_teardown),
        cmocka_unit_test(test_reveal_stretch),
        cmocka_unit_test(test_reveal_unterminated),
        cmocka_unit_test(test_reveal_out_of_frame),
        cmocka_unit_test_setup_teardown(test_policy_key, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_policy_key_symlink_and_lint, fx_setup, fx_teardown),
        cmocka_unit_test(test_policy_key_errors),
        cmocka_unit_test_setup_teardown(test_recorder_seals, fx_setup, fx_teardown),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
