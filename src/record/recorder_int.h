/* Private to the recorder: its sealing (recorder_seal.c), called by the tick. */
#ifndef NSGATE_RECORDER_INT_H
#define NSGATE_RECORDER_INT_H

#include "nsgate/recorder.h"

/* A seal when one is due, with its audit records: 0, or the error that ends
 * the session (-ENOLINK: a checkpoint lost under audit = required). */
int ng_recorder_seal(struct ng_recorder *r);

#endif
