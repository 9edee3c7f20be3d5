-- nsgate session store, schema version 5: event data compressed in blocks.
-- Applied in place to a version 1 to 4 store (one write transaction, nothing
-- covered rewritten), or after 004 to a new one. Older sessions keep their
-- data in events.data and verify as before.
--
-- A recorder writes each batch's output, input and standard error ('o', 'i',
-- 'e' events) as one zstd frame in event_blocks; each such event row keeps
-- an empty data BLOB and says in block_len how many bytes of its block are
-- its data. The block's decompressed bytes are the data of the events of
-- [first_seq, last_seq] whose block_len is not NULL, in seq order, raw_len
-- bytes in all. The hash chain is unchanged: each event's hash covers its
-- data as recorded (decompressed), so exports and outside verifiers see and
-- hash the same bytes as before (docs/integrity.md "Compressed event data").
-- Every value here is covered: a changed block decompresses to other bytes
-- (or not at all) and fails the hashes of its events.

PRAGMA user_version = 5;

ALTER TABLE events ADD COLUMN block_len INTEGER CHECK (block_len >= 0);

CREATE TABLE event_blocks (
    session BLOB NOT NULL,
    first_seq INTEGER NOT NULL CHECK (first_seq >= 1),
    last_seq INTEGER NOT NULL CHECK (last_seq >= first_seq),
    codec TEXT NOT NULL CHECK (codec IN ('zstd')),
    raw_len INTEGER NOT NULL CHECK (raw_len >= 0),
    data BLOB NOT NULL,
    PRIMARY KEY (session, first_seq)
) STRICT;
