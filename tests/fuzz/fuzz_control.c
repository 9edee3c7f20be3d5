/* Fuzz target: the one request a control client sends (control_wire.c),
 * as the recorder parses it; a request it takes must format back to the
 * same bytes (nothing is read that the client did not write). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nsgate/control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ng_control_request q;
    char back[NG_CONTROL_MSG_MAX + 1];
    size_t len;

    if (ng_control_request_parse((const char *)data, size, &q) != 0)
        return 0;
    if (ng_control_request_format(&q, back, sizeof(back), &len) != 0)
        abort(); /* what was taken can be said again */
    /* the same fields: the group list may be written with other zeros
     * ("01" is read as 1), so compare parsed forms */
    struct ng_control_request q2;
    if (ng_control_request_parse(back, len, &q2) != 0 || memcmp(&q, &q2, sizeof(q)) != 0)
        abort();
    return 0;
}
