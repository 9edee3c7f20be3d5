/* Fuzz target: every /proc parser on hostile text (a container names the
 * cgroups below its own; /proc text is parsed by a privileged process). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nsgate/procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    char out[4096], id[NG_CONTAINER_ID_LEN + 1], uid[NG_POD_UID_LEN + 1];
    struct ng_proc_status st;
    struct ng_proc_ids ids;
    uint64_t t;
    uint32_t v;
    const char *why;

    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    (void)ng_parse_status(text, &st);
    (void)ng_parse_status_ids(text, &ids);
    (void)ng_parse_stat_starttime(text, &t);
    if (ng_parse_cgroup_path(text, out, sizeof(out)) == 0) {
        (void)ng_container_id_from_path(out, id, &why);
        (void)ng_pod_uid_from_path(out, uid, &why);
    }
    (void)ng_pod_uid_from_path(text, uid, &why);
    (void)ng_container_id_from_path(text, id, &why);
    (void)ng_parse_cgroup_v1_path(text, "memory", out, sizeof(out));
    (void)ng_idmap_to_inside(text, 1000, &v);
    (void)ng_idmap_to_outside(text, 0, &v);
    (void)ng_parse_cgroup2_mount(text, out, sizeof(out));
    (void)ng_parse_cgroup_v1_mount(text, "name=systemd", out, sizeof(out));
    free(text);
    return 0;
}
