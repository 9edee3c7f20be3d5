/* The hash chain of the session store (integrity.md "Chain").
 *
 * Hash: BLAKE2b-256 (blake2b.h: the same function as libsodium's
 * crypto_generichash, which the web page uses). Every input is a typed,
 * length-prefixed field, so no two different field sequences hash alike:
 *
 *     field = class (1 byte: SQLite storage class, 1 INTEGER, 2 REAL, 3 TEXT,
 *             4 BLOB, 5 NULL) || length (u64 big-endian) || value
 *
 * INTEGER is 8 bytes big-endian two's complement, REAL the IEEE 754 binary64
 * bits big-endian, TEXT and BLOB their bytes, NULL empty (one byte order
 * everywhere, as be.h and the seal encoding). A hash starts with its domain
 * tag as one TEXT field.
 *
 * Session header hash (event 0), domain "nsgate-header-v1": for each column
 * of the sessions row in schema order, except header_hash and except columns
 * holding NULL: TEXT(column name), then the value as its own field. NULLs
 * are left out so that a later migration's ALTER TABLE ADD COLUMN (NULL in
 * old rows) never changes an old header hash; since each value carries its
 * column name, a NULL turned into a value (or back) still changes the hash.
 * The row is read back from SQLite and hashed generically by storage class,
 * so a column added later is covered without code changes (the store does
 * that: ng_store_header_hash in src/store/store_hash.c).
 *
 * Event hash, domain "nsgate-event-v1": BLOB(session id), INTEGER(seq),
 * INTEGER(t_ns), TEXT(kind, 1 byte), BLOB(data), BLOB(previous hash), where
 * the previous hash of seq 1 is the header hash.
 *
 * Ledger entry hash, domain "nsgate-ledger-v1": INTEGER(seq), BLOB(session
 * id), TEXT(kind: "start", "checkpoint" or "end"), INTEGER(wall_ns),
 * INTEGER(event_seq), BLOB(value), BLOB(previous entry's hash, 32 zero
 * bytes for seq 1). */
#ifndef NSGATE_CHAIN_H
#define NSGATE_CHAIN_H

#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

#include "nsgate/blake2b.h"
#include "nsgate/util.h"

#define NG_HASH_LEN      32
#define NG_HASH_ALG      "blake2b-256"
#define NG_DOMAIN_HEADER "nsgate-header-v1"
#define NG_DOMAIN_EVENT  "nsgate-event-v1"
#define NG_DOMAIN_LEDGER "nsgate-ledger-v1"

/* The class bytes are SQLite's storage class numbers. */
enum ng_hash_class {
    NG_HC_INTEGER = 1,
    NG_HC_REAL = 2,
    NG_HC_TEXT = 3,
    NG_HC_BLOB = 4,
    NG_HC_NULL = 5,
};

struct ng_hash {
    struct ng_blake2b st;
};

/* sodium_init, once per process (safe to call again). 0 or -EIO. */
int ng_chain_init(void) NG_MUST_CHECK;

void ng_hash_init(struct ng_hash *h, const char *domain);
void ng_hash_add_int(struct ng_hash *h, int64_t v);
void ng_hash_add_real(struct ng_hash *h, double v);
void ng_hash_add_text(struct ng_hash *h, const void *s, size_t len);
void ng_hash_add_blob(struct ng_hash *h, const void *p, size_t len);
void ng_hash_add_null(struct ng_hash *h);
/* Write the 32-byte digest; h must be initialized again before reuse. */
void ng_hash_final(struct ng_hash *h, uint8_t out[NG_HASH_LEN]);

void ng_chain_event_hash(const uint8_t id[16], int64_t seq, int64_t t_ns, char kind,
                         const void *data, size_t len, const uint8_t prev[NG_HASH_LEN],
                         uint8_t out[NG_HASH_LEN]);

void ng_chain_ledger_hash(int64_t seq, const uint8_t id[16], const char *kind, int64_t wall_ns,
                          int64_t event_seq, const uint8_t value[NG_HASH_LEN],
                          const uint8_t prev[NG_HASH_LEN], uint8_t out[NG_HASH_LEN]);

#endif
