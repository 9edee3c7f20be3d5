/* Container names from captured engine state (podman's containers.json,
 * Docker's config.v2.json, tests/data/engines) and Kubernetes pods from a
 * captured kubelet layout (tests/data/kubelet/node.txt), each laid out in a
 * temporary directory standing for / (engines.h, pods.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "nsgate/engines.h"
#include "nsgate/pods.h"
#include "tmpdir.h"

#define PODMAN_ID  "6352b587df4a9064a3c2501120e70ec84e7c5a87775b0380f968db49433b88c6"
#define PODMAN_ID2 "993aa52bcf446b9a45de995cbef0c6ddc1c359397d18d3c2c6b8911dcb55a660"
#define DOCKER_ID  "43609e7d71b64adf538800c60e615df07eca80de4d969d29664c87321fd5e7f7"
#define API_UID    "0f3c2a71-9d4e-4b8a-a1c6-2e5f7b9d0c13"

static void mkdirs(const char *root, const char *rel, mode_t mode)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s%s", root, rel);
    for (char *s = p + strlen(root) + 1; (s = strchr(s, '/')); s++) {
        *s = '\0';
        (void)mkdir(p, 0755);
        *s = '/';
    }
    (void)mkdir(p, mode);
    assert_int_equal(chmod(p, mode), 0);
}

static void put(const char *root, const char *rel, const uint8_t *data, size_t len, mode_t mode)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s%s", root, rel);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static void copy_data(const char *root, const char *name, const char *rel)
{
    size_t len;
    uint8_t *b = fx_slurp(getenv("NSGATE_TEST_DATA"), name, &len);
    put(root, rel, b, len, 0600);
    free(b);
}

static void engines_tree(const char *root)
{
    mkdirs(root, "/var/lib/containers/storage/overlay-containers", 0700);
    copy_data(root, "engines/podman-containers.json",
              "/var/lib/containers/storage/overlay-containers/containers.json");
    mkdirs(root, "/var/lib/docker/containers/" DOCKER_ID, 0710);
    copy_data(root, "engines/docker-config.v2.json",
              "/var/lib/docker/containers/" DOCKER_ID "/config.v2.json");
}

static void test_names(void **state)
{
    struct fx *x = *state;
    struct ng_engine_ids ids;
    char name[NG_ENGINE_NAME_MAX + 1];

    engines_tree(x->tmp);
    assert_int_equal(ng_engine_ids_by_name(x->tmp, "ngconf-probe", &ids), 0);
    assert_int_equal(ids.n, 1);
    assert_string_equal(ids.id[0], PODMAN_ID);
    assert_int_equal(ng_engine_ids_by_name(x->tmp, "ngconf-web-1", &ids), 0);
    assert_string_equal(ids.id[0], PODMAN_ID2);
    assert_int_equal(ng_engine_ids_by_name(x->tmp, "ngconf-dk", &ids), 0); /* Docker's "/name" */
    assert_int_equal(ids.n, 1);
    assert_string_equal(ids.id[0], DOCKER_ID);
    assert_int_equal(ng_engine_ids_by_name(x->tmp, "nosuch", &ids), 0);
    assert_int_equal(ids.n, 0);
    assert_int_equal(ng_engine_ids_by_name(x->tmp, "bad name", &ids), -EINVAL);
    assert_int_equal(ng_engine_name_by_id(x->tmp, PODMAN_ID, name, sizeof(name)), 1);
    assert_string_equal(name, "ngconf-probe");
    assert_int_equal(ng_engine_name_by_id(x->tmp, DOCKER_ID, name, sizeof(name)), 1);
    assert_string_equal(name, "ngconf-dk");
    assert_int_equal(ng_engine_name_by_id(x->tmp, PODMAN_ID "x", name, sizeof(name)), -EINVAL);
    assert_int_equal(ng_engine_name_by_id(x->tmp, DOCKER_ID, name, 4), 0); /* does not fit */
    /* The same name in two engines: both IDs (the scan then calls it ambiguous). */
    const char *dup = "[{\"id\":\"" DOCKER_ID "\",\"names\":[\"ngconf-dk\"]},"
                      "{\"id\":\"" PODMAN_ID2 "\",\"names\":[\"ngconf-dk\"]}]";
    put(x->tmp, "/var/lib/containers/storage/overlay-containers/volatile-containers.json",
        (const uint8_t *)dup, strlen(dup), 0600);
    assert_int_equal(ng_engine_ids_by_name(x->tmp, "ngconf-dk", &ids), 0);
    assert_int_equal(ids.n, 2);
    /* One ID, two names in two engines: no name rather than a guess. */
    const char *two = "[{\"id\":\"" DOCKER_ID "\",\"names\":[\"other\"]}]";
    put(x->tmp, "/var/lib/containers/storage/overlay-containers/volatile-containers.json",
        (const uint8_t *)two, strlen(two), 0600);
    assert_int_equal(ng_engine_name_by_id(x->tmp, DOCKER_ID, name, sizeof(name)), -ENOTUNIQ);
    /* A state file that group or other may write is not read. */
    put(x->tmp, "/var/lib/containers/storage/overlay-containers/volatile-containers.json",
        (const uint8_t *)dup, strlen(dup), 0622);
    assert_int_equal(ng_engine_ids_by_name(x->tmp, "ngconf-dk", &ids), 0);
    assert_int_equal(ids.n, 1);
}

