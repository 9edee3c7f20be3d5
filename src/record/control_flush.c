/* The relay's flush operation (relay.h ops.flush): commit what the session
 * recorded so far, so watchers following the store see it. */
#include "nsgate/control.h"
#include "nsgate/store.h"

int ng_control_flush(void *sess)
{
    return ng_store_flush(sess);
}
