/* Pure parsers for /proc text. No I/O: fed captured text in unit tests and
 * fuzzers; target.c and cgroup.c read the files and call these. Every parser
 * is bounded and treats its input as hostile (a container chooses the names
 * of cgroups below its own). */
#ifndef NSGATE_PROCFS_H
#define NSGATE_PROCFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NG_MAX_GROUPS       256
#define NG_CONTAINER_ID_LEN 64
/* A Kubernetes pod UID: a UUID; static pods have 32 hex digits. */
#define NG_POD_UID_LEN 36

struct ng_proc_status {
    uint32_t uid[4]; /* real, effective, saved, fs */
    uint32_t gid[4];
    size_t ngroups;
    uint32_t groups[NG_MAX_GROUPS];
    uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
    int no_new_privs;    /* -1 when the kernel does not report it */
    int seccomp;         /* 0 none, 1 strict, 2 filter; -1 unknown */
    int seccomp_filters; /* filters attached (Seccomp_filters); -1 unknown */
};

/* /proc/PID/status. -EINVAL on a missing or malformed required field,
 * -E2BIG with more than NG_MAX_GROUPS supplementary groups. */
int ng_parse_status(const char *text, struct ng_proc_status *ret);

/* Deepest pid namespace nesting the kernel allows (MAX_PID_NS_LEVEL) + 1. */
#define NG_MAX_PIDNS_LEVELS 33

/* The ids of a task, from /proc/PID/status as the reader's namespaces see
 * them (the command recorder reads them for every exec). */
struct ng_proc_ids {
    int64_t tgid, ppid;
    uint32_t uid[4]; /* real, effective, saved, fs */
    uint32_t gid[4];
    int64_t nspid[NG_MAX_PIDNS_LEVELS]; /* NSpid (the thread): the reader's level first */
    size_t nnspid;
    int64_t nstgid[NG_MAX_PIDNS_LEVELS]; /* NStgid (its process); NSpid when absent */
    size_t nnstgid;
};

/* Tgid, PPid, Uid, Gid, NSpid (and NStgid when there) of /proc/PID/status;
 * -EINVAL when one is missing or malformed. */
int ng_parse_status_ids(const char *text, struct ng_proc_ids *ret);

/* /proc/PID/stat: field 22, start time in clock ticks since boot. The comm
 * field may hold spaces and parentheses: parse after the last ')'. */
int ng_parse_stat_starttime(const char *text, uint64_t *ret);

/* /proc/PID/cgroup: the cgroup v2 path (the "0::" line), or on a host
 * without v2 the "name=systemd" line's path. -ENOENT when neither. */
int ng_parse_cgroup_path(const char *text, char *out, size_t size);
/* The path of a v1 hierarchy named by its controller list or name= option,
 * exactly as in the second field ("memory", "cpu,cpuacct", "name=systemd"). */
int ng_parse_cgroup_v1_path(const char *text, const char *hier, char *out, size_t size);

/* The container ID of a cgroup path (policy.md "Target attributes"): the
 * 64-hex ID of the outermost component that carries one. Returns 1 and fills
 * out (65 bytes) when found; 0 when absent, with *why explaining when a
 * deeper component carries a different ID (why may be NULL). */
int ng_container_id_from_path(const char *path, char out[NG_CONTAINER_ID_LEN + 1],
                              const char **why);

/* The Kubernetes pod UID of a cgroup path: the outermost component
 * "pod<UID>" (kubelet cgroupfs driver) or "kubepods[-QOS]-pod<UID>.slice"
 * (systemd driver, '_' for '-'); UID is a UUID or 32 hex digits (static
 * pods). 1 and out filled (with '-'), 0 when absent, with *why set when a
 * deeper component names a different UID (why may be NULL). */
int ng_pod_uid_from_path(const char *path, char out[NG_POD_UID_LEN + 1], const char **why);

/* Translate an id through a uid_map/gid_map as read from the initial user
 * namespace ("inside outside count" lines): the id inside for host id.
 * -ENOENT when unmapped. */
int ng_idmap_to_inside(const char *map, uint32_t host_id, uint32_t *ret);

/* /proc/self/mountinfo: the mount point of the first cgroup2 filesystem.
 * Octal escapes (\040) are decoded. -ENOENT when none. */
int ng_parse_cgroup2_mount(const char *mountinfo, char *out, size_t size);
/* The mount point of the cgroup v1 hierarchy whose super options include opt
 * ("memory", "name=systemd"). -ENOENT when none. */
int ng_parse_cgroup_v1_mount(const char *mountinfo, const char *opt, char *out, size_t size);

/* The inverse: the host id for an id inside. -ENOENT when unmapped. */
int ng_idmap_to_outside(const char *map, uint32_t inside_id, uint32_t *ret);

#endif
