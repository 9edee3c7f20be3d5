/* Option parsing of enter (cli.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "nsgate/opts.h"
#include "nsgate/program.h"

static int parse(struct ng_enter_opts *o, ...)
{
    static char *argv[32]; /* o->argv points into it */
    int argc = 0;
    va_list ap;
    va_start(ap, o);
    argv[argc++] = (char *)(uintptr_t) "enter";
    for (const char *a; (a = va_arg(ap, const char *));)
        argv[argc++] = (char *)(uintptr_t)a;
    va_end(ap);
    argv[argc] = NULL;
    char err[256];
    return ng_opts_parse_enter(argc, argv, o, err, sizeof(err));
}

static void test_basic(void **state)
{
    struct ng_enter_opts o;
    assert_int_equal(parse(&o, "-t", "42", "-n", "-p", "--", "/bin/ip", "-o", "link", NULL), 0);
    assert_int_equal(o.target_pid, 42);
    assert_int_equal(o.ns, (1u << NG_NS_NET) | (1u << NG_NS_PID));
    assert_int_equal(o.argc, 3);
    assert_string_equal(o.argv[0], "/bin/ip");
    assert_string_equal(o.argv[1], "-o"); /* the program's own options are left alone */
    assert_int_equal(parse(&o, "--target", "7", "--mount", "--uts", "--ipc", "--net", "--pid",
                           "--user", "--cgroup", "--time", NULL),
                     0);
    assert_int_equal(o.ns, NG_NSSET_ALL);
    assert_null(o.argv);
    assert_int_equal(parse(&o, "-t", "7", "-muinpUCT", NULL), 0);
    assert_int_equal(o.ns, NG_NSSET_ALL);
    assert_int_equal(
        parse(&o, "-t", "7", "-a", "-r", "INC-1", "-w", "/srv", "-q", "--no-pty", "/bin/sh", NULL),
        0);
    assert_true(o.all_ns);
    assert_string_equal(o.reason, "INC-1");
    assert_string_equal(o.wd, "/srv");
    assert_true(o.quiet);
    assert_int_equal(o.pty, NG_PTY_NEVER);
    assert_int_equal(parse(&o, "--container", "abcd", "-n", NULL), 0);
    assert_string_equal(o.container, "abcd");
    assert_int_equal(parse(&o, "--container", "web_1.prod-a", "-n", NULL), 0); /* a name */
    assert_string_equal(o.container, "web_1.prod-a");
    assert_int_equal(parse(&o, "--container", "abc", "-n", NULL), 0); /* a name, not a prefix */
    assert_int_equal(parse(&o, "--pod", "payments/api-7d9f.x", "-n", NULL), 0);
    assert_string_equal(o.pod, "payments/api-7d9f.x");
    assert_int_equal(parse(&o, "--pod", "payments/api/app", "-n", NULL), 0);
    assert_null(o.container);
    assert_int_equal(
        parse(&o, "--policy", "/p", "--db", "/d", "--keys", "/k", "-t", "1", "-n", NULL), 0);
    assert_string_equal(o.policy_path, "/p");
    assert_int_equal(parse(&o, "--help", NULL), 0);
    assert_true(o.help);
}

