/* Fuzz target: enter's option parsing on arbitrary argument vectors (the
 * caller controls argv of a setuid program). Arguments are NUL-separated. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nsgate/opts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char *argv[66];
    char *buf = malloc(size + 1);
    struct ng_enter_opts o;
    char err[512];
    int argc = 0;

    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    static char enter[] = "enter";
    argv[argc++] = enter;
    for (size_t i = 0; i <= size && argc < 65;) {
        argv[argc++] = buf + i;
        i += strlen(buf + i) + 1;
    }
    argv[argc] = NULL;
    (void)ng_opts_parse_enter(argc, argv, &o, err, sizeof(err));
    free(buf);
    return 0;
}
