/* BLAKE2b (blake2b.h): RFC 7693's test vector, and the same output as
 * libsodium's crypto_generichash on every length up to a few blocks, every
 * digest length, and inputs fed in pieces of every awkward size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nsgate/blake2b.h"

static void hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static void one_shot(const void *p, size_t len, size_t outlen, uint8_t *out)
{
    struct ng_blake2b s;
    ng_blake2b_init(&s, outlen);
    ng_blake2b_update(&s, p, len);
    ng_blake2b_final(&s, out);
}

/* Deterministic bytes, so a failure repeats. */
static void fill(uint8_t *b, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        b[i] = (uint8_t)seed;
    }
}

static void test_rfc7693_vector(void **state)
{
    uint8_t out[64];
    char text[129];

    /* RFC 7693 Appendix A: BLAKE2b-512("abc"). */
    one_shot("abc", 3, 64, out);
    hex(out, 64, text);
    assert_string_equal(text, "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
                              "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923");
    one_shot("", 0, 64, out);
    hex(out, 64, text);
    assert_string_equal(text, "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419"
                              "d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce");
}

static void test_every_length_like_libsodium(void **state)
{
    enum { MAX = 4 * NG_BLAKE2B_BLOCK + 3 };
    uint8_t in[MAX], a[64], b[64];

    fill(in, sizeof(in), 1);
    for (size_t len = 0; len <= MAX; len++) {
        size_t outlen = 1 + len % 64;
        one_shot(in, len, outlen, a);
        assert_int_equal(crypto_generichash(b, outlen, in, len, NULL, 0), 0);
        assert_memory_equal(a, b, outlen);
    }
}

static void test_pieces_like_libsodium(void **state)
{
    static const size_t pieces[] = {1, 7, 127, 128, 129, 255, 256, 4096, 65536, 65537};
    size_t len = (1 << 20) + 17;
    uint8_t *in = malloc(len), a[32], b[32];

    assert_non_null(in);
    fill(in, len, 2);
    assert_int_equal(crypto_generichash(b, 32, in, len, NULL, 0), 0);
    for (size_t k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++) {
        struct ng_blake2b s;
        ng_blake2b_init(&s, 32);
        for (size_t off = 0; off < len; off += pieces[k]) {
            size_t n = len - off < pieces[k] ? len - off : pieces[k];
            ng_blake2b_update(&s, in + off, n);
            ng_blake2b_update(&s, in, 0); /* empty updates change nothing */
        }
        ng_blake2b_final(&s, a);
        assert_memory_equal(a, b, 32);
    }
    free(in);
}

/* Random lengths split at random points (a fixed sequence). */
static void test_random_splits_like_libsodium(void **state)
{
    uint8_t in[3000], a[64], b[64], r[4];

    fill(in, sizeof(in), 3);
    for (uint64_t i = 0; i < 3000; i++) {
        fill(r, sizeof(r), i + 10);
        size_t len = (r[0] | (size_t)r[1] << 8) % sizeof(in), outlen = 1 + r[2] % 64, off = 0;
        struct ng_blake2b s;
        ng_blake2b_init(&s, outlen);
        while (off < len) {
            size_t n = 1 + (size_t)(r[3] = (uint8_t)(r[3] * 29 + 7)) * 2;
            n = n > len - off ? len - off : n;
            ng_blake2b_update(&s, in + off, n);
            off += n;
        }
        ng_blake2b_final(&s, a);
        assert_int_equal(crypto_generichash(b, outlen, in, len, NULL, 0), 0);
        assert_memory_equal(a, b, outlen);
    }
}

/* The byte counter is 128 bits: its low word carries into the high one. */
static void test_counter_carry(void **state)
{
    struct ng_blake2b s;
    uint8_t in[NG_BLAKE2B_BLOCK + 1] = {0};

    ng_blake2b_init(&s, 32);
    s.t[0] = UINT64_MAX - 10;
    ng_blake2b_update(&s, in, sizeof(in));
    assert_int_equal(s.t[1], 1);
    assert_int_equal(s.t[0], NG_BLAKE2B_BLOCK - 11);
}

static void test_outlen_bounds(void **state)
{
    uint8_t a[64], b[64];

    one_shot("x", 1, 0, a); /* 0 and anything above 64 mean 64 */
    one_shot("x", 1, 64, b);
    assert_memory_equal(a, b, 64);
    one_shot("x", 1, 65, a);
    assert_memory_equal(a, b, 64);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc7693_vector),
        cmocka_unit_test(test_every_length_like_libsodium),
        cmocka_unit_test(test_pieces_like_libsodium),
        cmocka_unit_test(test_random_splits_like_libsodium),
        cmocka_unit_test(test_counter_carry),
        cmocka_unit_test(test_outlen_bounds),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
