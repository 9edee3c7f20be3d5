/* Namespace names, /proc files and clone flags in one table. */
#include "nsgate/ns.h"

#include <sched.h>
#include <stdio.h>
#include <string.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

const struct ng_ns_info ng_ns_table[NG_NS_COUNT] = {
    [NG_NS_USER] = {"user", "user", CLONE_NEWUSER},
    [NG_NS_CGROUP] = {"cgroup", "cgroup", CLONE_NEWCGROUP},
    [NG_NS_IPC] = {"ipc", "ipc", CLONE_NEWIPC},
    [NG_NS_UTS] = {"uts", "uts", CLONE_NEWUTS},
    [NG_NS_NET] = {"net", "net", CLONE_NEWNET},
    [NG_NS_PID] = {"pid", "pid", CLONE_NEWPID},
    [NG_NS_MNT] = {"mnt", "mnt", CLONE_NEWNS},
    [NG_NS_TIME] = {"time", "time", CLONE_NEWTIME},
};

int ng_ns_from_name(const char *name)
{
    for (int i = 0; i < NG_NS_COUNT; i++)
        if (strcmp(ng_ns_table[i].name, name) == 0)
            return i;
    return -1;
}

void ng_nsset_format(ng_nsset set, char *buf, size_t size)
{
    size_t o = 0;

    if (size == 0)
        return;
    buf[0] = '\0';
    for (int i = 0; i < NG_NS_COUNT; i++) {
        if (!(set & (1u << i)))
            continue;
        int n = snprintf(buf + o, size - o, "%s%s", o ? "," : "", ng_ns_table[i].name);
        if (n < 0 || (size_t)n >= size - o)
            return;
        o += (size_t)n;
    }
    if (o == 0)
        snprintf(buf, size, "-");
}
