-- nsgate session store, schema version 3: applied in place to a version 1 or
-- 2 store (one write transaction, nothing covered rewritten), or after 002
-- to a new one, so all end with the same schema text.
--
-- sessions gains header columns, NULL in older rows; the header hash leaves
-- NULL columns out (chain.h), so older headers keep their hash, while a
-- value set, changed or removed in a version 3 row changes it:
--   target_name      the container's name in its engine's state (podman,
--                    Docker), NULL when none
--   target_pod       NAMESPACE/POD of the Kubernetes pod, NULL when none
--   confinement      'target' (the program got the target's seccomp filters,
--                    LSM label, bounding set and no_new_privs) or 'none'
--                    (the allowing rule said confinement = none)
--   seccomp_filters  how many seccomp filters were copied onto the program
--                    (0: the target had none); NULL under 'none'
--   seccomp_hash     BLAKE2b-256 of those filters (docs/store.md
--                    "Confinement"), NULL when none were copied
--   lsm, lsm_label   the LSM ('apparmor', 'selinux') and the label the
--                    program was executed with, NULL when none applied

PRAGMA user_version = 3;

ALTER TABLE sessions ADD COLUMN target_name TEXT;
ALTER TABLE sessions ADD COLUMN target_pod TEXT;
ALTER TABLE sessions ADD COLUMN confinement TEXT
    CHECK (confinement IN ('target', 'none'));
ALTER TABLE sessions ADD COLUMN seccomp_filters INTEGER
    CHECK (seccomp_filters >= 0);
ALTER TABLE sessions ADD COLUMN seccomp_hash BLOB
    CHECK (length(seccomp_hash) = 32);
ALTER TABLE sessions ADD COLUMN lsm TEXT
    CHECK (lsm IN ('apparmor', 'selinux'));
ALTER TABLE sessions ADD COLUMN lsm_label TEXT;
