/* BLAKE2b (RFC 7693), unkeyed, for the chain's bulk hashing (chain.c).
 *
 * Why not libsodium's crypto_generichash, which every other hash here
 * uses: the chain hashes every recorded byte, in the recorder and again in
 * verify, and this plain 64-bit implementation with its rounds unrolled
 * runs about 1.8 times as fast as libsodium 1.0.18's on the machines here
 * (docs/benchmarks.md, docs/dependencies.md). The output is BLAKE2b's, bit
 * for bit: unit.test_blake2b and fuzz.blake2b compare it with libsodium's
 * on every length and split, and the RFC's test vector. No key, no salt, no
 * personalization: the chain uses none. */
#ifndef NSGATE_BLAKE2B_H
#define NSGATE_BLAKE2B_H

#include <stddef.h>
#include <stdint.h>

#define NG_BLAKE2B_BLOCK  128
#define NG_BLAKE2B_OUTMAX 64

struct ng_blake2b {
    uint64_t h[8];
    uint64_t t[2]; /* bytes compressed so far, 128-bit */
    uint8_t buf[NG_BLAKE2B_BLOCK];
    size_t buflen; /* 0..128: the last block waits for final */
    size_t outlen;
};

/* outlen: 1..NG_BLAKE2B_OUTMAX (anything else is taken as the maximum). */
void ng_blake2b_init(struct ng_blake2b *s, size_t outlen);
void ng_blake2b_update(struct ng_blake2b *s, const void *p, size_t len);
/* Writes outlen bytes; s must be initialized again before reuse. */
void ng_blake2b_final(struct ng_blake2b *s, uint8_t *out);

#endif
