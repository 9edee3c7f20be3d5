/* The forward-secure key state on a real filesystem: creation, refusals,
 * evolution and erasure, catch-up, crash recovery. "now" is passed in, so
 * epochs pass without sleeping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sodium.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nsgate/fskey.h"
#include "nsgate/seal.h"
#include "tmpdir.h"

/* Offsets of the state record (docs/integrity.md "Files"). */
#define ST_SK    104
#define SK_BYTES 64
#define LEN      (10 * NG_FSKEY_SEC_NS)
#define T0       (UINT64_C(1700000000) * NG_FSKEY_SEC_NS)

static void state_sk(const char *dir, uint8_t sk[SK_BYTES])
{
    size_t len;
    uint8_t *b = fx_slurp(dir, "state", &len);
    assert_int_equal(len, NG_FSKEY_STATE_BYTES);
    memcpy(sk, b + ST_SK, SK_BYTES);
    free(b);
}

static int file_holds(const char *dir, const char *name, const uint8_t *needle, size_t n)
{
    size_t len;
    uint8_t *b = fx_slurp(dir, name, &len);
    int found = memmem(b, len, needle, n) != NULL;
    free(b);
    return found;
}

static mode_t mode_of(const char *dir, const char *name)
{
    char path[PATH_MAX];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    assert_int_equal(lstat(path, &st), 0);
    return st.st_mode & 07777;
}

static void create(struct fx *x, struct ng_fskey_created *c)
{
    assert_int_equal(ng_fskey_create(x->dir, LEN, 0, T0, c), 0);
}

/* Verify the directory's certificates from root; returns the count. */
static size_t chain_ok(const char *dir, const uint8_t root[NG_FSKEY_PK_BYTES])
{
    uint8_t file_root[NG_FSKEY_PK_BYTES];
    uint64_t len;
    struct ng_fskey_cert *certs;
    size_t n, bad = 99;

    assert_int_equal(ng_fskey_read_public(dir, file_root, &len, &certs, &n), 0);
    assert_memory_equal(file_root, root, NG_FSKEY_PK_BYTES);
    assert_true(len == LEN);
    struct ng_seal_epoch *ep = calloc(n, sizeof(*ep));
    assert_non_null(ep);
    assert_int_equal(ng_seal_cert_chain_verify(root, certs, n, len, ep, &bad), NG_SEAL_OK);
    for (size_t i = 0; i < n; i++)
        assert_true(ep[i].start_ns == T0 + i * LEN);
    free(ep);
    free(certs);
    return n;
}

static void test_create_modes(void **state)
{
    struct fx *x = *state;
    struct ng_fskey_created c;
    size_t len;

    create(x, &c);
    assert_int_equal(mode_of(x->tmp, "keys"), 0700);
    assert_int_equal(mode_of(x->dir, "state"), 0600);
    assert_int_equal(mode_of(x->dir, "certs"), 0600);
    assert_int_equal(mode_of(x->dir, "lock"), 0600);
    free(fx_slurp(x->dir, "certs", &len));
    assert_int_equal(len, NG_FSKEY_CERTS_HEADER_BYTES + NG_FSKEY_CERT_BYTES);
    assert_true(c.start_ns == T0);
    assert_false(c.retired_valid);
    assert_int_equal(c.warnings, 0); /* /tmp here is ext4 or tmpfs */
    assert_int_equal(chain_ok(x->dir, c.root_pk), 1);
    /* epoch 0's public key is the root */
    uint8_t sk[SK_BYTES];
    state_sk(x->dir, sk);
    assert_memory_equal(sk + 32, c.root_pk, NG_FSKEY_PK_BYTES);
    /* epoch lengths outside 10s..7d are refused */
    assert_int_equal(ng_fskey_create(x->dir, NG_FSKEY_MIN_EPOCH_NS - 1, 1, T0, &c), -EINVAL);
}

