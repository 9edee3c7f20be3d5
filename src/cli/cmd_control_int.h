/* Private to the command layer: the client side of two-person control
 * (cmd_control.c), shared by approve, reject, terminate and watch. */
#ifndef NSGATE_CMD_CONTROL_H
#define NSGATE_CMD_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "cmd_int.h"
#include "nsgate/store.h"

/* The live session at db named by prefix: 0, or the exit status after the
 * message (64 malformed or ambiguous, 66 none live). */
int ng_cmd_control_find(const char *db, const char *prefix, uint8_t id[NG_STORE_ID_LEN]);
/* Send the caller's one request to the session's recorder (needs root: the
 * socket is root's) and read its answer into reply ("ok..." or "no WHY").
 * 0 when granted (*ret_fd, when not NULL, keeps the connection: a
 * watcher's presence), -EPERM when refused, another negative errno when
 * the recorder cannot be reached. */
int ng_cmd_control_ask(const char *db, const uint8_t id[NG_STORE_ID_LEN],
                       const struct ng_caller *caller, const char *verb, int reader,
                       const char *text, int *ret_fd, char *reply, size_t size);

#endif
