/* Escrow of masked input (recording.md "Input masking", docs/security.md
 * "Masked input escrow"). A policy may name an escrow public key
 * (`mask_escrow = FILE`); the recorder then stores each masked chunk, besides
 * its stars, as a libsodium sealed box (crypto_box_seal: X25519, XSalsa20-
 * Poly1305, a fresh ephemeral key per box) to that key, in a 'k' event right
 * after the stars (docs/store.md "Escrowed input"). Only the holder of the
 * escrow secret can open it: `replay --reveal`, `export --reveal`.
 *
 * Files:
 *   public key  64 hex digits, optionally followed by one newline (what
 *               `keygen --escrow` prints); checked like the policy by the
 *               policy module (policy_escrow.c)
 *   secret key  one line: "NSGATE-ESCROW-SECRET-KEY-1 " then 64 hex digits of
 *               the X25519 secret key, then a newline; mode 0600, created
 *               O_EXCL|O_NOFOLLOW by ng_escrow_keygen
 *
 * Functions return 0 (or a length) or a negative errno; none prints. */
#ifndef NSGATE_ESCROW_H
#define NSGATE_ESCROW_H

#include <stddef.h>
#include <stdint.h>

#include "nsgate/util.h"

#define NG_ESCROW_KEY_BYTES  32 /* crypto_box_PUBLICKEYBYTES, _SECRETKEYBYTES */
#define NG_ESCROW_SEAL_BYTES 48 /* crypto_box_SEALBYTES: ephemeral key + MAC */
#define NG_ESCROW_SECRET_TAG "NSGATE-ESCROW-SECRET-KEY-1 "
/* The tag, 64 hex digits, a newline. */
#define NG_ESCROW_SECRET_LINE (sizeof(NG_ESCROW_SECRET_TAG) - 1 + 2 * NG_ESCROW_KEY_BYTES + 1)
/* Key files are read up to this size; anything longer is not a key file. */
#define NG_ESCROW_FILE_MAX 512

/* The escrow secret in guarded memory (sodium_malloc: locked, guard pages),
 * with its public half. */
struct ng_escrow_secret {
    uint8_t sk[NG_ESCROW_KEY_BYTES];
    uint8_t pk[NG_ESCROW_KEY_BYTES];
};

/* Public key text: exactly 64 hex digits (either case), optionally one
 * trailing newline. -EINVAL for anything else; -EKEYREJECTED for a key
 * nothing can be sealed to (a low-order point, such as all zeros). */
int ng_escrow_parse_public(const char *text, size_t len,
                           uint8_t pk[NG_ESCROW_KEY_BYTES]) NG_MUST_CHECK;

/* Secret key text as above. -EINVAL when malformed; -EMEDIUMTYPE when the
 * text is a public key (64 hex digits without the tag): the caller named
 * the wrong file. Fills the secret and its public half. */
int ng_escrow_parse_secret(const char *text, size_t len,
                           struct ng_escrow_secret *ret) NG_MUST_CHECK;

/* The secret file's line (NG_ESCROW_SECRET_LINE bytes, plus a NUL). */
void ng_escrow_format_secret(const uint8_t sk[NG_ESCROW_KEY_BYTES],
                             char out[NG_ESCROW_SECRET_LINE + 1]);

/* Seal len bytes to pk: out gets len + NG_ESCROW_SEAL_BYTES bytes. -EIO
 * when libsodium refuses (an unusable key). Draws randomness (getrandom). */
int ng_escrow_seal(const uint8_t pk[NG_ESCROW_KEY_BYTES], const void *msg, size_t len,
                   uint8_t *out) NG_MUST_CHECK;

/* Open a sealed box: out gets len - NG_ESCROW_SEAL_BYTES bytes, returned.
 * -EBADMSG when the box does not open (another key, or damaged: nothing is
 * written that could be mistaken for the input). */
ssize_t ng_escrow_open(const struct ng_escrow_secret *key, const uint8_t *box, size_t len,
                       uint8_t *out) NG_MUST_CHECK;

/* Create a key pair: the secret line to a new file at path (mode 0600,
 * O_CREAT|O_EXCL|O_NOFOLLOW, written and fsynced; removed again when writing
 * fails), the public key to pk. -EEXIST when path exists (a symlink too,
 * dangling or not), other negative errnos from open and write. Runs with the
 * caller's own rights: the caller drops privileges first. */
int ng_escrow_keygen(const char *path, uint8_t pk[NG_ESCROW_KEY_BYTES]) NG_MUST_CHECK;

/* Read the secret key file at path with the process's own rights: a
 * regular file (-EINVAL for a FIFO or device: opened O_NONBLOCK, checked
 * with fstat) of at most NG_ESCROW_FILE_MAX bytes (-EFBIG). Parse errors as
 * ng_escrow_parse_secret (so a public key named by mistake is -EMEDIUMTYPE
 * whatever its mode); a secret that group or other may read or write is
 * -EPERM, as ssh refuses an unprotected private key. *ret is
 * sodium_malloc'd: free with ng_escrow_secret_free. */
int ng_escrow_read_secret(const char *path, struct ng_escrow_secret **ret) NG_MUST_CHECK;
void ng_escrow_secret_free(struct ng_escrow_secret *key);

/* Key fingerprint for messages: the first 16 hex digits of the key (the
 * full key is only 64: check shows it whole). out: 17 bytes. */
void ng_escrow_short_hex(const uint8_t pk[NG_ESCROW_KEY_BYTES], char out[17]);

#endif