static void test_refuse_without_force(void **state)
{
    struct fx *x = *state;
    struct ng_fskey_created c1, c2;
    uint8_t old_sk[SK_BYTES];

    create(x, &c1);
    state_sk(x->dir, old_sk);
    assert_int_equal(ng_fskey_create(x->dir, LEN, 0, T0 + 1, &c2), -EEXIST);
    assert_int_equal(chain_ok(x->dir, c1.root_pk), 1); /* untouched */
    assert_int_equal(ng_fskey_create(x->dir, LEN, 1, T0 + 1, &c2), 0);
    assert_true(c2.retired_valid);
    assert_memory_equal(c2.retired.root_pk, c1.root_pk, NG_FSKEY_PK_BYTES);
    assert_memory_not_equal(c2.root_pk, c1.root_pk, NG_FSKEY_PK_BYTES);
    assert_false(file_holds(x->dir, "state", old_sk, SK_BYTES));
    /* the old root key and its certificate are kept */
    char name[200], rdir[128];
    char hex[65];
    sodium_bin2hex(hex, sizeof(hex), c1.root_pk, NG_FSKEY_PK_BYTES);
    snprintf(rdir, sizeof(rdir), "%s/retired", x->dir);
    snprintf(name, sizeof(name), "%s-%llu.certs", hex, (unsigned long long)(T0 + 1));
    assert_int_equal(mode_of(rdir, name), 0600);
    assert_true(file_holds(rdir, name, c1.root_pk, NG_FSKEY_PK_BYTES));
    assert_false(file_holds(rdir, name, old_sk, 32));
}

static void test_symlinks_and_modes_refused(void **state)
{
    struct fx *x = *state;
    struct ng_fskey_created c;
    struct ng_fskey *k;
    char link[128], path[160];

    create(x, &c);
    /* a symlinked key directory */
    snprintf(link, sizeof(link), "%s/link", x->tmp);
    assert_int_equal(symlink(x->dir, link), 0);
    assert_int_equal(ng_fskey_open(link, &k, NULL), -ELOOP);
    assert_int_equal(ng_fskey_create(link, LEN, 1, T0, &c), -ELOOP);
    /* a symlink planted at the state path: refused even with --force */
    char saved[160];
    snprintf(path, sizeof(path), "%s/state", x->dir);
    snprintf(saved, sizeof(saved), "%s/state.saved", x->tmp);
    assert_int_equal(rename(path, saved), 0);
    assert_int_equal(symlink(saved, path), 0);
    assert_int_equal(ng_fskey_open(x->dir, &k, NULL), -ELOOP);
    assert_int_equal(ng_fskey_create(x->dir, LEN, 0, T0, &c), -EEXIST);
    assert_int_equal(ng_fskey_create(x->dir, LEN, 1, T0, &c), -ELOOP);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rename(saved, path), 0);
    assert_int_equal(ng_fskey_open(x->dir, &k, NULL), 0);
    ng_fskey_close(k);
    /* group-writable directory, group-readable state */
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(ng_fskey_open(x->dir, &k, NULL), -EPERM);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(chmod(x->dir, 0770), 0);
    assert_int_equal(ng_fskey_open(x->dir, &k, NULL), -EPERM);
    assert_int_equal(ng_fskey_create(x->dir, LEN, 1, T0, &c), -EPERM);
}

static void test_evolve_erases(void **state)
{
    struct fx *x = *state;
    struct ng_fskey_created c;
    struct ng_fskey_advanced adv;
    struct ng_fskey_info info;
    struct ng_fskey *k;
    uint8_t sk0[SK_BYTES], sk1[SK_BYTES];

    create(x, &c);
    state_sk(x->dir, sk0);
    assert_int_equal(ng_fskey_open(x->dir, &k, NULL), 0);
    /* 1 ns before the end of epoch 0: nothing changes */
    assert_int_equal(ng_fskey_advance(k, T0 + LEN - 1, &adv), 0);
    assert_true(adv.from_epoch == 0 && adv.to_epoch == 0);
    assert_true(file_holds(x->dir, "state", sk0, SK_BYTES));
    assert_int_equal(ng_fskey_advance(k, T0 + LEN, &adv), 0);
    assert_true(adv.from_epoch == 0 && adv.to_epoch == 1);
    ng_fskey_info(k, &info);
    assert_true(info.epoch == 1 && info.start_ns == T0 + LEN && info.epoch_len_ns == LEN);
    /* the old secret, whole or its seed half, is nowhere in the key directory */
    assert_false(file_holds(x->dir, "state", sk0, SK_BYTES));
    assert_false(file_holds(x->dir, "state", sk0, 32));
    assert_false(file_holds(x->dir, "certs", sk0, 32));
    state_sk(x->dir, sk1);
    assert_memory_equal(sk1 + 32, info.pk, NG_FSKEY_PK_BYTES);
    assert_int_equal(chain_ok(x->dir, c.root_pk), 2);
    ng_fskey_close(k);
}

