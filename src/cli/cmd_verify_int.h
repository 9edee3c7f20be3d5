/* verify's pieces shared by the store (cmd_verify.c) and the stream
 * (cmd_verify_jsonl.c) forms: one run's state and its printed lines. */
#ifndef NSGATE_CMD_VERIFY_INT_H
#define NSGATE_CMD_VERIFY_INT_H

#include "cmd_store_int.h"
#include "nsgate/stream.h"
#include "nsgate/verify.h"

#define NG_VERIFY_MAX_KEYS 64

struct run {
    struct ng_verifier *v;
    struct ng_auditlog *log;
    char root16[17];
    int tampered, incomplete;
    /* --jsonl: the group verified, and which of its findings were said */
    const struct ng_stream_group *group;
    unsigned char *said;
    size_t lines; /* verdict lines printed for the group */
};

/* One verdict line (cli.md); a ng_verify_cb. */
int ng_verify_print(void *arg, const struct ng_verify_result *res);
/* One session verified and printed; a ng_verify_id_cb. */
int ng_verify_one(void *arg, const uint8_t id[NG_STORE_ID_LEN]);
void ng_verify_print_ledger(struct run *run, const struct ng_verify_result *res);
/* A finding of the group for res->id (zero: the ledger) that comes first
 * lowers res to TAMPERED at its seq; marks it said. */
void ng_verify_apply_findings(struct run *run, struct ng_verify_result *res);
/* verify --jsonl FILE...: the exit status. */
int ng_verify_jsonl(const char *const *files, size_t nfiles, const char *keys_dir,
                    const char *const *keys, size_t nkeys);

#endif
