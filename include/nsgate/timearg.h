/* TIME arguments of the command line (cli.md "nsgate sessions"): ISO 8601
 * or relative to now. Pure: the current time is a parameter. */
#ifndef NSGATE_TIMEARG_H
#define NSGATE_TIMEARG_H

#include <stdint.h>

#include "nsgate/util.h"

/* Accepted:
 *   N{s,m,h,d,w}                    N seconds ... weeks before now_ns
 *   YYYY-MM-DD                      local midnight
 *   YYYY-MM-DD[T ]HH:MM[:SS[.F]]    local time, or with a zone suffix
 *                                   Z, +HH:MM, -HH:MM, +HHMM or -HHMM
 * Writes nanoseconds since the epoch (UTC). 0 or -EINVAL / -ERANGE. */
int ng_parse_time(const char *s, int64_t now_ns, int64_t *ret_ns) NG_MUST_CHECK;

/* Format ns since the epoch as ISO 8601 UTC with microseconds
 * ("2026-11-29T08:10:00.123456Z") or, local, as "YYYY-MM-DD HH:MM:SS". */
void ng_format_time_utc(int64_t ns, char *buf, size_t size);
void ng_format_time_local(int64_t ns, char *buf, size_t size);

#endif