static int count(void *ctx, const char *id, const char *name)
{
    (*(int *)ctx)++;
    return 0;
}

static void test_parsers(void **state)
{
    int n = 0;
    static const char *const bad[] = {"", "{}", "[", "null", "[1,2]x", "\"x\""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(ng_engine_parse_storage(bad[i], strlen(bad[i]), count, &n), -EBADMSG);
    assert_int_equal(n, 0);
    /* Entries without a valid ID or name are skipped; duplicates refused. */
    const char *t = "[{\"id\":\"" PODMAN_ID "\",\"names\":[\"ok\",\"bad name\",\"-x\",7]},"
                    "{\"id\":\"ABC\",\"names\":[\"y\"]},{\"names\":[\"z\"]},5]";
    assert_int_equal(ng_engine_parse_storage(t, strlen(t), count, &n), 0);
    assert_int_equal(n, 1);
    const char *d = "{\"ID\":\"" DOCKER_ID "\",\"ID\":\"" PODMAN_ID "\",\"Name\":\"/x\"}";
    assert_int_equal(ng_engine_parse_docker(d, strlen(d), count, &n), -EBADMSG);
    const char *d2 = "{\"ID\":\"" DOCKER_ID "\",\"Name\":\"/a b\"}";
    n = 0;
    assert_int_equal(ng_engine_parse_docker(d2, strlen(d2), count, &n), 0);
    assert_int_equal(n, 0);
    assert_true(ng_engine_valid_name("web_1.prod-a"));
    assert_true(ng_engine_valid_name("a"));
    assert_false(ng_engine_valid_name(""));
    assert_false(ng_engine_valid_name("-a"));
    assert_false(ng_engine_valid_name(".a"));
    assert_false(ng_engine_valid_name("a/b"));
    assert_false(ng_engine_valid_name("a\nb"));
}

/* Lay out the captured kubelet listing under root. */
static void kubelet_tree(const char *root)
{
    char line[1024], p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/kubelet/node.txt", getenv("NSGATE_TEST_DATA"));
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        char *type = strtok(line, " \n"), *path = strtok(NULL, " \n"), *to = strtok(NULL, " \n");
        if (!type || type[0] == '#')
            continue;
        snprintf(p, sizeof(p), "%s%s", root, path);
        if (type[0] == 'd')
            mkdirs(root, path, 0755);
        else if (type[0] == 'f')
            put(root, path, (const uint8_t *)"", 0, 0640);
        else
            assert_int_equal(symlink(to, p), 0); /* as the kubelet writes it: absolute */
    }
    fclose(f);
}

