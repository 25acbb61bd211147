-- deskmove staging store, schema 4: the archive's full-text index (`deskmove archive search`).
-- FTS5 over the text of staged conversations: message bodies (Markdown, else the HTML as
-- received), attachment file names and conversation subjects. It is an external-content index
-- over `records` (the text is not stored twice) kept current by triggers, so it changes in the
-- very transaction that stages a page: after a crash it matches the records exactly, and a
-- read-only connection can search while an export writes. Derived data: left out of the store's
-- dump (src/sqlite/read.rs). SQLite's VACUUM may renumber `records` rowids; rebuild the index
-- after one with `INSERT INTO archive_text (archive_text) VALUES ('rebuild')`.

-- The searchable text of each conversation, message and attachment, by its `records` rowid.
CREATE VIEW archive_source AS
SELECT rowid AS doc,
       CASE kind
           WHEN 'message' THEN coalesce(json_extract(body, '$.body_markdown'),
                                        json_extract(body, '$.body_html'), '')
           WHEN 'attachment' THEN coalesce(json_extract(body, '$.file_name'), '')
           WHEN 'conversation' THEN coalesce(json_extract(body, '$.subject'), '')
       END AS text
FROM records
WHERE kind IN ('message', 'attachment', 'conversation');

-- Case- and accent-insensitive words; `snippet()` reads the text back through the view.
CREATE VIRTUAL TABLE archive_text USING fts5(
    text,
    content = 'archive_source',
    content_rowid = 'doc',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER archive_text_insert AFTER INSERT ON records
WHEN new.kind IN ('message', 'attachment', 'conversation')
BEGIN
    INSERT INTO archive_text (rowid, text)
    SELECT doc, text FROM archive_source WHERE doc = new.rowid;
END;

-- A 'delete' must be given the old text exactly; the view's expression over `old` gives it.
CREATE TRIGGER archive_text_update AFTER UPDATE OF body ON records
WHEN new.kind IN ('message', 'attachment', 'conversation')
BEGIN
    INSERT INTO archive_text (archive_text, rowid, text)
    VALUES ('delete', old.rowid,
            CASE old.kind
                WHEN 'message' THEN coalesce(json_extract(old.body, '$.body_markdown'),
                                             json_extract(old.body, '$.body_html'), '')
                WHEN 'attachment' THEN coalesce(json_extract(old.body, '$.file_name'), '')
                WHEN 'conversation' THEN coalesce(json_extract(old.body, '$.subject'), '')
            END);
    INSERT INTO archive_text (rowid, text)
    SELECT doc, text FROM archive_source WHERE doc = new.rowid;
END;

CREATE TRIGGER archive_text_delete AFTER DELETE ON records
WHEN old.kind IN ('message', 'attachment', 'conversation')
BEGIN
    INSERT INTO archive_text (archive_text, rowid, text)
    VALUES ('delete', old.rowid,
            CASE old.kind
                WHEN 'message' THEN coalesce(json_extract(old.body, '$.body_markdown'),
                                             json_extract(old.body, '$.body_html'), '')
                WHEN 'attachment' THEN coalesce(json_extract(old.body, '$.file_name'), '')
                WHEN 'conversation' THEN coalesce(json_extract(old.body, '$.subject'), '')
            END);
END;

-- Stores staged before this schema: index what they hold.
INSERT INTO archive_text (archive_text) VALUES ('rebuild');
