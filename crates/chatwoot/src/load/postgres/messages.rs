//! Messages, one transaction per batch, then the conversation fields Chatwoot derives from them.
//!
//! Rows go in ordered by (conversation, `created_at`), so within a conversation ids grow with
//! time: Chatwoot pages messages by id and shows them by `created_at`, and relies on the two
//! agreeing (../shared/research/chatwoot.md §0.1, §6). A message older than one already in
//! its conversation cannot get a smaller id; it is written and reported (`message_out_of_order`).

use std::collections::HashMap;
use std::pin::pin;

use deskmove_core::connector::{LoadResult, Resolve};
use deskmove_core::model::{AuthorKind, Message};
use deskmove_core::{ErrorKind, Problem, Record};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type;
use tokio_postgres::{Client, Transaction};

use super::{PostgresError, PostgresOptions, parent_missing, problem, ref_id};
use crate::map::{self, MessageRow, Sender, civil};

struct Item<'a> {
    msg: &'a Message,
    conversation_id: i32,
    inbox_id: i32,
    row: MessageRow,
    problem: Option<Problem>,
}

/// Loads a batch of messages.
pub async fn load(
    client: &mut Client,
    o: &PostgresOptions,
    records: &[Record],
    refs: &impl Resolve,
) -> Result<Vec<LoadResult>, PostgresError> {
    let db = PostgresError::db;
    let account = o.account_id as i32;
    let msgs: Vec<&Message> = records
        .iter()
        .filter_map(|r| match r {
            Record::Message(m) => Some(m),
            _ => None,
        })
        .collect();
    let conv_ids: Vec<i32> = msgs
        .iter()
        .filter_map(|m| ref_id(refs, &m.conversation).map(|x| x as i32))
        .collect();
    let tx = client
        .transaction()
        .await
        .map_err(db("starting a transaction"))?;
    // The conversations as they are now: the messages already in each, by the conversation
    // index (a few hundred probes, not one per message by `source_id`): what an earlier attempt
    // committed (reconciled below by source_id) and the newest message (for ordering).
    let mut conv_ids = conv_ids;
    conv_ids.sort_unstable();
    conv_ids.dedup();
    let mut newest: HashMap<i32, jiff::civil::DateTime> = HashMap::new();
    let mut present: HashMap<(i32, String), i32> = HashMap::new();
    for r in tx
        .query(
            "SELECT conversation_id, source_id, id, created_at FROM messages
              WHERE conversation_id = ANY($1)",
            &[&conv_ids],
        )
        .await
        .map_err(db("reading conversations"))?
    {
        let conversation: i32 = r.get(0);
        let at: jiff::civil::DateTime = r.get(3);
        newest
            .entry(conversation)
            .and_modify(|n| *n = (*n).max(at))
            .or_insert(at);
        if let Some(source) = r.get::<_, Option<String>>(1) {
            present.insert((conversation, source), r.get(2));
        }
    }
    let convs: HashMap<i32, (i32, Option<jiff::civil::DateTime>)> = tx
        .query(
            "SELECT id, inbox_id FROM conversations WHERE id = ANY($1) AND account_id = $2",
            &[&conv_ids, &account],
        )
        .await
        .map_err(db("reading conversations"))?
        .iter()
        .map(|r| {
            let id: i32 = r.get(0);
            (id, (r.get(1), newest.get(&id).copied()))
        })
        .collect();

    let mut out = Vec::with_capacity(msgs.len());
    let mut items = Vec::with_capacity(msgs.len());
    for m in &msgs {
        let Some((conversation_id, (inbox_id, _))) = ref_id(refs, &m.conversation)
            .map(|x| x as i32)
            .and_then(|id| convs.get(&id).map(|c| (id, *c)))
        else {
            out.push(parent_missing(&m.key, &m.conversation));
            continue;
        };
        let author = m.author.key.as_ref().and_then(|k| ref_id(refs, k));
        let sender = match (m.author.kind, author) {
            (AuthorKind::Contact, Some(id)) => Sender::Contact(id),
            (AuthorKind::Agent, Some(id)) => Sender::User(id),
            (AuthorKind::Bot, _) => o.agent_bot_id.map_or(Sender::None, Sender::AgentBot),
            _ => Sender::None,
        };
        let (row, problem) = map::message(m, sender);
        items.push(Item {
            msg: m,
            conversation_id,
            inbox_id,
            row,
            problem,
        });
    }

    // Reconcile: what an earlier attempt committed carries the same source_id in the
    // conversation.
    let wanted: std::collections::HashSet<(i32, &str)> = items
        .iter()
        .map(|i| (i.conversation_id, i.row.source_id.as_str()))
        .collect();
    let existing: HashMap<(i32, String), i32> = present
        .into_iter()
        .filter(|((c, s), _)| wanted.contains(&(*c, s.as_str())))
        .collect();
    let key_of = |i: &Item<'_>| (i.conversation_id, i.row.source_id.clone());
    let mut new: Vec<&Item<'_>> = items
        .iter()
        .filter(|i| !existing.contains_key(&key_of(i)))
        .collect();
    new.sort_by(|a, b| {
        (a.conversation_id, a.row.created_at).cmp(&(b.conversation_id, b.row.created_at))
    });
    let mut ids = existing.clone();
    if !new.is_empty() {
        copy_messages(&tx, &new).await?;
        let rows = tx
            .query(
                "INSERT INTO messages (content, account_id, inbox_id, conversation_id, message_type,
                        created_at, updated_at, private, status, source_id, content_type,
                        content_attributes, sender_type, sender_id, processed_message_content)
                 SELECT content, $1, inbox_id, conversation_id, message_type, created_at, updated_at,
                        private, 0, source_id, content_type, content_attributes, sender_type,
                        sender_id, processed_message_content
                   FROM dm_messages ORDER BY conversation_id, created_at, ord
                 RETURNING conversation_id, source_id, id",
                &[&account],
            )
            .await
            .map_err(db("inserting messages"))?;
        for r in &rows {
            ids.insert((r.get(0), r.get(1)), r.get(2));
        }
    }
    for i in items.iter().filter(|i| existing.contains_key(&key_of(i))) {
        let id = existing[&key_of(i)];
        let r = &i.row;
        tx.execute(
            "UPDATE messages SET content = $2, processed_message_content = $3, message_type = $4,
                    private = $5, content_attributes = $6, sender_type = $7, sender_id = $8,
                    created_at = $9, updated_at = $10
              WHERE id = $1",
            &[
                &id,
                &r.content,
                &r.processed_message_content,
                &r.message_type,
                &r.private,
                &r.content_attributes,
                &r.sender.sender_type(),
                &r.sender.sender_id(),
                &civil(r.created_at),
                &civil(r.updated_at),
            ],
        )
        .await
        .map_err(db("updating a message"))?;
    }
    let mut touched: Vec<i32> = items.iter().map(|i| i.conversation_id).collect();
    touched.sort_unstable();
    touched.dedup();
    refresh_conversations(&tx, &touched).await?;
    refresh_contacts(&tx, o, &touched).await?;
    tx.commit().await.map_err(db("committing messages"))?;

    for i in &items {
        let result = match ids.get(&key_of(i)) {
            Some(id) => {
                let ledger_knew = ref_id(refs, &i.msg.key) == Some(i64::from(*id));
                let r = if ledger_knew {
                    LoadResult::updated(i.msg.key.clone(), id.to_string())
                } else {
                    LoadResult::loaded(i.msg.key.clone(), id.to_string())
                };
                let late = !existing.contains_key(&key_of(i))
                    && convs
                        .get(&i.conversation_id)
                        .and_then(|c| c.1)
                        .is_some_and(|newest| civil(i.row.created_at) < newest);
                match (&i.problem, late) {
                    (_, true) => r.with_problem(problem(
                        &i.msg.key,
                        ErrorKind::Validation,
                        "message_out_of_order",
                        "This message is older than one already in its Chatwoot conversation, so its id is larger than a later message's; Chatwoot pages by id and may show it out of place.",
                    )),
                    (Some(p), false) => r.with_problem(p.clone()),
                    (None, false) => r,
                }
            }
            None => LoadResult::failed(problem(
                &i.msg.key,
                ErrorKind::Internal,
                "message_not_written",
                "The message's row was not returned by the insert; it is tried again next run.",
            )),
        };
        out.push(result);
    }
    Ok(out)
}

