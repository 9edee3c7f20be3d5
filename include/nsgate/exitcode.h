/* The exit statuses of cli.md: the command layer picks them, lower layers
 * return negative errno, and the entering child hands one of these to the
 * recorder over its error pipe. */
#ifndef NSGATE_EXITCODE_H
#define NSGATE_EXITCODE_H

enum {
    NG_EXIT_USAGE = 64,
    NG_EXIT_NOINPUT = 66,
    NG_EXIT_TARGET = 69,
    NG_EXIT_INTERNAL = 70,
    NG_EXIT_STORAGE = 74,
    NG_EXIT_AUDIT = 75,
    NG_EXIT_DENIED = 77,
    NG_EXIT_POLICY = 78,
    NG_EXIT_TIMEOUT = 124,
    NG_EXIT_CANNOT_EXEC = 126,
    NG_EXIT_NOT_FOUND = 127,
};

#endif