static void test_catch_up(void **state)
{
    struct fx *x = *state;
    struct ng_fskey_created c;
    struct ng_fskey_advanced adv;
    struct ng_fskey_info info;
    struct ng_fskey_cert cert;
    struct ng_fskey *k;

    create(x, &c);
    assert_int_equal(ng_fskey_open(x->dir, &k, NULL), 0);
    assert_int_equal(ng_fskey_advance(k, T0 + 5 * LEN + 3, &adv), 0);
    assert_true(adv.from_epoch == 0 && adv.to_epoch == 5);
    ng_fskey_info(k, &info);
    assert_true(info.epoch == 5 && info.start_ns == T0 + 5 * LEN);
    assert_int_equal(chain_ok(x->dir, c.root_pk), 6);
    for (uint64_t e = 1; e <= 5; e++) { /* what the audit module reads */
        assert_int_equal(ng_fskey_read_cert(k, e, &cert), 0);
        assert_true(cert.epoch == e);
    }
    assert_memory_equal(cert.pk, info.pk, NG_FSKEY_PK_BYTES);
    assert_int_equal(ng_fskey_read_cert(k, 6, &cert), -ENOENT);
    /* again at the same time, or with the clock gone back: nothing */
    assert_int_equal(ng_fskey_advance(k, T0 + 5 * LEN + 3, &adv), 0);
    assert_true(adv.from_epoch == 5 && adv.to_epoch == 5);
    assert_int_equal(ng_fskey_advance(k, T0, &adv), 0);
    assert_true(adv.to_epoch == 5);
    /* a clock decades ahead is refused rather than burning the key */
    assert_int_equal(ng_fskey_advance(k, T0 + 5 * LEN + (NG_FSKEY_MAX_CATCHUP + 1) * LEN, &adv),
                     -ERANGE);
    ng_fskey_info(k, &info);
    assert_true(info.epoch == 5);
    /* a second process sees the same state */
    struct ng_fskey *k2;
    assert_int_equal(ng_fskey_open(x->dir, &k2, NULL), 0);
    assert_int_equal(ng_fskey_advance(k2, T0 + 6 * LEN, &adv), 0);
    assert_true(adv.from_epoch == 5 && adv.to_epoch == 6);
    assert_int_equal(ng_fskey_advance(k, T0 + 6 * LEN, &adv), 0);
    assert_true(adv.from_epoch == 6 && adv.to_epoch == 6);
    ng_fskey_close(k2);
    ng_fskey_close(k);
    assert_int_equal(chain_ok(x->dir, c.root_pk), 7);
}

static void test_sign_needs_lock(void **state)
{
    struct fx *x = *state;
    struct ng_fskey_created c;
    struct ng_fskey_info info;
    struct ng_fskey *k;
    uint8_t sig[NG_FSKEY_SIG_BYTES];
    static const uint8_t msg[] = "message";

    create(x, &c);
    assert_int_equal(ng_fskey_open(x->dir, &k, NULL), 0);
    assert_int_equal(ng_fskey_sign(k, msg, sizeof(msg), sig), -EBADFD);
    assert_int_equal(ng_fskey_lock_current(k, T0 + 2 * LEN, NULL), 0);
    assert_int_equal(ng_fskey_lock_current(k, T0 + 2 * LEN, NULL), -EBUSY);
    assert_int_equal(ng_fskey_sign(k, msg, sizeof(msg), sig), 0);
    ng_fskey_unlock(k);
    ng_fskey_info(k, &info);
    assert_true(info.epoch == 2);
    assert_int_equal(crypto_sign_verify_detached(sig, msg, sizeof(msg), info.pk), 0);
    assert_int_equal(ng_fskey_sign(k, msg, sizeof(msg), sig), -EBADFD);
    ng_fskey_close(k);
}

static void append(const char *dir, const char *name, const void *buf, size_t len, off_t at)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, buf, len, at), (ssize_t)len);
    close(fd);
}