async fn copy_messages(tx: &Transaction<'_>, new: &[&Item<'_>]) -> Result<(), PostgresError> {
    let db = PostgresError::db;
    tx.batch_execute(
        "CREATE TEMP TABLE IF NOT EXISTS dm_messages (
            ord int, conversation_id int, inbox_id int, content text, processed_message_content text,
            message_type int, content_type int, private bool, sender_type varchar, sender_id bigint,
            source_id text, content_attributes json, created_at timestamp, updated_at timestamp)
         ON COMMIT DELETE ROWS",
    )
    .await
    .map_err(db("preparing the messages copy"))?;
    let sink = tx
        .copy_in(
            "COPY dm_messages (ord, conversation_id, inbox_id, content, processed_message_content,
                  message_type, content_type, private, sender_type, sender_id, source_id,
                  content_attributes, created_at, updated_at) FROM STDIN BINARY",
        )
        .await
        .map_err(db("copying messages"))?;
    let types = [
        Type::INT4,
        Type::INT4,
        Type::INT4,
        Type::TEXT,
        Type::TEXT,
        Type::INT4,
        Type::INT4,
        Type::BOOL,
        Type::VARCHAR,
        Type::INT8,
        Type::TEXT,
        Type::JSON,
        Type::TIMESTAMP,
        Type::TIMESTAMP,
    ];
    let mut w = pin!(BinaryCopyInWriter::new(sink, &types));
    for (n, i) in new.iter().enumerate() {
        let r = &i.row;
        w.as_mut()
            .write(&[
                &(n as i32),
                &i.conversation_id,
                &i.inbox_id,
                &r.content,
                &r.processed_message_content,
                &r.message_type,
                &r.content_type,
                &r.private,
                &r.sender.sender_type(),
                &r.sender.sender_id(),
                &r.source_id,
                &r.content_attributes,
                &civil(r.created_at),
                &civil(r.updated_at),
            ])
            .await
            .map_err(db("copying messages"))?;
    }
    w.finish().await.map_err(db("copying messages"))?;
    Ok(())
}

