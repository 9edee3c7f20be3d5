/* Caller reach (reach.h): how a session is kept out of the caller's reach,
 * for every run_as outcome; the maps of nsgate's user namespace; the
 * /etc/subuid check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "nsgate/reach.h"

static struct ng_creds cr;
static struct ng_reach_in in;
static char why[320];

static int setup(void **state)
{
    (void)state;
    memset(&cr, 0, sizeof(cr));
    cr.ids.uid = cr.host.uid = 1000;
    cr.ids.gid = cr.host.gid = 1000;
    memset(&in, 0, sizeof(in));
    in.caller_uid = 1000;
    in.userns_available = 1;
    in.cr = &cr;
    return 0;
}

static enum ng_reach decide(int want_rc)
{
    enum ng_reach r = NG_REACH_ALLOWED;
    why[0] = '\0';
    assert_int_equal(ng_reach_decide(&in, &r, why, sizeof(why)), want_rc);
    assert_true(why[0] != '\0'); /* every outcome is explained */
    return r;
}

static void test_caller_uid_in_host_userns(void **state)
{
    (void)state;
    /* run_as = caller, a UID the caller holds, a target running as the
     * caller: the program's host uid is the caller's. */
    assert_int_equal(decide(0), NG_REACH_USERNS);
    assert_non_null(strstr(why, "user namespace of nsgate's"));
    /* Capabilities would act in nsgate's namespace only: refused ... */
    cr.prm = cr.eff = cr.amb = 1u << 12;
    assert_int_equal(decide(-EPERM), NG_REACH_REFUSED);
    assert_non_null(strstr(why, "capabilities (permitted 0x1000)"));
    /* ... unless the rule accepts an unprotected session. */
    in.allow = 1;
    assert_int_equal(decide(0), NG_REACH_ALLOWED);
    assert_non_null(strstr(why, "accepted unprotected by caller_reach = allow"));
    /* A bounding or inheritable set alone gives nothing: still isolated. */
    in.allow = 0;
    cr.prm = cr.eff = cr.amb = 0;
    cr.bnd = cr.inh = ~0ULL;
    assert_int_equal(decide(0), NG_REACH_USERNS);
    /* With allow, isolation is still given where it can be. */
    in.allow = 1;
    assert_int_equal(decide(0), NG_REACH_USERNS);
}

static void test_no_userns_on_this_kernel(void **state)
{
    (void)state;
    in.userns_available = 0;
    assert_int_equal(decide(-EPERM), NG_REACH_REFUSED);
    assert_non_null(strstr(why, "cannot create a user namespace"));
    in.allow = 1;
    assert_int_equal(decide(0), NG_REACH_ALLOWED);
}

static void test_other_uid(void **state)
{
    (void)state;
    cr.host.uid = 0; /* run_as = root on the host */
    assert_int_equal(decide(0), NG_REACH_OTHER_UID);
    assert_string_equal(why, "the program runs as host uid 0, not the caller's (1000)");
    /* Capabilities do not matter then, nor the kernel. */
    cr.prm = cr.eff = ~0ULL;
    in.userns_available = 0;
    assert_int_equal(decide(0), NG_REACH_OTHER_UID);
    /* The same gid as the caller's does not help the caller: ptrace needs
     * both to match. */
    cr.host.uid = 4321;
    cr.host.gid = 1000;
    assert_int_equal(decide(0), NG_REACH_OTHER_UID);
}

static void test_root_caller(void **state)
{
    (void)state;
    in.caller_uid = 0;
    cr.host.uid = 0;
    assert_int_equal(decide(0), NG_REACH_ROOT);
    in.in_entered_userns = 1;
    in.caller_owns_userns = 1;
    assert_int_equal(decide(0), NG_REACH_ROOT);
}

