/* Attribute names (policy.md). */
#include "nsgate/attrs.h"

#include <string.h>

static const char *const names[NG_ATTR_COUNT] = {
    [NG_ATTR_CONTAINER] = "container", [NG_ATTR_CGROUP] = "cgroup", [NG_ATTR_EXE] = "exe",
    [NG_ATTR_COMM] = "comm",           [NG_ATTR_UID] = "uid",       [NG_ATTR_PID] = "pid",
    [NG_ATTR_NAME] = "name",           [NG_ATTR_POD] = "pod",
};

int ng_attr_from_name(const char *name)
{
    for (int i = 0; i < NG_ATTR_COUNT; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

const char *ng_attr_name(enum ng_attr a)
{
    return (unsigned)a < NG_ATTR_COUNT ? names[a] : "?";
}