/// Recomputes what Chatwoot keeps on a conversation from its messages (research/chatwoot.md
/// §6 "conversations"): `last_activity_at` (the list's sort key), `first_reply_created_at` (the
/// first public reply by an agent), `waiting_since` (the first incoming message no agent
/// answered; none when resolved or answered), and the last-seen times at or after the last
/// message, so nothing counts as unread (`Conversation#unread_messages`).
pub(crate) async fn refresh_conversations(
    tx: &Transaction<'_>,
    ids: &[i32],
) -> Result<(), PostgresError> {
    if ids.is_empty() {
        return Ok(());
    }
    tx.execute(
        "WITH x AS MATERIALIZED (
            SELECT conversation_id, created_at, message_type, private, sender_type
              FROM messages WHERE conversation_id = ANY($1)
         ), m AS (
            SELECT conversation_id,
                   max(created_at) AS last_at,
                   min(created_at) FILTER (WHERE message_type = 1 AND NOT private AND sender_type = 'User') AS first_reply,
                   max(created_at) FILTER (WHERE message_type = 1 AND NOT private AND sender_type = 'User') AS last_reply,
                   max(created_at) FILTER (WHERE message_type = 1 AND NOT private) AS last_out,
                   max(created_at) FILTER (WHERE message_type = 0) AS last_in
              FROM x GROUP BY conversation_id
         ), u AS (
            SELECT m.conversation_id, min(x.created_at) AS first_unanswered
              FROM m JOIN x USING (conversation_id)
             WHERE x.message_type = 0 AND (m.last_reply IS NULL OR x.created_at > m.last_reply)
             GROUP BY m.conversation_id
         ), w AS (
            SELECT m.*, u.first_unanswered FROM m LEFT JOIN u USING (conversation_id)
         )
         UPDATE conversations c SET
            last_activity_at = GREATEST(c.created_at, w.last_at),
            first_reply_created_at = w.first_reply,
            waiting_since = CASE
                WHEN c.status = 1 OR w.last_in IS NULL OR (w.last_out IS NOT NULL AND w.last_out >= w.last_in) THEN NULL
                ELSE w.first_unanswered END,
            agent_last_seen_at = GREATEST(c.agent_last_seen_at, w.last_at),
            assignee_last_seen_at = GREATEST(c.assignee_last_seen_at, w.last_at),
            contact_last_seen_at = GREATEST(c.contact_last_seen_at, w.last_at),
            updated_at = GREATEST(c.updated_at, w.last_at)
           FROM w WHERE c.id = w.conversation_id",
        &[&ids],
    )
    .await
    .map_err(PostgresError::db("refreshing conversations"))?;
    Ok(())
}

/// A contact's `last_activity_at` is its last incoming message (the contacts list's sort key);
/// only contacts deskmove created are touched, never matched ones.
async fn refresh_contacts(
    tx: &Transaction<'_>,
    o: &PostgresOptions,
    conversations: &[i32],
) -> Result<(), PostgresError> {
    if conversations.is_empty() {
        return Ok(());
    }
    tx.execute(
        "UPDATE contacts ct SET last_activity_at = GREATEST(ct.last_activity_at, x.t)
           FROM (SELECT c.contact_id, max(m.created_at) AS t
                   FROM messages m JOIN conversations c ON c.id = m.conversation_id
                  WHERE m.conversation_id = ANY($1) AND m.message_type = 0
                  GROUP BY c.contact_id) x
          WHERE ct.id = x.contact_id
            AND EXISTS (SELECT 1 FROM deskmove.provenance p WHERE p.account_id = $2
                           AND p.target_table = 'contacts' AND p.row_id = ct.id AND p.owned)",
        &[&conversations, &o.account_id],
    )
    .await
    .map_err(PostgresError::db("refreshing contacts' last activity"))?;
    Ok(())
}
