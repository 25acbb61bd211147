//! Attachments as ActiveStorage stores them (research/chatwoot.md §7): an `attachments` row, an
//! `active_storage_blobs` row (28-character lower-case base36 key, base64 MD5 checksum, size,
//! content type, service name), an `active_storage_attachments` row joining them, and the file
//! in the Disk service's layout, `<storage>/<key[0..2]>/<key[2..4]>/<key>`.
//!
//! The key is derived from the target instance and the attachment's source key, not random:
//! a retried batch writes the same file again instead of leaving an orphan beside it. Files are
//! only reachable through Rails' signed URLs, so a derived key grants nothing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use deskmove_core::connector::{LoadResult, Resolve};
use deskmove_core::model::Attachment;
use deskmove_core::{ErrorKind, Record, RecordKind, TargetInstance};
use deskmove_store::BlobStore;
use md5::{Digest, Md5};
use serde_json::json;
use tokio_postgres::Client;

use super::{PostgresError, PostgresOptions, parent_missing, problem, ref_id};
use crate::map::marker;

/// The blob key for an attachment: 28 characters of `[0-9a-z]`, like Rails'
/// `generate_unique_secure_token(length: 28)`.
pub fn blob_key(instance: &TargetInstance, attachment: &deskmove_core::SourceKey) -> String {
    const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let h = blake3::hash(format!("deskmove blob key {instance} {attachment}").as_bytes());
    h.as_bytes()[..28]
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % 36]))
        .collect()
}

/// Where the Disk service keeps `key` (ActiveStorage `DiskService#folder_for`).
pub fn disk_path(root: &Path, key: &str) -> PathBuf {
    root.join(&key[0..2]).join(&key[2..4]).join(key)
}

/// `active_storage_blobs.checksum`: Base64 of the MD5 digest.
pub fn checksum(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Md5::digest(bytes))
}

/// `attachments.file_type`: image 0, audio 1, video 2, file 3.
pub fn file_type(content_type: Option<&str>) -> i32 {
    match content_type.and_then(|c| c.split('/').next()) {
        Some("image") => 0,
        Some("audio") => 1,
        Some("video") => 2,
        _ => 3,
    }
}

struct New<'a> {
    a: &'a Attachment,
    message_id: i32,
    created_at: jiff::civil::DateTime,
    key: String,
    size: i64,
    checksum: String,
}

