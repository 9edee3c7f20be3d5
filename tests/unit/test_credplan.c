/* The program's credentials as a pure function of run_as, capabilities, the
 * target, the caller and the user namespace it ends in; progenv. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "nsgate/credplan.h"
#include "nsgate/progenv.h"

#define ALL 0x1ffffffffffULL
static struct ng_proc_status target;
static struct ng_idset caller;
static struct ng_constraints c;

static int setup(void **state)
{
    memset(&target, 0, sizeof(target));
    target.uid[0] = 100000; /* root of a user namespace mapped at 100000 */
    target.gid[0] = 100000;
    target.ngroups = 1;
    target.groups[0] = 100010;
    target.cap_prm = target.cap_eff = target.cap_bnd = 0xa80425fbULL;
    memset(&caller, 0, sizeof(caller));
    caller.uid = 1000;
    caller.gid = 1000;
    caller.ngroups = 1;
    caller.groups[0] = 27;
    ng_constraints_default(&c);
    return 0;
}

static struct ng_credplan_in in(int userns)
{
    struct ng_credplan_in i = {
        .c = &c,
        .target = &target,
        .caller = &caller,
        .enter_userns = userns,
        .uid_map = "0 100000 65536\n",
        .gid_map = "0 100000 65536\n",
        .in_target_userns = userns,
        .all_caps = ALL,
    };
    return i;
}

static void test_target_in_userns(void **state)
{
    struct ng_credplan_in i = in(1);
    struct ng_creds cr;
    assert_int_equal(ng_credplan_compute(&i, &cr), 0);
    assert_int_equal(cr.ids.uid, 0); /* as seen from the target's namespace */
    assert_int_equal(cr.host.uid, 100000);
    assert_int_equal(cr.ids.groups[0], 10);
    assert_true(cr.prm == 0xa80425fbULL && cr.bnd == 0xa80425fbULL && cr.amb == 0);
    assert_false(cr.noroot);
    assert_true(cr.no_new_privs);
}

static void test_target_caps_outside_userns_is_none(void **state)
{
    struct ng_credplan_in i = in(0); /* program stays in nsgate's user namespace */
    struct ng_creds cr;
    assert_int_equal(ng_credplan_compute(&i, &cr), 0);
    assert_int_equal(cr.ids.uid, 100000); /* host ids */
    assert_true(cr.prm == 0 && cr.eff == 0 && cr.bnd == 0 && cr.inh == 0 && cr.amb == 0);
}

static void test_run_as_forms(void **state)
{
    struct ng_credplan_in i = in(1);
    struct ng_creds cr;
    c.run_as = NG_RUN_AS_ROOT;
    c.caps = NG_CAPS_NONE;
    assert_int_equal(ng_credplan_compute(&i, &cr), 0);
    assert_int_equal(cr.ids.uid, 0);
    assert_int_equal(cr.ids.ngroups, 0);
    assert_int_equal(cr.host.uid, 100000);
    assert_true(cr.noroot); /* uid 0 without capabilities: NOROOT securebits */
    c.run_as = NG_RUN_AS_IDS;
    c.uid = 33;
    c.has_gid = 0;
    assert_int_equal(ng_credplan_compute(&i, &cr), 0);
    assert_int_equal(cr.ids.uid, 33);
    assert_int_equal(cr.ids.gid, 33);
    assert_int_equal(cr.ids.ngroups, 0); /* UID alone: no supplementary groups */
    c.has_gid = 1;
    c.gid = 44;
    assert_int_equal(ng_credplan_compute(&i, &cr), 0);
    assert_int_equal(cr.ids.gid, 44);
    assert_int_equal(cr.ids.ngroups, 1);
    assert_int_equal(cr.ids.groups[0], 44);
    c.uid = 70000; /* not mapped in the target's namespace */
    assert_int_equal(ng_credplan_compute(&i, &cr), -ERANGE);
    c.run_as = NG_RUN_AS_CALLER; /* caller 1000 is not mapped either */
    assert_int_equal(ng_credplan_compute(&i, &cr), -ERANGE);
    i = in(0);
    assert_int_equal(ng_credplan_compute(&i, &cr), 0);
    assert_int_equal(cr.ids.uid, 1000);
    assert_int_equal(cr.ids.groups[0], 27);
}

