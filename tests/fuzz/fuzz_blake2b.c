/* Fuzz target: BLAKE2b (blake2b.h) against libsodium's crypto_generichash.
 * The first two bytes choose the digest length and the size of the pieces
 * the rest is fed in; any difference aborts. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nsgate/blake2b.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ng_blake2b s;
    uint8_t a[NG_BLAKE2B_OUTMAX], b[NG_BLAKE2B_OUTMAX];

    if (size < 2 || sodium_init() < 0)
        return 0;
    size_t outlen = 1 + data[0] % NG_BLAKE2B_OUTMAX, piece = 1 + data[1] * 3u;
    data += 2, size -= 2;
    ng_blake2b_init(&s, outlen);
    for (size_t off = 0; off < size; off += piece)
        ng_blake2b_update(&s, data + off, size - off < piece ? size - off : piece);
    ng_blake2b_final(&s, a);
    if (crypto_generichash(b, outlen, data, size, NULL, 0) != 0 || memcmp(a, b, outlen) != 0)
        abort();
    return 0;
}
