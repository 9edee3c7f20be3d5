/* TIME arguments and time formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "nsgate/timearg.h"

#define NS 1000000000LL

static int setup(void **state)
{
    setenv("TZ", "UTC", 1);
    tzset();
    return 0;
}

static void test_relative(void **state)
{
    int64_t now = 1000000 * NS, t;
    assert_int_equal(ng_parse_time("2h", now, &t), 0);
    assert_true(t == now - 7200 * NS);
    assert_int_equal(ng_parse_time("3d", now, &t), 0);
    assert_true(t == now - 3 * 86400 * NS);
    assert_int_equal(ng_parse_time("90s", now, &t), 0);
    assert_true(t == now - 90 * NS);
    assert_int_equal(ng_parse_time("1w", now, &t), 0);
    assert_int_equal(ng_parse_time("2", now, &t), -EINVAL);
    assert_int_equal(ng_parse_time("2y", now, &t), -EINVAL);
    assert_int_equal(ng_parse_time("h", now, &t), -EINVAL);
    assert_int_equal(ng_parse_time("-2h", now, &t), -EINVAL);
    assert_int_equal(ng_parse_time("99999999d", now, &t), -ERANGE);
}

static void test_iso(void **state)
{
    int64_t t;
    /* 2026-11-29T08:10:00Z = 1795939800 */
    assert_int_equal(ng_parse_time("2026-11-29T08:10:00Z", 0, &t), 0);
    assert_true(t == 1795939800LL * NS);
    assert_int_equal(ng_parse_time("2026-11-29T09:10:00+01:00", 0, &t), 0);
    assert_true(t == 1795939800LL * NS);
    assert_int_equal(ng_parse_time("2026-11-29T03:10-0500", 0, &t), 0);
    assert_true(t == 1795939800LL * NS);
    assert_int_equal(ng_parse_time("2026-11-29 08:10:00.5Z", 0, &t), 0);
    assert_true(t == 1795939800LL * NS + NS / 2);
    assert_int_equal(ng_parse_time("2026-11-29", 0, &t), 0); /* local = UTC here */
    assert_true(t == (1795939800LL - 8 * 3600 - 600) * NS);
    assert_int_equal(ng_parse_time("2026-11-29T08:10", 0, &t), 0);
    assert_true(t == 1795939800LL * NS);
    assert_int_equal(ng_parse_time("2026-13-01", 0, &t), -EINVAL);
    assert_int_equal(ng_parse_time("2026-11-29T25:00", 0, &t), -EINVAL);
    assert_int_equal(ng_parse_time("2026-11-29X", 0, &t), -EINVAL);
    assert_int_equal(ng_parse_time("2026-11-29T08:10Q", 0, &t), -EINVAL);
    assert_int_equal(ng_parse_time("26-11-29", 0, &t), -EINVAL);
    assert_int_equal(ng_parse_time("", 0, &t), -EINVAL);
}

static void test_format(void **state)
{
    char buf[64];
    ng_format_time_utc(1795939800LL * NS + 123456789, buf, sizeof(buf));
    assert_string_equal(buf, "2026-11-29T08:10:00.123456Z");
    ng_format_time_local(1795939800LL * NS, buf, sizeof(buf));
    assert_string_equal(buf, "2026-11-29 08:10:00");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relative),
        cmocka_unit_test(test_iso),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
