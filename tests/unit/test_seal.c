/* Seals: known answers, tampering with every field, certificate chains, every
 * boundary of the late-seal rules, and forward security against someone who
 * copies the key state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "nsgate/fskey.h"
#include "nsgate/seal.h"
#include "tmpdir.h"

#define SEC      NG_FSKEY_SEC_NS
#define LEN      (15 * 60 * SEC)
#define T0       (UINT64_C(1700000000) * SEC)
#define INTERVAL SEC
#define ST_SK    104 /* state record offset of the secret (docs/integrity.md) */

static const struct ng_seal_timing session_rules = {INTERVAL, NG_SEAL_RULES_SESSION};
static const struct ng_seal_timing ledger_rules = {INTERVAL, NG_SEAL_RULES_LEDGER};

static void assert_hex(const uint8_t *bin, size_t len, const char *want)
{
    char hex[512];
    assert_true(2 * len < sizeof(hex));
    sodium_bin2hex(hex, sizeof(hex), bin, len);
    assert_string_equal(hex, want);
}

static void kat_fields(struct ng_seal_fields *f)
{
    for (int i = 0; i < NG_SEAL_ID_BYTES; i++)
        f->chain_id[i] = (uint8_t)(0x10 + i);
    f->last_seq = UINT64_C(0x0102030405060708);
    memset(f->head, 0xaa, sizeof(f->head));
    memset(f->prev_seal, 0x55, sizeof(f->prev_seal));
    f->wall_ns = UINT64_C(1700000000123456789);
    f->boot_ns = 987654321;
    f->epoch = 7;
}

static void seed_keypair(uint8_t n, uint8_t pk[32], uint8_t sk[64])
{
    uint8_t seed[32];
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)(n + i);
    assert_int_equal(crypto_sign_seed_keypair(pk, sk, seed), 0);
}

/* Expected values computed independently with Python's hashlib and
 * cryptography (OpenSSL Ed25519) from the same seed and fields. */
static void test_known_answers(void **state)
{
    struct ng_seal_fields f;
    struct ng_fskey_cert c = {.epoch = 1, .start_ns = UINT64_C(1700000900000000000)};
    uint8_t pk[32], sk[64], msg[NG_SEAL_MSG_BYTES], sig[64], h[32], cmsg[NG_FSKEY_CERT_MSG_BYTES];

    seed_keypair(0, pk, sk);
    assert_hex(pk, 32, "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8");
    kat_fields(&f);
    ng_seal_encode(&f, msg);
    assert_hex(msg, sizeof(msg),
               "0000000e6e73676174652d7365616c2d7631101112131415161718191a1b1c1d1e1f01020304"
               "05060708aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa5555"
               "55555555555555555555555555555555555555555555555555555555555517979cfe3d85cd15"
               "000000003ade68b10000000000000007");
    assert_int_equal(crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk), 0);
    assert_hex(sig, 64,
               "9082afb70edc564bf23d20033ac3199b7ea237ff10fb869c641511ca28d9c63a11e05436632836"
               "bc62400d59c5b4ddf98fb061ad34880c42761501fb49437c01");
    assert_int_equal(ng_seal_verify(pk, &f, sig), NG_SEAL_OK);
    ng_seal_hash(&f, sig, h);
    assert_hex(h, 32, "3b8d7bf925b8122f26f67a95261df530254a6c7932fcf0438e7a014aa695dcbe");

    memset(c.pk, 0x11, sizeof(c.pk));
    /* the form of earlier releases (no epoch length), still verified */
    assert_int_equal(ng_fskey_cert_message(pk, &c, 0, cmsg), NG_FSKEY_CERT_MSG_V1_BYTES);
    assert_hex(cmsg, NG_FSKEY_CERT_MSG_V1_BYTES,
               "0000000e6e73676174652d636572742d763103a107bff3ce10be1d70dd18e74bc09967e4d630"
               "9ba50d5f1ddc8664125531b8000000000000000111111111111111111111111111111111111"
               "1111111111111111111111111111117979dcfc2582800");
    assert_int_equal(crypto_sign_detached(sig, NULL, cmsg, NG_FSKEY_CERT_MSG_V1_BYTES, sk), 0);
    assert_hex(sig, 64,
               "6518dd3571163efeaa31a24d1d057fddc5de43eb5ec13a9ab30fc86b7a0e3a1707a66fd3ef2c5e"
               "2668ae7c7f7ec84c4d3d1b65d5d7b52e3c5ef3f66fa77f7d02");
    /* the current form signs the epoch length (15 minutes here) */
    assert_int_equal(ng_fskey_cert_message(pk, &c, LEN, cmsg), NG_FSKEY_CERT_MSG_BYTES);
    assert_hex(cmsg, sizeof(cmsg),
               "0000000e6e73676174652d636572742d763203a107bff3ce10be1d70dd18e74bc09967e4d630"
               "9ba50d5f1ddc8664125531b8000000000000000111111111111111111111111111111111111"
               "1111111111111111111111111111117979dcfc2582800000000d18c2e2800");
    assert_int_equal(crypto_sign_detached(sig, NULL, cmsg, sizeof(cmsg), sk), 0);
    assert_hex(sig, 64,
               "09713a306891f94bff3b804f3f845c1bdba09e9ca8b71c46fb3bd5644c0901148693b418126b09"
               "1c18b3a3f7d80ce40e32f6ca032a7f502930f9e8f3a29e8e01");
}

