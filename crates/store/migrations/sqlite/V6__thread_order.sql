-- deskmove staging store, schema 6: messages in thread order.
-- Load hands each conversation's messages to the target in the order they were written (by
-- created_at), not in the order of the source's ids, which need not follow time (a source may
-- give a reply a smaller id than the message before it). These columns are derived from the
-- message body when it is staged (src/rows.rs) and left out of the store's dump; NULL for every
-- other kind. `thread_at` is created_at in nanoseconds since the epoch.
ALTER TABLE records ADD COLUMN thread_system TEXT;
ALTER TABLE records ADD COLUMN thread_id TEXT;
ALTER TABLE records ADD COLUMN thread_at INTEGER;

-- Stores staged before schema 6: the same values from the body (to the millisecond, which is
-- what SQLite's date functions keep; the message's key breaks ties).
UPDATE records
SET thread_system = json_extract(body, '$.conversation.system'),
    thread_id = json_extract(body, '$.conversation.id'),
    thread_at = CAST(round(unixepoch(json_extract(body, '$.created_at'), 'subsec') * 1000) AS INTEGER) * 1000000
WHERE kind = 'message';

CREATE INDEX records_by_thread ON records (thread_system, thread_id, thread_at, system, id)
WHERE kind = 'message';
