/* The pure parts of applying the target's confinement (confine.h): the
 * filter hash the header records (known answers, recomputed with Python's
 * hashlib alone), LSM labels as /proc gives them, and when the entering
 * child must hold CAP_SYS_ADMIN until the filters are on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/capability.h>
#include <sodium.h>
#include <string.h>

#include "nsgate/confine.h"

static void hex(const uint8_t *b, char out[65])
{
    sodium_bin2hex(out, 65, b, 32);
}

/* python3: h = blake2b(digest_size=32); h.update(b"nsgate-seccomp-v1");
 * per filter: h.update(struct.pack(">QQ", flags, n)); per instruction:
 * h.update(struct.pack(">HBBI", code, jt, jf, k)) */
static void test_hash(void **state)
{
    struct sock_filter a[] = {{0x20, 0, 0, 4}, {0x06, 0, 0, 0x7fff0000}};
    struct sock_filter b[] = {{0x06, 0, 0, 0x00050001}};
    struct ng_confine_filter f[] = {{0, 2, a}, {2, 1, b}};
    uint8_t h[32];
    char x[65];

    ng_confine_hash(f, 2, h);
    hex(h, x);
    assert_string_equal(x, "7da58d1dcc1c5d3e218995a634b63dc6d7b7f51d229925f67203e7605c367aac");
    ng_confine_hash(f, 0, h);
    hex(h, x);
    assert_string_equal(x, "ed9c8fbe93a11e2f60a2c1c32833ace3ba7e6250df9a5e46b8d480ba88d274a3");
    /* Order, flags and every field count. */
    struct ng_confine_filter g[] = {{2, 1, b}, {0, 2, a}};
    uint8_t h2[32];
    ng_confine_hash(g, 2, h2);
    ng_confine_hash(f, 2, h);
    assert_memory_not_equal(h, h2, 32);
    f[1].flags = 0;
    ng_confine_hash(f, 2, h2);
    assert_memory_not_equal(h, h2, 32);
}

static void expect_label(enum ng_lsm lsm, const char *text, size_t n, const char *want)
{
    char out[NG_CONFINE_LABEL_MAX];
    int r = ng_confine_parse_label(lsm, text, n, out, sizeof(out));
    if (!want) {
        assert_int_equal(r, -EINVAL);
        return;
    }
    assert_int_equal(r, 0);
    assert_string_equal(out, want);
}

static void test_labels(void **state)
{
    expect_label(NG_LSM_APPARMOR, "docker-default (enforce)\n", 25, "docker-default");
    expect_label(NG_LSM_APPARMOR, "containers-default-0.50.1 (complain)\n", 37,
                 "containers-default-0.50.1");
    expect_label(NG_LSM_APPARMOR, "unconfined\n", 11, "");
    expect_label(NG_LSM_APPARMOR, "/usr/sbin/ntpd (enforce)\n", 25, "/usr/sbin/ntpd");
    expect_label(NG_LSM_SELINUX, "system_u:system_r:container_t:s0:c123,c456\0", 43,
                 "system_u:system_r:container_t:s0:c123,c456");
    expect_label(NG_LSM_SELINUX, "system_u:system_r:spc_t:s0\n", 27, "system_u:system_r:spc_t:s0");
    /* Not labels: empty, control bytes, spaces in a context. */
    expect_label(NG_LSM_APPARMOR, "\n", 1, NULL);
    expect_label(NG_LSM_APPARMOR, "a\x1b[2Jb (enforce)\n", 17, NULL);
    expect_label(NG_LSM_SELINUX, "a b", 3, NULL);
    expect_label(NG_LSM_SELINUX, "a\nb", 3, NULL);
    char big[NG_CONFINE_LABEL_MAX + 8];
    memset(big, 'a', sizeof(big));
    expect_label(NG_LSM_SELINUX, big, sizeof(big), NULL);
}

static void test_hold_caps(void **state)
{
    struct sock_filter a[] = {{0x06, 0, 0, 0x7fff0000}};
    struct ng_confine cf;
    struct ng_creds cr;
    const uint64_t sys_admin = UINT64_C(1) << CAP_SYS_ADMIN;

    memset(&cf, 0, sizeof(cf));
    memset(&cr, 0, sizeof(cr));
    cf.active = 1;
    assert_true(ng_confine_hold_caps(&cf, &cr) == 0); /* no filter: nothing to install */
    cf.nfilters = 1;
    cf.f[0] = (struct ng_confine_filter){0, 1, a};
    assert_true(ng_confine_hold_caps(&cf, &cr) == sys_admin);
    cr.no_new_privs = 1; /* no_new_privs suffices */
    assert_true(ng_confine_hold_caps(&cf, &cr) == 0);
    cr.no_new_privs = 0;
    cr.eff = sys_admin; /* the program keeps it anyway */
    assert_true(ng_confine_hold_caps(&cf, &cr) == 0);
    cr.eff = 0;
    cf.active = 0; /* confinement = none */
    assert_true(ng_confine_hold_caps(&cf, &cr) == 0);
    assert_true(ng_confine_hold_caps(NULL, &cr) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_labels),
        cmocka_unit_test(test_hold_caps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
