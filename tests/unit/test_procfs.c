/* /proc parsers, fed captured text: cgroup paths of Docker, containerd,
 * CRI-O, podman and Kubernetes (cgroupfs and systemd drivers, the pod UID),
 * status, stat, id maps and mountinfo. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "nsgate/procfs.h"

#define ID_A "4f2a1c9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a10"
#define ID_B "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void expect_id(const char *path, const char *want)
{
    char out[NG_CONTAINER_ID_LEN + 1];
    const char *why = NULL;
    int r = ng_container_id_from_path(path, out, &why);
    if (!want) {
        assert_int_equal(r, 0);
        return;
    }
    assert_int_equal(r, 1);
    assert_string_equal(out, want);
}

static void test_container_forms(void **state)
{
    expect_id("/system.slice/docker-" ID_A ".scope", ID_A);
    expect_id("/docker/" ID_A, ID_A);
    expect_id("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice/"
              "cri-containerd-" ID_A ".scope",
              ID_A);
    expect_id("/kubepods/burstable/pod5678/crio-" ID_A, ID_A);
    expect_id("/kubepods.slice/kubepods-pod1.slice/crio-" ID_A ".scope", ID_A);
    expect_id("/machine.slice/libpod-" ID_A ".scope", ID_A);
    expect_id("/machine.slice/libpod-" ID_A ".scope/container", ID_A);
    expect_id("/libpod_parent/libpod-" ID_A, ID_A);
    expect_id(
        "/system.slice/containerd.service/kubepods-besteffort-pod9.slice:cri-containerd:" ID_A,
        ID_A);
    /* Not container IDs. */
    expect_id("/", NULL);
    expect_id("/user.slice/user-1000.slice/session-2.scope", NULL);
    expect_id("/system.slice/docker-" ID_A "x.scope", NULL);
    expect_id("/system.slice/docker-ABCDEF" ID_B ".scope", NULL);
    expect_id("/other/" ID_A, NULL); /* bare ID not under docker */
    expect_id("/docker-"
              "4F2A1C9D8E7B6A5F4E3D2C1B0A9F8E7D6C5B4A3F2E1D0C9B8A7F6E5D4C3B2A10"
              ".scope",
              NULL);                               /* upper case is not an ID */
    expect_id("/system.slice/docker-" ID_A, NULL); /* docker- form needs .scope */
}

static void test_container_outermost(void **state)
{
    /* The same ID deeper (the container's own sub-groups): fine. */
    expect_id("/system.slice/docker-" ID_A ".scope/init.scope", ID_A);
    expect_id("/docker/" ID_A "/docker/" ID_A, ID_A);
    /* A different ID deeper: a container naming its own sub-group like
     * another container must not be trusted: absent, with a reason. */
    char out[NG_CONTAINER_ID_LEN + 1];
    const char *why = NULL;
    assert_int_equal(ng_container_id_from_path(
                         "/system.slice/docker-" ID_A ".scope/docker-" ID_B ".scope", out, &why),
                     0);
    assert_non_null(why);
    /* Outermost wins over an inner nested docker layout with the same ID. */
    expect_id("/docker/" ID_B "/x", ID_B);
}

#define UID_A  "6b1a7c9e-3f2d-4c5b-9a8e-7d6c5b4a3f21"
#define UID_A_ "6b1a7c9e_3f2d_4c5b_9a8e_7d6c5b4a3f21"
#define UID_S  "33d556edd3ae8ef21980288cef77ae8b" /* a static pod's */

static void expect_pod(const char *path, const char *want, int why)
{
    char out[NG_POD_UID_LEN + 1];
    const char *w = NULL;
    int r = ng_pod_uid_from_path(path, out, &w);
    assert_int_equal(r, want ? 1 : 0);
    if (want)
        assert_string_equal(out, want);
    assert_int_equal(w != NULL, why);
}

