/* A fresh temporary directory per test (cmocka setup/teardown), removed with
 * everything in it afterwards, and a whole-file reader. Header-only: the unit
 * test CMake builds one executable per test_*.c. */
#ifndef NSGATE_TEST_TMPDIR_H
#define NSGATE_TEST_TMPDIR_H

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct fx {
    char tmp[64]; /* the temporary directory */
    char dir[96]; /* tmp/keys, not created */
};

static int fx_rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    return remove(p);
}

static int fx_setup(void **state)
{
    struct fx *x = calloc(1, sizeof(*x));
    assert_non_null(x);
    strcpy(x->tmp, "/tmp/ng_test_XXXXXX");
    assert_non_null(mkdtemp(x->tmp));
    snprintf(x->dir, sizeof(x->dir), "%s/keys", x->tmp);
    *state = x;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *x = *state;
    (void)nftw(x->tmp, fx_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(x);
    return 0;
}

/* The whole file dir/name, malloc'd; *len set. */
__attribute__((unused)) static uint8_t *fx_slurp(const char *dir, const char *name, size_t *len)
{
    char path[PATH_MAX];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    uint8_t *buf = malloc((size_t)st.st_size + 1);
    assert_non_null(buf);
    assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
    close(fd);
    *len = (size_t)st.st_size;
    return buf;
}

#endif
