-- nsgate session store, schema version 2: applied in place to a version 1
-- store (one write transaction, nothing covered rewritten), or after 001 to
-- a new one, so both end with the same schema text.
--
-- sessions gains two header columns, NULL in version 1 rows. The header
-- hash leaves NULL columns out (chain.h), so version 1 headers keep their
-- hash, while a value set, changed or removed in a version 2 row changes it:
--   caller_reach  how the session was kept out of the caller's reach
--                 (docs/security.md): 'userns' (run in nsgate's own user
--                 namespace under an unused host uid), 'other-uid' (the
--                 program's host uid is none of the caller's), 'root' (the
--                 caller is root), 'allowed' (unprotected, accepted by the
--                 rule's caller_reach = allow)
--   mask_escrow   the X25519 public key masked input was sealed to (policy
--                 mask_escrow), NULL when none
--
-- events gains two kinds: 'k' escrowed masked input (a sealed box of the
-- masked bytes, docs/store.md) and 'c' a command run inside the session.
-- SQLite cannot widen a CHECK constraint with ALTER TABLE; the documented
-- way for a change that every existing row already satisfies is to edit the
-- table's text in sqlite_schema (the ADD COLUMNs below then bump the schema
-- cookie, so every connection re-reads it). The row data is not touched.

PRAGMA user_version = 2;

PRAGMA writable_schema = ON;
UPDATE sqlite_schema
   SET sql = replace(sql, '''m'', ''x''))', '''m'', ''x'', ''k'', ''c''))')
 WHERE type = 'table' AND name = 'events';
PRAGMA writable_schema = OFF;

ALTER TABLE sessions ADD COLUMN caller_reach TEXT
    CHECK (caller_reach IN ('userns', 'other-uid', 'root', 'allowed'));
ALTER TABLE sessions ADD COLUMN mask_escrow BLOB
    CHECK (length(mask_escrow) = 32);