/* Kubernetes: the pod UID as the kubelet writes it into cgroup paths. */
static void test_pod_uid(void **state)
{
    /* cgroupfs driver (containerd, Docker: the container is a bare ID) */
    expect_pod("/kubepods/besteffort/pod" UID_A "/" ID_A, UID_A, 0);
    expect_pod("/kubepods/pod" UID_A "/" ID_A, UID_A, 0);
    expect_pod("/kubepods/burstable/pod" UID_S "/crio-" ID_A, UID_S, 0);
    expect_id("/kubepods/besteffort/pod" UID_A "/" ID_A, ID_A);
    expect_id("/kubepods/besteffort/pod" UID_S "/" ID_A, ID_A);
    /* systemd driver: '-' in the UID written '_' */
    expect_pod("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_A_
               ".slice/cri-containerd-" ID_A ".scope",
               UID_A, 0);
    expect_pod("/kubepods.slice/kubepods-pod" UID_A_ ".slice/crio-" ID_A ".scope", UID_A, 0);
    expect_pod("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_S
               ".slice/docker-" ID_A ".scope",
               UID_S, 0);
    /* not pod UIDs */
    expect_pod("/kubepods/burstable/pod5678/crio-" ID_A, NULL, 0);
    expect_pod("/kubepods/besteffort/pod" UID_A_ "/" ID_A, NULL, 0);    /* '_' outside a unit */
    expect_pod("/kubepods.slice/kubepods-pod" UID_A ".slice", NULL, 0); /* '-' inside one */
    expect_pod("/kubepods/besteffort/POD" UID_A, NULL, 0);
    expect_pod("/system.slice/docker-" ID_A ".scope", NULL, 0);
    expect_id("/kubepods/besteffort/pod5678/" ID_A, NULL); /* a bare ID under no real pod */
    /* A deeper component naming another pod: absent, with a reason (as for
     * container IDs: a container may make cgroups beneath its own). */
    expect_pod("/kubepods/besteffort/pod" UID_A "/" ID_A "/pod" UID_S, NULL, 1);
    expect_pod("/kubepods/besteffort/pod" UID_A "/" ID_A "/pod" UID_A, UID_A, 0);
}

static void test_cgroup_path(void **state)
{
    char out[256];
    const char *v2 = "12:pids:/a\n1:name=systemd:/sys/x\n0::/system.slice/docker-" ID_A ".scope\n";
    assert_int_equal(ng_parse_cgroup_path(v2, out, sizeof(out)), 0);
    assert_string_equal(out, "/system.slice/docker-" ID_A ".scope");
    const char *v1only = "4:memory:/m\n1:name=systemd:/docker/" ID_A "\n";
    assert_int_equal(ng_parse_cgroup_path(v1only, out, sizeof(out)), 0);
    assert_string_equal(out, "/docker/" ID_A);
    assert_int_equal(ng_parse_cgroup_path("4:memory:/m\n", out, sizeof(out)), -ENOENT);
    assert_int_equal(ng_parse_cgroup_path("", out, sizeof(out)), -ENOENT);
    assert_int_equal(ng_parse_cgroup_path("garbage", out, sizeof(out)), -ENOENT);
    assert_int_equal(ng_parse_cgroup_path("0::/toolong/aaaaaaaaaa", out, 8), -ENAMETOOLONG);
    assert_int_equal(ng_parse_cgroup_v1_path(v2, "pids", out, sizeof(out)), 0);
    assert_string_equal(out, "/a");
    /* The "0::" line must really be hierarchy 0. */
    assert_int_equal(ng_parse_cgroup_path("5::/x\n", out, sizeof(out)), -ENOENT);
}

static const char status_text[] =
    "Name:\tsleep\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t42\nPid:\t42\n"
    "Uid:\t1000\t1001\t1002\t1003\nGid:\t2000\t2001\t2002\t2003\nFDSize:\t64\n"
    "Groups:\t4 24 27 \nNSpid:\t42\tl\n"
    "CapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t000001ffffffffff\n"
    "CapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000400\nNoNewPrivs:\t1\nSeccomp:\t2\n"
    "Seccomp_filters:\t3\n";

static void test_status(void **state)
{
    struct ng_proc_status st;
    assert_int_equal(ng_parse_status(status_text, &st), 0);
    assert_int_equal(st.uid[0], 1000);
    assert_int_equal(st.uid[3], 1003);
    assert_int_equal(st.gid[1], 2001);
    assert_int_equal(st.ngroups, 3);
    assert_int_equal(st.groups[2], 27);
    assert_true(st.cap_prm == 0x1ffffffffffULL);
    assert_true(st.cap_amb == 0x400);
    assert_int_equal(st.no_new_privs, 1);
    assert_int_equal(st.seccomp, 2);
    assert_int_equal(st.seccomp_filters, 3);
    /* Missing required field, malformed ids, (uid_t)-1. */
    assert_int_equal(ng_parse_status("Uid:\t1\t1\t1\t1\n", &st), -EINVAL);
    char bad[sizeof(status_text) + 16];
    strcpy(bad, status_text);
    memcpy(strstr(bad, "1000\t1001"), "10x0", 4);
    assert_int_equal(ng_parse_status(bad, &st), -EINVAL);
    strcpy(bad, status_text);
    char *u = strstr(bad, "Uid:\t1000");
    memcpy(u, "Uid:\t4294967295\t1\t1\t1\nX:", 25);
    assert_int_equal(ng_parse_status(bad, &st), -EINVAL);
}

static void test_stat(void **state)
{
    uint64_t t;
    const char *s = "42 (evil) name) S 1 42 42 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 "
                    "123456 1000 100 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0\n";
    assert_int_equal(ng_parse_stat_starttime(s, &t), 0);
    assert_true(t == 123456);
    assert_int_equal(ng_parse_stat_starttime("42 (x) S 1 2", &t), -EINVAL);
    assert_int_equal(ng_parse_stat_starttime("no paren", &t), -EINVAL);
}

