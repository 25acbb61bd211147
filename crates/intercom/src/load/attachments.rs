//! Files: sent as `attachment_files` (base64, at most 10 a part; research §7) in a part of their
//! own beside the message they came with, written by its author at its original time, so the
//! thread reads in order. The part is found again by time, author and file names before
//! writing, so a retried batch never sends a file twice.

use std::collections::HashMap;

use base64::Engine as _;
use deskmove_core::connector::{LoadResult, Resolve};
use deskmove_core::model::Attachment;
use deskmove_core::{ErrorKind, Record, RecordKind, SourceKey};
use serde_json::json;

use super::conversations::{Writer, known, part_ref, write_part};
use super::session::Session;
use super::{Cx, TargetError, parent_missing, problem, refused};

/// Intercom's cap on `attachment_files` per reply.
pub(crate) const FILES_PER_PART: usize = 10;

pub(crate) async fn load(
    cx: &Cx<'_>,
    session: &mut Session,
    records: &[Record],
    refs: &impl Resolve,
) -> Result<Vec<LoadResult>, TargetError> {
    let mut owners: Vec<(SourceKey, Vec<&Attachment>)> = Vec::new();
    let mut index: HashMap<SourceKey, usize> = HashMap::new();
    for r in records {
        let Record::Attachment(a) = r else { continue };
        let at = *index.entry(a.owner.clone()).or_insert_with(|| {
            owners.push((a.owner.clone(), Vec::new()));
            owners.len() - 1
        });
        owners[at].1.push(a);
    }
    let mut out = Vec::new();
    for (owner, files) in owners {
        // Files of help-center articles: articles are not loaded by this target.
        if owner.kind != RecordKind::Message {
            out.extend(files.iter().map(|a| {
                LoadResult::skipped(problem(
                    &a.key,
                    ErrorKind::Validation,
                    "owner_not_loaded_on_this_path",
                    format!(
                        "The Intercom target does not load {} records, so not their files.",
                        owner.kind
                    ),
                ))
            }));
            continue;
        }
        // Where the owner is: `conversation/part`.
        let Some((conversation, part)) = refs.target_ref(&owner).and_then(|r| {
            r.id.split_once('/')
                .map(|(c, p)| (c.to_owned(), p.to_owned()))
        }) else {
            out.extend(files.iter().map(|a| parent_missing(&a.key, &owner)));
            continue;
        };
        if !known(cx, session, &conversation).await? {
            out.extend(files.iter().map(|a| parent_missing(&a.key, &owner)));
            continue;
        }
        let Some(host) = session
            .threads
            .get(&conversation)
            .and_then(|t| t.parts.iter().find(|p| p.id == part).cloned())
        else {
            out.extend(files.iter().map(|a| parent_missing(&a.key, &owner)));
            continue;
        };
        let contact = matches!(host.author_type.as_str(), "user" | "lead" | "contact");
        let who = if contact {
            Writer::Contact(host.author_id.clone())
        } else {
            Writer::Admin {
                id: host.author_id.clone(),
                header: None,
            }
        };
        let note = host.part_type == "note";
        // Files already in Intercom from an earlier attempt answer with that part.
        let mut pending = Vec::new();
        for a in files {
            if refs.target_ref(&a.key).is_some_and(|r| {
                r.id.split_once('/').is_some_and(|(c, p)| {
                    c == conversation
                        && session
                            .threads
                            .get(&conversation)
                            .is_some_and(|t| t.parts.iter().any(|x| x.id == p))
                })
            }) {
                let id = refs.target_ref(&a.key).map(|r| r.id).unwrap_or_default();
                out.push(super::current(&a.key, id));
            } else {
                pending.push(a);
            }
        }
        for chunk in pending.chunks(FILES_PER_PART) {
            let names: Vec<String> = chunk.iter().map(|a| a.file_name.clone()).collect();
            let types: &[&str] = if contact {
                &["comment"]
            } else if note {
                &["note"]
            } else {
                &["comment"]
            };
            let claimed = session
                .threads
                .get_mut(&conversation)
                .and_then(|t| t.claim(host.created_at, &host.author_id, types, Some(&names)));
            if let Some(p) = claimed {
                out.extend(
                    chunk
                        .iter()
                        .map(|a| LoadResult::loaded(a.key.clone(), part_ref(&conversation, &p))),
                );
                continue;
            }
            let mut sendable = Vec::new();
            let mut payload = Vec::new();
            for a in chunk {
                let Some(blob) = &a.blob else {
                    out.push(LoadResult::failed(problem(
                        &a.key,
                        ErrorKind::NotFound,
                        "attachment_not_downloaded",
                        "The file's bytes were never staged (the source could not serve them); nothing to send.",
                    )));
                    continue;
                };
                let Some(bytes) = cx.blobs.get(&blob.hash).await? else {
                    out.push(LoadResult::failed(problem(
                        &a.key,
                        ErrorKind::NotFound,
                        "blob_missing",
                        format!("The staged bytes {} are not in the blob store.", blob.hash),
                    )));
                    continue;
                };
                payload.push(json!({
                    "name": a.file_name,
                    "content_type": a.content_type.as_deref().unwrap_or("application/octet-stream"),
                    "data": base64::engine::general_purpose::STANDARD.encode(&bytes),
                }));
                sendable.push(*a);
            }
            if sendable.is_empty() {
                continue;
            }
            let names: Vec<String> = sendable.iter().map(|a| a.file_name.clone()).collect();
            let text = format!("Files: {}", names.join(", "));
            let body = match &who {
                Writer::Contact(c) => json!({
                    "message_type": "comment",
                    "type": "user",
                    "intercom_user_id": c,
                    "body": text,
                    "created_at": host.created_at,
                    "attachment_files": payload,
                }),
                Writer::Admin { id, .. } => json!({
                    "message_type": if note { "note" } else { "comment" },
                    "type": "admin",
                    "admin_id": id,
                    "body": format!("<p>{}</p>", text.replace('<', "&lt;")),
                    "created_at": host.created_at,
                    "attachment_files": payload,
                    "skip_notifications": true,
                }),
            };
            let part_type = if note { "note" } else { "comment" };
            match write_part(
                cx,
                session,
                &conversation,
                &body,
                host.created_at,
                &who,
                part_type,
                names,
            )
            .await?
            {
                Ok(p) => out.extend(
                    sendable
                        .iter()
                        .map(|a| LoadResult::loaded(a.key.clone(), part_ref(&conversation, &p))),
                ),
                Err(e) => out.extend(sendable.iter().map(|a| refused(&a.key, &e))),
            }
        }
    }
    Ok(out)
}
