/* Hash chain: known answers computed independently with Python's hashlib
 * (tests/unit/chain_kat.py reproduces every expected value), and the
 * properties the integrity layer relies on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nsgate/chain.h"
#include "../../src/store/store_int.h"

static void to_hex(const uint8_t *b, char out[65])
{
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static void assert_hash(const uint8_t got[32], const char *want)
{
    char hex[65];
    to_hex(got, hex);
    assert_string_equal(hex, want);
}

static int setup(void **state)
{
    return ng_chain_init();
}

static void test_typed_fields(void **state)
{
    struct ng_hash h;
    uint8_t out[32];

    ng_hash_init(&h, "nsgate-test");
    ng_hash_add_int(&h, -2);
    ng_hash_add_real(&h, 1.5);
    ng_hash_add_text(&h, "h\xc3\xa9llo", 6);
    ng_hash_add_blob(&h, "\0\xff", 2);
    ng_hash_add_null(&h);
    ng_hash_final(&h, out);
    assert_hash(out, "5d1845aebe5b395fae6cc38a50d06643427c4bddfaf8c153079a87c1f5e6e588");

    ng_hash_init(&h, NG_DOMAIN_EVENT);
    ng_hash_final(&h, out);
    assert_hash(out, "ef615e0dba5641a6831cdf61809c697edafa692631bc998a7bfc26c19e1faffe");
}

static void test_event_hash(void **state)
{
    uint8_t id[16], prev[32], out[32];

    for (int i = 0; i < 16; i++)
        id[i] = (uint8_t)i;
    memset(prev, 0xaa, sizeof(prev));
    ng_chain_event_hash(id, 1, 1000, 'o', "hi\0\xff", 4, prev, out);
    assert_hash(out, "c76016fa5a52b39de2d1735ab7f72218de6de4e4ebb355522364e84da81325c8");
}

static void test_ledger_hash(void **state)
{
    uint8_t id[16], value[32], prev[32], out[32];

    for (int i = 0; i < 16; i++)
        id[i] = (uint8_t)i;
    memset(value, 0x11, sizeof(value));
    memset(prev, 0x22, sizeof(prev));
    ng_chain_ledger_hash(3, id, "checkpoint", 1795939800000000000LL, 42, value, prev, out);
    assert_hash(out, "a66638b48190481edf2bd1d942701ba76871fac0719bf9121eaa81a42647daee");
}

/* Hash the single row of "SELECT * FROM t" of a fresh in-memory table. */
static void header_of(const char *create, const char *insert, uint8_t out[32], int want_rc)
{
    sqlite3 *db;
    sqlite3_stmt *st;

    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, create, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, insert, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT * FROM t", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(ng_store_header_hash(st, out), want_rc);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

#define T_COLS "id BLOB, n INTEGER, s TEXT, r REAL, z INTEGER, header_hash BLOB"
#define T_ROW  "X'000102030405060708090a0b0c0d0e0f', 42, 'x', 0.25, NULL, X'00'"

static void test_header_hash(void **state)
{
    uint8_t a[32], b[32];

    header_of("CREATE TABLE t(" T_COLS ") STRICT", "INSERT INTO t VALUES(" T_ROW ")", a, 0);
    assert_hash(a, "b733cfa4822522a191d91eb00622a3f5b6e7b297f44ac468f4f1d3a402ba9ea5");

    /* header_hash itself is not covered. */
    header_of("CREATE TABLE t(" T_COLS ") STRICT",
              "INSERT INTO t VALUES(X'000102030405060708090a0b0c0d0e0f', 42, 'x', 0.25, "
              "NULL, X'ffff')",
              b, 0);
    assert_memory_equal(a, b, 32);

    /* A column added later holding NULL leaves old hashes alone. */
    header_of("CREATE TABLE t(" T_COLS ", later TEXT) STRICT",
              "INSERT INTO t VALUES(" T_ROW ", NULL)", b, 0);
    assert_memory_equal(a, b, 32);

    /* ... but a value there, or in z, changes it. */
    header_of("CREATE TABLE t(" T_COLS ", later TEXT) STRICT",
              "INSERT INTO t VALUES(" T_ROW ", '')", b, 0);
    assert_memory_not_equal(a, b, 32);
    header_of("CREATE TABLE t(" T_COLS ") STRICT",
              "INSERT INTO t VALUES(X'000102030405060708090a0b0c0d0e0f', 42, 'x', 0.25, "
              "0, X'00')",
              b, 0);
    assert_memory_not_equal(a, b, 32);

    /* No header_hash column: refused. */
    header_of("CREATE TABLE t(a INTEGER)", "INSERT INTO t VALUES(1)", b, -EBADMSG);
}

static void test_storage_class_covered(void **state)
{
    uint8_t a[32], b[32], c[32];

    /* Integer 5, text '5' and blob x'35' all differ (integrity.md 1). */
    header_of("CREATE TABLE t(v ANY, header_hash BLOB) STRICT", "INSERT INTO t VALUES(5, X'')", a,
              0);
    header_of("CREATE TABLE t(v ANY, header_hash BLOB) STRICT", "INSERT INTO t VALUES('5', X'')", b,
              0);
    header_of("CREATE TABLE t(v ANY, header_hash BLOB) STRICT", "INSERT INTO t VALUES(X'35', X'')",
              c, 0);
    assert_memory_not_equal(a, b, 32);
    assert_memory_not_equal(b, c, 32);
    assert_memory_not_equal(a, c, 32);
    /* Column names are covered: the same value under another name differs. */
    header_of("CREATE TABLE t(w ANY, header_hash BLOB) STRICT", "INSERT INTO t VALUES(5, X'')", b,
              0);
    assert_memory_not_equal(a, b, 32);
}

static void test_length_prefix(void **state)
{
    struct ng_hash h;
    uint8_t a[32], b[32];

    /* ("ab","c") and ("a","bc") must not collide. */
    ng_hash_init(&h, "d");
    ng_hash_add_text(&h, "ab", 2);
    ng_hash_add_text(&h, "c", 1);
    ng_hash_final(&h, a);
    ng_hash_init(&h, "d");
    ng_hash_add_text(&h, "a", 1);
    ng_hash_add_text(&h, "bc", 2);
    ng_hash_final(&h, b);
    assert_memory_not_equal(a, b, 32);

    /* Chained: a different previous hash gives a different event hash. */
    uint8_t id[16] = {0}, p1[32] = {0}, p2[32] = {1};
    ng_chain_event_hash(id, 1, 0, 'o', "", 0, p1, a);
    ng_chain_event_hash(id, 1, 0, 'o', "", 0, p2, b);
    assert_memory_not_equal(a, b, 32);
    ng_chain_event_hash(id, 1, 0, 'i', "", 0, p1, b);
    assert_memory_not_equal(a, b, 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_typed_fields),          cmocka_unit_test(test_event_hash),
        cmocka_unit_test(test_ledger_hash),           cmocka_unit_test(test_header_hash),
        cmocka_unit_test(test_storage_class_covered), cmocka_unit_test(test_length_prefix),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