static void test_idmap(void **state)
{
    uint32_t v;
    const char *map = "         0     100000      65536\n     65536       1000          1\n";
    assert_int_equal(ng_idmap_to_inside(map, 100000, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(ng_idmap_to_inside(map, 165535, &v), 0);
    assert_int_equal(v, 65535);
    assert_int_equal(ng_idmap_to_inside(map, 1000, &v), 0);
    assert_int_equal(v, 65536);
    assert_int_equal(ng_idmap_to_inside(map, 165536, &v), -ENOENT);
    assert_int_equal(ng_idmap_to_outside(map, 0, &v), 0);
    assert_int_equal(v, 100000);
    assert_int_equal(ng_idmap_to_outside(map, 65537, &v), -ENOENT);
    assert_int_equal(ng_idmap_to_inside("0 0 4294967295\n", 4294967294u, &v), 0);
    assert_int_equal(v, 4294967294u);
    assert_int_equal(ng_idmap_to_inside("0 x 1\n", 0, &v), -EINVAL);
}

static void test_mountinfo(void **state)
{
    char out[256];
    const char *mi =
        "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
        "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
        "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
        "41 31 0:38 / /sys/fs/cgroup/uni\\040fied rw,relatime shared:5 - cgroup2 cgroup2 rw\n";
    assert_int_equal(ng_parse_cgroup2_mount(mi, out, sizeof(out)), 0);
    assert_string_equal(out, "/sys/fs/cgroup/uni fied");
    assert_int_equal(ng_parse_cgroup_v1_mount(mi, "memory", out, sizeof(out)), 0);
    assert_string_equal(out, "/sys/fs/cgroup/memory");
    assert_int_equal(ng_parse_cgroup_v1_mount(mi, "name=systemd", out, sizeof(out)), 0);
    assert_string_equal(out, "/sys/fs/cgroup/systemd");
    assert_int_equal(ng_parse_cgroup_v1_mount(mi, "cpu", out, sizeof(out)), -ENOENT);
    assert_int_equal(ng_parse_cgroup2_mount("", out, sizeof(out)), -ENOENT);
}

static void test_status_ids(void **state)
{
    struct ng_proc_ids ids;
    const char *st = "Name:\tsh\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t2572\n"
                     "Ngid:\t0\nPid:\t2572\nPPid:\t2565\nTracerPid:\t0\n"
                     "Uid:\t1000\t0\t0\t0\nGid:\t100\t100\t100\t100\nFDSize:\t64\n"
                     "Groups:\t\nNStgid:\t2572\t2\nNSpid:\t2572\t2\nNSpgid:\t2572\t2\n";

    assert_int_equal(ng_parse_status_ids(st, &ids), 0);
    assert_int_equal(ids.tgid, 2572);
    assert_int_equal(ids.ppid, 2565);
    assert_int_equal(ids.uid[0], 1000);
    assert_int_equal(ids.uid[1], 0);
    assert_int_equal(ids.gid[3], 100);
    assert_int_equal(ids.nnspid, 2);
    assert_int_equal(ids.nspid[0], 2572);
    assert_int_equal(ids.nspid[1], 2);
    assert_int_equal(ids.nnstgid, 2);
    assert_int_equal(ids.nstgid[1], 2);
    /* a thread: NStgid is its process's */
    const char *th = "Tgid:\t50\nPPid:\t1\nUid:\t0 0 0 0\nGid:\t0 0 0 0\nNStgid:\t50\t3\n"
                     "NSpid:\t51\t4\n";
    assert_int_equal(ng_parse_status_ids(th, &ids), 0);
    assert_int_equal(ids.nspid[1], 4);
    assert_int_equal(ids.nstgid[1], 3);
    /* Every field is required; junk and out-of-range pids are refused. */
    assert_int_equal(ng_parse_status_ids("Tgid:\t1\nPPid:\t0\nUid:\t0 0 0 0\n"
                                         "Gid:\t0 0 0 0\n",
                                         &ids),
                     -EINVAL);
    assert_int_equal(ng_parse_status_ids("Tgid:\t1x\nPPid:\t0\nUid:\t0 0 0 0\n"
                                         "Gid:\t0 0 0 0\nNSpid:\t1\n",
                                         &ids),
                     -EINVAL);
    assert_int_equal(ng_parse_status_ids("Tgid:\t1\nPPid:\t0\nUid:\t0 0 0 0\n"
                                         "Gid:\t0 0 0 0\nNSpid:\t1 99999999\n",
                                         &ids),
                     -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_container_forms),
        cmocka_unit_test(test_container_outermost),
        cmocka_unit_test(test_cgroup_path),
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_stat),
        cmocka_unit_test(test_idmap),
        cmocka_unit_test(test_mountinfo),
        cmocka_unit_test(test_pod_uid),
        cmocka_unit_test(test_status_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