/// Loads a batch of attachments.
pub async fn load(
    client: &mut Client,
    o: &PostgresOptions,
    instance: &TargetInstance,
    blobs: &BlobStore,
    records: &[Record],
    refs: &impl Resolve,
) -> Result<Vec<LoadResult>, PostgresError> {
    let db = PostgresError::db;
    let account = o.account_id as i32;
    let atts: Vec<&Attachment> = records
        .iter()
        .filter_map(|r| match r {
            Record::Attachment(a) => Some(a),
            _ => None,
        })
        .collect();
    let owners: Vec<i32> = atts
        .iter()
        .filter_map(|a| ref_id(refs, &a.owner).map(|x| x as i32))
        .collect();
    let tx = client
        .transaction()
        .await
        .map_err(db("starting a transaction"))?;
    let messages: HashMap<i32, jiff::civil::DateTime> = tx
        .query(
            "SELECT id, created_at FROM messages WHERE id = ANY($1) AND account_id = $2",
            &[&owners, &account],
        )
        .await
        .map_err(db("reading messages"))?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let markers: Vec<String> = atts.iter().map(|a| marker(&a.key)).collect();
    let existing: HashMap<String, i32> = tx
        .query(
            "SELECT meta->>'deskmove_source', id FROM attachments
              WHERE message_id = ANY($1) AND meta->>'deskmove_source' = ANY($2)",
            &[&owners, &markers],
        )
        .await
        .map_err(db("reconciling attachments"))?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();

    let mut out = Vec::with_capacity(atts.len());
    let mut new = Vec::new();
    for a in &atts {
        if a.owner.kind != RecordKind::Message {
            // Help-center articles are not written on this path, so neither are their files.
            out.push(LoadResult::skipped(problem(
                &a.key,
                ErrorKind::Validation,
                "owner_not_loaded_on_this_path",
                format!(
                    "{} belongs to {}, a {} this load path does not write.",
                    a.file_name, a.owner, a.owner.kind
                ),
            )));
            continue;
        }
        let Some((message_id, created_at)) = ref_id(refs, &a.owner)
            .map(|x| x as i32)
            .and_then(|id| messages.get(&id).map(|t| (id, *t)))
        else {
            out.push(parent_missing(&a.key, &a.owner));
            continue;
        };
        if let Some(id) = existing.get(&marker(&a.key)) {
            out.push(if ref_id(refs, &a.key) == Some(i64::from(*id)) {
                LoadResult::updated(a.key.clone(), id.to_string())
            } else {
                LoadResult::loaded(a.key.clone(), id.to_string())
            });
            continue;
        }
        let Some(blob) = &a.blob else {
            out.push(LoadResult::failed(problem(
                &a.key,
                ErrorKind::NotFound,
                "attachment_not_downloaded",
                "The file was never downloaded from the source, so there are no bytes to store; re-run the export.",
            )));
            continue;
        };
        let Some(bytes) = blobs.get(&blob.hash).await? else {
            out.push(LoadResult::failed(problem(
                &a.key,
                ErrorKind::NotFound,
                "blob_missing",
                format!(
                    "The staged bytes ({}) are not in the blob store; re-run the export.",
                    blob.hash
                ),
            )));
            continue;
        };
        let key = blob_key(instance, &a.key);
        write_file(&disk_path(&o.storage_dir, &key), &bytes).await?;
        new.push(New {
            a,
            message_id,
            created_at,
            key,
            size: bytes.len() as i64,
            checksum: checksum(&bytes),
        });
    }

    if !new.is_empty() {
        let file_types: Vec<i32> = new
            .iter()
            .map(|n| file_type(n.a.content_type.as_deref()))
            .collect();
        let message_ids: Vec<i32> = new.iter().map(|n| n.message_id).collect();
        let times: Vec<jiff::civil::DateTime> = new.iter().map(|n| n.created_at).collect();
        let extensions: Vec<Option<String>> = new
            .iter()
            .map(|n| {
                Path::new(&n.a.file_name)
                    .extension()
                    .map(|e| e.to_string_lossy().into_owned())
            })
            .collect();
        let metas: Vec<serde_json::Value> = new
            .iter()
            .map(|n| json!({"deskmove_source": marker(&n.a.key)}))
            .collect();
        let rows = tx
            .query(
                "INSERT INTO attachments (file_type, account_id, message_id, created_at, updated_at, extension, meta)
                 SELECT f, $1, m, t, t, e, x FROM unnest($2::int[], $3::int[], $4::timestamp[], $5::varchar[], $6::jsonb[])
                        AS u(f, m, t, e, x)
                 RETURNING id, meta->>'deskmove_source'",
                &[&account, &file_types, &message_ids, &times, &extensions, &metas],
            )
            .await
            .map_err(db("inserting attachments"))?;
        let att_ids: HashMap<String, i32> = rows.iter().map(|r| (r.get(1), r.get(0))).collect();
        let keys: Vec<&str> = new.iter().map(|n| n.key.as_str()).collect();
        let names: Vec<&str> = new.iter().map(|n| n.a.file_name.as_str()).collect();
        let types: Vec<Option<&str>> = new.iter().map(|n| n.a.content_type.as_deref()).collect();
        let sizes: Vec<i64> = new.iter().map(|n| n.size).collect();
        let sums: Vec<&str> = new.iter().map(|n| n.checksum.as_str()).collect();
        let blob_rows = tx
            .query(
                "INSERT INTO active_storage_blobs (key, filename, content_type, metadata, byte_size, checksum, created_at, service_name)
                 SELECT k, n, c, '{\"identified\":true,\"analyzed\":true}', s, h, t, $1
                   FROM unnest($2::varchar[], $3::varchar[], $4::varchar[], $5::bigint[], $6::varchar[], $7::timestamp[])
                        AS u(k, n, c, s, h, t)
                 RETURNING key, id",
                &[&o.service_name, &keys, &names, &types, &sizes, &sums, &times],
            )
            .await
            .map_err(db("inserting blobs"))?;
        let blob_ids: HashMap<String, i64> =
            blob_rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        let mut rec = Vec::new();
        let mut bl = Vec::new();
        for n in &new {
            if let (Some(a), Some(b)) = (att_ids.get(&marker(&n.a.key)), blob_ids.get(&n.key)) {
                rec.push(i64::from(*a));
                bl.push(*b);
            }
        }
        tx.execute(
            "INSERT INTO active_storage_attachments (name, record_type, record_id, blob_id, created_at)
             SELECT 'file', 'Attachment', r, b, now() AT TIME ZONE 'UTC' FROM unnest($1::bigint[], $2::bigint[]) AS u(r, b)",
            &[&rec, &bl],
        )
        .await
        .map_err(db("inserting attachment links"))?;
        tx.commit().await.map_err(db("committing attachments"))?;
        for n in &new {
            out.push(match att_ids.get(&marker(&n.a.key)) {
                Some(id) => LoadResult::loaded(n.a.key.clone(), id.to_string()),
                None => LoadResult::failed(problem(
                    &n.a.key,
                    ErrorKind::Internal,
                    "attachment_not_written",
                    "The attachment's row was not returned by the insert; it is tried again next run.",
                )),
            });
        }
    } else {
        tx.commit().await.map_err(db("committing attachments"))?;
    }
    Ok(out)
}

/// Writes `bytes` at `path` through a temporary file and a rename, so Chatwoot never serves a
/// half-written file.
async fn write_file(path: &Path, bytes: &[u8]) -> Result<(), PostgresError> {
    if let Ok(m) = tokio::fs::metadata(path).await
        && m.len() == bytes.len() as u64
    {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    let tmp = path.with_extension("deskmove-tmp");
    tokio::fs::write(&tmp, bytes).await?;
    tokio::fs::rename(&tmp, path).await?;
    Ok(())
}
