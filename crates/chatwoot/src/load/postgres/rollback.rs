//! Rollback: removes exactly what deskmove created — rows it marked (conversation identifier,
//! message source id, attachment meta) or recorded as owned in `deskmove.provenance` — and the
//! attachment files; rows it only matched are left as they were. A conversation or contact that
//! gained rows deskmove did not write (an agent replied in Chatwoot since) is kept and reported.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use deskmove_core::connector::{LoadResult, TargetRef};
use deskmove_core::{ErrorKind, RecordKind};
use tokio_postgres::{Client, Transaction};

use super::activestorage::disk_path;
use super::messages::refresh_conversations;
use super::{PostgresError, PostgresOptions, problem};
use crate::map::{marker, source_id};

/// Removes `created`.
pub async fn remove(
    client: &mut Client,
    o: &PostgresOptions,
    created: &[TargetRef],
) -> Result<Vec<LoadResult>, PostgresError> {
    let mut by_kind: BTreeMap<RecordKind, Vec<&TargetRef>> = BTreeMap::new();
    for r in created {
        by_kind.entry(r.key.kind).or_default().push(r);
    }
    let mut out = Vec::with_capacity(created.len());
    for (kind, refs) in by_kind {
        let tx = client
            .transaction()
            .await
            .map_err(PostgresError::db("starting a transaction"))?;
        let mut files = Vec::new();
        let results = match kind {
            RecordKind::Attachment => attachments(&tx, o, &refs, &mut files).await?,
            RecordKind::Message => messages(&tx, o, &refs, &mut files).await?,
            RecordKind::Conversation => conversations(&tx, o, &refs).await?,
            RecordKind::Contact => contacts(&tx, o, &refs).await?,
            RecordKind::Tag => owned_rows(&tx, o, &refs, "labels").await?,
            RecordKind::AttributeDefinition => {
                owned_rows(&tx, o, &refs, "custom_attribute_definitions").await?
            }
            RecordKind::Macro => owned_rows(&tx, o, &refs, "canned_responses").await?,
            // Agents and teams are matched, never created: nothing to remove.
            _ => refs
                .iter()
                .map(|r| LoadResult::loaded(r.key.clone(), r.id.clone()))
                .collect(),
        };
        tx.commit()
            .await
            .map_err(PostgresError::db("committing the rollback"))?;
        // Files after the commit: a failed transaction keeps its rows and their files.
        for f in files {
            match tokio::fs::remove_file(&f).await {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        out.extend(results);
    }
    Ok(out)
}

fn ids(refs: &[&TargetRef]) -> Vec<i64> {
    refs.iter().filter_map(|r| r.id.parse().ok()).collect()
}

fn all_removed(refs: &[&TargetRef]) -> Vec<LoadResult> {
    refs.iter()
        .map(|r| LoadResult::loaded(r.key.clone(), r.id.clone()))
        .collect()
}

/// Deletes attachments (with their blob rows and links) that carry deskmove's marker, and
/// queues their files.
async fn delete_attachments(
    tx: &Transaction<'_>,
    o: &PostgresOptions,
    where_clause: &str,
    ids: &[i32],
    markers: Option<&[String]>,
    files: &mut Vec<PathBuf>,
) -> Result<(), PostgresError> {
    let db = PostgresError::db;
    let sql = format!(
        "SELECT a.id FROM attachments a WHERE {where_clause} AND a.account_id = $2
            AND a.meta ? 'deskmove_source' AND ($3::text[] IS NULL OR a.meta->>'deskmove_source' = ANY($3))"
    );
    let account = o.account_id as i32;
    let att: Vec<i32> = tx
        .query(&sql, &[&ids, &account, &markers.map(<[String]>::to_vec)])
        .await
        .map_err(db("finding attachments"))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if att.is_empty() {
        return Ok(());
    }
    let att64: Vec<i64> = att.iter().map(|x| i64::from(*x)).collect();
    let blobs = tx
        .query(
            "WITH l AS (DELETE FROM active_storage_attachments
                         WHERE record_type = 'Attachment' AND record_id = ANY($1) RETURNING blob_id)
             DELETE FROM active_storage_blobs b USING l WHERE b.id = l.blob_id
               AND NOT EXISTS (SELECT 1 FROM active_storage_attachments x
                                WHERE x.blob_id = b.id AND NOT (x.record_type = 'Attachment' AND x.record_id = ANY($1)))
             RETURNING b.key",
            &[&att64],
        )
        .await
        .map_err(db("removing blobs"))?;
    for b in &blobs {
        let key: String = b.get(0);
        if key.len() >= 4 {
            files.push(disk_path(&o.storage_dir, &key));
        }
    }
    tx.execute("DELETE FROM attachments WHERE id = ANY($1)", &[&att])
        .await
        .map_err(db("removing attachments"))?;
    Ok(())
}

async fn attachments(
    tx: &Transaction<'_>,
    o: &PostgresOptions,
    refs: &[&TargetRef],
    files: &mut Vec<PathBuf>,
) -> Result<Vec<LoadResult>, PostgresError> {
    let ids: Vec<i32> = ids(refs).into_iter().map(|x| x as i32).collect();
    let markers: Vec<String> = refs.iter().map(|r| marker(&r.key)).collect();
    delete_attachments(tx, o, "a.id = ANY($1)", &ids, Some(&markers), files).await?;
    Ok(all_removed(refs))
}

async fn messages(
    tx: &Transaction<'_>,
    o: &PostgresOptions,
    refs: &[&TargetRef],
    files: &mut Vec<PathBuf>,
) -> Result<Vec<LoadResult>, PostgresError> {
    let db = PostgresError::db;
    let ids: Vec<i32> = ids(refs).into_iter().map(|x| x as i32).collect();
    let sources: Vec<String> = refs.iter().map(|r| source_id(&r.key)).collect();
    // Only rows whose id and source id both match what deskmove wrote.
    let rows = tx
        .query(
            "SELECT m.id FROM messages m JOIN unnest($1::int[], $2::text[]) AS u(id, s)
                 ON m.id = u.id AND m.source_id = u.s WHERE m.account_id = $3",
            &[&ids, &sources, &(o.account_id as i32)],
        )
        .await
        .map_err(db("finding messages"))?;
    let ours: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
    delete_attachments(tx, o, "a.message_id = ANY($1)", &ours, None, files).await?;
    let touched: Vec<i32> = tx
        .query(
            "DELETE FROM messages WHERE id = ANY($1) RETURNING conversation_id",
            &[&ours],
        )
        .await
        .map_err(db("removing messages"))?
        .iter()
        .map(|r| r.get(0))
        .collect::<HashSet<i32>>()
        .into_iter()
        .collect();
    refresh_conversations(tx, &touched).await?;
    Ok(all_removed(refs))
}

async fn conversations(
    tx: &Transaction<'_>,
    o: &PostgresOptions,
    refs: &[&TargetRef],
) -> Result<Vec<LoadResult>, PostgresError> {
    let db = PostgresError::db;
    let ids: Vec<i32> = ids(refs).into_iter().map(|x| x as i32).collect();
    let markers: Vec<String> = refs.iter().map(|r| marker(&r.key)).collect();
    let rows = tx
        .query(
            "SELECT c.id, EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id)
               FROM conversations c JOIN unnest($1::int[], $2::text[]) AS u(id, k)
                 ON c.id = u.id AND c.identifier = u.k
              WHERE c.account_id = $3",
            &[&ids, &markers, &(o.account_id as i32)],
        )
        .await
        .map_err(db("finding conversations"))?;
    let mut busy = HashSet::new();
    let mut gone = Vec::new();
    for r in &rows {
        let id: i32 = r.get(0);
        if r.get::<_, bool>(1) {
            busy.insert(id);
        } else {
            gone.push(id);
        }
    }
    tx.execute(
        "WITH t AS (DELETE FROM taggings WHERE taggable_type = 'Conversation' AND context = 'labels'
                      AND taggable_id = ANY($1) RETURNING tag_id)
         UPDATE tags SET taggings_count = GREATEST(taggings_count - x.n, 0)
           FROM (SELECT tag_id, count(*)::int AS n FROM t GROUP BY tag_id) x WHERE tags.id = x.tag_id",
        &[&gone],
    )
    .await
    .map_err(db("removing taggings"))?;
    // Global tags deskmove created and nothing uses any more.
    tx.execute(
        "WITH d AS (DELETE FROM tags t USING deskmove.provenance p
                     WHERE p.account_id = $1 AND p.target_table = 'tags' AND p.owned AND p.row_id = t.id
                       AND NOT EXISTS (SELECT 1 FROM taggings g WHERE g.tag_id = t.id) RETURNING t.id)
         DELETE FROM deskmove.provenance p USING d
          WHERE p.account_id = $1 AND p.target_table = 'tags' AND p.row_id = d.id",
        &[&o.account_id],
    )
    .await
    .map_err(db("removing unused tags"))?;
    tx.execute("DELETE FROM conversations WHERE id = ANY($1)", &[&gone])
        .await
        .map_err(db("removing conversations"))?;
    Ok(refs
        .iter()
        .map(|r| match r.id.parse::<i32>() {
            Ok(id) if busy.contains(&id) => LoadResult::failed(problem(
                &r.key,
                ErrorKind::Conflict,
                "conversation_in_use",
                format!("Conversation {id} has messages deskmove did not write (or that a later run wrote); it is left in place. Roll back the later runs first, or delete it in Chatwoot."),
            )),
            _ => LoadResult::loaded(r.key.clone(), r.id.clone()),
        })
        .collect())
}

