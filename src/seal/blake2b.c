/* BLAKE2b as RFC 7693 specifies it (section 3), unkeyed: the chain's bulk
 * hash (blake2b.h says why it is ours). Portable C on 64-bit words; the 12
 * rounds are written out so the message schedule is constant and the 16
 * message words stay in registers. */
#include "nsgate/blake2b.h"

#include <string.h>

static const uint64_t iv[8] = {
    0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL, 0xa54ff53a5f1d36f1ULL,
    0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL, 0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL,
};

/* The message schedule; rounds 10 and 11 take rows 0 and 1 again. */
static const uint8_t sigma[10][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
    {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
    {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
    {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
    {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
};

static inline uint64_t rotr64(uint64_t x, unsigned n)
{
    return (x >> n) | (x << (64 - n));
}

/* Little-endian, whatever the host's byte order. */
static inline uint64_t load64(const uint8_t *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

/* The mixing function G (RFC 7693 3.1), on v[a], v[b], v[c], v[d]. */
#define G(a, b, c, d, x, y)                                                                        \
    do {                                                                                           \
        v[a] = v[a] + v[b] + (x);                                                                  \
        v[d] = rotr64(v[d] ^ v[a], 32);                                                            \
        v[c] = v[c] + v[d];                                                                        \
        v[b] = rotr64(v[b] ^ v[c], 24);                                                            \
        v[a] = v[a] + v[b] + (y);                                                                  \
        v[d] = rotr64(v[d] ^ v[a], 16);                                                            \
        v[c] = v[c] + v[d];                                                                        \
        v[b] = rotr64(v[b] ^ v[c], 63);                                                            \
    } while (0)

#define ROUND(r)                                                                                   \
    do {                                                                                           \
        const uint8_t *sg = sigma[(r) % 10];                                                       \
        G(0, 4, 8, 12, m[sg[0]], m[sg[1]]);                                                        \
        G(1, 5, 9, 13, m[sg[2]], m[sg[3]]);                                                        \
        G(2, 6, 10, 14, m[sg[4]], m[sg[5]]);                                                       \
        G(3, 7, 11, 15, m[sg[6]], m[sg[7]]);                                                       \
        G(0, 5, 10, 15, m[sg[8]], m[sg[9]]);                                                       \
        G(1, 6, 11, 12, m[sg[10]], m[sg[11]]);                                                     \
        G(2, 7, 8, 13, m[sg[12]], m[sg[13]]);                                                      \
        G(3, 4, 9, 14, m[sg[14]], m[sg[15]]);                                                      \
    } while (0)

/* The compression function F (RFC 7693 3.2) over one 128-byte block. */
static void compress(struct ng_blake2b *s, const uint8_t *block, int last)
{
    uint64_t m[16], v[16];

    for (int i = 0; i < 16; i++)
        m[i] = load64(block + 8 * i);
    for (int i = 0; i < 8; i++) {
        v[i] = s->h[i];
        v[i + 8] = iv[i];
    }
    v[12] ^= s->t[0];
    v[13] ^= s->t[1];
    if (last)
        v[14] = ~v[14];
    ROUND(0);
    ROUND(1);
    ROUND(2);
    ROUND(3);
    ROUND(4);
    ROUND(5);
    ROUND(6);
    ROUND(7);
    ROUND(8);
    ROUND(9);
    ROUND(10);
    ROUND(11);
    for (int i = 0; i < 8; i++)
        s->h[i] ^= v[i] ^ v[i + 8];
}

static void count(struct ng_blake2b *s, size_t n)
{
    s->t[0] += n;
    if (s->t[0] < n)
        s->t[1]++;
}

void ng_blake2b_init(struct ng_blake2b *s, size_t outlen)
{
    if (outlen == 0 || outlen > NG_BLAKE2B_OUTMAX)
        outlen = NG_BLAKE2B_OUTMAX;
    memset(s, 0, sizeof(*s));
    memcpy(s->h, iv, sizeof(s->h));
    /* The parameter block's first word: digest length, no key, fanout 1,
     * depth 1 (sequential mode); the rest of the block is zero. */
    s->h[0] ^= 0x01010000ULL ^ (uint64_t)outlen;
    s->outlen = outlen;
}

/* A full buffer is compressed only once more input arrives: the last
 * block, full or not, is compressed by final with the last-block flag. */
void ng_blake2b_update(struct ng_blake2b *s, const void *p, size_t len)
{
    const uint8_t *in = p;

    if (len == 0)
        return;
    if (s->buflen + len > NG_BLAKE2B_BLOCK) {
        size_t fill = NG_BLAKE2B_BLOCK - s->buflen;
        memcpy(s->buf + s->buflen, in, fill);
        count(s, NG_BLAKE2B_BLOCK);
        compress(s, s->buf, 0);
        s->buflen = 0;
        in += fill;
        len -= fill;
        while (len > NG_BLAKE2B_BLOCK) {
            count(s, NG_BLAKE2B_BLOCK);
            compress(s, in, 0);
            in += NG_BLAKE2B_BLOCK;
            len -= NG_BLAKE2B_BLOCK;
        }
    }
    memcpy(s->buf + s->buflen, in, len);
    s->buflen += len;
}

void ng_blake2b_final(struct ng_blake2b *s, uint8_t *out)
{
    uint8_t digest[NG_BLAKE2B_OUTMAX];

    count(s, s->buflen);
    memset(s->buf + s->buflen, 0, NG_BLAKE2B_BLOCK - s->buflen);
    compress(s, s->buf, 1);
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 8; j++)
            digest[8 * i + j] = (uint8_t)(s->h[i] >> (8 * j));
    memcpy(out, digest, s->outlen);
}
