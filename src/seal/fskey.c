/* The forward-secure sealing key: creation, evolution, signing. The MUST list
 * is in fskey.h; file formats are in docs/integrity.md. No printing, no exit. */
#include "nsgate/fskey.h"
#include "nsgate/be.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

/* Layout of the state record. Integers big-endian; the check value is
 * BLAKE2b-256 of everything before it, so a torn or damaged write is refused
 * rather than signed with. sk is libsodium's 64-byte form (seed || pk). */
enum {
    ST_MAGIC = 0,
    ST_VERSION = 8,
    ST_LEN = 16,
    ST_EPOCH = 24,
    ST_START = 32,
    ST_ROOT = 40,
    ST_PK = 72,
    ST_SK = 104,
    ST_CHECK = 168,
};
/* Layout of the certs header. */
enum { CH_MAGIC = 0, CH_VERSION = 8, CH_LEN = 16, CH_ROOT = 24 };

#define STATE_MAGIC   "NSGKEYST"
#define CERTS_MAGIC   "NSGCERTS"
#define STATE_VERSION 1
/* certs header: 2 since certificates sign the epoch length; 1 (earlier
 * releases) is still read, and evolved with v2 certificates from then on.
 * Releases that only know 1 refuse a 2, so none of them appends an
 * unsigned-length certificate after a signed one. */
#define CERTS_VERSION        2
#define CERTS_VERSION_LEGACY 1
#define STATE_NAME           "state"
#define CERTS_NAME           "certs"
#define LOCK_NAME            "lock"
#define RETIRED_NAME         "retired"
#define CERTS_BATCH          64

_Static_assert(ST_CHECK + crypto_generichash_BYTES == NG_FSKEY_STATE_BYTES, "state size");
_Static_assert(CH_ROOT + NG_FSKEY_PK_BYTES == NG_FSKEY_CERTS_HEADER_BYTES, "header size");
_Static_assert(crypto_sign_PUBLICKEYBYTES == NG_FSKEY_PK_BYTES, "pk size");
_Static_assert(crypto_sign_BYTES == NG_FSKEY_SIG_BYTES, "sig size");
_Static_assert(crypto_sign_SECRETKEYBYTES == ST_CHECK - ST_SK, "sk size");

/* Everything secret, in one sodium_malloc block: the state record as read
 * from disk (it holds the current secret) and the next key pair while an
 * epoch change is under way. */
struct secret {
    uint8_t rec[NG_FSKEY_STATE_BYTES];
    uint8_t next_sk[crypto_sign_SECRETKEYBYTES];
    uint8_t next_pk[crypto_sign_PUBLICKEYBYTES];
};

struct ng_fskey {
    int dirfd, lockfd, statefd, certsfd;
    int locked;
    struct secret *sec;
    struct ng_fskey_info info;
};

uint64_t ng_fskey_now_ns(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * NG_FSKEY_SEC_NS + (uint64_t)ts.tv_nsec;
}

/* ---- encodings (pure) ---- */

size_t ng_fskey_cert_message(const uint8_t root_pk[NG_FSKEY_PK_BYTES],
                             const struct ng_fskey_cert *c, uint64_t epoch_len_ns,
                             uint8_t out[NG_FSKEY_CERT_MSG_BYTES])
{
    static const char tag2[] = NG_FSKEY_CERT_TAG, tag1[] = NG_FSKEY_CERT_TAG_V1;
    _Static_assert(sizeof(tag1) == sizeof(tag2), "one tag length");
    const char *tag = epoch_len_ns ? tag2 : tag1;
    uint8_t *p = out;

    ng_be32_put(p, sizeof(tag2) - 1), p += 4;
    memcpy(p, tag, sizeof(tag2) - 1), p += sizeof(tag2) - 1;
    memcpy(p, root_pk, NG_FSKEY_PK_BYTES), p += NG_FSKEY_PK_BYTES;
    ng_be64_put(p, c->epoch), p += 8;
    memcpy(p, c->pk, NG_FSKEY_PK_BYTES), p += NG_FSKEY_PK_BYTES;
    ng_be64_put(p, c->start_ns), p += 8;
    if (!epoch_len_ns)
        return NG_FSKEY_CERT_MSG_V1_BYTES;
    ng_be64_put(p, epoch_len_ns);
    return NG_FSKEY_CERT_MSG_BYTES;
}

