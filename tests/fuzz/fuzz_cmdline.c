/* Fuzz target: a command event as readers get it from a hostile store
 * (replay --commands, sessions --command, export): parsed, its arguments
 * unescaped, the command line quoted; and the escaping round trip of the
 * raw input as the recorder would write it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nsgate/cmdline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ng_cmd c;

    if (ng_cmd_parse(data, size, &c) == 0) {
        free(ng_cmd_quote(c.argv, c.argv_len));
        (void)ng_cmd_errno_name(c.result);
        ng_cmd_free(&c);
    }
    free(ng_cmd_quote(data, size));
    char *e = ng_cmd_escape(data, size);
    uint8_t *back = NULL;
    size_t n = 0;
    if (e && ng_cmd_unescape(e, strlen(e), &back, &n) == 0 && (n != size || memcmp(back, data, n)))
        abort(); /* the escaping must keep every byte */
    free(back);
    free(e);
    return 0;
}
