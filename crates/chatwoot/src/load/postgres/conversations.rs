//! Conversations with their labels, one transaction per batch.
//!
//! `display_id` is left to Chatwoot's BEFORE INSERT trigger, which takes the next value of the
//! account's `conv_dpid_seq_<account>` (research/chatwoot.md §0.7, §6): numbers stay contiguous
//! and the app's next conversation gets a free one. Rows go in in `created_at` order, so display
//! ids follow the history. Labels are written as acts-as-taggable-on writes them: `tags` (global,
//! with `taggings_count`), `taggings` (context `labels`) and `cached_label_list` (§6).

use std::collections::{BTreeMap, HashMap};
use std::pin::pin;

use deskmove_core::connector::{LoadResult, Resolve};
use deskmove_core::model::Conversation;
use deskmove_core::{ErrorKind, Problem, Record};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type;
use tokio_postgres::{Client, Transaction};

use super::contacts::contact_inbox_source_id;
use super::directory::record_provenance;
use super::messages::refresh_conversations;
use super::{PostgresError, PostgresOptions, parent_missing, problem, ref_id};
use crate::map::{self, ConversationRefs, ConversationRow, civil, marker};

struct Item<'a> {
    conv: &'a Conversation,
    row: ConversationRow,
    contact_id: i64,
    contact_inbox_id: i64,
    labels: Vec<String>,
    problem: Option<Problem>,
}

