/* Typed, length-prefixed BLAKE2b-256 hashing for the session chain; the
 * encoding is specified in chain.h and must never change for a domain tag
 * (a new encoding takes a new tag, e.g. "nsgate-event-v2"). */
#include "nsgate/chain.h"
#include "nsgate/be.h"

#include <errno.h>
#include <string.h>

int ng_chain_init(void)
{
    /* Returns 1 when already initialized; thread-safe in libsodium. */
    return sodium_init() < 0 ? -EIO : 0;
}

static void add_field(struct ng_hash *h, enum ng_hash_class c, const void *p, size_t len)
{
    uint8_t pre[9];

    pre[0] = (uint8_t)c;
    ng_be64_put(pre + 1, (uint64_t)len);
    ng_blake2b_update(&h->st, pre, sizeof(pre));
    if (len)
        ng_blake2b_update(&h->st, p, len);
}

void ng_hash_init(struct ng_hash *h, const char *domain)
{
    ng_blake2b_init(&h->st, NG_HASH_LEN);
    ng_hash_add_text(h, domain, strlen(domain));
}

void ng_hash_add_int(struct ng_hash *h, int64_t v)
{
    uint8_t b[8];

    ng_be64_put(b, (uint64_t)v);
    add_field(h, NG_HC_INTEGER, b, sizeof(b));
}

void ng_hash_add_real(struct ng_hash *h, double v)
{
    uint64_t bits;
    uint8_t b[8];

    memcpy(&bits, &v, sizeof(bits));
    ng_be64_put(b, bits);
    add_field(h, NG_HC_REAL, b, sizeof(b));
}

void ng_hash_add_text(struct ng_hash *h, const void *s, size_t len)
{
    add_field(h, NG_HC_TEXT, s, len);
}

void ng_hash_add_blob(struct ng_hash *h, const void *p, size_t len)
{
    add_field(h, NG_HC_BLOB, p, len);
}

void ng_hash_add_null(struct ng_hash *h)
{
    add_field(h, NG_HC_NULL, NULL, 0);
}

void ng_hash_final(struct ng_hash *h, uint8_t out[NG_HASH_LEN])
{
    ng_blake2b_final(&h->st, out);
}