static void test_crash_recovery_and_damage(void **state)
{
    struct fx *x = *state;
    struct ng_fskey_created c;
    struct ng_fskey *k;
    uint8_t junk[NG_FSKEY_CERT_BYTES + 7];
    size_t len;

    create(x, &c);
    /* certs written by an epoch change whose state write never happened */
    memset(junk, 0xa5, sizeof(junk));
    append(x->dir, "certs", junk, sizeof(junk), NG_FSKEY_CERTS_HEADER_BYTES + NG_FSKEY_CERT_BYTES);
    assert_int_equal(ng_fskey_open(x->dir, &k, NULL), 0);
    assert_int_equal(ng_fskey_advance(k, T0 + LEN, NULL), 0);
    free(fx_slurp(x->dir, "certs", &len));
    assert_int_equal(len, NG_FSKEY_CERTS_HEADER_BYTES + 2 * NG_FSKEY_CERT_BYTES);
    assert_int_equal(chain_ok(x->dir, c.root_pk), 2);
    /* one flipped bit in the state: refused, never signed with */
    uint8_t b;
    uint8_t *st = fx_slurp(x->dir, "state", &len);
    b = st[40] ^ 1;
    append(x->dir, "state", &b, 1, 40);
    assert_int_equal(ng_fskey_lock_current(k, T0 + LEN, NULL), -EBADMSG);
    append(x->dir, "state", st, len, 0);
    assert_int_equal(ng_fskey_advance(k, T0 + LEN, NULL), 0);
    /* a certs file missing the current epoch's certificate */
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/certs", x->dir);
    assert_int_equal(truncate(path, NG_FSKEY_CERTS_HEADER_BYTES + NG_FSKEY_CERT_BYTES), 0);
    assert_int_equal(ng_fskey_advance(k, T0 + LEN, NULL), -EBADMSG);
    free(st);
    ng_fskey_close(k);
}

/* The chain's forms: 1 where a certificate signs the epoch length. */
static void forms(const char *dir, const uint8_t root[NG_FSKEY_PK_BYTES], int *out, size_t want)
{
    uint8_t file_root[NG_FSKEY_PK_BYTES];
    uint64_t len;
    struct ng_fskey_cert *certs;
    struct ng_seal_epoch ep[8];
    size_t n;

    assert_int_equal(ng_fskey_read_public(dir, file_root, &len, &certs, &n), 0);
    assert_int_equal(n, want);
    assert_true(n <= 8);
    assert_int_equal(ng_seal_cert_chain_verify(root, certs, n, LEN, ep, NULL), NG_SEAL_OK);
    for (size_t i = 0; i < n; i++)
        out[i] = ep[i].len_signed;
    free(certs);
}

/* The epoch length is signed from certificate 0 on; a length changed in the
 * certs header is refused. A key directory of an earlier release (certs
 * version 1, certificate 0 of the old form) is still read, and gets
 * certificates that sign the length from its next epoch change on, its
 * header marked version 2 so that such a release stops appending. */