/// Loads a batch of conversations.
pub async fn load(
    client: &mut Client,
    o: &PostgresOptions,
    records: &[Record],
    refs: &impl Resolve,
) -> Result<Vec<LoadResult>, PostgresError> {
    let db = PostgresError::db;
    let account = o.account_id as i32;
    let mut out = Vec::with_capacity(records.len());
    let tx = client
        .transaction()
        .await
        .map_err(db("starting a transaction"))?;

    // Parents: the contact and its contact inbox in the import inbox.
    let mut wanted = Vec::new();
    let mut items: Vec<Item<'_>> = Vec::new();
    let mut pending: Vec<(&Conversation, i64)> = Vec::new();
    for r in records {
        let Record::Conversation(c) = r else { continue };
        let Some(contact) = c.contacts.first() else {
            out.push(LoadResult::failed(problem(
                &c.key,
                ErrorKind::Validation,
                "no_contact",
                "The conversation names no contact; Chatwoot needs one.",
            )));
            continue;
        };
        let Some(contact_id) = ref_id(refs, contact) else {
            out.push(parent_missing(&c.key, contact));
            continue;
        };
        wanted.push(contact_inbox_source_id(contact));
        pending.push((c, contact_id));
    }
    let rows = tx
        .query(
            "SELECT id, source_id, contact_id FROM contact_inboxes WHERE inbox_id = $1 AND source_id = ANY($2)",
            &[&o.inbox_id, &wanted],
        )
        .await
        .map_err(db("reading contact inboxes"))?;
    let mut inboxes: HashMap<String, (i64, Option<i64>)> = rows
        .iter()
        .map(|r| (r.get(1), (r.get(0), r.get(2))))
        .collect();
    // A contact loaded before the inbox was configured has none yet.
    let missing: Vec<(i64, String, String)> = pending
        .iter()
        .filter_map(|(c, contact_id)| {
            let s = contact_inbox_source_id(&c.contacts[0]);
            (!inboxes.contains_key(&s)).then(|| (*contact_id, s, marker(&c.contacts[0])))
        })
        .collect();
    if !missing.is_empty() {
        let ids: Vec<i64> = missing.iter().map(|m| m.0).collect();
        let sources: Vec<&str> = missing.iter().map(|m| m.1.as_str()).collect();
        let created = tx
            .query(
                "INSERT INTO contact_inboxes (contact_id, inbox_id, source_id, hmac_verified, created_at, updated_at)
                 SELECT c, $1, s, false, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
                   FROM unnest($2::bigint[], $3::text[]) AS u(c, s)
                 JOIN contacts ON contacts.id = u.c
                 ON CONFLICT (inbox_id, source_id) DO NOTHING RETURNING id, source_id, contact_id",
                &[&o.inbox_id, &ids, &sources],
            )
            .await
            .map_err(db("creating contact inboxes"))?;
        let mut prov = Vec::new();
        for r in &created {
            let s: String = r.get(1);
            if let Some(m) = missing.iter().find(|m| m.1 == s) {
                prov.push((r.get::<_, i64>(0), m.2.clone(), true));
            }
            inboxes.insert(s, (r.get(0), r.get(2)));
        }
        record_provenance(&tx, o, "contact_inboxes", &prov).await?;
    }

    // Label titles of the tags' labels.
    let label_ids: Vec<i64> = pending
        .iter()
        .flat_map(|(c, _)| c.tags.iter().filter_map(|t| ref_id(refs, t)))
        .collect();
    let titles: HashMap<i64, String> = tx
        .query(
            "SELECT id, title FROM labels WHERE id = ANY($1) AND account_id = $2",
            &[&label_ids, &o.account_id],
        )
        .await
        .map_err(db("reading labels"))?
        .iter()
        .filter_map(|r| r.get::<_, Option<String>>(1).map(|t| (r.get(0), t)))
        .collect();

    for (c, contact_id) in pending {
        let s = contact_inbox_source_id(&c.contacts[0]);
        let Some((contact_inbox_id, Some(ci_contact))) = inboxes.get(&s).copied() else {
            out.push(parent_missing(&c.key, &c.contacts[0]));
            continue;
        };
        if ci_contact != contact_id {
            // The contact was matched differently since; the contact inbox belongs to the
            // contact the ledger names (Chatwoot requires contact_inbox and contact to agree).
            out.push(LoadResult::failed(problem(
                &c.key,
                ErrorKind::Conflict,
                "contact_inbox_mismatch",
                format!(
                    "The contact inbox for {} belongs to contact {ci_contact}, not {contact_id}; re-run after `deskmove verify`.",
                    c.contacts[0]
                ),
            )));
            continue;
        }
        let mut missing_refs = Vec::new();
        let assignee = c.assignee.as_ref().and_then(|a| {
            let id = ref_id(refs, a);
            if id.is_none() {
                missing_refs.push(format!("assignee {a}"));
            }
            id
        });
        let team = c.team.as_ref().and_then(|t| {
            let id = ref_id(refs, t);
            if id.is_none() {
                missing_refs.push(format!("team {t}"));
            }
            id
        });
        let mut labels = Vec::new();
        for t in &c.tags {
            match ref_id(refs, t).and_then(|id| titles.get(&id)) {
                Some(title) if !labels.contains(title) => labels.push(title.clone()),
                Some(_) => {}
                None => missing_refs.push(format!("label for {t}")),
            }
        }
        let mut row = map::conversation(c, ConversationRefs { assignee, team });
        let problem = (!missing_refs.is_empty()).then(|| {
            if let Some(obj) = row.additional_attributes.as_object_mut() {
                obj.insert("deskmove_unmatched".into(), missing_refs.clone().into());
            }
            problem(
                &c.key,
                ErrorKind::NotFound,
                "reference_not_in_chatwoot",
                format!(
                    "Loaded without {}: not matched in Chatwoot (see the agent and team problems); listed in additional_attributes.deskmove_unmatched.",
                    missing_refs.join(", ")
                ),
            )
        });
        items.push(Item {
            conv: c,
            row,
            contact_id,
            contact_inbox_id,
            labels,
            problem,
        });
    }

    // Reconcile: rows an earlier attempt committed carry the marker in `identifier`.
    let identifiers: Vec<&str> = items.iter().map(|i| i.row.identifier.as_str()).collect();
    let existing: HashMap<String, i32> = tx
        .query(
            "SELECT identifier, id FROM conversations WHERE account_id = $1 AND identifier = ANY($2)",
            &[&account, &identifiers],
        )
        .await
        .map_err(db("reconciling conversations"))?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let (old, new): (Vec<&Item<'_>>, Vec<&Item<'_>>) = items
        .iter()
        .partition(|i| existing.contains_key(&i.row.identifier));

    let mut ids: HashMap<String, i32> = existing.clone();
    if !new.is_empty() {
        copy_conversations(&tx, &new).await?;
        let rows = tx
            .query(
                "INSERT INTO conversations (account_id, inbox_id, status, assignee_id, created_at, updated_at,
                        contact_id, contact_last_seen_at, agent_last_seen_at, additional_attributes,
                        contact_inbox_id, identifier, last_activity_at, team_id, snoozed_until,
                        custom_attributes, assignee_last_seen_at, priority, cached_label_list)
                 SELECT $1, $2, status, assignee_id, created_at, updated_at, contact_id, last_activity_at,
                        last_activity_at, additional_attributes, contact_inbox_id, identifier,
                        last_activity_at, team_id, snoozed_until, custom_attributes, last_activity_at,
                        priority, cached_label_list
                   FROM dm_conversations ORDER BY created_at, ord
                 RETURNING identifier, id",
                &[&account, &(o.inbox_id as i32)],
            )
            .await
            .map_err(db("inserting conversations"))?;
        for r in &rows {
            ids.insert(r.get(0), r.get(1));
        }
    }
    for i in &old {
        let id = existing[&i.row.identifier];
        let r = &i.row;
        tx.execute(
            "UPDATE conversations SET status = $2, assignee_id = $3, team_id = $4, snoozed_until = $5,
                    priority = $6, additional_attributes = $7, custom_attributes = $8,
                    updated_at = GREATEST(updated_at, $9), cached_label_list = $10
              WHERE id = $1",
            &[
                &id,
                &r.status,
                &r.assignee_id.map(|x| x as i32),
                &r.team_id,
                &r.snoozed_until.map(civil),
                &r.priority,
                &r.additional_attributes,
                &r.custom_attributes,
                &civil(r.updated_at),
                &label_list(&i.labels),
            ],
        )
        .await
        .map_err(db("updating a conversation"))?;
    }

    write_taggings(&tx, o, &items, &ids, &old).await?;
    let old_ids: Vec<i32> = old.iter().map(|i| existing[&i.row.identifier]).collect();
    refresh_conversations(&tx, &old_ids).await?;
    tx.commit().await.map_err(db("committing conversations"))?;

    for i in &items {
        let result = match ids.get(&i.row.identifier) {
            Some(id) => {
                let ledger_knew = ref_id(refs, &i.conv.key) == Some(i64::from(*id));
                if ledger_knew {
                    LoadResult::updated(i.conv.key.clone(), id.to_string())
                } else {
                    LoadResult::loaded(i.conv.key.clone(), id.to_string())
                }
            }
            None => LoadResult::failed(problem(
                &i.conv.key,
                ErrorKind::Internal,
                "conversation_not_written",
                "The conversation's row was not returned by the insert; it is tried again next run.",
            )),
        };
        out.push(match &i.problem {
            Some(p) if result.problem.is_none() && result.target_id.is_some() => {
                result.with_problem(p.clone())
            }
            _ => result,
        });
    }
    Ok(out)
}

