/* nsgate enter (placeholder while the entry engine lands). */
#include "nsgate/cmd.h"
#include "nsgate/opts.h"

#include <stdio.h>

int ng_cmd_enter(int argc, char **argv, const struct ng_caller *caller)
{
    struct ng_enter_opts o;
    char err[512];

    if (ng_opts_parse_enter(argc, argv, &o, err, sizeof(err)) < 0) {
        ng_err("%s", err);
        return NG_EXIT_USAGE;
    }
    if (o.help) {
        fputs(ng_enter_usage, stdout);
        return 0;
    }
    ng_err("enter is not complete yet");
    return NG_EXIT_INTERNAL;
}