/* Every byte of every field matters: flip each bit pattern once. */
static void test_every_field_covered(void **state)
{
    struct ng_seal_fields f, g;
    uint8_t pk[32], sk[64], msg[NG_SEAL_MSG_BYTES], sig[64], h0[32], h1[32];
    size_t flips = 0;

    seed_keypair(1, pk, sk);
    kat_fields(&f);
    ng_seal_encode(&f, msg);
    assert_int_equal(crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk), 0);
    assert_int_equal(ng_seal_verify(pk, &f, sig), NG_SEAL_OK);
    ng_seal_hash(&f, sig, h0);
    uint8_t *arrays[] = {f.chain_id, f.head, f.prev_seal};
    size_t sizes[] = {sizeof(f.chain_id), sizeof(f.head), sizeof(f.prev_seal)};
    uint64_t *ints[] = {&f.last_seq, &f.wall_ns, &f.boot_ns, &f.epoch};
    for (size_t a = 0; a < 3; a++)
        for (size_t i = 0; i < sizes[a]; i++, flips++) {
            arrays[a][i] ^= 0x01;
            assert_int_equal(ng_seal_verify(pk, &f, sig), NG_SEAL_BAD_SIGNATURE);
            ng_seal_hash(&f, sig, h1);
            assert_memory_not_equal(h0, h1, 32);
            arrays[a][i] ^= 0x01;
        }
    for (size_t a = 0; a < 4; a++)
        for (int byte = 0; byte < 8; byte++, flips++) {
            *ints[a] ^= UINT64_C(1) << (8 * byte);
            assert_int_equal(ng_seal_verify(pk, &f, sig), NG_SEAL_BAD_SIGNATURE);
            *ints[a] ^= UINT64_C(1) << (8 * byte);
        }
    for (size_t i = 0; i < sizeof(sig); i++, flips++) {
        sig[i] ^= 0x80;
        assert_int_equal(ng_seal_verify(pk, &f, sig), NG_SEAL_BAD_SIGNATURE);
        ng_seal_hash(&f, sig, h1);
        assert_memory_not_equal(h0, h1, 32);
        sig[i] ^= 0x80;
    }
    assert_int_equal(flips, 16 + 32 + 32 + 4 * 8 + 64);
    /* the ledger's id is a chain id like any other */
    g = f;
    memcpy(g.chain_id, ng_seal_ledger_id, NG_SEAL_ID_BYTES);
    assert_int_equal(ng_seal_verify(pk, &g, sig), NG_SEAL_BAD_SIGNATURE);
    assert_int_equal(ng_seal_verify(pk, &f, sig), NG_SEAL_OK);
}

