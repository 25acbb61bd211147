//! Full-text search of the staged conversations: the store as the read-only archive a compliance
//! team keeps after cutover. The FTS5 index (`archive_text`, schema 4) covers message bodies,
//! attachment file names and conversation subjects and is kept current by triggers in the
//! transaction of each staged page, so a search sees exactly what is committed.

use deskmove_core::{RecordKind, SourceKey};
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::SqliteStore;
use crate::error::StoreError;

/// One conversation an archive search found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArchiveHit {
    /// The conversation.
    pub conversation: SourceKey,
    /// Its subject, when it has one.
    pub subject: Option<String>,
    /// When the source created it (`None` when the conversation record is not staged).
    pub created_at: Option<Timestamp>,
    /// The customer who started it.
    pub contact: Option<SourceKey>,
    /// That customer's name, when staged.
    pub contact_name: Option<String>,
    /// That customer's email, when staged.
    pub contact_email: Option<String>,
    /// The best-matching record: a message, an attachment or the conversation itself.
    pub matched: SourceKey,
    /// The matching text around the words found, each found word between `**`.
    pub snippet: String,
}

impl SqliteStore {
    /// Up to `limit` conversations whose messages, attachment file names or subject contain
    /// every word of `text` (case- and accent-insensitive; words may be in any order and
    /// field), best match first, one hit per conversation. Committed data only; runs beside an
    /// export. SQLite-only: the memory store keeps no index.
    pub async fn search_archive(
        &self,
        text: &str,
        limit: usize,
    ) -> Result<Vec<ArchiveHit>, StoreError> {
        let query = match_expression(text)?;
        self.read(move |c| search(c, &query, limit)).await
    }
}

/// Every word of `text` as a quoted FTS5 string, so operators and punctuation in what a user
/// types are searched for, never parsed (`"invoice-2023.pdf"` becomes the phrase
/// `invoice 2023 pdf`).
fn match_expression(text: &str) -> Result<String, StoreError> {
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect();
    if words.is_empty() {
        return Err(StoreError::Invalid(
            "an archive search needs at least one word".into(),
        ));
    }
    Ok(words.join(" "))
}

fn q(op: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    StoreError::sqlite(op)
}

type HitCols = (String, String, String, String, Option<String>);

fn search(c: &Connection, query: &str, limit: usize) -> Result<Vec<ArchiveHit>, StoreError> {
    let mut st = c
        .prepare_cached(
            "SELECT r.kind, r.system, r.id, snippet(archive_text, 0, '**', '**', '…', 16),
                    CASE r.kind
                        WHEN 'conversation' THEN r.id
                        WHEN 'message' THEN json_extract(r.body, '$.conversation.id')
                        WHEN 'attachment' THEN (
                            SELECT json_extract(m.body, '$.conversation.id') FROM records m
                            WHERE json_extract(r.body, '$.owner.kind') = 'message'
                              AND m.kind = 'message'
                              AND m.system = json_extract(r.body, '$.owner.system')
                              AND m.id = json_extract(r.body, '$.owner.id'))
                    END
             FROM archive_text JOIN records r ON r.rowid = archive_text.rowid
             WHERE archive_text MATCH ?1
             ORDER BY rank",
        )
        .map_err(q("preparing an archive search"))?;
    let rows = st
        .query_map([query], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .map_err(q("searching the archive"))?;
    let mut hits: Vec<ArchiveHit> = Vec::new();
    for row in rows {
        if hits.len() >= limit {
            break;
        }
        let (kind, system, id, snippet, conversation): HitCols =
            row.map_err(q("reading an archive match"))?;
        // Article images and other files outside conversations are not archive hits.
        let Some(conversation) = conversation else {
            continue;
        };
        let conversation = SourceKey::new(system.clone(), RecordKind::Conversation, conversation);
        if hits.iter().any(|h| h.conversation == conversation) {
            continue;
        }
        let kind: RecordKind = kind
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("unknown record kind `{kind}`")))?;
        let mut hit = ArchiveHit {
            conversation,
            subject: None,
            created_at: None,
            contact: None,
            contact_name: None,
            contact_email: None,
            matched: SourceKey::new(system, kind, id),
            snippet,
        };
        describe(c, &mut hit)?;
        hits.push(hit);
    }
    Ok(hits)
}

/// Fills in the conversation's subject, date and first contact from the staged records.
fn describe(c: &Connection, hit: &mut ArchiveHit) -> Result<(), StoreError> {
    let k = &hit.conversation;
    type ConversationCols = (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let row: Option<ConversationCols> = c
        .prepare_cached(
            "SELECT json_extract(body, '$.subject'), json_extract(body, '$.created_at'),
                    json_extract(body, '$.contacts[0].system'), json_extract(body, '$.contacts[0].id')
             FROM records WHERE kind = 'conversation' AND system = ?1 AND id = ?2",
        )
        .and_then(|mut st| {
            st.query_row(params![k.system, k.id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()
        })
        .map_err(q("reading a conversation for an archive hit"))?;
    let Some((subject, created_at, contact_system, contact_id)) = row else {
        return Ok(());
    };
    hit.subject = subject.filter(|s| !s.is_empty());
    hit.created_at = created_at.and_then(|t| t.parse().ok());
    let (Some(system), Some(id)) = (contact_system, contact_id) else {
        return Ok(());
    };
    let contact: Option<(Option<String>, Option<String>)> = c
        .prepare_cached(
            "SELECT json_extract(body, '$.name'), json_extract(body, '$.email')
             FROM records WHERE kind = 'contact' AND system = ?1 AND id = ?2",
        )
        .and_then(|mut st| {
            st.query_row(params![system, id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
        })
        .map_err(q("reading a contact for an archive hit"))?;
    if let Some((name, email)) = contact {
        hit.contact_name = name;
        hit.contact_email = email;
    }
    hit.contact = Some(SourceKey::new(system, RecordKind::Contact, id));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_users_type_is_searched_for_never_parsed() {
        assert_eq!(
            match_expression("refund  \"NOT\" invoice-2023.pdf").unwrap(),
            r#""refund" """NOT""" "invoice-2023.pdf""#
        );
        assert!(match_expression("  ").is_err());
    }
}
