/* Escrow keys and sealed boxes for masked input (see escrow.h). */
#include "nsgate/escrow.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEX_LEN (2 * NG_ESCROW_KEY_BYTES)
#define TAG_LEN (sizeof(NG_ESCROW_SECRET_TAG) - 1)

/* Exactly HEX_LEN hex digits at p (then nothing, or one newline). */
static int parse_hex_key(const char *p, size_t len, uint8_t key[NG_ESCROW_KEY_BYTES])
{
    size_t bin = 0;

    if (len == HEX_LEN + 1 && p[HEX_LEN] == '\n')
        len--;
    if (len != HEX_LEN || strspn(p, "0123456789abcdefABCDEF") < HEX_LEN)
        return -EINVAL;
    if (sodium_hex2bin(key, NG_ESCROW_KEY_BYTES, p, HEX_LEN, NULL, &bin, NULL) != 0 ||
        bin != NG_ESCROW_KEY_BYTES)
        return -EINVAL;
    return 0;
}

int ng_escrow_parse_public(const char *text, size_t len, uint8_t pk[NG_ESCROW_KEY_BYTES])
{
    uint8_t probe[NG_ESCROW_SEAL_BYTES];

    if (!text || memchr(text, '\0', len) || parse_hex_key(text, len, pk) < 0)
        return -EINVAL;
    /* A low-order point gives an all-zero shared secret: libsodium refuses
     * to seal to it. Refuse it here, when the policy is read, not when the
     * first password is typed. */
    if (sodium_init() < 0 || crypto_box_seal(probe, (const unsigned char *)"", 0, pk) != 0)
        return -EKEYREJECTED;
    return 0;
}

int ng_escrow_parse_secret(const char *text, size_t len, struct ng_escrow_secret *ret)
{
    if (!text || memchr(text, '\0', len))
        return -EINVAL;
    if (len < TAG_LEN || memcmp(text, NG_ESCROW_SECRET_TAG, TAG_LEN) != 0) {
        uint8_t pk[NG_ESCROW_KEY_BYTES];
        return parse_hex_key(text, len, pk) == 0 ? -EMEDIUMTYPE : -EINVAL;
    }
    if (parse_hex_key(text + TAG_LEN, len - TAG_LEN, ret->sk) < 0)
        return -EINVAL;
    crypto_scalarmult_base(ret->pk, ret->sk);
    return 0;
}

void ng_escrow_format_secret(const uint8_t sk[NG_ESCROW_KEY_BYTES],
                             char out[NG_ESCROW_SECRET_LINE + 1])
{
    memcpy(out, NG_ESCROW_SECRET_TAG, TAG_LEN);
    sodium_bin2hex(out + TAG_LEN, HEX_LEN + 1, sk, NG_ESCROW_KEY_BYTES);
    out[TAG_LEN + HEX_LEN] = '\n';
    out[TAG_LEN + HEX_LEN + 1] = '\0';
}

int ng_escrow_seal(const uint8_t pk[NG_ESCROW_KEY_BYTES], const void *msg, size_t len, uint8_t *out)
{
    return crypto_box_seal(out, msg, len, pk) == 0 ? 0 : -EIO;
}

ssize_t ng_escrow_open(const struct ng_escrow_secret *key, const uint8_t *box, size_t len,
                       uint8_t *out)
{
    if (len < NG_ESCROW_SEAL_BYTES)
        return -EBADMSG;
    if (crypto_box_seal_open(out, box, len, key->pk, key->sk) != 0) {
        sodium_memzero(out, len - NG_ESCROW_SEAL_BYTES);
        return -EBADMSG;
    }
    return (ssize_t)(len - NG_ESCROW_SEAL_BYTES);
}

int ng_escrow_keygen(const char *path, uint8_t pk[NG_ESCROW_KEY_BYTES])
{
    struct ng_escrow_secret *k;
    char line[NG_ESCROW_SECRET_LINE + 1];
    int r = 0;

    if (sodium_init() < 0 || !(k = sodium_malloc(sizeof(*k))))
        return -ENOMEM;
    /* O_EXCL with O_CREAT never follows a symlink, dangling or not. */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0) {
        r = -errno;
        sodium_free(k);
        return r;
    }
    crypto_box_keypair(k->pk, k->sk);
    ng_escrow_format_secret(k->sk, line);
    /* Mode 0600 whatever the umask; the descriptor is ours alone. */
    if (fchmod(fd, 0600) < 0)
        r = -errno;
    if (r == 0)
        r = ng_write_all(fd, line, NG_ESCROW_SECRET_LINE);
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r < 0)
        (void)unlink(path);
    else
        memcpy(pk, k->pk, NG_ESCROW_KEY_BYTES);
    sodium_memzero(line, sizeof(line));
    sodium_free(k);
    return r;
}

/* The file's bytes, after the checks of ng_escrow_read_secret; *exposed:
 * group or other may read or write it. */
static ssize_t read_private(const char *path, char *buf, size_t size, int *exposed)
{
    struct stat st;
    ng_autoclose int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode))
        return -EINVAL;
    *exposed = (st.st_mode & (S_IRWXG | S_IRWXO)) != 0;
    if (st.st_size >= (off_t)size)
        return -EFBIG;
    size_t got = 0;
    for (;;) {
        ssize_t m = read(fd, buf + got, size - 1 - got);
        if (m < 0 && errno == EINTR)
            continue;
        if (m < 0)
            return -errno;
        if (m == 0)
            break;
        got += (size_t)m;
        if (got == size - 1)
            return -EFBIG;
    }
    buf[got] = '\0';
    return (ssize_t)got;
}

int ng_escrow_read_secret(const char *path, struct ng_escrow_secret **ret)
{
    struct ng_escrow_secret *k;
    char *buf;

    if (sodium_init() < 0)
        return -ENOMEM;
    k = sodium_malloc(sizeof(*k));
    buf = sodium_malloc(NG_ESCROW_FILE_MAX + 1);
    if (!k || !buf) {
        sodium_free(k);
        sodium_free(buf);
        return -ENOMEM;
    }
    int exposed = 0;
    ssize_t n = read_private(path, buf, NG_ESCROW_FILE_MAX + 1, &exposed);
    int r = n < 0 ? (int)n : ng_escrow_parse_secret(buf, (size_t)n, k);
    /* A public key named by mistake is said as such; a secret others can
     * read is refused, as ssh refuses an unprotected private key. */
    if (r == 0 && exposed)
        r = -EPERM;
    sodium_free(buf); /* zeroed by sodium_free */
    if (r < 0) {
        sodium_free(k);
        return r;
    }
    *ret = k;
    return 0;
}

void ng_escrow_secret_free(struct ng_escrow_secret *key)
{
    sodium_free(key); /* NULL is fine; the memory is zeroed first */
}

void ng_escrow_short_hex(const uint8_t pk[NG_ESCROW_KEY_BYTES], char out[17])
{
    sodium_bin2hex(out, 17, pk, 8);
}
