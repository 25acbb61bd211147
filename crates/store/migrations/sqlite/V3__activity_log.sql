-- deskmove staging store, schema 3: the activity log, one row per committed extraction batch or
-- load batch, with the time the store received it. Reports chart throughput over time from it.
-- It records when work happened, not what the store holds, so it is left out of the store's
-- dump (src/sqlite/read.rs) and a re-sent batch is logged again. Read in rowid (commit) order.
CREATE TABLE activity (
    run_id   INTEGER NOT NULL REFERENCES runs (id),
    -- `extract` for put_batch, `load` for put_loads (rollbacks write through put_loads too).
    phase    TEXT NOT NULL CHECK (phase IN ('extract', 'load')),
    at       TEXT NOT NULL,
    -- Records the batch carried (extract: staged records; load: distinct records with an entry
    -- or a problem) and problems it carried.
    records  INTEGER NOT NULL,
    problems INTEGER NOT NULL
) STRICT;
CREATE INDEX activity_by_run ON activity (run_id);
