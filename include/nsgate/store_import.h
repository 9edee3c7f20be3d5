/* Rows of an evidence stream put back into a scratch store, for verify
 * --jsonl (docs/integrity.md "The evidence stream"). The store is a new one
 * made with ng_store_open in a private directory; after the import it is
 * opened read-only and verified like any store. Functions return 0 or a
 * negative errno and never print. */
#ifndef NSGATE_STORE_IMPORT_H
#define NSGATE_STORE_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "nsgate/chain.h"
#include "nsgate/store.h"

/* One value: cls an NG_HC_* storage class; i for INTEGER, d for REAL, p and
 * len for TEXT and BLOB (borrowed for the call). */
struct ng_store_cell {
    const char *name;
    int cls;
    int64_t i;
    double d;
    const void *p;
    size_t len;
};

struct ng_store_import;

/* One write transaction for the whole import. */
int ng_store_import_begin(struct ng_store *s, struct ng_store_import **ret) NG_MUST_CHECK;
/* Commit (commit != 0) or roll back, and free. */
int ng_store_import_end(struct ng_store_import *im, int commit) NG_MUST_CHECK;

/* Insert one row into table (sessions, events, seals, ledger, roots or
 * certs; only columns it has, each once). 0: inserted, or a row with that
 * key and these values is there already (a record sent twice); -EEXIST: a
 * different row holds the key; -EINVAL: no such table or column, or the
 * schema refuses a value (type, CHECK, NOT NULL); other errors are I/O. */
int ng_store_import_row(struct ng_store_import *im, const char *table,
                        const struct ng_store_cell *c, size_t n) NG_MUST_CHECK;

#endif