/* A chain of n certs from seeded keys, cert i starting at starts[i], the
 * first `legacy` of them in the form of earlier releases (no length). */
static void make_chain_forms(struct ng_fskey_cert *c, uint8_t (*sks)[64], const uint64_t *starts,
                             size_t n, size_t legacy, uint8_t root[32])
{
    uint8_t msg[NG_FSKEY_CERT_MSG_BYTES];
    for (size_t i = 0; i < n; i++) {
        c[i] = (struct ng_fskey_cert){.epoch = i, .start_ns = starts[i]};
        seed_keypair((uint8_t)(40 + i), c[i].pk, sks[i]);
        if (i == 0)
            memcpy(root, c[0].pk, 32);
        size_t len = ng_fskey_cert_message(root, &c[i], i < legacy ? 0 : LEN, msg);
        assert_int_equal(crypto_sign_detached(c[i].sig, NULL, msg, len, sks[i ? i - 1 : 0]), 0);
    }
}

static void make_chain(struct ng_fskey_cert *c, uint8_t (*sks)[64], const uint64_t *starts,
                       size_t n, uint8_t root[32])
{
    make_chain_forms(c, sks, starts, n, 0, root);
}

static enum ng_seal_status chain(const uint8_t root[32], const struct ng_fskey_cert *c, size_t n,
                                 size_t *bad)
{
    struct ng_seal_epoch ep[8];
    assert_true(n <= 8);
    return ng_seal_cert_chain_verify(root, c, n, LEN, ep, bad);
}

static void test_cert_chain(void **state)
{
    struct ng_fskey_cert c[4], d[4];
    uint8_t sks[4][64], root[32], other[32], osk[64], msg[NG_FSKEY_CERT_MSG_BYTES];
    uint64_t starts[4] = {T0, T0 + LEN, T0 + 2 * LEN, T0 + 3 * LEN};
    struct ng_seal_epoch ep[4];
    size_t bad = 99;

    make_chain(c, sks, starts, 4, root);
    assert_int_equal(ng_seal_cert_chain_verify(root, c, 4, LEN, ep, &bad), NG_SEAL_OK);
    assert_memory_equal(ep[3].pk, c[3].pk, 32);
    assert_true(ep[2].start_ns == T0 + 2 * LEN);
    /* another root */
    seed_keypair(99, other, osk);
    assert_int_equal(chain(other, c, 4, &bad), NG_CERT_BAD_ROOT);
    assert_int_equal(bad, 0);
    /* a forged cert for epoch 2: right fields, signed by a key not epoch 1's */
    memcpy(d, c, sizeof(c));
    ng_fskey_cert_message(root, &d[2], LEN, msg);
    assert_int_equal(crypto_sign_detached(d[2].sig, NULL, msg, sizeof(msg), osk), 0);
    assert_int_equal(chain(root, d, 4, &bad), NG_CERT_BAD_SIGNATURE);
    assert_int_equal(bad, 2);
    /* a swapped key under a valid signature, a moved start */
    memcpy(d, c, sizeof(c));
    d[3].pk[0] ^= 1;
    assert_int_equal(chain(root, d, 4, &bad), NG_CERT_BAD_SIGNATURE);
    memcpy(d, c, sizeof(c));
    d[1].start_ns -= 1;
    assert_int_equal(chain(root, d, 4, &bad), NG_CERT_BAD_SIGNATURE);
    /* one per index, no gaps */
    struct ng_fskey_cert dup[3] = {c[0], c[1], c[1]}, gap[3] = {c[0], c[1], c[3]};
    assert_int_equal(chain(root, dup, 3, &bad), NG_CERT_DUPLICATE);
    assert_int_equal(bad, 2);
    assert_int_equal(chain(root, gap, 3, &bad), NG_CERT_GAP);
    assert_int_equal(chain(root, c, 0, &bad), NG_CERT_GAP);
    /* starts: exactly LEN - 5 s after the previous is fine, 1 ns less is not */
    uint64_t tight[3] = {T0, T0 + LEN - 5 * SEC, T0 + 2 * LEN - 10 * SEC};
    make_chain(d, sks, tight, 3, root);
    assert_int_equal(chain(root, d, 3, &bad), NG_SEAL_OK);
    tight[2] -= 1;
    make_chain(d, sks, tight, 3, root);
    assert_int_equal(chain(root, d, 3, &bad), NG_CERT_START_TOO_SOON);
    assert_int_equal(bad, 2);
    uint64_t back[3] = {T0, T0 + LEN, T0 + LEN};
    make_chain(d, sks, back, 3, root);
    assert_int_equal(chain(root, d, 3, &bad), NG_CERT_START_NOT_INCREASING);
}

