/* PROGRAM paths as the policy matches them (policy.md "The request"). */
#ifndef NSGATE_PROGRAM_H
#define NSGATE_PROGRAM_H

/* 1 when path is absolute and normalized: no empty, "." or ".." component,
 * shorter than PATH_MAX; else 0. */
int ng_program_valid(const char *path);

#endif
