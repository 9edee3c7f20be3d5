/* Container names from podman's, CRI-O's and Docker's state on disk
 * (engines.h). Read-only; hostile input: bounded, checked, parsed with
 * jansson. */
#include "nsgate/engines.h"
#include "nsgate/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORAGE "/var/lib/containers/storage"
#define DOCKER  "/var/lib/docker/containers"

int ng_engine_valid_name(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > NG_ENGINE_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
            return 0;
    }
    return 1;
}

static int valid_id(const char *s)
{
    return strlen(s) == NG_CONTAINER_ID_LEN && ng_is_lower_hex(s, NG_CONTAINER_ID_LEN);
}

/* The whole file, if root owns it and only root may write it. (The
 * effective uid is accepted too, as the store does, so the unit tests run
 * unprivileged; enter and check read it with euid 0.) */
static int slurp(int dirfd, const char *path, char **ret, size_t *len)
{
    struct stat st;
    int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_uid != 0 && st.st_uid != geteuid()) ||
        (st.st_mode & 022) || (uint64_t)st.st_size > NG_ENGINE_FILE_MAX) {
        close(fd);
        return -EPERM;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (buf && got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (!buf)
        return -ENOMEM;
    buf[got] = '\0';
    *ret = buf;
    *len = got;
    return 0;
}

static json_t *load(const char *text, size_t len)
{
    json_error_t e;
    return json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
}

int ng_engine_parse_storage(const char *text, size_t len, ng_engine_pair_fn fn, void *ctx)
{
    json_t *a = load(text, len);
    size_t i;
    json_t *c;
    int r = 0;

    if (!json_is_array(a)) {
        json_decref(a);
        return -EBADMSG;
    }
    json_array_foreach(a, i, c)
    {
        const char *id = json_string_value(json_object_get(c, "id"));
        json_t *names = json_object_get(c, "names");
        size_t k;
        json_t *nm;
        if (!id || !valid_id(id) || !json_is_array(names))
            continue;
        json_array_foreach(names, k, nm)
        {
            const char *name = json_string_value(nm);
            if (name && ng_engine_valid_name(name) && (r = fn(ctx, id, name)) != 0)
                break;
        }
        if (r)
            break;
    }
    json_decref(a);
    return 0;
}

int ng_engine_parse_docker(const char *text, size_t len, ng_engine_pair_fn fn, void *ctx)
{
    json_t *o = load(text, len);
    const char *id = json_string_value(json_object_get(o, "ID"));
    const char *name = json_string_value(json_object_get(o, "Name"));

    if (!json_is_object(o) || !id || !valid_id(id) || !name) {
        json_decref(o);
        return -EBADMSG;
    }
    if (name[0] == '/')
        name++;
    if (ng_engine_valid_name(name))
        (void)fn(ctx, id, name);
    json_decref(o);
    return 0;
}

typedef int (*parse_fn)(const char *, size_t, ng_engine_pair_fn, void *);

static int parse_file(int dirfd, const char *path, parse_fn parse, ng_engine_pair_fn fn, void *ctx)
{
    char *buf = NULL;
    size_t len = 0;
    int r = slurp(dirfd, path, &buf, &len);

    if (r < 0)
        return r;
    r = parse(buf, len, fn, ctx);
    free(buf);
    return r;
}

/* ROOT followed by SUB, as a directory stream (close-on-exec), or NULL. */
static DIR *open_dir(const char *root, const char *sub)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s%s", root, sub);
    return ng_opendir_at(AT_FDCWD, path, 0);
}

/* Every containers.json of containers/storage: one per graph driver. */
static void walk_storage(const char *root, ng_engine_pair_fn fn, void *ctx)
{
    char path[4096];
    DIR *d = open_dir(root, STORAGE);
    struct dirent *e;

    if (!d)
        return;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n <= 11 || strcmp(e->d_name + n - 11, "-containers") != 0)
            continue;
        snprintf(path, sizeof(path), "%s/containers.json", e->d_name);
        (void)parse_file(dirfd(d), path, ng_engine_parse_storage, fn, ctx);
        snprintf(path, sizeof(path), "%s/volatile-containers.json", e->d_name);
        (void)parse_file(dirfd(d), path, ng_engine_parse_storage, fn, ctx);
    }
    closedir(d);
}

static void walk_docker(const char *root, const char *only_id, ng_engine_pair_fn fn, void *ctx)
{
    char path[4096];
    DIR *d = open_dir(root, DOCKER);
    struct dirent *e;

    if (!d)
        return;
    while ((e = readdir(d))) {
        if (!valid_id(e->d_name) || (only_id && strcmp(e->d_name, only_id) != 0))
            continue;
        snprintf(path, sizeof(path), "%s/config.v2.json", e->d_name);
        (void)parse_file(dirfd(d), path, ng_engine_parse_docker, fn, ctx);
    }
    closedir(d);
}

struct by_name {
    const char *name;
    struct ng_engine_ids *out;
};

static int collect_id(void *ctx, const char *id, const char *name)
{
    struct by_name *b = ctx;
    struct ng_engine_ids *o = b->out;

    if (strcmp(name, b->name) != 0)
        return 0;
    for (size_t i = 0; i < o->n; i++)
        if (strcmp(o->id[i], id) == 0)
            return 0;
    o->total++;
    if (o->n < NG_ENGINE_MAX_IDS)
        memcpy(o->id[o->n++], id, NG_CONTAINER_ID_LEN + 1);
    return 0;
}

int ng_engine_ids_by_name(const char *root, const char *name, struct ng_engine_ids *ret)
{
    struct by_name b = {name, ret};

    memset(ret, 0, sizeof(*ret));
    if (!ng_engine_valid_name(name))
        return -EINVAL;
    walk_storage(root, collect_id, &b);
    walk_docker(root, NULL, collect_id, &b);
    return 0;
}

struct by_id {
    const char *id;
    char *out;
    size_t outsz;
    int found, conflict;
};

static int collect_name(void *ctx, const char *id, const char *name)
{
    struct by_id *b = ctx;

    if (strcmp(id, b->id) != 0)
        return 0;
    if (!b->found) {
        snprintf(b->out, b->outsz, "%s", name);
        b->found = strlen(name) < b->outsz;
    } else if (strcmp(b->out, name) != 0) {
        b->conflict = 1; /* two engines disagree: no name rather than a guess */
    }
    return 1; /* an entry's first name is the container's name */
}

int ng_engine_name_by_id(const char *root, const char *id, char *out, size_t outsz)
{
    struct by_id b = {id, out, outsz, 0, 0};

    if (!valid_id(id) || outsz == 0)
        return -EINVAL;
    out[0] = '\0';
    walk_storage(root, collect_name, &b);
    walk_docker(root, id, collect_name, &b);
    if (b.conflict)
        return out[0] = '\0', -ENOTUNIQ;
    return b.found;
}