static void test_usage_errors(void **state)
{
    struct ng_enter_opts o;
    assert_int_equal(parse(&o, "-n", NULL), -EINVAL);      /* no target */
    assert_int_equal(parse(&o, "-t", "1", NULL), -EINVAL); /* no namespace */
    assert_int_equal(parse(&o, "-t", "1", "--container", "abcd", "-n", NULL), -EINVAL);
    assert_int_equal(parse(&o, "-t", "1", "-t", "2", "-n", NULL), -EINVAL);
    assert_int_equal(parse(&o, "-t", "0", "-n", NULL), -EINVAL);
    assert_int_equal(parse(&o, "-t", "-1", "-n", NULL), -EINVAL);
    assert_int_equal(parse(&o, "-t", "1x", "-n", NULL), -EINVAL);
    assert_int_equal(parse(&o, "-t", "99999999999", "-n", NULL), -EINVAL);
    /* --container takes an ID prefix or an engine's name ([A-Za-z0-9][A-Za-z0-9_.-]*) */
    assert_int_equal(parse(&o, "--container", "-abc", "-n", NULL), -EINVAL);
    assert_int_equal(parse(&o, "--container", "_web", "-n", NULL), -EINVAL);
    assert_int_equal(parse(&o, "--container", "a/b", "-n", NULL), -EINVAL);
    assert_int_equal(parse(&o, "--container", "a b", "-n", NULL), -EINVAL);
    assert_int_equal(parse(&o, "--container", "", "-n", NULL), -EINVAL);
    assert_int_equal(parse(&o, "--container", "web", "--pod", "a/b", "-n", NULL), -EINVAL);
    assert_int_equal(parse(&o, "-t", "1", "--pod", "a/b", "-n", NULL), -EINVAL);
    /* --pod NAMESPACE/POD[/CONTAINER], Kubernetes names */
    assert_int_equal(parse(&o, "--pod", "payments", "-n", NULL), -EINVAL);
    assert_int_equal(parse(&o, "--pod", "Payments/api", "-n", NULL), -EINVAL);
    assert_int_equal(parse(&o, "--pod", "payments/api/", "-n", NULL), -EINVAL);
    assert_int_equal(parse(&o, "--pod", "payments/api/c/d", "-n", NULL), -EINVAL);
    assert_int_equal(parse(&o, "--pod", "pay.ments/api", "-n", NULL), -EINVAL);
    assert_int_equal(parse(&o, "--pod", "payments/api_1", "-n", NULL), -EINVAL);
    assert_int_equal(parse(&o, "--pod", "payments/-api", "-n", NULL), -EINVAL);
    assert_int_equal(parse(&o, "-t", "1", "-n", "--pty", "--no-pty", NULL), -EINVAL);
    assert_int_equal(parse(&o, "-t", "1", "-n", "-w", "rel", NULL), -EINVAL);
    assert_int_equal(parse(&o, "-t", "1", "-n", "--bogus", NULL), -EINVAL);
    assert_int_equal(parse(&o, "-t", "1", "-n", "--net=/proc/1/ns/net", NULL), -EINVAL);
    assert_int_equal(parse(&o, "-t", NULL), -EINVAL);
    assert_int_equal(parse(&o, "-t", "1", "-n", "./ip", NULL), -EINVAL); /* relative */
    assert_int_equal(parse(&o, "-t", "1", "-n", "sbin/ip", NULL), -EINVAL);
    assert_int_equal(parse(&o, "-t", "1", "-n", "..", NULL), -EINVAL);
    assert_int_equal(parse(&o, "-t", "1", "-n", "/bin/../sbin/ip", NULL), -EINVAL);
    assert_int_equal(parse(&o, "-t", "1", "-n", "/bin//ip", NULL), -EINVAL);
    assert_int_equal(parse(&o, "-t", "1", "-n", "/bin/./ip", NULL), -EINVAL);
    assert_int_equal(parse(&o, "-t", "1", "-n", "/bin/ip/", NULL), -EINVAL);
    assert_int_equal(parse(&o, "-t", "1", "-n", "-r", "a", "-r", "b", NULL), -EINVAL);
}

static void test_program_paths(void **state)
{
    assert_true(ng_program_valid("/bin/sh"));
    assert_true(ng_program_valid("/a/.b/..c"));
    assert_false(ng_program_valid("/"));
    assert_false(ng_program_valid(""));
    assert_false(ng_program_valid("bin/sh"));
    assert_false(ng_program_valid("/bin/.."));
    assert_false(ng_program_valid(NULL));
}

static void test_bare_names(void **state)
{
    struct ng_enter_opts o;
    char long_name[300];

    assert_int_equal(parse(&o, "-t", "1", "-n", "ip", "-o", "link", NULL), 0);
    assert_string_equal(o.argv[0], "ip");
    assert_true(ng_program_bare("ip"));
    assert_true(ng_program_bare(".hidden"));
    assert_false(ng_program_bare("."));
    assert_false(ng_program_bare(".."));
    assert_false(ng_program_bare(""));
    assert_false(ng_program_bare("a/b"));
    assert_false(ng_program_bare("/bin/ip"));
    assert_false(ng_program_bare(NULL));
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[255] = '\0';
    assert_true(ng_program_bare(long_name));
    long_name[255] = 'a';
    long_name[256] = '\0';
    assert_false(ng_program_bare(long_name));
}

