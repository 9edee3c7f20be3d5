/* The chain's BLAKE2b (src/seal/blake2b.c) against libsodium's
 * crypto_generichash, hashing the same 100 MB in 64 KiB pieces, three times
 * each, alternating; prints the best time of each and whether the digests
 * agree (docs/dependencies.md, docs/benchmarks.md). Build and run:
 *   cc -O2 -Iinclude tests/bench/hashspeed.c src/seal/blake2b.c -lsodium -o hashspeed
 *   ./hashspeed */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nsgate/blake2b.h"

#define SIZE  (100u << 20)
#define PIECE (64u << 10)

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(void)
{
    uint8_t *b = malloc(SIZE), ours[32], theirs[32];
    double best_ours = 1e9, best_sodium = 1e9;

    if (!b || sodium_init() < 0)
        return 1;
    randombytes_buf(b, SIZE);
    for (int r = 0; r < 3; r++) {
        double t0 = now();
        struct ng_blake2b s;
        ng_blake2b_init(&s, 32);
        for (size_t o = 0; o < SIZE; o += PIECE)
            ng_blake2b_update(&s, b + o, PIECE);
        ng_blake2b_final(&s, ours);
        double t1 = now();
        crypto_generichash_state g;
        crypto_generichash_init(&g, NULL, 0, 32);
        for (size_t o = 0; o < SIZE; o += PIECE)
            crypto_generichash_update(&g, b + o, PIECE);
        crypto_generichash_final(&g, theirs, 32);
        double t2 = now();
        best_ours = t1 - t0 < best_ours ? t1 - t0 : best_ours;
        best_sodium = t2 - t1 < best_sodium ? t2 - t1 : best_sodium;
    }
    printf("100 MB: nsgate blake2b %.3f s, libsodium %.3f s (%.2f x), same digest: %s\n", best_ours,
           best_sodium, best_sodium / best_ours, memcmp(ours, theirs, 32) ? "NO" : "yes");
    free(b);
    return memcmp(ours, theirs, 32) != 0;
}
