/* Fuzz target: option parsing on arbitrary argument vectors (the caller
 * controls argv of a setuid program). Arguments are NUL-separated; each
 * vector goes through enter's parser and through the table of every other
 * subcommand. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nsgate/opts.h"
#include "../../src/cli/cmd_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct ng_cmdspec *const specs[] = {
        &ng_spec_enter,  &ng_spec_check,  &ng_spec_sessions, &ng_spec_replay,
        &ng_spec_verify, &ng_spec_export, &ng_spec_keygen,
    };
    static char *argv[66];
    static struct ng_optlist l;
    char *buf = malloc(size + 1);
    struct ng_enter_opts o;
    char err[512];
    int argc = 0;

    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    static char name[] = "enter";
    argv[argc++] = name;
    for (size_t i = 0; i <= size && argc < 65;) {
        argv[argc++] = buf + i;
        i += strlen(buf + i) + 1;
    }
    argv[argc] = NULL;
    (void)ng_opts_parse_enter(argc, argv, &o, err, sizeof(err));
    for (size_t s = 0; s < sizeof(specs) / sizeof(specs[0]); s++) {
        if (ng_optparse(specs[s], argc, argv, &l, err, sizeof(err)) < 0)
            continue;
        for (size_t i = 0; i < l.n; i++) /* every value points into argv */
            if (l.v[i].arg && strlen(l.v[i].arg) > size)
                abort();
        if (l.noperands < 0 || l.noperands > argc)
            abort();
    }
    free(buf);
    return 0;
}
