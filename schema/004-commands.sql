-- nsgate session store, schema version 4: command recording. Applied in
-- place to a version 1, 2 or 3 store (one write transaction, nothing covered
-- rewritten), or after 003 to a new one.
--
-- sessions gains one header column, NULL in older rows (the header hash
-- leaves NULL columns out, so older headers keep their hash):
--   record_commands  1 when every exec of the session's processes was
--                    recorded as a 'c' event (policy record_commands),
--                    0 when the policy turned it off
--
-- events_commands indexes the covered 'c' events by session: listing a
-- session's command timeline or counting its commands reads the index, not
-- every event of the session. An index over covered rows changes no row.
--
-- cache_commands is derived data (not covered): the shell-quoted command
-- line of every 'c' event in a trigram full-text index, so that sessions
-- --command PATTERN is answered without reading every event. Readers re-check
-- every session it names against the covered 'c' event itself before they
-- show it (docs/store.md). Its shadow tables are named cache_commands_*.

PRAGMA user_version = 4;

ALTER TABLE sessions ADD COLUMN record_commands INTEGER
    CHECK (record_commands IN (0, 1));

CREATE INDEX events_commands ON events (session, seq) WHERE kind = 'c';

CREATE VIRTUAL TABLE cache_commands USING fts5(
    line, session UNINDEXED, seq UNINDEXED, tokenize = 'trigram case_sensitive 1'
);
