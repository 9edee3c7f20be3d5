/* Error output for the command layer: one line, "nsgate: " first, untrusted
 * bytes escaped (cli.md "Untrusted text"). */
#include "cmd_int.h"
#include "nsgate/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

__attribute__((format(printf, 2, 0))) static void vout(const char *prefix, const char *fmt,
                                                       va_list ap)
{
    char buf[2048];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    char *esc = ng_escape_str(buf);
    fprintf(stderr, "nsgate: %s%s\n", prefix, esc ? esc : "(out of memory)");
    free(esc);
}

void ng_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vout("", fmt, ap);
    va_end(ap);
}

void ng_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vout("warning: ", fmt, ap);
    va_end(ap);
}