void ng_fskey_cert_encode(const struct ng_fskey_cert *c, uint8_t out[NG_FSKEY_CERT_BYTES])
{
    ng_be64_put(out, c->epoch);
    ng_be64_put(out + 8, c->start_ns);
    memcpy(out + 16, c->pk, NG_FSKEY_PK_BYTES);
    memcpy(out + 48, c->sig, NG_FSKEY_SIG_BYTES);
}

void ng_fskey_cert_decode(const uint8_t in[NG_FSKEY_CERT_BYTES], struct ng_fskey_cert *c)
{
    c->epoch = ng_be64_get(in);
    c->start_ns = ng_be64_get(in + 8);
    memcpy(c->pk, in + 16, NG_FSKEY_PK_BYTES);
    memcpy(c->sig, in + 48, NG_FSKEY_SIG_BYTES);
}

/* Always the current form: the epoch length is signed with the epoch. */
static void cert_sign(const uint8_t root_pk[NG_FSKEY_PK_BYTES], struct ng_fskey_cert *c,
                      uint64_t epoch_len_ns, const uint8_t *sk)
{
    uint8_t msg[NG_FSKEY_CERT_MSG_BYTES];
    size_t n = ng_fskey_cert_message(root_pk, c, epoch_len_ns, msg);
    (void)crypto_sign_detached(c->sig, NULL, msg, n, sk);
}

static void state_seal(uint8_t *rec)
{
    (void)crypto_generichash(rec + ST_CHECK, crypto_generichash_BYTES, rec, ST_CHECK, NULL, 0);
}

static int state_valid(const uint8_t *rec)
{
    uint8_t check[crypto_generichash_BYTES];
    uint64_t len = ng_be64_get(rec + ST_LEN);

    (void)crypto_generichash(check, sizeof(check), rec, ST_CHECK, NULL, 0);
    return memcmp(rec + ST_MAGIC, STATE_MAGIC, 8) == 0 &&
           ng_be32_get(rec + ST_VERSION) == STATE_VERSION &&
           sodium_memcmp(check, rec + ST_CHECK, sizeof(check)) == 0 &&
           len >= NG_FSKEY_MIN_EPOCH_NS && len <= NG_FSKEY_MAX_EPOCH_NS &&
           /* the secret's public half must be the stated public key */
           sodium_memcmp(rec + ST_SK + 32, rec + ST_PK, NG_FSKEY_PK_BYTES) == 0 &&
           (ng_be64_get(rec + ST_EPOCH) > 0 ||
            sodium_memcmp(rec + ST_ROOT, rec + ST_PK, NG_FSKEY_PK_BYTES) == 0);
}

static void state_info(const uint8_t *rec, struct ng_fskey_info *info)
{
    info->epoch = ng_be64_get(rec + ST_EPOCH);
    info->start_ns = ng_be64_get(rec + ST_START);
    info->epoch_len_ns = ng_be64_get(rec + ST_LEN);
    memcpy(info->root_pk, rec + ST_ROOT, NG_FSKEY_PK_BYTES);
    memcpy(info->pk, rec + ST_PK, NG_FSKEY_PK_BYTES);
}

/* ---- memory and files ---- */

/* sodium_malloc guards and mlocks (and marks MADV_DONTDUMP); libsodium
 * 1.0.18 does not mark MADV_WIPEONFORK, so do both on the pages holding it. */
static int secret_alloc(struct secret **ret)
{
    struct secret *s = sodium_malloc(sizeof(*s));
    if (!s)
        return -ENOMEM;
    uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = (uintptr_t)s & ~(pg - 1);
    uintptr_t e = ((uintptr_t)s + sizeof(*s) + pg - 1) & ~(pg - 1);
    if (madvise((void *)a, e - a, MADV_WIPEONFORK) < 0 ||
        madvise((void *)a, e - a, MADV_DONTDUMP) < 0) {
        int r = -errno; /* a kernel before 4.14: refuse rather than leak into children */
        sodium_free(s);
        return r;
    }
    sodium_memzero(s, sizeof(*s));
    *ret = s;
    return 0;
}

