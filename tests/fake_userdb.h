/* A fake user database for the policy tests and fuzzer: fixed, no NSS.
 *   users  root=0 alice=1000 bob=1001 carol=1002
 *   groups root=0 wheel=10 sre=2000 ops=2001
 *   membership (getgrouplist): 0 -> 0; 1000 -> 1000,2000,10; 1001 -> 1001,2001
 * The names "dbfail" and "%dbfail" make the database fail (-EIO). */
#ifndef NSGATE_TEST_FAKE_USERDB_H
#define NSGATE_TEST_FAKE_USERDB_H

#include "nsgate/policy.h"

#include <errno.h>
#include <string.h>

static const struct {
    const char *name;
    uint32_t id;
} fake_users[] = {{"root", 0}, {"alice", 1000}, {"bob", 1001}, {"carol", 1002}},
  fake_groups[] = {{"root", 0}, {"wheel", 10}, {"sre", 2000}, {"ops", 2001}};

static int fake_user_uid(void *ctx, const char *name, uint32_t *uid)
{
    (void)ctx;
    if (strcmp(name, "dbfail") == 0)
        return -EIO;
    for (size_t i = 0; i < sizeof(fake_users) / sizeof(fake_users[0]); i++)
        if (strcmp(fake_users[i].name, name) == 0) {
            *uid = fake_users[i].id;
            return 0;
        }
    return -ENOENT;
}

static int fake_group_gid(void *ctx, const char *name, uint32_t *gid)
{
    (void)ctx;
    if (strcmp(name, "dbfail") == 0)
        return -EIO;
    for (size_t i = 0; i < sizeof(fake_groups) / sizeof(fake_groups[0]); i++)
        if (strcmp(fake_groups[i].name, name) == 0) {
            *gid = fake_groups[i].id;
            return 0;
        }
    return -ENOENT;
}

static int fake_membership(void *ctx, uint32_t uid, uint32_t *groups, size_t *n)
{
    static const uint32_t g0[] = {0}, g1000[] = {1000, 2000, 10}, g1001[] = {1001, 2001};
    const uint32_t *g;
    size_t k;

    (void)ctx;
    if (uid == 0)
        g = g0, k = 1;
    else if (uid == 1000)
        g = g1000, k = 3;
    else if (uid == 1001)
        g = g1001, k = 2;
    else
        return -ENOENT;
    if (k > *n)
        return -E2BIG;
    memcpy(groups, g, k * sizeof(*g));
    *n = k;
    return 0;
}

static const struct ng_policy_userdb fake_userdb = {
    .user_uid = fake_user_uid,
    .group_gid = fake_group_gid,
    .membership = fake_membership,
    .ctx = NULL,
};

#endif
