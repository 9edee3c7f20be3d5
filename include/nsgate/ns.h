/* The namespace table: data, with the entry order written beside it. */
#ifndef NSGATE_NS_H
#define NSGATE_NS_H

#include <stdint.h>
#include <sys/types.h>

/* Index order is the entry order of util-linux nsenter: user first, so the
 * two-pass loop (enter.c) can skip it on the first pass and take it first on
 * the second. Bit i of a namespace set is ng_ns_table[i]. */
enum ng_ns {
    NG_NS_USER = 0,
    NG_NS_CGROUP,
    NG_NS_IPC,
    NG_NS_UTS,
    NG_NS_NET,
    NG_NS_PID,
    NG_NS_MNT,
    NG_NS_TIME,
    NG_NS_COUNT
};

typedef uint32_t ng_nsset; /* bit (1u << enum ng_ns) */
#define NG_NSSET_ALL ((ng_nsset)((1u << NG_NS_COUNT) - 1))

struct ng_ns_info {
    const char *name; /* policy and output name: "mnt", "net", ... */
    const char *proc; /* file under /proc/PID/ns/ */
    int clone_flag;   /* CLONE_NEW* for setns */
};

extern const struct ng_ns_info ng_ns_table[NG_NS_COUNT];

/* Look up a policy name ("mnt", "net", ...); -1 when unknown. */
int ng_ns_from_name(const char *name);
/* Comma-separated names in table order into buf ("net,pid"); "-" if empty. */
void ng_nsset_format(ng_nsset set, char *buf, size_t size);

/* The identity of one namespace: device and inode of its nsfs file. */
struct ng_ns_id {
    uint64_t dev;
    uint64_t ino;
    int present; /* the kernel has this namespace type */
};

#endif
