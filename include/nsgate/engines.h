/* Container names from the engines' own state on disk, read-only and
 * without any engine API (cli.md --container, policy.md attribute name):
 *   podman, CRI-O (containers/storage):
 *     ROOT/var/lib/containers/storage/DRIVER-containers/containers.json and
 *     volatile-containers.json: [{"id": ID, "names": [NAME, ...]}, ...]
 *   Docker: ROOT/var/lib/docker/containers/ID/config.v2.json:
 *     {"ID": ID, "Name": "/NAME", ...}
 * ROOT is "" on a real host; tests name a directory holding a captured
 * tree. Every file read must be owned by root and not writable by group or
 * other (the engines write them so), and is parsed as hostile input with a
 * size limit. */
#ifndef NSGATE_ENGINES_H
#define NSGATE_ENGINES_H

#include "nsgate/procfs.h"

#include <stddef.h>

#define NG_ENGINE_NAME_MAX 255
#define NG_ENGINE_FILE_MAX (64u << 20)
#define NG_ENGINE_MAX_IDS  8

/* An engine's container name: [A-Za-z0-9][A-Za-z0-9_.-]*, 1 to 255 bytes
 * (what Docker and podman accept). */
int ng_engine_valid_name(const char *s);

/* The full IDs of containers named name (up to NG_ENGINE_MAX_IDS; *total
 * counts them all). 0 (possibly none found) or a negative errno. */
struct ng_engine_ids {
    char id[NG_ENGINE_MAX_IDS][NG_CONTAINER_ID_LEN + 1];
    size_t n, total;
};
int ng_engine_ids_by_name(const char *root, const char *name, struct ng_engine_ids *ret);

/* The name of container id: 1 and out filled, 0 when no engine knows it
 * (or an engine's state cannot be read), -ENOTUNIQ when two engines give
 * different names. */
int ng_engine_name_by_id(const char *root, const char *id, char *out, size_t outsz);

/* Pure parsers, for tests and the fuzzer. Each calls fn(ctx, id, name) for
 * every (ID, valid name) pair in the text and returns 0, or -EBADMSG when
 * the text is not what the engine writes; fn returning non-zero stops. */
typedef int (*ng_engine_pair_fn)(void *ctx, const char *id, const char *name);
int ng_engine_parse_storage(const char *text, size_t len, ng_engine_pair_fn fn, void *ctx);
int ng_engine_parse_docker(const char *text, size_t len, ng_engine_pair_fn fn, void *ctx);

#endif
