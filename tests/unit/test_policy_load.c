/* The policy loader (policy.md: a regular file owned by root, not writable
 * by group or other, in such a directory; checked with fstat on the
 * descriptors read) and the system user database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nsgate/policy.h"

#define RULE "[allow a]\nusers = *\ntargets = *\nnamespaces = net\n"

static char tmpdir[64];

static void write_file(const char *name, const char *text, mode_t mode)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    assert_int_equal(chmod(path, mode), 0);
}

static int load(const char *name, unsigned flags, const char **why)
{
    char path[128], *buf = NULL;
    size_t len = 0;
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    int r = ng_policy_load(path, flags, &buf, &len, why);
    if (r == 0) {
        assert_non_null(buf);
        assert_int_equal(buf[len], '\0');
    }
    free(buf);
    return r;
}

static void test_load(void **state)
{
    const char *why;
    char path[128];

    snprintf(tmpdir, sizeof(tmpdir), "/tmp/nsgate-policy-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    write_file("ok.ini", RULE, 0644);
    write_file("gw.ini", RULE, 0664);
    write_file("ow.ini", RULE, 0646);
    snprintf(path, sizeof(path), "%s/link.ini", tmpdir);
    assert_int_equal(symlink("ok.ini", path), 0);
    snprintf(path, sizeof(path), "%s/fifo.ini", tmpdir);
    assert_int_equal(mkfifo(path, 0600), 0);

    if (geteuid() != 0) {
        /* Files we create are ours, not root's. */
        assert_int_equal(load("ok.ini", 0, &why), -EPERM);
        assert_string_equal(why, "is not owned by root");
    } else {
        assert_int_equal(load("ok.ini", 0, &why), 0);
        assert_null(why);
        assert_int_equal(load("gw.ini", 0, &why), -EPERM);
        assert_string_equal(why, "is writable by group or other");
        assert_int_equal(load("ow.ini", 0, &why), -EPERM);
        assert_string_equal(why, "is writable by group or other");
        /* check evaluates an unsafe file anyway, with the warning. */
        assert_int_equal(load("gw.ini", NG_POLICY_LOAD_UNSAFE_OK, &why), 0);
        assert_string_equal(why, "is writable by group or other");
        snprintf(path, sizeof(path), "%s/ok.ini", tmpdir);
        assert_int_equal(chown(path, 1000, 0), 0);
        assert_int_equal(load("ok.ini", 0, &why), -EPERM);
        assert_string_equal(why, "is not owned by root");
        assert_int_equal(chown(path, 0, 0), 0);
        assert_int_equal(chmod(tmpdir, 0777), 0);
        assert_int_equal(load("ok.ini", 0, &why), -EPERM);
        assert_string_equal(why, "is in a directory writable by group or other");
        assert_int_equal(chmod(tmpdir, 0755), 0);
        assert_int_equal(chown(tmpdir, 1000, 0), 0);
        assert_int_equal(load("ok.ini", 0, &why), -EPERM);
        assert_string_equal(why, "is in a directory not owned by root");
        assert_int_equal(load("ok.ini", NG_POLICY_LOAD_UNSAFE_OK, &why), 0);
        assert_string_equal(why, "is in a directory not owned by root");
        assert_int_equal(chown(tmpdir, 0, 0), 0);
    }
    /* Never followed, never read, in either mode. */
    assert_int_equal(load("link.ini", NG_POLICY_LOAD_UNSAFE_OK, &why), -ELOOP);
    assert_string_equal(why, "is a symbolic link");
    assert_int_equal(load("fifo.ini", NG_POLICY_LOAD_UNSAFE_OK, &why), -EINVAL);
    assert_string_equal(why, "is not a regular file");
    assert_int_equal(load("missing.ini", NG_POLICY_LOAD_UNSAFE_OK, &why), -ENOENT);
    assert_int_equal(load("", NG_POLICY_LOAD_UNSAFE_OK, &why), -EISDIR);

    /* Bounded: over 1 MiB is refused. */
    char *big = malloc(NG_POLICY_FILE_MAX + 2);
    assert_non_null(big);
    memset(big, '#', NG_POLICY_FILE_MAX + 1);
    big[NG_POLICY_FILE_MAX + 1] = '\0';
    write_file("big.ini", big, 0644);
    free(big);
    assert_int_equal(load("big.ini", NG_POLICY_LOAD_UNSAFE_OK, &why), -EFBIG);
    assert_string_equal(why, "is larger than 1 MiB");

    static const char *const names[] = {"ok.ini",   "gw.ini",   "ow.ini",
                                        "link.ini", "fifo.ini", "big.ini"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", tmpdir, names[i]);
        (void)unlink(path);
    }
    assert_int_equal(rmdir(tmpdir), 0);
}

static void test_system_userdb(void **state)
{
    /* root exists everywhere, with uid and gid 0. */
    uint32_t id = 1, groups[NG_MAX_GROUPS];
    size_t n = NG_MAX_GROUPS;
    assert_int_equal(ng_policy_userdb_system.user_uid(NULL, "root", &id), 0);
    assert_int_equal(id, 0);
    id = 1;
    assert_int_equal(ng_policy_userdb_system.group_gid(NULL, "root", &id), 0);
    assert_int_equal(id, 0);
    assert_int_equal(ng_policy_userdb_system.membership(NULL, 0, groups, &n), 0);
    assert_true(n >= 1);
    assert_int_equal(groups[0], 0);
    assert_int_equal(ng_policy_userdb_system.user_uid(NULL, "no-such-user-nsgate", &id), -ENOENT);
    assert_int_equal(ng_policy_userdb_system.group_gid(NULL, "no-such-group-nsgate", &id), -ENOENT);
    n = 0; /* too small */
    assert_int_equal(ng_policy_userdb_system.membership(NULL, 0, groups, &n), -E2BIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_system_userdb),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