/// `cached_label_list`: acts-as-taggable-on's `tag_list.join(", ")`, NULL without labels.
fn label_list(labels: &[String]) -> Option<String> {
    (!labels.is_empty()).then(|| labels.join(", "))
}

async fn copy_conversations(tx: &Transaction<'_>, new: &[&Item<'_>]) -> Result<(), PostgresError> {
    let db = PostgresError::db;
    tx.batch_execute(
        "CREATE TEMP TABLE IF NOT EXISTS dm_conversations (
            ord int, status int, assignee_id int, team_id bigint, contact_id bigint,
            contact_inbox_id bigint, snoozed_until timestamp, priority int, identifier varchar,
            additional_attributes jsonb, custom_attributes jsonb, created_at timestamp,
            updated_at timestamp, last_activity_at timestamp, cached_label_list text)
         ON COMMIT DELETE ROWS",
    )
    .await
    .map_err(db("preparing the conversations copy"))?;
    let sink = tx
        .copy_in(
            "COPY dm_conversations (ord, status, assignee_id, team_id, contact_id, contact_inbox_id,
                  snoozed_until, priority, identifier, additional_attributes, custom_attributes,
                  created_at, updated_at, last_activity_at, cached_label_list) FROM STDIN BINARY",
        )
        .await
        .map_err(db("copying conversations"))?;
    let types = [
        Type::INT4,
        Type::INT4,
        Type::INT4,
        Type::INT8,
        Type::INT8,
        Type::INT8,
        Type::TIMESTAMP,
        Type::INT4,
        Type::VARCHAR,
        Type::JSONB,
        Type::JSONB,
        Type::TIMESTAMP,
        Type::TIMESTAMP,
        Type::TIMESTAMP,
        Type::TEXT,
    ];
    let mut w = pin!(BinaryCopyInWriter::new(sink, &types));
    for (n, i) in new.iter().enumerate() {
        let r = &i.row;
        w.as_mut()
            .write(&[
                &(n as i32),
                &r.status,
                &r.assignee_id.map(|x| x as i32),
                &r.team_id,
                &i.contact_id,
                &i.contact_inbox_id,
                &r.snoozed_until.map(civil),
                &r.priority,
                &r.identifier,
                &r.additional_attributes,
                &r.custom_attributes,
                &civil(r.created_at),
                &civil(r.updated_at),
                &civil(r.last_activity_at),
                &label_list(&i.labels),
            ])
            .await
            .map_err(db("copying conversations"))?;
    }
    w.finish().await.map_err(db("copying conversations"))?;
    Ok(())
}