async fn contacts(
    tx: &Transaction<'_>,
    o: &PostgresOptions,
    refs: &[&TargetRef],
) -> Result<Vec<LoadResult>, PostgresError> {
    let db = PostgresError::db;
    let markers: Vec<String> = refs.iter().map(|r| marker(&r.key)).collect();
    // Contact inboxes deskmove created that no conversation uses.
    tx.execute(
        "WITH d AS (DELETE FROM contact_inboxes ci USING deskmove.provenance p
                     WHERE p.account_id = $1 AND p.target_table = 'contact_inboxes' AND p.owned
                       AND p.row_id = ci.id AND p.source_key = ANY($2)
                       AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.contact_inbox_id = ci.id)
                     RETURNING ci.id)
         DELETE FROM deskmove.provenance p USING d
          WHERE p.account_id = $1 AND p.target_table = 'contact_inboxes' AND p.row_id = d.id",
        &[&o.account_id, &markers],
    )
    .await
    .map_err(db("removing contact inboxes"))?;
    let rows = tx
        .query(
            "SELECT p.source_key, p.row_id, p.owned,
                    EXISTS (SELECT 1 FROM conversations c WHERE c.contact_id = p.row_id)
                    OR EXISTS (SELECT 1 FROM contact_inboxes ci WHERE ci.contact_id = p.row_id)
               FROM deskmove.provenance p
              WHERE p.account_id = $1 AND p.target_table = 'contacts' AND p.source_key = ANY($2)",
            &[&o.account_id, &markers],
        )
        .await
        .map_err(db("finding contacts"))?;
    let mut busy = HashSet::new();
    let mut delete = Vec::new();
    let mut forget = Vec::new();
    for r in &rows {
        let key: String = r.get(0);
        let id: i64 = r.get(1);
        match (r.get::<_, bool>(2), r.get::<_, bool>(3)) {
            (true, true) => {
                busy.insert(key);
            }
            (true, false) => {
                delete.push(id as i32);
                forget.push(key);
            }
            (false, _) => forget.push(key),
        }
    }
    tx.execute(
        "DELETE FROM taggings WHERE taggable_type = 'Contact' AND taggable_id = ANY($1)",
        &[&delete],
    )
    .await
    .map_err(db("removing contact taggings"))?;
    tx.execute("DELETE FROM contacts WHERE id = ANY($1)", &[&delete])
        .await
        .map_err(db("removing contacts"))?;
    tx.execute(
        "DELETE FROM deskmove.provenance WHERE account_id = $1 AND target_table = 'contacts' AND source_key = ANY($2)",
        &[&o.account_id, &forget],
    )
    .await
    .map_err(db("forgetting contacts"))?;
    Ok(refs
        .iter()
        .map(|r| {
            if busy.contains(&marker(&r.key)) {
                LoadResult::failed(problem(
                    &r.key,
                    ErrorKind::Conflict,
                    "contact_in_use",
                    format!("Contact {} has conversations or inboxes deskmove did not create; it is left in place.", r.id),
                ))
            } else {
                LoadResult::loaded(r.key.clone(), r.id.clone())
            }
        })
        .collect())
}

/// Labels, attribute definitions, canned responses: delete the rows provenance says deskmove
/// created; forget the ones it matched.
async fn owned_rows(
    tx: &Transaction<'_>,
    o: &PostgresOptions,
    refs: &[&TargetRef],
    table: &str,
) -> Result<Vec<LoadResult>, PostgresError> {
    let markers: Vec<String> = refs.iter().map(|r| marker(&r.key)).collect();
    // The table name is one of ours, never user input.
    let sql = format!(
        "WITH p AS (DELETE FROM deskmove.provenance WHERE account_id = $1 AND target_table = '{table}'
                      AND source_key = ANY($2) RETURNING row_id, owned)
         DELETE FROM public.{table} t USING p WHERE p.owned AND t.id = p.row_id"
    );
    tx.execute(&sql, &[&o.account_id, &markers])
        .await
        .map_err(PostgresError::db("removing rows"))?;
    Ok(all_removed(refs))
}
