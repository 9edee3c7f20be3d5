/* Base64 (RFC 4648, standard alphabet, padded) of public data. */
#ifndef NSGATE_BASE64_H
#define NSGATE_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Bytes ng_base64_encode writes for len bytes, the NUL included. */
#define NG_BASE64_LEN(len) (((len) + 2) / 3 * 4 + 1)

/* Encode len bytes at in into out (NG_BASE64_LEN(len) bytes, NUL
 * terminated); returns out. The same text as libsodium's
 * sodium_bin2base64(..., sodium_base64_VARIANT_ORIGINAL), by table lookup:
 * libsodium's encoder runs in constant time, a protection for secrets that
 * costs the evidence stream most of its time (recorded output, hashes and
 * signatures are what the stream publishes anyway). Never for secrets. */
char *ng_base64_encode(char *out, const uint8_t *in, size_t len);

#endif