static int pread_full(int fd, void *buf, size_t len, off_t off)
{
    ssize_t n;
    do
        n = pread(fd, buf, len, off);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    return (size_t)n == len ? 0 : -EBADMSG;
}

static int pwrite_full(int fd, const void *buf, size_t len, off_t off)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        p += n, off += n, len -= (size_t)n;
    }
    return 0;
}

static int fsync_fd(int fd)
{
    return fsync(fd) < 0 ? -errno : 0;
}

/* Not owned by us, or writable by group or other: someone else could swap
 * or plant files. private_too: also refuse any group/other access. */
static int check_stat(int fd, mode_t type, int private_too)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    if ((st.st_mode & S_IFMT) != type)
        return type == S_IFDIR ? -ENOTDIR : -EINVAL;
    if (st.st_uid != geteuid() || (st.st_mode & (private_too ? 077 : 022)))
        return -EPERM;
    return 0;
}

static unsigned fs_warnings(int fd)
{
    static const unsigned long cow[] = {
        0x9123683eUL, /* btrfs */ 0x2fc12fc1UL, /* zfs */ 0x794c7630UL,    /* overlayfs */
        0xca451a4eUL, /* bcachefs */ 0x3434UL,  /* nilfs2 */ 0xf2f52010UL, /* f2fs */
    };
    struct statfs sf;
    if (fstatfs(fd, &sf) < 0)
        return 0;
    for (size_t i = 0; i < NG_ARRAY_SIZE(cow); i++)
        if ((unsigned long)sf.f_type == cow[i])
            return NG_FSKEY_WARN_COW_FS;
    return 0;
}

static int dir_open(const char *path, int create, int *ret_fd, unsigned *warnings)
{
    struct stat st;
    int fd;

    if (create && mkdir(path, 0700) < 0 && errno != EEXIST)
        return -errno;
    fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        /* report a symlink as such, whichever of the two the kernel chose */
        return lstat(path, &st) == 0 && S_ISLNK(st.st_mode) ? -ELOOP : -e;
    }
    int r = check_stat(fd, S_IFDIR, 0);
    if (r < 0) {
        close(fd);
        return r;
    }
    if (warnings)
        *warnings = fs_warnings(fd);
    *ret_fd = fd;
    return 0;
}

/* flags beyond O_NOFOLLOW|O_CLOEXEC come from the caller: O_CREAT|O_EXCL for
 * new key files. A symlink fails with ELOOP. */
static int file_open(int dirfd, const char *name, int flags, int private_too, int *ret_fd)
{
    int fd = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0)
        return -errno;
    int r = check_stat(fd, S_IFREG, private_too);
    if (r < 0) {
        close(fd);
        return r;
    }
    *ret_fd = fd;
    return 0;
}

/* The key directory is root's alone, so only root processes (other
 * recorders, keygen --advance) hold this lock, for milliseconds. Still
 * bounded: a holder that is stopped or hung ends the waiter's sealing with
 * -ENOLCK (the session then stops, fail closed) rather than hanging it. */
#define LOCK_WAIT_MS 30000

static int lock_wait(int fd)
{
    long step_us = 100;

    for (long waited_us = 0;; waited_us += step_us) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return 0;
        if (errno != EWOULDBLOCK && errno != EINTR)
            return -errno;
        if (waited_us >= LOCK_WAIT_MS * 1000L)
            return -ENOLCK;
        step_us = step_us < 16000 ? step_us * 2 : 16000; /* short waits stay short */
        struct timespec ts = {0, step_us * 1000};
        nanosleep(&ts, NULL);
    }
}

/* The lock file outlives every process, so it is the one file opened
 * without O_EXCL; it is still checked like the others. */
static int lock_take(int dirfd, int *ret_fd)
{
    int fd, r = file_open(dirfd, LOCK_NAME, O_RDWR | O_CREAT, 1, &fd);
    if (r == 0 && (r = lock_wait(fd)) < 0)
        close(fd);
    if (r == 0)
        *ret_fd = fd;
    return r;
}

static void certs_header(uint8_t hdr[NG_FSKEY_CERTS_HEADER_BYTES], uint64_t len,
                         const uint8_t root_pk[NG_FSKEY_PK_BYTES])
{
    memcpy(hdr + CH_MAGIC, CERTS_MAGIC, 8);
    ng_be32_put(hdr + CH_VERSION, CERTS_VERSION);
    ng_be32_put(hdr + CH_VERSION + 4, 0);
    ng_be64_put(hdr + CH_LEN, len);
    memcpy(hdr + CH_ROOT, root_pk, NG_FSKEY_PK_BYTES);
}