/* The epoch length is signed: one nanosecond more is refused; certificates
 * of earlier releases (no length) are accepted up to the first of the
 * current form, never after one (no downgrade). */
static void test_cert_epoch_len(void **state)
{
    struct ng_fskey_cert c[4], d[4];
    struct ng_seal_epoch ep[4];
    uint8_t sks[4][64], root[32], msg[NG_FSKEY_CERT_MSG_BYTES];
    uint64_t starts[4] = {T0, T0 + LEN, T0 + 2 * LEN, T0 + 3 * LEN};
    size_t bad = 99;

    make_chain(c, sks, starts, 4, root);
    assert_int_equal(ng_seal_cert_chain_verify(root, c, 4, LEN, ep, &bad), NG_SEAL_OK);
    for (int i = 0; i < 4; i++)
        assert_true(ep[i].len_signed);
    assert_int_equal(ng_seal_cert_chain_verify(root, c, 4, LEN + 1, ep, &bad), NG_CERT_EPOCH_LEN);
    assert_int_equal(bad, 0);
    assert_int_equal(ng_seal_cert_chain_verify(root, c, 4, LEN - 1, ep, &bad), NG_CERT_EPOCH_LEN);
    /* a single certificate: no grid to tell the length by, still refused */
    assert_int_equal(ng_seal_cert_chain_verify(root, c, 1, LEN + 1, ep, &bad),
                     NG_CERT_BAD_SIGNATURE);
    assert_int_equal(ng_seal_cert_chain_verify(root, c, 1, LEN, ep, &bad), NG_SEAL_OK);

    /* keys of an earlier release: nothing signs the length */
    make_chain_forms(d, sks, starts, 4, 4, root);
    assert_int_equal(ng_seal_cert_chain_verify(root, d, 4, LEN, ep, &bad), NG_SEAL_OK);
    assert_false(ep[3].len_signed);
    assert_int_equal(ng_seal_cert_chain_verify(root, d, 1, LEN + 1, ep, &bad), NG_SEAL_OK);
    /* evolved by this release from epoch 2 on: signed from there */
    make_chain_forms(d, sks, starts, 4, 2, root);
    assert_int_equal(ng_seal_cert_chain_verify(root, d, 4, LEN, ep, &bad), NG_SEAL_OK);
    assert_false(ep[1].len_signed);
    assert_true(ep[2].len_signed && ep[3].len_signed);
    assert_int_equal(ng_seal_cert_chain_verify(root, d, 4, LEN + 1, ep, &bad), NG_CERT_EPOCH_LEN);
    assert_int_equal(bad, 2);
    /* a downgrade: the old form after the new one is refused */
    memcpy(d, c, sizeof(c));
    size_t n = ng_fskey_cert_message(root, &d[2], 0, msg);
    assert_int_equal(crypto_sign_detached(d[2].sig, NULL, msg, n, sks[1]), 0);
    assert_int_equal(ng_seal_cert_chain_verify(root, d, 4, LEN, ep, &bad), NG_CERT_BAD_SIGNATURE);
    assert_int_equal(bad, 2);
    /* and a root certificate of the old form for a key of the new one:
     * the root secret would be needed, and it is gone; a re-signed one
     * by anybody else is another root */
    memcpy(d, c, sizeof(c));
    n = ng_fskey_cert_message(root, &d[0], 0, msg);
    assert_int_equal(crypto_sign_detached(d[0].sig, NULL, msg, n, sks[3]), 0);
    assert_int_equal(ng_seal_cert_chain_verify(root, d, 4, LEN, ep, &bad), NG_CERT_BAD_SIGNATURE);
    assert_int_equal(bad, 0);
}

