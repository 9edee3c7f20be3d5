/* PROGRAM path checks shared by the options, the policy and the decision. */
#include "nsgate/program.h"

#include <string.h>

int ng_program_valid(const char *path)
{
    if (!path || path[0] != '/')
        return 0;
    if (strlen(path) >= 4096)
        return 0;
    for (const char *p = path + 1;;) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return 0;
        if (!e)
            return 1;
        p = e + 1;
    }
}

int ng_program_bare(const char *name)
{
    size_t n = name ? strnlen(name, 256) : 0;

    if (n == 0 || n > 255 || strchr(name, '/'))
        return 0;
    return strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}