static void test_entered_userns(void **state)
{
    (void)state;
    in.in_entered_userns = 1;
    /* The caller's own (rootless) container: refused whatever the uid. */
    in.caller_owns_userns = 1;
    cr.host.uid = 100000;
    assert_int_equal(decide(-EPERM), NG_REACH_REFUSED);
    assert_non_null(strstr(why, "owned by the caller (uid 1000)"));
    in.allow = 1;
    assert_int_equal(decide(0), NG_REACH_ALLOWED);
    /* Someone else's namespace, mapping the program to the caller's uid:
     * nsgate cannot nest an isolating namespace there. */
    in.allow = 0;
    in.caller_owns_userns = 0;
    cr.host.uid = 1000;
    assert_int_equal(decide(-EPERM), NG_REACH_REFUSED);
    assert_non_null(strstr(why, "is the caller's host uid 1000"));
    /* ... and mapping it elsewhere: out of reach already. */
    cr.host.uid = 100033;
    assert_int_equal(decide(0), NG_REACH_OTHER_UID);
    assert_non_null(strstr(why, "in the target's user namespace"));
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(ng_reach_name(NG_REACH_USERNS), "userns");
    assert_string_equal(ng_reach_name(NG_REACH_OTHER_UID), "other-uid");
    assert_string_equal(ng_reach_name(NG_REACH_ROOT), "root");
    assert_string_equal(ng_reach_name(NG_REACH_ALLOWED), "allowed");
    assert_null(ng_reach_name(NG_REACH_REFUSED));
    enum ng_reach r;
    assert_int_equal(ng_reach_decide(NULL, &r, NULL, 0), -EINVAL);
    in.cr = NULL;
    assert_int_equal(ng_reach_decide(&in, &r, NULL, 0), -EINVAL);
}

static void test_maps(void **state)
{
    char buf[4000];
    (void)state;
    assert_int_equal(ng_reach_uid_map(&cr, NG_REACH_UID_BASE + 4242, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "1000 2013270162 1\n");
    /* gid and groups map to themselves, sorted, duplicates and neighbours
     * merged into ranges. */
    cr.ids.gid = 1000;
    cr.ids.ngroups = 5;
    cr.ids.groups[0] = 27;
    cr.ids.groups[1] = 1000;
    cr.ids.groups[2] = 4;
    cr.ids.groups[3] = 5;
    cr.ids.groups[4] = 0;
    assert_int_equal(ng_reach_gid_map(&cr, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "0 0 1\n4 4 2\n27 27 1\n1000 1000 1\n");
    /* Too many lines for the buffer (the kernel takes less than a page). */
    cr.ids.ngroups = NG_MAX_GROUPS;
    for (size_t i = 0; i < NG_MAX_GROUPS; i++)
        cr.ids.groups[i] = (uint32_t)(4000000000u - 2 * i);
    assert_int_equal(ng_reach_gid_map(&cr, buf, sizeof(buf)), -ENOSPC);
    assert_int_equal(ng_reach_uid_map(&cr, 1, buf, 4), -ENOSPC);
}

static void test_subuid_lines(void **state)
{
    (void)state;
    uint32_t h = NG_REACH_UID_BASE + 1;
    assert_false(ng_reach_subid_line_covers("alice:100000:65536", h));
    assert_true(ng_reach_subid_line_covers("alice:100000:65536", 165535));
    assert_false(ng_reach_subid_line_covers("alice:100000:65536", 165536));
    assert_true(ng_reach_subid_line_covers("bob:2013265920:1000", h));
    assert_true(ng_reach_subid_line_covers("1000:2000000000:20000000", h));
    assert_false(ng_reach_subid_line_covers("", h));
    assert_false(ng_reach_subid_line_covers("# comment", h));
    /* What cannot be parsed counts as covering: fail closed. */
    assert_true(ng_reach_subid_line_covers("garbage", h));
    assert_true(ng_reach_subid_line_covers("x:1:", h));
    assert_true(ng_reach_subid_line_covers("x:-1:5", h));
    assert_true(ng_reach_subid_line_covers("x:1:99999999999", h));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_caller_uid_in_host_userns, setup),
        cmocka_unit_test_setup(test_no_userns_on_this_kernel, setup),
        cmocka_unit_test_setup(test_other_uid, setup),
        cmocka_unit_test_setup(test_root_caller, setup),
        cmocka_unit_test_setup(test_entered_userns, setup),
        cmocka_unit_test_setup(test_names, setup),
        cmocka_unit_test_setup(test_maps, setup),
        cmocka_unit_test_setup(test_subuid_lines, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
