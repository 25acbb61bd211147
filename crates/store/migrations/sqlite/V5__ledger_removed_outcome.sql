-- deskmove staging store, schema 5: the ledger outcome `removed`, written by a rollback. A removed
-- entry keeps no target id, hash or creating run, so a second rollback finds nothing to remove
-- and the next load creates the record again. Refinery applies this file and its history row in
-- one transaction.
--
-- SQLite cannot change a CHECK constraint in place: build the new table, copy, drop, rename (as
-- schema 2 did). Only the child table is rebuilt, so foreign keys to runs stay valid throughout.
CREATE TABLE ledger_with_removed (
    kind           TEXT NOT NULL,
    system         TEXT NOT NULL,
    id             TEXT NOT NULL,
    target_vendor  TEXT NOT NULL,
    target_host    TEXT NOT NULL,
    target_account TEXT NOT NULL,
    target_path    TEXT NOT NULL,
    target_id      TEXT,
    content_hash   TEXT,
    outcome        TEXT NOT NULL
                   CHECK (outcome IN ('loaded', 'updated', 'skipped', 'failed', 'removed')),
    run_id         INTEGER NOT NULL REFERENCES runs (id),
    -- The run that last created it in the target (outcome `loaded`): what `rollback --run` removes.
    created_run    INTEGER REFERENCES runs (id),
    PRIMARY KEY (target_vendor, target_host, target_account, target_path, kind, system, id)
) STRICT;

INSERT INTO ledger_with_removed (kind, system, id, target_vendor, target_host, target_account,
                                 target_path, target_id, content_hash, outcome, run_id, created_run)
SELECT kind, system, id, target_vendor, target_host, target_account, target_path, target_id,
       content_hash, outcome, run_id, created_run
FROM ledger;

DROP TABLE ledger;
ALTER TABLE ledger_with_removed RENAME TO ledger;
CREATE INDEX ledger_by_created_run
    ON ledger (created_run, target_vendor, target_host, target_account, target_path, kind, system, id);