/* Three epochs: 0 at T0, 1 at T0 + LEN, 2 at T0 + 2 LEN (newest, no end). */
static const struct ng_seal_epoch *epochs3(void)
{
    static struct ng_seal_epoch ep[3];
    for (int i = 0; i < 3; i++)
        ep[i].start_ns = T0 + (uint64_t)i * LEN;
    return ep;
}

static enum ng_seal_status at(uint64_t epoch, uint64_t wall)
{
    struct ng_seal_fields s = {.epoch = epoch, .wall_ns = wall, .boot_ns = 10};
    return ng_seal_check_time(epochs3(), 3, &s, NULL, NULL, &session_rules);
}

static void test_epoch_window(void **state)
{
    const uint64_t s1 = T0 + LEN, s2 = T0 + 2 * LEN, grace = 5 * SEC;

    assert_int_equal(at(1, s1), NG_SEAL_OK);
    assert_int_equal(at(1, s1 - 1), NG_SEAL_BEFORE_EPOCH);
    assert_int_equal(at(1, s2), NG_SEAL_OK);
    assert_int_equal(at(1, s2 + grace - 1), NG_SEAL_OK);
    assert_int_equal(at(1, s2 + grace), NG_SEAL_AFTER_EPOCH);
    assert_int_equal(at(0, T0), NG_SEAL_OK);
    assert_int_equal(at(0, T0 - 1), NG_SEAL_BEFORE_EPOCH);
    assert_int_equal(at(2, s2 + 100 * LEN), NG_SEAL_OK); /* newest: no end known */
    assert_int_equal(at(3, s2 + LEN), NG_SEAL_UNKNOWN_EPOCH);
    assert_string_equal(ng_seal_status_str(NG_SEAL_AFTER_EPOCH),
                        "late seal: made after its key's epoch ended");
}

static void test_clocks_and_lateness(void **state)
{
    const uint64_t w = T0 + LEN + 60 * SEC, late = INTERVAL + 2 * SEC;
    const struct ng_seal_epoch *ep = epochs3();
    struct ng_seal_fields prev = {.epoch = 1, .wall_ns = w - SEC, .boot_ns = 500};
    struct ng_seal_fields s = {.epoch = 1, .wall_ns = w, .boot_ns = 501};
    uint64_t oldest;

    assert_int_equal(ng_seal_check_time(ep, 3, &s, &prev, NULL, &session_rules), NG_SEAL_OK);
    /* both clocks strictly increase */
    prev.wall_ns = w;
    assert_int_equal(ng_seal_check_time(ep, 3, &s, &prev, NULL, &session_rules),
                     NG_SEAL_WALL_NOT_INCREASING);
    prev.wall_ns = w - SEC;
    prev.boot_ns = 501;
    assert_int_equal(ng_seal_check_time(ep, 3, &s, &prev, NULL, &session_rules),
                     NG_SEAL_BOOT_NOT_INCREASING);
    /* the ledger lives across reboots: its boot clock may restart */
    assert_int_equal(ng_seal_check_time(ep, 3, &s, &prev, NULL, &ledger_rules), NG_SEAL_OK);
    prev.boot_ns = 500;
    /* oldest newly covered event: interval + 2 s ago is fine, 1 ns more is late */
    oldest = w - late;
    assert_int_equal(ng_seal_check_time(ep, 3, &s, &prev, &oldest, &session_rules), NG_SEAL_OK);
    oldest -= 1;
    assert_int_equal(ng_seal_check_time(ep, 3, &s, &prev, &oldest, &session_rules),
                     NG_SEAL_LATE_EVENT);
    assert_int_equal(ng_seal_check_time(ep, 3, &s, &prev, &oldest, &ledger_rules),
                     NG_SEAL_LATE_EVENT);
    /* gap after the previous seal: the same boundary; not a ledger rule */
    prev.wall_ns = w - late;
    assert_int_equal(ng_seal_check_time(ep, 3, &s, &prev, NULL, &session_rules), NG_SEAL_OK);
    prev.wall_ns -= 1;
    assert_int_equal(ng_seal_check_time(ep, 3, &s, &prev, NULL, &session_rules), NG_SEAL_LATE_GAP);
    assert_int_equal(ng_seal_check_time(ep, 3, &s, &prev, NULL, &ledger_rules), NG_SEAL_OK);
    assert_int_equal(strncmp(ng_seal_status_str(NG_SEAL_LATE_GAP), "late seal", 9), 0);
    assert_int_equal(strncmp(ng_seal_status_str(NG_SEAL_LATE_EVENT), "late seal", 9), 0);
}