/// Replaces the `labels` taggings of the batch's conversations, keeping `taggings_count` exact.
async fn write_taggings(
    tx: &Transaction<'_>,
    o: &PostgresOptions,
    items: &[Item<'_>],
    ids: &HashMap<String, i32>,
    old: &[&Item<'_>],
) -> Result<(), PostgresError> {
    let db = PostgresError::db;
    let old_ids: Vec<i32> = old
        .iter()
        .filter_map(|i| ids.get(&i.row.identifier).copied())
        .collect();
    if !old_ids.is_empty() {
        tx.execute(
            "WITH gone AS (
                DELETE FROM taggings WHERE taggable_type = 'Conversation' AND context = 'labels'
                   AND taggable_id = ANY($1) RETURNING tag_id)
             UPDATE tags SET taggings_count = GREATEST(taggings_count - g.n, 0)
               FROM (SELECT tag_id, count(*)::int AS n FROM gone GROUP BY tag_id) g
              WHERE tags.id = g.tag_id",
            &[&old_ids],
        )
        .await
        .map_err(db("replacing taggings"))?;
    }
    let mut conv = Vec::new();
    let mut names = Vec::new();
    let mut at = Vec::new();
    let mut first_user: BTreeMap<&str, String> = BTreeMap::new();
    for i in items {
        let Some(id) = ids.get(&i.row.identifier) else {
            continue;
        };
        for l in &i.labels {
            conv.push(*id);
            names.push(l.as_str());
            at.push(civil(i.row.created_at));
            first_user
                .entry(l.as_str())
                .or_insert_with(|| marker(&i.conv.key));
        }
    }
    if conv.is_empty() {
        return Ok(());
    }
    let distinct: Vec<&str> = first_user.keys().copied().collect();
    let created = tx
        .query(
            "INSERT INTO tags (name, taggings_count) SELECT unnest($1::text[]), 0
             ON CONFLICT (name) DO NOTHING RETURNING id, name",
            &[&distinct],
        )
        .await
        .map_err(db("creating tags"))?;
    let prov: Vec<(i64, String, bool)> = created
        .iter()
        .map(|r| {
            let name: String = r.get(1);
            (
                i64::from(r.get::<_, i32>(0)),
                first_user.get(name.as_str()).cloned().unwrap_or_default(),
                true,
            )
        })
        .collect();
    record_provenance(tx, o, "tags", &prov).await?;
    tx.execute(
        "INSERT INTO taggings (tag_id, taggable_type, taggable_id, context, created_at)
         SELECT t.id, 'Conversation', u.c, 'labels', u.at
           FROM unnest($1::int[], $2::text[], $3::timestamp[]) WITH ORDINALITY AS u(c, name, at, n)
           JOIN tags t ON t.name = u.name ORDER BY u.n",
        &[&conv, &names, &at],
    )
    .await
    .map_err(db("writing taggings"))?;
    tx.execute(
        "UPDATE tags SET taggings_count = taggings_count + x.n
           FROM (SELECT name, count(*)::int AS n FROM unnest($1::text[]) AS name GROUP BY name) x
          WHERE tags.name = x.name",
        &[&names],
    )
    .await
    .map_err(db("counting taggings"))?;
    Ok(())
}
