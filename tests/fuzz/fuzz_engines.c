/* Fuzz target: what nsgate reads about containers from files on the host
 * that others write: the engines' state (podman/CRI-O containers.json,
 * Docker's config.v2.json), the kubelet's directory names, --pod
 * arguments, and LSM labels from /proc/PID/attr. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nsgate/confine.h"
#include "nsgate/engines.h"
#include "nsgate/pods.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int pair(void *ctx, const char *id, const char *name)
{
    (*(size_t *)ctx) += strlen(id) + strlen(name);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    char ns[NG_POD_NS_MAX + 1], pod[NG_POD_NAME_MAX + 1], c[NG_POD_CONTAINER_MAX + 1];
    char uid[NG_POD_UID_LEN + 1], label[NG_CONFINE_LABEL_MAX];
    size_t n = 0;

    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    (void)ng_engine_parse_storage(text, size, pair, &n);
    (void)ng_engine_parse_docker(text, size, pair, &n);
    (void)ng_engine_valid_name(text);
    (void)ng_pod_parse_arg(text, ns, pod, c);
    (void)ng_pod_parse_dir(text, ns, pod, uid);
    (void)ng_confine_parse_label(NG_LSM_APPARMOR, text, size, label, sizeof(label));
    (void)ng_confine_parse_label(NG_LSM_SELINUX, text, size, label, sizeof(label));
    free(text);
    return 0;
}
