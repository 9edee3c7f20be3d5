/* Bounded number parsing and escaping of untrusted text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "nsgate/base64.h"
#include "nsgate/text.h"
#include "nsgate/util.h"

static void test_parse_u64(void **state)
{
    uint64_t v;
    assert_int_equal(ng_parse_u64("0", 0, 10, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(ng_parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(ng_parse_u64("18446744073709551616", 0, UINT64_MAX, &v), -ERANGE);
    assert_int_equal(ng_parse_u64("", 0, 10, &v), -EINVAL);
    assert_int_equal(ng_parse_u64("-1", 0, 10, &v), -EINVAL);
    assert_int_equal(ng_parse_u64("+1", 0, 10, &v), -EINVAL);
    assert_int_equal(ng_parse_u64(" 1", 0, 10, &v), -EINVAL);
    assert_int_equal(ng_parse_u64("1 ", 0, 10, &v), -EINVAL);
    assert_int_equal(ng_parse_u64("0x10", 0, 100, &v), -EINVAL);
    assert_int_equal(ng_parse_u64("11", 0, 10, &v), -ERANGE);
    assert_int_equal(ng_parse_u64("4", 5, 10, &v), -ERANGE);
}

static void test_parse_id(void **state)
{
    uint32_t id;
    assert_int_equal(ng_parse_id("4294967294", &id), 0);
    assert_int_equal(id, 4294967294u);
    /* CVE-2019-14287: -1 and its unsigned spelling are not ids. */
    assert_int_equal(ng_parse_id("4294967295", &id), -ERANGE);
    assert_int_equal(ng_parse_id("-1", &id), -EINVAL);
    assert_int_equal(ng_parse_id("99999999999", &id), -ERANGE);
}

static void test_parse_pid(void **state)
{
    pid_t p;
    assert_int_equal(ng_parse_pid("1", &p), 0);
    assert_int_equal(p, 1);
    assert_int_equal(ng_parse_pid("0", &p), -ERANGE);
    assert_int_equal(ng_parse_pid("4194305", &p), -ERANGE);
    assert_int_equal(ng_parse_pid("12a", &p), -EINVAL);
}

static void check_escape(const char *in, size_t len, const char *want)
{
    char *out = ng_escape(in, len);
    assert_non_null(out);
    assert_string_equal(out, want);
    free(out);
}

static void test_escape(void **state)
{
    check_escape("plain text", 10, "plain text");
    check_escape("a\x1b[31mb", 7, "a\\x1b[31mb");
    check_escape("nl\n", 3, "nl\\x0a");
    check_escape("del\x7f", 4, "del\\x7f");
    check_escape("back\\slash", 10, "back\\x5cslash");
    check_escape("caf\xc3\xa9", 5, "caf\xc3\xa9"); /* valid UTF-8 kept */
    check_escape("\xc2\x9b"
                 "31m",
                 5, "\\xc2\\x9b31m");                   /* C1 CSI escaped */
    check_escape("bad\xff", 4, "bad\\xff");             /* invalid byte */
    check_escape("\xc0\xaf", 2, "\\xc0\\xaf");          /* overlong */
    check_escape("\xed\xa0\x80", 3, "\\xed\\xa0\\x80"); /* surrogate */
    check_escape("trunc\xe2\x82", 7, "trunc\\xe2\\x82");
    check_escape("nul\0x", 5, "nul\\x00x");
}

/* The table encoder writes what libsodium's does, for every length and
 * byte value (every tail: 0, 1 and 2 bytes past the last group). */
static void test_base64(void **state)
{
    uint8_t in[600];
    char ours[NG_BASE64_LEN(sizeof(in))], theirs[NG_BASE64_LEN(sizeof(in))];

    (void)state;
    assert_int_equal(sodium_init() >= 0, 1);
    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)(i * 7 + (i >> 8)); /* every byte value */
    for (size_t len = 0; len <= sizeof(in); len++) {
        assert_int_equal(NG_BASE64_LEN(len),
                         sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL));
        sodium_bin2base64(theirs, sizeof(theirs), in, len, sodium_base64_VARIANT_ORIGINAL);
        assert_string_equal(ng_base64_encode(ours, in, len), theirs);
    }
    randombytes_buf(in, sizeof(in));
    sodium_bin2base64(theirs, sizeof(theirs), in, sizeof(in), sodium_base64_VARIANT_ORIGINAL);
    assert_string_equal(ng_base64_encode(ours, in, sizeof(in)), theirs);
    assert_string_equal(ng_base64_encode(ours, (const uint8_t *)"f", 1), "Zg==");
    assert_string_equal(ng_base64_encode(ours, (const uint8_t *)"fo", 2), "Zm8=");
    assert_string_equal(ng_base64_encode(ours, (const uint8_t *)"foobar", 6), "Zm9vYmFy");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_u64), cmocka_unit_test(test_parse_id),
        cmocka_unit_test(test_parse_pid), cmocka_unit_test(test_escape),
        cmocka_unit_test(test_base64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