static void test_epoch_len_signed(void **state)
{
    struct fx *x = *state;
    struct ng_fskey_created c;
    struct ng_fskey *k;
    struct ng_fskey_cert *certs, c0;
    uint8_t sk[SK_BYTES], msg[NG_FSKEY_CERT_MSG_BYTES], be[8], root[32], raw[NG_FSKEY_CERT_BYTES];
    uint64_t len;
    size_t n, flen;
    int f[8];

    create(x, &c);
    forms(x->dir, c.root_pk, f, 1);
    assert_true(f[0]);
    for (int i = 0; i < 8; i++)
        be[i] = (uint8_t)((LEN + 1) >> (56 - 8 * i));
    append(x->dir, "certs", be, 8, 16); /* the header's epoch length, + 1 ns */
    assert_int_equal(ng_fskey_read_public(x->dir, root, &len, &certs, &n), -EBADMSG);
    for (int i = 0; i < 8; i++)
        be[i] = (uint8_t)(LEN >> (56 - 8 * i));
    append(x->dir, "certs", be, 8, 16);

    /* made legacy: version 1, certificate 0 re-signed in the old form by the
     * root secret (still the state's: epoch 0) */
    state_sk(x->dir, sk);
    uint8_t *cf = fx_slurp(x->dir, "certs", &flen);
    ng_fskey_cert_decode(cf + NG_FSKEY_CERTS_HEADER_BYTES, &c0);
    size_t mlen = ng_fskey_cert_message(c.root_pk, &c0, 0, msg);
    assert_int_equal(crypto_sign_detached(c0.sig, NULL, msg, mlen, sk), 0);
    ng_fskey_cert_encode(&c0, raw);
    append(x->dir, "certs", raw, sizeof(raw), NG_FSKEY_CERTS_HEADER_BYTES);
    uint8_t v1[4] = {0, 0, 0, 1};
    append(x->dir, "certs", v1, 4, 8);
    forms(x->dir, c.root_pk, f, 1);
    assert_false(f[0]);
    /* evolved by this release: signed from epoch 1 on, header upgraded */
    assert_int_equal(ng_fskey_open(x->dir, &k, NULL), 0);
    assert_int_equal(ng_fskey_advance(k, T0 + 2 * LEN, NULL), 0);
    ng_fskey_close(k);
    forms(x->dir, c.root_pk, f, 3);
    assert_true(!f[0] && f[1] && f[2]);
    free(cf);
    cf = fx_slurp(x->dir, "certs", &flen);
    assert_int_equal(cf[11], 2);
    free(cf);
}

/* Recorders and the timer advance at once: the lock keeps one cert per
 * epoch and the state consistent with the certs. */
static void test_concurrent_advance(void **state)
{
    struct fx *x = *state;
    struct ng_fskey_created c;
    pid_t kids[6];

    create(x, &c);
    for (size_t i = 0; i < NG_ARRAY_SIZE(kids); i++) {
        kids[i] = fork();
        assert_true(kids[i] >= 0);
        if (kids[i] == 0) {
            int bad = 0;
            for (uint64_t e = 1; e <= 30; e++) {
                struct ng_fskey *k;
                bad |= ng_fskey_open(x->dir, &k, NULL) < 0;
                if (!bad) {
                    bad |= ng_fskey_advance(k, T0 + e * LEN + i, NULL) < 0;
                    ng_fskey_close(k);
                }
            }
            _exit(bad);
        }
    }
    for (size_t i = 0; i < NG_ARRAY_SIZE(kids); i++) {
        int st;
        assert_int_equal(waitpid(kids[i], &st, 0), kids[i]);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    assert_int_equal(chain_ok(x->dir, c.root_pk), 31);
}

/* A child forked while the secret is loaded finds it wiped
 * (MADV_WIPEONFORK): what it signs does not verify. */
static void test_secret_wiped_on_fork(void **state)
{
    struct fx *x = *state;
    struct ng_fskey_created c;
    struct ng_fskey_info info;
    struct ng_fskey *k;
    static const uint8_t msg[] = "seal";
    uint8_t sig[NG_FSKEY_SIG_BYTES];
    int p[2];

    create(x, &c);
    assert_int_equal(ng_fskey_open(x->dir, &k, NULL), 0);
    assert_int_equal(ng_fskey_lock_current(k, T0, NULL), 0);
    ng_fskey_info(k, &info);
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) { /* no ng_fskey_close here: see fskey.h */
        int ok = ng_fskey_sign(k, msg, sizeof(msg), sig) == 0 &&
                 write(p[1], sig, sizeof(sig)) == (ssize_t)sizeof(sig);
        _exit(ok ? 0 : 1);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_int_equal(read(p[0], sig, sizeof(sig)), (ssize_t)sizeof(sig));
    close(p[0]);
    close(p[1]);
    assert_int_not_equal(crypto_sign_verify_detached(sig, msg, sizeof(msg), info.pk), 0);
    assert_int_equal(ng_fskey_sign(k, msg, sizeof(msg), sig), 0);
    assert_int_equal(crypto_sign_verify_detached(sig, msg, sizeof(msg), info.pk), 0);
    ng_fskey_unlock(k);
    ng_fskey_close(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_modes, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_refuse_without_force, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_symlinks_and_modes_refused, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_evolve_erases, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_catch_up, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_sign_needs_lock, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_crash_recovery_and_damage, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_advance, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_secret_wiped_on_fork, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_epoch_len_signed, fx_setup, fx_teardown),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