static void test_caps_list_and_keep(void **state)
{
    struct ng_credplan_in i = in(0);
    struct ng_creds cr;
    c.confinement = NG_CONFINE_NONE; /* the lists as given, whatever the target's bounding set */
    c.run_as = NG_RUN_AS_CALLER;
    c.caps = NG_CAPS_LIST;
    c.cap_list = (1ULL << 12) | (1ULL << 13); /* net_admin, net_raw */
    assert_int_equal(ng_credplan_compute(&i, &cr), 0);
    assert_true(cr.amb == c.cap_list && cr.prm == c.cap_list && cr.bnd == c.cap_list);
    assert_true(ng_creds_exceed_caller(&cr, &caller)); /* capabilities: more than the caller */
    c.caps = NG_CAPS_NONE;
    assert_int_equal(ng_credplan_compute(&i, &cr), 0);
    assert_false(ng_creds_exceed_caller(&cr, &caller));
    c.caps = NG_CAPS_KEEP;
    c.run_as = NG_RUN_AS_ROOT;
    assert_int_equal(ng_credplan_compute(&i, &cr), 0);
    assert_true(cr.prm == ALL && cr.amb == 0 && !cr.noroot);
    assert_true(ng_creds_exceed_caller(&cr, &caller));
}

/* confinement = target: nothing outside the target's bounding set survives,
 * whatever capabilities says; the target's no_new_privs is kept. */
static void test_confinement_target(void **state)
{
    struct ng_credplan_in i = in(0);
    struct ng_creds cr;
    c.run_as = NG_RUN_AS_CALLER;
    c.caps = NG_CAPS_LIST;
    c.cap_list = (1ULL << 12) | (1ULL << 13); /* net_admin (not in the target's set), net_raw */
    assert_int_equal(ng_credplan_compute(&i, &cr), 0);
    assert_true(cr.amb == (1ULL << 13) && cr.prm == (1ULL << 13) && cr.bnd == (1ULL << 13));
    c.caps = NG_CAPS_KEEP;
    c.run_as = NG_RUN_AS_ROOT;
    assert_int_equal(ng_credplan_compute(&i, &cr), 0);
    assert_true(cr.prm == 0xa80425fbULL && cr.eff == cr.prm && cr.bnd == cr.prm &&
                cr.inh == cr.prm && cr.amb == 0);
    /* no_new_privs: the policy's, or the target's when it has it. */
    c.no_new_privs = 0;
    assert_int_equal(ng_credplan_compute(&i, &cr), 0);
    assert_false(cr.no_new_privs);
    target.no_new_privs = 1;
    assert_int_equal(ng_credplan_compute(&i, &cr), 0);
    assert_true(cr.no_new_privs);
    c.confinement = NG_CONFINE_NONE;
    assert_int_equal(ng_credplan_compute(&i, &cr), 0);
    assert_false(cr.no_new_privs);
    assert_true(cr.prm == ALL);
}

static void test_exceed_groups(void **state)
{
    struct ng_creds cr;
    memset(&cr, 0, sizeof(cr));
    cr.host = caller;
    assert_false(ng_creds_exceed_caller(&cr, &caller));
    cr.host.groups[cr.host.ngroups++] = 4; /* a group the caller lacks */
    assert_true(ng_creds_exceed_caller(&cr, &caller));
}

static void test_progenv(void **state)
{
    char *env[] = {(char *)(uintptr_t) "TERM=xterm",  (char *)(uintptr_t) "LANG=en_US.UTF-8",
                   (char *)(uintptr_t) "LC_ALL=$(x)", (char *)(uintptr_t) "TERMX=1",
                   (char *)(uintptr_t) "LC_BOGUS=C",  NULL};
    const char *setenv[] = {"EDITOR=vi", "TERM=dumb"};
    struct ng_env e;
    assert_int_equal(ng_env_build(&e, env, 0, "sess", setenv, 2), 0);
    char joined[1024] = "";
    for (size_t k = 0; k < e.n; k++) {
        strcat(joined, e.v[k]);
        strcat(joined, ";");
    }
    assert_non_null(strstr(joined, "LANG=en_US.UTF-8;"));
    assert_null(strstr(joined, "LC_ALL"));
    assert_null(strstr(joined, "TERMX"));
    assert_null(strstr(joined, "LC_BOGUS"));
    assert_non_null(strstr(joined, "HOME=/root;"));
    assert_non_null(strstr(joined, "NSGATE_SESSION=sess;"));
    assert_non_null(strstr(joined, "TERM=dumb;"));
    assert_null(strstr(joined, "TERM=xterm"));
    ng_env_free(&e);
    const char *bad[] = {"LD_PRELOAD=/x.so"};
    assert_int_equal(ng_env_build(&e, env, 1000, NULL, bad, 1), -EINVAL);
    assert_int_equal(ng_env_build(&e, NULL, 1000, NULL, NULL, 0), 0);
    assert_string_equal(e.v[1], "HOME=/");
    ng_env_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_target_in_userns, setup),
        cmocka_unit_test_setup(test_target_caps_outside_userns_is_none, setup),
        cmocka_unit_test_setup(test_run_as_forms, setup),
        cmocka_unit_test_setup(test_caps_list_and_keep, setup),
        cmocka_unit_test_setup(test_confinement_target, setup),
        cmocka_unit_test_setup(test_exceed_groups, setup),
        cmocka_unit_test(test_progenv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