/* Real keys: seal a short session through the key state, check it all. */
static void test_sign_and_check_session(void **state)
{
    struct fx *x = *state;
    struct ng_fskey_created c;
    struct ng_fskey *k;
    struct ng_fskey_info info;
    struct ng_fskey_cert *certs;
    struct ng_seal_epoch ep[4];
    struct ng_seal_fields s[3];
    uint8_t sig[3][64], root[32];
    uint64_t len, ev;
    size_t n;

    assert_int_equal(ng_fskey_create(x->dir, LEN, 0, T0, &c), 0);
    assert_int_equal(ng_fskey_open(x->dir, &k, NULL), 0);
    memset(s, 0, sizeof(s));
    for (int i = 0; i < 3; i++) {
        uint64_t now = T0 + LEN - SEC + (uint64_t)i * SEC; /* crosses into epoch 1 */
        assert_int_equal(ng_fskey_lock_current(k, now, NULL), 0);
        ng_fskey_info(k, &info);
        memset(s[i].chain_id, 0x42, NG_SEAL_ID_BYTES);
        s[i].last_seq = (uint64_t)i * 10;
        memset(s[i].head, i + 1, 32);
        if (i > 0)
            ng_seal_hash(&s[i - 1], sig[i - 1], s[i].prev_seal);
        s[i].wall_ns = now;
        s[i].boot_ns = 1000 + (uint64_t)i;
        s[i].epoch = info.epoch + (i == 2); /* the third claims an epoch it lacks */
        assert_int_equal(ng_seal_sign(k, &s[i], sig[i]), i == 2 ? -ESTALE : 0);
        s[i].epoch = info.epoch;
        s[i].wall_ns = now - (i == 2 ? LEN : 0); /* ... or a time outside it */
        assert_int_equal(ng_seal_sign(k, &s[i], sig[i]), i == 2 ? -ESTALE : 0);
        s[i].wall_ns = now;
        assert_int_equal(ng_seal_sign(k, &s[i], sig[i]), 0);
        ng_fskey_unlock(k);
    }
    assert_int_equal(ng_seal_sign(k, &s[2], sig[2]), -EBADFD);
    ng_fskey_close(k);
    assert_true(s[0].epoch == 0 && s[1].epoch == 1 && s[2].epoch == 1);

    assert_int_equal(ng_fskey_read_public(x->dir, root, &len, &certs, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(ng_seal_cert_chain_verify(c.root_pk, certs, n, len, ep, NULL), NG_SEAL_OK);
    free(certs);
    for (int i = 0; i < 3; i++) {
        ev = s[i].wall_ns - SEC / 2;
        assert_int_equal(ng_seal_check(ep, n, &s[i], sig[i], i ? &s[i - 1] : NULL,
                                       i ? sig[i - 1] : NULL, &ev, &session_rules),
                         NG_SEAL_OK);
    }
    /* a seal moved to another place in the chain, or one that covers less */
    assert_int_equal(ng_seal_check(ep, n, &s[2], sig[2], &s[0], sig[0], NULL, &session_rules),
                     NG_SEAL_BAD_LINK);
    assert_int_equal(ng_seal_check(ep, n, &s[1], sig[1], NULL, NULL, NULL, &session_rules),
                     NG_SEAL_BAD_LINK);
    assert_int_equal(ng_seal_check(ep, n, &s[1], sig[1], &s[2], sig[2], NULL, &session_rules),
                     NG_SEAL_BAD_LINK);
    s[1].last_seq = 20;
    assert_int_equal(ng_seal_check(ep, n, &s[1], sig[1], &s[0], sig[0], NULL, &session_rules),
                     NG_SEAL_BAD_SIGNATURE);
}

static void sign_with(const uint8_t sk[64], const struct ng_seal_fields *f, uint8_t sig[64])
{
    uint8_t msg[NG_SEAL_MSG_BYTES];
    ng_seal_encode(f, msg);
    assert_int_equal(crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk), 0);
}

static void test_seq_never_decreases(void **state)
{
    struct ng_seal_epoch ep[1] = {{.start_ns = T0}};
    struct ng_seal_fields a = {.last_seq = 10, .wall_ns = T0 + SEC, .boot_ns = 5};
    struct ng_seal_fields b = {.last_seq = 10, .wall_ns = T0 + 2 * SEC, .boot_ns = 6};
    uint8_t sk[64], sa[64], sb[64];

    seed_keypair(7, ep[0].pk, sk);
    sign_with(sk, &a, sa);
    ng_seal_hash(&a, sa, b.prev_seal);
    sign_with(sk, &b, sb); /* a heartbeat: covers nothing new */
    assert_int_equal(ng_seal_check(ep, 1, &b, sb, &a, sa, NULL, &session_rules), NG_SEAL_OK);
    b.last_seq = 9;
    sign_with(sk, &b, sb);
    assert_int_equal(ng_seal_check(ep, 1, &b, sb, &a, sa, NULL, &session_rules),
                     NG_SEAL_SEQ_DECREASING);
    b.epoch = 1;
    assert_int_equal(ng_seal_check(ep, 1, &b, sb, &a, sa, NULL, &session_rules),
                     NG_SEAL_UNKNOWN_EPOCH);
}

/* Someone who becomes root in epoch 3 and copies the key state. */
static void test_forward_security(void **state)
{
    struct fx *x = *state;
    struct ng_fskey_created c;
    struct ng_fskey *k;
    struct ng_fskey_cert *certs, forged[5];
    struct ng_seal_epoch ep[5];
    struct ng_seal_fields legit = {.last_seq = 5, .boot_ns = 100}, fake;
    uint8_t old_sk[3][64], legit_sig[64], fake_sig[64], root[32], msg[NG_FSKEY_CERT_MSG_BYTES];
    uint64_t len, now3 = T0 + 3 * LEN + 10 * SEC, t2 = T0 + 2 * LEN + 100 * SEC;
    size_t n, slen, clen;

    assert_int_equal(ng_fskey_create(x->dir, LEN, 0, T0, &c), 0);
    assert_int_equal(ng_fskey_open(x->dir, &k, NULL), 0);
    for (uint64_t e = 0; e < 3; e++) {
        uint8_t *st = fx_slurp(x->dir, "state", &slen);
        memcpy(old_sk[e], st + ST_SK, 64);
        free(st);
        assert_int_equal(ng_fskey_advance(k, T0 + (e + 1) * LEN, NULL), 0);
        if (e == 1) { /* the recorder's honest seal in epoch 2 */
            assert_int_equal(ng_fskey_lock_current(k, t2, NULL), 0);
            legit.epoch = 2, legit.wall_ns = t2;
            assert_int_equal(ng_seal_sign(k, &legit, legit_sig), 0);
            ng_fskey_unlock(k);
        }
    }
    assert_int_equal(ng_fskey_advance(k, now3, NULL), 0);
    ng_fskey_close(k);
    uint8_t *stolen = fx_slurp(x->dir, "state", &slen), *cf = fx_slurp(x->dir, "certs", &clen);
    const uint8_t *stolen_sk = stolen + ST_SK;

    /* 1. no earlier secret (nor its seed) is left anywhere in the directory */
    for (int e = 0; e < 3; e++) {
        assert_null(memmem(stolen, slen, old_sk[e], 32));
        assert_null(memmem(cf, clen, old_sk[e], 32));
    }
    assert_int_equal(ng_fskey_read_public(x->dir, root, &len, &certs, &n), 0);
    assert_int_equal(n, 4);
    assert_int_equal(ng_seal_cert_chain_verify(root, certs, n, len, ep, NULL), NG_SEAL_OK);
    assert_int_equal(ng_seal_check(ep, n, &legit, legit_sig, NULL, NULL, NULL, &session_rules),
                     NG_SEAL_OK);

    /* 2. the stolen key cannot make an epoch-2 seal */
    fake = legit;
    fake.last_seq = 6, fake.wall_ns = t2 + SEC;
    ng_seal_hash(&legit, legit_sig, fake.prev_seal);
    sign_with(stolen_sk, &fake, fake_sig);
    assert_int_equal(ng_seal_check(ep, n, &fake, fake_sig, &legit, legit_sig, NULL, &session_rules),
                     NG_SEAL_BAD_SIGNATURE);
    /* 3. an epoch-3 seal dated back into epoch 2: the signature is good, the time is not */
    fake.epoch = 3;
    sign_with(stolen_sk, &fake, fake_sig);
    assert_int_equal(ng_seal_verify(ep[3].pk, &fake, fake_sig), NG_SEAL_OK);
    assert_int_equal(ng_seal_check(ep, n, &fake, fake_sig, &legit, legit_sig, NULL, &session_rules),
                     NG_SEAL_BEFORE_EPOCH);
    /* 4. dated honestly in epoch 3 but over events of epoch 2: a late seal */
    fake.wall_ns = now3, fake.boot_ns = 101;
    sign_with(stolen_sk, &fake, fake_sig);
    uint64_t oldest = t2 + SEC / 2;
    assert_int_equal(
        ng_seal_check(ep, n, &fake, fake_sig, &legit, legit_sig, &oldest, &session_rules),
        NG_SEAL_LATE_EVENT);
    assert_int_equal(ng_seal_check(ep, n, &fake, fake_sig, &legit, legit_sig, NULL, &session_rules),
                     NG_SEAL_LATE_GAP);
    /* 5. nor certify a new epoch starting in the past to seal with */
    memcpy(forged, certs, 4 * sizeof(*certs));
    forged[4] = (struct ng_fskey_cert){.epoch = 4, .start_ns = ep[3].start_ns + SEC};
    memcpy(forged[4].pk, stolen_sk + 32, 32);
    ng_fskey_cert_message(root, &forged[4], len, msg);
    assert_int_equal(crypto_sign_detached(forged[4].sig, NULL, msg, sizeof(msg), stolen_sk), 0);
    assert_int_equal(ng_seal_cert_chain_verify(root, forged, 5, len, ep, NULL),
                     NG_CERT_START_TOO_SOON);
    free(certs);
    free(stolen);
    free(cf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_every_field_covered),
        cmocka_unit_test(test_cert_chain),
        cmocka_unit_test(test_cert_epoch_len),
        cmocka_unit_test(test_epoch_window),
        cmocka_unit_test(test_clocks_and_lateness),
        cmocka_unit_test(test_seq_never_decreases),
        cmocka_unit_test_setup_teardown(test_sign_and_check_session, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_forward_security, fx_setup, fx_teardown),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
