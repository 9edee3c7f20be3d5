/* PROGRAM paths as the policy matches them (policy.md "The request"). */
#ifndef NSGATE_PROGRAM_H
#define NSGATE_PROGRAM_H

/* 1 when path is absolute and normalized: no empty, "." or ".." component,
 * shorter than PATH_MAX; else 0. */
int ng_program_valid(const char *path);

/* 1 when name is a bare program name as nsenter users type it ("ip"): 1 to
 * 255 bytes, no '/', not "." or "..", no NUL; else 0. It is resolved against
 * NG_PROGRAM_PATH before the policy sees it (progpath.h). */
int ng_program_bare(const char *name);

/* The fixed PATH of the program's environment (security.md) and of the
 * resolution of a bare PROGRAM. */
#define NG_PROGRAM_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

#endif
