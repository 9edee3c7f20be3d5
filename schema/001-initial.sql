-- nsgate session store, schema version 1.
--
-- Covered tables (every table not named cache_*) are STRICT, so a value's
-- storage class cannot change silently, and every hash, key, ID and signature
-- is a BLOB (no hex text whose case could be changed). The schema version
-- lives in PRAGMA user_version and application_id (0x6e736774, "nsgt"), never
-- in a table. A later schema is a new file NNN-name.sql that only adds
-- (ALTER TABLE ... ADD COLUMN, new tables): it never rewrites a covered row.
-- The same text is compiled into nsgate (src/store_schema.c); a unit test
-- keeps the two identical.

PRAGMA application_id = 1853056884;
PRAGMA user_version = 1;

-- One row per session, written once when the session starts: it is event 0
-- of the session's hash chain. header_hash covers every other column, in
-- this order, by name (chain.h). Values known only at the end (end time,
-- exit status, end reason) are not here: the final 'x' event carries them.
CREATE TABLE sessions (
    id BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16 AND id <> zeroblob(16)), -- UUID v4
    start_ns INTEGER NOT NULL,      -- wall clock, UTC, ns since the epoch
    start_boot_ns INTEGER NOT NULL, -- CLOCK_BOOTTIME at start; event t_ns count from here
    host TEXT NOT NULL,
    user_name TEXT NOT NULL,        -- the caller
    uid INTEGER NOT NULL,
    gid INTEGER NOT NULL,
    groups TEXT NOT NULL,           -- supplementary gids, decimal, comma-separated
    login_uid INTEGER,              -- /proc/self/loginuid, NULL when unset
    audit_session INTEGER,          -- /proc/self/sessionid, NULL when unset
    tty TEXT,                       -- the caller's terminal, NULL when none
    target_pid INTEGER NOT NULL,
    target_container TEXT,          -- target attributes (policy.md), NULL when absent
    target_cgroup TEXT,
    target_exe TEXT,
    target_comm TEXT,
    target_uid TEXT,
    ns_user INTEGER,                -- inode of each entered namespace, NULL when
    ns_cgroup INTEGER,              -- that namespace was not entered; the set of
    ns_ipc INTEGER,                 -- non-NULL columns is the set entered
    ns_uts INTEGER,
    ns_net INTEGER,
    ns_pid INTEGER,
    ns_mnt INTEGER,
    ns_time INTEGER,
    program TEXT NOT NULL,
    argv BLOB NOT NULL,             -- each argument followed by one NUL byte, exact bytes
    run_as_uid INTEGER NOT NULL,
    run_as_gid INTEGER NOT NULL,
    run_as_groups TEXT NOT NULL,    -- decimal, comma-separated
    run_as_caps TEXT,               -- capabilities as the policy granted them
    reason TEXT,
    rule TEXT NOT NULL,             -- the allowing rule
    policy_hash BLOB NOT NULL CHECK (length(policy_hash) = 32), -- of the policy file content
    record_input INTEGER NOT NULL CHECK (record_input IN (0, 1)),
    mode TEXT NOT NULL CHECK (mode IN ('pty', 'pipe')),
    hash_alg TEXT NOT NULL,         -- 'blake2b-256': the chain's hash, by name
    nsgate_version TEXT NOT NULL,
    header_hash BLOB NOT NULL CHECK (length(header_hash) = 32)
) STRICT;

CREATE INDEX sessions_start ON sessions (start_ns);

-- The session's events. seq starts at 1 (the header is 0) with no gaps;
-- t_ns is the CLOCK_BOOTTIME offset from the session start. kind: o output,
-- i input, e standard error (pipe mode), r resize "COLSxROWS", m marker,
-- x exit (last event; data is JSON {"end_ns":N,"exit":N,"reason":"..."}).
-- hash chains each event to the previous one (chain.h).
CREATE TABLE events (
    session BLOB NOT NULL,
    seq INTEGER NOT NULL CHECK (seq >= 1),
    t_ns INTEGER NOT NULL CHECK (t_ns >= 0),
    kind TEXT NOT NULL CHECK (kind IN ('o', 'i', 'e', 'r', 'm', 'x')),
    data BLOB NOT NULL,
    hash BLOB NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (session, seq)
) STRICT;

-- Signatures over a chain head (docs/integrity.md "Seals"): the fields of
-- struct ng_seal_fields and the Ed25519 signature. A session may be sealed
-- several times at the same seq (heartbeat seals while idle), so a seal is
-- keyed by its own number, 1, 2, ... per chain. The host-wide ledger is
-- sealed here too, under the nil UUID (16 zero bytes, no session's ID).
CREATE TABLE seals (
    session BLOB NOT NULL CHECK (length(session) = 16),
    sealno INTEGER NOT NULL CHECK (sealno >= 1),
    seq INTEGER NOT NULL CHECK (seq >= 0),  -- last_seq: last entry covered
    head BLOB NOT NULL CHECK (length(head) = 32),
    prev_seal_hash BLOB NOT NULL CHECK (length(prev_seal_hash) = 32), -- zero for the first
    wall_ns INTEGER NOT NULL,
    boot_ns INTEGER NOT NULL,
    epoch INTEGER NOT NULL CHECK (epoch >= 0),
    signature BLOB NOT NULL CHECK (length(signature) = 64),
    PRIMARY KEY (session, sealno)
) STRICT;

-- Host-wide chain of session starts, checkpoints and ends (integrity.md 5).
-- value: the header hash (start) or the chain head at event_seq; hash
-- chains each entry to the previous one (chain.h, "nsgate-ledger-v1").
CREATE TABLE ledger (
    seq INTEGER PRIMARY KEY CHECK (seq >= 1),
    session BLOB NOT NULL CHECK (length(session) = 16),
    kind TEXT NOT NULL CHECK (kind IN ('start', 'checkpoint', 'end')),
    wall_ns INTEGER NOT NULL,
    event_seq INTEGER NOT NULL CHECK (event_seq >= 0),
    value BLOB NOT NULL CHECK (length(value) = 32),
    hash BLOB NOT NULL CHECK (length(hash) = 32)
) STRICT;

-- Forward-secure key chains (docs/integrity.md "Keys"), copied from the key
-- directory: each root public key with its epoch length, and the
-- certificate of each epoch's key under that root (epoch 0 self-signed by
-- the root). Keyed by root, so the chain of a key replaced by keygen --force
-- stays beside the new one.
CREATE TABLE roots (
    root_pk BLOB PRIMARY KEY NOT NULL CHECK (length(root_pk) = 32),
    epoch_len_ns INTEGER NOT NULL CHECK (epoch_len_ns > 0)
) STRICT;

CREATE TABLE certs (
    root_pk BLOB NOT NULL CHECK (length(root_pk) = 32),
    epoch INTEGER NOT NULL CHECK (epoch >= 0),
    start_ns INTEGER NOT NULL,
    pubkey BLOB NOT NULL CHECK (length(pubkey) = 32),
    signature BLOB NOT NULL CHECK (length(signature) = 64),
    PRIMARY KEY (root_pk, epoch)
) STRICT;

-- Derived data only, not covered: a copy of the 'x' event for fast listing.
-- Readers show the covered 'x' event itself, never this copy.
CREATE TABLE cache_session_end (
    session BLOB PRIMARY KEY NOT NULL,
    end_ns INTEGER NOT NULL,
    exit_status INTEGER NOT NULL,
    end_reason TEXT NOT NULL,
    last_seq INTEGER NOT NULL
) STRICT;