static void test_pods(void **state)
{
    struct fx *x = *state;
    struct ng_pod_matches m;
    char name[NG_POD_NS_MAX + NG_POD_NAME_MAX + 2];

    kubelet_tree(x->tmp);
    assert_int_equal(ng_pod_find(x->tmp, "payments", "api-7d9f8b6c5-x2k4q", "", &m), -ENOTUNIQ);
    assert_non_null(strstr(m.names, "app"));
    assert_non_null(strstr(m.names, "istio-proxy"));
    assert_int_equal(ng_pod_find(x->tmp, "payments", "api-7d9f8b6c5-x2k4q", "app", &m), 0);
    assert_int_equal(m.n, 2); /* restarted once: both instances; the scan keeps the running one */
    assert_string_equal(m.m[0].uid, API_UID);
    assert_string_equal(m.m[1].uid, API_UID);
    assert_int_equal(ng_pod_find(x->tmp, "payments", "api-7d9f8b6c5-x2k4q", "istio-proxy", &m), 0);
    assert_int_equal(m.n, 1);
    assert_string_equal(m.m[0].id,
                        "5b8d1f4a7c0e3b6d9f2a5c8e1b4d7f0a3c6e9b2d5f8a1c4e7b0d3f6a9c2e5b8d");
    assert_int_equal(ng_pod_find(x->tmp, "payments", "api-7d9f8b6c5-x2k4q", "nosuch", &m), -ESRCH);
    /* The StatefulSet pod of two instances: one container name, two UIDs. */
    assert_int_equal(ng_pod_find(x->tmp, "payments", "ledger-0", "", &m), 0);
    assert_string_equal(m.container, "ledger");
    assert_int_equal(m.n, 2);
    assert_string_not_equal(m.m[0].uid, m.m[1].uid);
    assert_int_equal(ng_pod_find(x->tmp, "kube-system", "kube-apiserver-controlplane", "", &m), 0);
    assert_int_equal(m.n, 1);
    assert_string_equal(m.m[0].uid, "33d556edd3ae8ef21980288cef77ae8b");
    assert_string_equal(m.m[0].id,
                        "3959d7abfbd0221e5043fccbcb8040e9a1a4e6518dad483b7a33a131885e0283");
    assert_int_equal(ng_pod_find(x->tmp, "payments", "batch-29xq7", "", &m), -ENODATA);
    assert_int_equal(ng_pod_find(x->tmp, "payments", "nosuch", "", &m), -ENOENT);
    assert_int_equal(ng_pod_find(x->tmp, "kube", "kube-proxy-6xsx9", "", &m), -ENOENT);

    assert_int_equal(ng_pod_name_by_uid(x->tmp, API_UID, name, sizeof(name)), 1);
    assert_string_equal(name, "payments/api-7d9f8b6c5-x2k4q");
    assert_int_equal(
        ng_pod_name_by_uid(x->tmp, "5e1d9c47-2b8a-4f36-9c0e-8a7b6d5c4e31", name, sizeof(name)), 1);
    assert_string_equal(name, "payments/ledger-0");
    assert_int_equal(
        ng_pod_name_by_uid(x->tmp, "00000000-0000-4000-8000-000000000000", name, sizeof(name)), 0);
    /* A second directory claiming a pod's UID: trust neither. */
    mkdirs(x->tmp, "/var/log/pods/payments_fake_81e09ae0-12ec-4ec5-94b8-51cda7906370", 0755);
    assert_int_equal(
        ng_pod_name_by_uid(x->tmp, "81e09ae0-12ec-4ec5-94b8-51cda7906370", name, sizeof(name)), 0);
    /* A link pointing at another pod's directory does not count for this one. */
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/var/log/containers/batch-29xq7_payments_batch-%s.log", x->tmp,
             "2f5a8c1e4b7d0a3f6c9e2b5d8a1f4c7e0b3d6f9a2c5e8b1d4f7a0c3e6b9d2f5a");
    assert_int_equal(symlink("/var/log/pods/payments_ledger-0_5e1d9c47-2b8a-4f36-9c0e-"
                             "8a7b6d5c4e31/ledger/0.log",
                             p),
                     0);
    assert_int_equal(ng_pod_find(x->tmp, "payments", "batch-29xq7", "", &m), -ENODATA);
    /* A kubelet tree that group or other may write is not read. */
    snprintf(p, sizeof(p), "%s/var/log/pods", x->tmp);
    assert_int_equal(chmod(p, 0777), 0);
    assert_int_equal(ng_pod_find(x->tmp, "payments", "ledger-0", "", &m), -EPERM);
    assert_int_equal(ng_pod_name_by_uid(x->tmp, API_UID, name, sizeof(name)), 0);
}

static void test_pod_names(void **state)
{
    char ns[NG_POD_NS_MAX + 1], pod[NG_POD_NAME_MAX + 1], c[NG_POD_CONTAINER_MAX + 1];
    char uid[NG_POD_UID_LEN + 1];

    assert_int_equal(ng_pod_parse_arg("payments/api-7d9f8b6c5-x2k4q", ns, pod, c), 0);
    assert_string_equal(ns, "payments");
    assert_string_equal(pod, "api-7d9f8b6c5-x2k4q");
    assert_string_equal(c, "");
    assert_int_equal(ng_pod_parse_arg("a/b.c/d", ns, pod, c), 0);
    assert_string_equal(c, "d");
    static const char *const bad[] = {"a",   "a/",    "/b",      "a/b/", "a/b/c/d", "A/b",
                                      "a/B", "a.x/b", "a/b/c.d", "a/-b", "a/b-",    "a_b/c"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(ng_pod_parse_arg(bad[i], ns, pod, c), -EINVAL);
    assert_int_equal(ng_pod_parse_dir("kube-system_kube-proxy-6xsx9_81e09ae0-12ec-4ec5-94b8-"
                                      "51cda7906370",
                                      ns, pod, uid),
                     0);
    assert_string_equal(ns, "kube-system");
    assert_string_equal(pod, "kube-proxy-6xsx9");
    assert_string_equal(uid, "81e09ae0-12ec-4ec5-94b8-51cda7906370");
    assert_int_equal(ng_pod_parse_dir("ns_pod_33d556edd3ae8ef21980288cef77ae8b", ns, pod, uid), 0);
    assert_int_equal(ng_pod_parse_dir("ns_pod_33d556edd3ae8ef21980288cef77ae8", ns, pod, uid),
                     -EINVAL);
    assert_int_equal(ng_pod_parse_dir("ns_pod", ns, pod, uid), -EINVAL);
    assert_int_equal(ng_pod_parse_dir("ns_p_o_d_33d556edd3ae8ef21980288cef77ae8b", ns, pod, uid),
                     -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_names, fx_setup, fx_teardown),
        cmocka_unit_test(test_parsers),
        cmocka_unit_test_setup_teardown(test_pods, fx_setup, fx_teardown),
        cmocka_unit_test(test_pod_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
