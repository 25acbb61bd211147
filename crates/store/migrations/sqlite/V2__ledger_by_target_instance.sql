-- deskmove staging store, schema 2: the ledger is keyed by target instance (vendor, host, account,
-- load path) instead of by vendor name, so two accounts, two installations or two load paths of one
-- vendor never take each other's rows for "already loaded". Runs also record their instance.
-- Refinery applies this file and its history row in one transaction: a crash leaves schema 1 whole.
-- Column order matters: the memory store renders its dump in the same order (src/memory/dump.rs).
--
-- Schema 1 rows knew only the vendor. They become vendor = the old target_system and
-- host = account = path = '' (the empty instance: "unknown, from before instances existed"). No
-- real instance has an empty host, so a new load never takes them for its own; they stay
-- readable for status, and through ledger_page/created_by under that empty instance.

-- SQLite cannot change a primary key in place: build the new table, copy, drop, rename. Only the
-- child table is rebuilt, so foreign keys to runs stay valid throughout.
CREATE TABLE ledger_by_instance (
    kind           TEXT NOT NULL,
    system         TEXT NOT NULL,
    id             TEXT NOT NULL,
    target_vendor  TEXT NOT NULL,
    target_host    TEXT NOT NULL,
    target_account TEXT NOT NULL,
    target_path    TEXT NOT NULL,
    target_id      TEXT,
    content_hash   TEXT,
    outcome        TEXT NOT NULL CHECK (outcome IN ('loaded', 'updated', 'skipped', 'failed')),
    run_id         INTEGER NOT NULL REFERENCES runs (id),
    -- The run that last created it in the target (outcome `loaded`): what `rollback --run` removes.
    created_run    INTEGER REFERENCES runs (id),
    -- Instance first: the same index finds one entry and pages through an instance's kind in
    -- (system, id) order (verify, status).
    PRIMARY KEY (target_vendor, target_host, target_account, target_path, kind, system, id)
) STRICT;

INSERT INTO ledger_by_instance (kind, system, id, target_vendor, target_host, target_account,
                                target_path, target_id, content_hash, outcome, run_id, created_run)
SELECT kind, system, id, target_system, '', '', '', target_id, content_hash, outcome, run_id,
       created_run
FROM ledger;

-- Also drops schema 1's ledger_by_created_run index.
DROP TABLE ledger;
ALTER TABLE ledger_by_instance RENAME TO ledger;
CREATE INDEX ledger_by_created_run
    ON ledger (created_run, target_vendor, target_host, target_account, target_path, kind, system, id);

-- The instance a run loads into, for reports; all four NULL when it has none (or is from schema 1).
-- Appended, as SQLite adds columns at the end; target_system stays for the vendor name.
ALTER TABLE runs ADD COLUMN target_vendor TEXT;
ALTER TABLE runs ADD COLUMN target_host TEXT;
ALTER TABLE runs ADD COLUMN target_account TEXT;
ALTER TABLE runs ADD COLUMN target_path TEXT;