static int certs_header_valid(const uint8_t hdr[NG_FSKEY_CERTS_HEADER_BYTES])
{
    uint32_t v = ng_be32_get(hdr + CH_VERSION);
    return memcmp(hdr + CH_MAGIC, CERTS_MAGIC, 8) == 0 &&
           (v == CERTS_VERSION || v == CERTS_VERSION_LEGACY);
}

/* ---- keygen ---- */

static int exists_at(int dirfd, const char *name)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
        return 1;
    return errno == ENOENT ? 0 : -errno;
}

static int write_new(int dirfd, const char *name, const void *buf, size_t len)
{
    int fd, r = file_open(dirfd, name, O_WRONLY | O_CREAT | O_EXCL, 1, &fd);
    if (r < 0)
        return r;
    r = pwrite_full(fd, buf, len, 0);
    if (r == 0)
        r = fsync_fd(fd);
    close(fd);
    return r;
}

/* Move the old certs file (the old root key and every cert it issued, which
 * verifiers of old sessions need) to retired/ROOTHEX-NOW.certs. */
static int retire_certs(int dirfd, uint64_t now_ns)
{
    uint8_t hdr[NG_FSKEY_CERTS_HEADER_BYTES];
    char hex[2 * NG_FSKEY_PK_BYTES + 1] = "unknown", name[128];
    ng_autoclose int fd = -1, rfd = -1;
    int r = file_open(dirfd, CERTS_NAME, O_RDONLY, 0, &fd);

    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return r;
    if (pread_full(fd, hdr, sizeof(hdr), 0) == 0 && certs_header_valid(hdr))
        sodium_bin2hex(hex, sizeof(hex), hdr + CH_ROOT, NG_FSKEY_PK_BYTES);
    snprintf(name, sizeof(name), "%s-%llu.certs", hex, (unsigned long long)now_ns);
    if (mkdirat(dirfd, RETIRED_NAME, 0700) < 0 && errno != EEXIST)
        return -errno;
    rfd = openat(dirfd, RETIRED_NAME, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (rfd < 0)
        return -errno;
    r = check_stat(rfd, S_IFDIR, 0);
    if (r < 0)
        return r;
    if (renameat2(dirfd, CERTS_NAME, rfd, name, RENAME_NOREPLACE) < 0)
        return -errno;
    return fsync_fd(rfd);
}

/* Overwrite the old state with zeros where it lies, sync, remove: the
 * destruction keygen --force promises. Its public half is kept for the
 * audit record when it still parses. */
static int destroy_state(int dirfd, int fd, struct ng_fskey_created *out)
{
    static const uint8_t zero[4096];
    struct stat st;
    int r = 0;

    if (fd < 0)
        return 0;
    struct secret *s;
    if ((r = secret_alloc(&s)) < 0)
        return r;
    if (pread_full(fd, s->rec, sizeof(s->rec), 0) == 0 && state_valid(s->rec)) {
        state_info(s->rec, &out->retired);
        out->retired_valid = 1;
    }
    sodium_free(s);
    if (fstat(fd, &st) < 0)
        return -errno;
    /* a planted huge file is not worth zeroing past what a state can be */
    off_t size = st.st_size < (1 << 20) ? st.st_size : (1 << 20);
    for (off_t off = 0; off < size && r == 0; off += (off_t)sizeof(zero))
        r = pwrite_full(fd, zero,
                        (size_t)(size - off) < sizeof(zero) ? (size_t)(size - off) : sizeof(zero),
                        off);
    if (r == 0)
        r = fsync_fd(fd);
    if (r == 0 && unlinkat(dirfd, STATE_NAME, 0) < 0)
        r = -errno;
    return r;
}

/* Epoch 0: its key pair, its self-signed certificate, the state record. */
static int make_keys(int dirfd, uint64_t len, uint64_t now_ns, struct ng_fskey_created *out)
{
    uint8_t buf[NG_FSKEY_CERTS_HEADER_BYTES + NG_FSKEY_CERT_BYTES];
    struct ng_fskey_cert c = {.epoch = 0, .start_ns = now_ns};
    struct secret *s;
    int r = secret_alloc(&s);

    if (r < 0)
        return r;
    uint8_t *rec = s->rec;
    (void)crypto_sign_keypair(rec + ST_PK, rec + ST_SK);
    memcpy(rec + ST_MAGIC, STATE_MAGIC, 8);
    ng_be32_put(rec + ST_VERSION, STATE_VERSION);
    ng_be64_put(rec + ST_LEN, len);
    ng_be64_put(rec + ST_EPOCH, 0);
    ng_be64_put(rec + ST_START, now_ns);
    memcpy(rec + ST_ROOT, rec + ST_PK, NG_FSKEY_PK_BYTES);
    state_seal(rec);
    memcpy(c.pk, rec + ST_PK, NG_FSKEY_PK_BYTES);
    cert_sign(c.pk, &c, len, rec + ST_SK);
    certs_header(buf, len, c.pk);
    ng_fskey_cert_encode(&c, buf + NG_FSKEY_CERTS_HEADER_BYTES);

    r = write_new(dirfd, CERTS_NAME, buf, sizeof(buf));
    if (r == 0) {
        r = write_new(dirfd, STATE_NAME, rec, NG_FSKEY_STATE_BYTES);
        if (r < 0) /* keep the directory consistent: no certs without a state */
            (void)unlinkat(dirfd, CERTS_NAME, 0);
    }
    if (r == 0) {
        memcpy(out->root_pk, c.pk, NG_FSKEY_PK_BYTES);
        out->start_ns = now_ns;
    }
    sodium_free(s);
    return r;
}

int ng_fskey_create(const char *dir, uint64_t epoch_len_ns, int force, uint64_t now_ns,
                    struct ng_fskey_created *ret)
{
    struct ng_fskey_created out = {0};
    ng_autoclose int dfd = -1, lfd = -1, sfd = -1;
    int r, have_state, have_certs;

    if (epoch_len_ns < NG_FSKEY_MIN_EPOCH_NS || epoch_len_ns > NG_FSKEY_MAX_EPOCH_NS)
        return -EINVAL;
    if (sodium_init() < 0)
        return -EIO;
    if ((r = dir_open(dir, 1, &dfd, &out.warnings)) < 0 || (r = lock_take(dfd, &lfd)) < 0)
        return r;
    if ((have_state = exists_at(dfd, STATE_NAME)) < 0)
        return have_state;
    if ((have_certs = exists_at(dfd, CERTS_NAME)) < 0)
        return have_certs;
    if ((have_state || have_certs) && !force)
        return -EEXIST;
    /* everything checked before anything changes: a planted symlink at the
     * state path must not cost the certificates */
    if (have_state && (r = file_open(dfd, STATE_NAME, O_RDWR, 0, &sfd)) < 0)
        return r;
    if ((r = retire_certs(dfd, now_ns)) < 0 || (r = destroy_state(dfd, sfd, &out)) < 0)
        return r;
    if ((r = make_keys(dfd, epoch_len_ns, now_ns, &out)) < 0 || (r = fsync_fd(dfd)) < 0)
        return r;
    *ret = out;
    return 0;
}

/* ---- the running key: load, catch up, sign ---- */

int ng_fskey_open(const char *dir, struct ng_fskey **ret, unsigned *warnings)
{
    struct ng_fskey *k;
    int r;

    if (sodium_init() < 0)
        return -EIO;
    k = calloc(1, sizeof(*k));
    if (!k)
        return -ENOMEM;
    k->dirfd = k->lockfd = k->statefd = k->certsfd = -1;
    r = dir_open(dir, 0, &k->dirfd, warnings);
    if (r == 0)
        r = file_open(k->dirfd, LOCK_NAME, O_RDWR | O_CREAT, 1, &k->lockfd);
    if (r == 0)
        r = file_open(k->dirfd, STATE_NAME, O_RDWR, 1, &k->statefd);
    if (r == 0)
        r = file_open(k->dirfd, CERTS_NAME, O_RDWR, 0, &k->certsfd);
    if (r == 0)
        r = secret_alloc(&k->sec);
    if (r == 0 && sodium_mprotect_noaccess(k->sec) < 0)
        r = -errno;
    if (r < 0) {
        ng_fskey_close(k);
        return r;
    }
    *ret = k;
    return 0;
}

void ng_fskey_close(struct ng_fskey *k)
{
    if (!k)
        return;
    if (k->sec)
        sodium_free(k->sec); /* makes it accessible, checks the canary, zeroes */
    ng_closep(&k->certsfd);
    ng_closep(&k->statefd);
    ng_closep(&k->lockfd); /* releases the lock if held */
    ng_closep(&k->dirfd);
    free(k);
}

/* The certs file must hold exactly epochs 0..N of the state's root, the last
 * one naming the state's key. Certs past N are what an epoch change left when
 * it crashed before writing the state: their secrets never reached the disk,
 * nobody signed with them, so they are cut off and made again. */
static int certs_reconcile(struct ng_fskey *k)
{
    const uint8_t *rec = k->sec->rec;
    uint64_t epoch = ng_be64_get(rec + ST_EPOCH);
    uint8_t hdr[NG_FSKEY_CERTS_HEADER_BYTES], raw[NG_FSKEY_CERT_BYTES];
    struct ng_fskey_cert c;
    struct stat st;
    int r;

    if (epoch >= (uint64_t)INT64_MAX / NG_FSKEY_CERT_BYTES - 1)
        return -EBADMSG;
    off_t want = NG_FSKEY_CERTS_HEADER_BYTES + (off_t)(epoch + 1) * NG_FSKEY_CERT_BYTES;
    if (fstat(k->certsfd, &st) < 0)
        return -errno;
    if (st.st_size < want)
        return -EBADMSG;
    if (st.st_size > want && (ftruncate(k->certsfd, want) < 0 || fsync(k->certsfd) < 0))
        return -errno;
    if ((r = pread_full(k->certsfd, hdr, sizeof(hdr), 0)) < 0 ||
        (r = pread_full(k->certsfd, raw, sizeof(raw), want - NG_FSKEY_CERT_BYTES)) < 0)
        return r;
    ng_fskey_cert_decode(raw, &c);
    if (!certs_header_valid(hdr) || ng_be64_get(hdr + CH_LEN) != ng_be64_get(rec + ST_LEN) ||
        sodium_memcmp(hdr + CH_ROOT, rec + ST_ROOT, NG_FSKEY_PK_BYTES) != 0 || c.epoch != epoch ||
        c.start_ns != ng_be64_get(rec + ST_START) ||
        sodium_memcmp(c.pk, rec + ST_PK, NG_FSKEY_PK_BYTES) != 0)
        return -EBADMSG;
    return 0;
}

static int state_load(struct ng_fskey *k)
{
    int r = pread_full(k->statefd, k->sec->rec, NG_FSKEY_STATE_BYTES, 0);
    if (r < 0)
        return r;
    if (!state_valid(k->sec->rec))
        return -EBADMSG;
    return certs_reconcile(k);
}

/* A key directory made by an earlier release (certs version 1) gets
 * certificates that sign the epoch length from now on: mark it version 2
 * first, so that such a release refuses it instead of appending a
 * certificate of the old form after one of the new. */
static int certs_upgrade(struct ng_fskey *k)
{
    uint8_t v[4];
    int r = pread_full(k->certsfd, v, sizeof(v), CH_VERSION);

    if (r < 0 || ng_be32_get(v) == CERTS_VERSION)
        return r;
    ng_be32_put(v, CERTS_VERSION);
    r = pwrite_full(k->certsfd, v, sizeof(v), CH_VERSION);
    return r < 0 ? r : fsync_fd(k->certsfd);
}

/* Epoch by epoch up to target: make the next key pair, certify it with the
 * current secret, replace the current secret by it in memory. The certs go to
 * disk (fsync) before the state, so no secret is ever on disk without its
 * certificate; the state is rewritten in place, overwriting the old secret. */
static int evolve(struct ng_fskey *k, uint64_t target)
{
    struct secret *s = k->sec;
    uint8_t *rec = s->rec, buf[CERTS_BATCH * NG_FSKEY_CERT_BYTES];
    uint64_t e = ng_be64_get(rec + ST_EPOCH), len = ng_be64_get(rec + ST_LEN);
    uint64_t start = ng_be64_get(rec + ST_START);
    off_t off = NG_FSKEY_CERTS_HEADER_BYTES + (off_t)(e + 1) * NG_FSKEY_CERT_BYTES;
    size_t n = 0;
    int r = certs_upgrade(k);

    while (e < target && r == 0) {
        e++;
        start += len;
        struct ng_fskey_cert c = {.epoch = e, .start_ns = start};
        (void)crypto_sign_keypair(s->next_pk, s->next_sk);
        memcpy(c.pk, s->next_pk, NG_FSKEY_PK_BYTES);
        cert_sign(rec + ST_ROOT, &c, len, rec + ST_SK);
        ng_fskey_cert_encode(&c, buf + n++ * NG_FSKEY_CERT_BYTES);
        sodium_memzero(rec + ST_SK, sizeof(s->next_sk)); /* epoch e-1's secret, gone */
        memcpy(rec + ST_SK, s->next_sk, sizeof(s->next_sk));
        memcpy(rec + ST_PK, s->next_pk, sizeof(s->next_pk));
        sodium_memzero(s->next_sk, sizeof(s->next_sk));
        if (n == CERTS_BATCH || e == target) {
            r = pwrite_full(k->certsfd, buf, n * NG_FSKEY_CERT_BYTES, off);
            off += (off_t)(n * NG_FSKEY_CERT_BYTES);
            n = 0;
        }
    }
    if (r == 0)
        r = fsync_fd(k->certsfd);
    ng_be64_put(rec + ST_EPOCH, e);
    ng_be64_put(rec + ST_START, start);
    state_seal(rec);
    if (r == 0)
        r = pwrite_full(k->statefd, rec, NG_FSKEY_STATE_BYTES, 0);
    if (r == 0)
        r = fsync_fd(k->statefd);
    return r;
}

/* Epochs are a grid from epoch 0's start: epoch N+k starts at start(N) + k *
 * len. A clock behind the current epoch's start changes nothing. */
static int catch_up(struct ng_fskey *k, uint64_t now_ns)
{
    const uint8_t *rec = k->sec->rec;
    uint64_t start = ng_be64_get(rec + ST_START), len = ng_be64_get(rec + ST_LEN);

    if (now_ns < start || now_ns - start < len)
        return 0;
    uint64_t steps = (now_ns - start) / len;
    if (steps > NG_FSKEY_MAX_CATCHUP)
        return -ERANGE;
    return evolve(k, ng_be64_get(rec + ST_EPOCH) + steps);
}

void ng_fskey_unlock(struct ng_fskey *k)
{
    /* nothing secret stays in memory between two uses */
    sodium_memzero(k->sec, sizeof(*k->sec));
    (void)sodium_mprotect_noaccess(k->sec);
    (void)flock(k->lockfd, LOCK_UN);
    k->locked = 0;
}

int ng_fskey_lock_current(struct ng_fskey *k, uint64_t now_ns, struct ng_fskey_advanced *adv)
{
    uint64_t from;
    int r;

    if (k->locked)
        return -EBUSY;
    if ((r = lock_wait(k->lockfd)) < 0)
        return r;
    if (sodium_mprotect_readwrite(k->sec) < 0) {
        r = -errno;
        (void)flock(k->lockfd, LOCK_UN);
        return r;
    }
    r = state_load(k);
    from = ng_be64_get(k->sec->rec + ST_EPOCH);
    if (r == 0)
        r = catch_up(k, now_ns);
    if (r < 0) {
        ng_fskey_unlock(k);
        return r;
    }
    state_info(k->sec->rec, &k->info);
    k->locked = 1;
    if (adv) {
        adv->from_epoch = from;
        adv->to_epoch = k->info.epoch;
    }
    return 0;
}

int ng_fskey_advance(struct ng_fskey *k, uint64_t now_ns, struct ng_fskey_advanced *adv)
{
    int r = ng_fskey_lock_current(k, now_ns, adv);
    if (r == 0)
        ng_fskey_unlock(k);
    return r;
}

int ng_fskey_sign(const struct ng_fskey *k, const uint8_t *msg, size_t len,
                  uint8_t sig[NG_FSKEY_SIG_BYTES])
{
    if (!k->locked)
        return -EBADFD;
    (void)crypto_sign_detached(sig, NULL, msg, len, k->sec->rec + ST_SK);
    return 0;
}

void ng_fskey_info(const struct ng_fskey *k, struct ng_fskey_info *ret)
{
    *ret = k->info;
}

int ng_fskey_read_cert(const struct ng_fskey *k, uint64_t epoch, struct ng_fskey_cert *ret)
{
    uint8_t raw[NG_FSKEY_CERT_BYTES];
    if (epoch >= (uint64_t)INT64_MAX / NG_FSKEY_CERT_BYTES - 1)
        return -ENOENT;
    int r = pread_full(k->certsfd, raw, sizeof(raw),
                       NG_FSKEY_CERTS_HEADER_BYTES + (off_t)epoch * NG_FSKEY_CERT_BYTES);
    if (r < 0)
        return r == -EBADMSG ? -ENOENT : r;
    ng_fskey_cert_decode(raw, ret);
    return 0;
}

/* ---- public data, for verifiers ---- */

static int read_certs(int fd, size_t n, struct ng_fskey_cert **ret)
{
    size_t len = n * NG_FSKEY_CERT_BYTES;
    uint8_t *raw = malloc(len);
    struct ng_fskey_cert *certs = calloc(n, sizeof(*certs));
    int r = raw && certs ? pread_full(fd, raw, len, NG_FSKEY_CERTS_HEADER_BYTES) : -ENOMEM;

    for (size_t i = 0; r == 0 && i < n; i++)
        ng_fskey_cert_decode(raw + i * NG_FSKEY_CERT_BYTES, &certs[i]);
    free(raw);
    if (r < 0) {
        free(certs);
        return r;
    }
    *ret = certs;
    return 0;
}

/* Certificate 0 is the root's own and signs the header's epoch length (v2),
 * or, made by an earlier release, signs no length (v1): a length changed in
 * the header is refused here already; verify checks the store's copy. */
static int cert0_valid(const uint8_t hdr[NG_FSKEY_CERTS_HEADER_BYTES],
                       const struct ng_fskey_cert *c)
{
    uint8_t msg[NG_FSKEY_CERT_MSG_BYTES];
    const uint8_t *root = hdr + CH_ROOT;

    if (c->epoch != 0 || sodium_memcmp(c->pk, root, NG_FSKEY_PK_BYTES) != 0)
        return 0;
    for (int form = 0; form < 2; form++) {
        size_t n = ng_fskey_cert_message(root, c, form ? 0 : ng_be64_get(hdr + CH_LEN), msg);
        if (crypto_sign_verify_detached(c->sig, msg, n, root) == 0)
            return 1;
    }
    return 0;
}

int ng_fskey_read_public(const char *dir, uint8_t root_pk[NG_FSKEY_PK_BYTES],
                         uint64_t *epoch_len_ns, struct ng_fskey_cert **certs, size_t *ncerts)
{
    uint8_t hdr[NG_FSKEY_CERTS_HEADER_BYTES];
    ng_autoclose int dfd = -1, fd = -1;
    struct stat st;
    int r;

    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    fd = openat(dfd, CERTS_NAME, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    if (fd < 0 || fstat(fd, &st) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode))
        return -EINVAL;
    if (st.st_size < NG_FSKEY_CERTS_HEADER_BYTES + NG_FSKEY_CERT_BYTES)
        return -EBADMSG;
    /* a torn last record (crash while appending) is not a certificate */
    size_t n = (size_t)(st.st_size - NG_FSKEY_CERTS_HEADER_BYTES) / NG_FSKEY_CERT_BYTES;
    if (n > (size_t)1 << 26) /* a sanity bound: over 600 years of 5-minute epochs */
        return -EFBIG;
    if ((r = pread_full(fd, hdr, sizeof(hdr), 0)) < 0)
        return r;
    if (!certs_header_valid(hdr))
        return -EBADMSG;
    if ((r = read_certs(fd, n, certs)) < 0)
        return r;
    if (!cert0_valid(hdr, &(*certs)[0])) {
        free(*certs);
        *certs = NULL;
        return -EBADMSG;
    }
    memcpy(root_pk, hdr + CH_ROOT, NG_FSKEY_PK_BYTES);
    *epoch_len_ns = ng_be64_get(hdr + CH_LEN);
    *ncerts = n;
    return 0;
}