static const struct ng_optdef t_opts[] = {
    {'f', 'f', "format", NG_OPT_ARG},
    {'q', 'q', "quiet", 0},
    {'v', 'v', NULL, 0},
    {256, 0, "no-timing", 0},
    {257, 0, "no-color", 0},
    {258, 0, "db", NG_OPT_ARG},
    {0, 0, NULL, 0},
};
static const struct ng_cmdspec t_permute = {
    .name = "t", .opts = t_opts, .flags = NG_CMD_PERMUTE, .max_operands = 2, .operand = "X"};
static const struct ng_cmdspec t_program = {
    .name = "t", .opts = t_opts, .max_operands = -1, .operand = "PROGRAM"};
static const struct ng_cmdspec t_one = {.name = "t",
                                        .opts = t_opts,
                                        .flags = NG_CMD_PERMUTE,
                                        .min_operands = 1,
                                        .max_operands = 1,
                                        .operand = "SESSION"};

static int tparse(const struct ng_cmdspec *spec, struct ng_optlist *l, ...)
{
    static char *argv[32];
    static char buf[32][64];
    char err[256];
    va_list ap;
    int argc = 0;

    argv[argc++] = (char *)(uintptr_t) "t";
    va_start(ap, l);
    for (const char *a; (a = va_arg(ap, const char *)); argc++)
        argv[argc] = strcpy(buf[argc], a);
    va_end(ap);
    argv[argc] = NULL;
    return ng_optparse(spec, argc, argv, l, err, sizeof(err));
}

static void test_optparse(void **state)
{
    struct ng_optlist l;

    /* Options before and after operands; --name=value and --name value. */
    assert_int_equal(tparse(&t_permute, &l, "S1", "--format=html", "-q", "--db", "x", NULL), 0);
    assert_int_equal(l.noperands, 1);
    assert_string_equal(l.operands[0], "S1");
    assert_int_equal(l.n, 3);
    assert_int_equal(l.v[0].id, 'f');
    assert_string_equal(l.v[0].arg, "html");
    assert_int_equal(l.v[2].id, 258);
    assert_string_equal(l.v[2].arg, "x");
    /* Bundles, -xVALUE, unambiguous prefixes, "-" and "--". */
    assert_int_equal(tparse(&t_permute, &l, "-qvfjsonl", "--no-t", "-", "--", "-q", NULL), 0);
    assert_int_equal(l.n, 4);
    assert_string_equal(l.v[2].arg, "jsonl");
    assert_int_equal(l.v[3].id, 256);
    assert_int_equal(l.noperands, 2);
    assert_string_equal(l.operands[0], "-");
    assert_string_equal(l.operands[1], "-q");
    /* Errors: ambiguous, unknown, missing argument, argument to a flag,
     * too many operands. */
    assert_int_equal(tparse(&t_permute, &l, "--no", NULL), -EINVAL);
    assert_int_equal(tparse(&t_permute, &l, "--nope", NULL), -EINVAL);
    assert_int_equal(tparse(&t_permute, &l, "-x", NULL), -EINVAL);
    assert_int_equal(tparse(&t_permute, &l, "-f", NULL), -EINVAL);
    assert_int_equal(tparse(&t_permute, &l, "--db", NULL), -EINVAL);
    assert_int_equal(tparse(&t_permute, &l, "--quiet=1", NULL), -EINVAL);
    assert_int_equal(tparse(&t_permute, &l, "a", "b", "c", NULL), -EINVAL);
    assert_int_equal(tparse(&t_one, &l, "-q", NULL), -EINVAL);
    assert_int_equal(tparse(&t_one, &l, "a", "b", NULL), -EINVAL);
    assert_int_equal(tparse(&t_one, &l, "-q", "a", NULL), 0);
    /* Without permutation the first operand ends the options. */
    assert_int_equal(tparse(&t_program, &l, "-q", "/bin/ls", "-l", "--db", NULL), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.noperands, 3);
    assert_string_equal(l.operands[1], "-l");
    assert_true(ng_optlist_has(&l, 'q'));
    assert_false(ng_optlist_has(&l, 'f'));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),         cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_program_paths), cmocka_unit_test(test_bare_names),
        cmocka_unit_test(test_optparse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
