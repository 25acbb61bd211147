-- deskmove staging store, schema 1. See ../../src/store.rs for the contract these tables serve.
-- Every table has a natural key, so re-applying a batch rewrites rows in place (at-least-once).
-- Column order matters: the memory store renders its dump in the same order (src/rows.rs).

-- One row per deskmove invocation that writes (run, export, import, ...).
CREATE TABLE runs (
    id            INTEGER PRIMARY KEY,
    command       TEXT NOT NULL,
    source_system TEXT,
    target_system TEXT,
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    status        TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'completed_with_problems', 'failed'))
) STRICT;

-- Source payloads exactly as received; the compliance archive.
CREATE TABLE raw_payloads (
    kind    TEXT NOT NULL,
    system  TEXT NOT NULL,
    id      TEXT NOT NULL,
    hash    TEXT NOT NULL,
    body    BLOB NOT NULL,
    run_id  INTEGER NOT NULL REFERENCES runs (id),
    UNIQUE (kind, system, id)
) STRICT;

-- Canonical records (canonical JSON), keyed by source key; (kind, system, id) also pages by kind.
CREATE TABLE records (
    kind       TEXT NOT NULL,
    system     TEXT NOT NULL,
    id         TEXT NOT NULL,
    hash       TEXT NOT NULL,
    updated_at TEXT,
    body       TEXT NOT NULL,
    run_id     INTEGER NOT NULL REFERENCES runs (id),
    UNIQUE (kind, system, id)
) STRICT;

-- Where each extraction stream stopped; written in the transaction of the records it covers.
CREATE TABLE cursors (
    stream TEXT PRIMARY KEY,
    cursor TEXT NOT NULL,
    run_id INTEGER NOT NULL REFERENCES runs (id)
) STRICT;

-- What each source record became in each target.
CREATE TABLE ledger (
    kind          TEXT NOT NULL,
    system        TEXT NOT NULL,
    id            TEXT NOT NULL,
    target_system TEXT NOT NULL,
    target_id     TEXT,
    content_hash  TEXT,
    outcome       TEXT NOT NULL CHECK (outcome IN ('loaded', 'updated', 'skipped', 'failed')),
    run_id        INTEGER NOT NULL REFERENCES runs (id),
    -- The run that last created it in the target (outcome `loaded`): what `rollback --run` removes.
    created_run   INTEGER REFERENCES runs (id),
    PRIMARY KEY (kind, system, id, target_system)
) STRICT;
CREATE INDEX ledger_by_created_run ON ledger (created_run, target_system, kind, system, id);

-- Per-record problems: the current ones, one per (record, stage, code).
CREATE TABLE problems (
    kind       TEXT NOT NULL,
    system     TEXT NOT NULL,
    id         TEXT NOT NULL,
    stage      TEXT NOT NULL,
    code       TEXT NOT NULL,
    reason     TEXT NOT NULL,
    error_kind TEXT NOT NULL,
    run_id     INTEGER NOT NULL REFERENCES runs (id),
    PRIMARY KEY (kind, system, id, stage, code)
) STRICT;
CREATE INDEX problems_by_code ON problems (code);

-- Index of the content-addressed blob store (attachments).
CREATE TABLE blobs (
    hash         TEXT PRIMARY KEY,
    size         INTEGER NOT NULL,
    content_type TEXT,
    first_seen   TEXT NOT NULL
) STRICT;
