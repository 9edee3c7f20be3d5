/* progpath.c: a bare PROGRAM resolved in PATH below a root, never out of it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "nsgate/progpath.h"
#include "tmpdir.h"

#include <errno.h>

static void mk(const char *root, const char *rel, mode_t mode)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", root, rel);
    int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, mode);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(chmod(p, mode), 0);
}

static void dir(const char *root, const char *rel)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", root, rel);
    assert_int_equal(mkdir(p, 0755), 0);
}

static void lnk(const char *root, const char *rel, const char *to)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", root, rel);
    assert_int_equal(symlink(to, p), 0);
}

static void test_resolve(void **state)
{
    struct fx *x = *state;
    char out[512], outside[512];
    const char *r = x->tmp;

    dir(r, "root");
    dir(r, "root/usr");
    dir(r, "root/usr/local");
    dir(r, "root/usr/local/bin");
    dir(r, "root/usr/bin");
    dir(r, "root/bin");
    dir(r, "host");
    mk(r, "host/evil", 0755);
    mk(r, "root/usr/bin/tool", 0755);
    mk(r, "root/usr/local/bin/tool", 0755); /* earlier in PATH: wins */
    mk(r, "root/usr/bin/noexec", 0644);
    dir(r, "root/usr/bin/adir");
    snprintf(outside, sizeof(outside), "%s/host/evil", r);
    lnk(r, "root/usr/bin/abs", outside); /* absolute, to a host path */
    lnk(r, "root/usr/bin/up", "../../../../../../../../host/evil");
    lnk(r, "root/bin/inside", "/usr/bin/tool");    /* absolute, inside the root */
    lnk(r, "root/usr/bin/self", "/proc/self/exe"); /* a magic link */

    char rootp[512];
    snprintf(rootp, sizeof(rootp), "%s/root", r);
    int fd = open(rootp, O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(ng_progpath_resolve(fd, "tool", out, sizeof(out)), 0);
    assert_string_equal(out, "/usr/local/bin/tool");
    assert_int_equal(ng_progpath_resolve(fd, "inside", out, sizeof(out)), 0);
    assert_string_equal(out, "/bin/inside");
    assert_int_equal(ng_progpath_resolve(fd, "abs", out, sizeof(out)), -ENOENT);
    assert_int_equal(ng_progpath_resolve(fd, "up", out, sizeof(out)), -ENOENT);
    assert_int_equal(ng_progpath_resolve(fd, "self", out, sizeof(out)), -ENOENT);
    assert_int_equal(ng_progpath_resolve(fd, "noexec", out, sizeof(out)), -ENOENT);
    assert_int_equal(ng_progpath_resolve(fd, "adir", out, sizeof(out)), -ENOENT);
    assert_int_equal(ng_progpath_resolve(fd, "missing", out, sizeof(out)), -ENOENT);
    assert_int_equal(ng_progpath_resolve(fd, "usr/bin/tool", out, sizeof(out)), -EINVAL);
    assert_int_equal(ng_progpath_resolve(fd, "..", out, sizeof(out)), -EINVAL);
    assert_int_equal(ng_progpath_resolve(fd, "tool", out, 5), -ENAMETOOLONG);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_resolve, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
