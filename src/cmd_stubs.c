/* Subcommands whose issues have not landed yet: a clear refusal. Each
 * definition moves to its own cmd_<name>.c when it is implemented. */
#include "nsgate/cmd.h"

int ng_cmd_export(int argc, char **argv, const struct ng_caller *caller)
{
    ng_err("export is not available in this build yet");
    return NG_EXIT_INTERNAL;
}
