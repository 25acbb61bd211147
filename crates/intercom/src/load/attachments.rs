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
use super::session::{Session, side_by_side};
use super::{Cx, TargetError, parent_missing, problem, refused};

/// A message and its files.
type Owner<'a> = (SourceKey, Vec<&'a Attachment>);

/// Intercom's cap on `attachment_files` per reply.
pub(crate) const FILES_PER_PART: usize = 10;

/// File bytes sent in one part at most, unless one file alone is larger: the files travel
/// base64 in the JSON body, and Intercom documents no body limit, so parts are kept well under
/// the few megabytes web servers commonly take.
const PART_BYTES: u64 = 1 << 20;

/// `files` in parts of at most [`FILES_PER_PART`] files and [`PART_BYTES`] bytes, in order: the
/// same files always make the same parts, so a retry finds the parts it wrote.
fn parts<'a, 'b>(files: &'a [&'b Attachment]) -> Vec<&'a [&'b Attachment]> {
    let size = |a: &Attachment| a.blob.as_ref().map(|b| b.size).or(a.size).unwrap_or(0);
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, a) in files.iter().enumerate() {
        let full = i - start == FILES_PER_PART || (i > start && bytes + size(a) > PART_BYTES);
        if full {
            out.push(&files[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += size(a);
    }
    if start < files.len() {
        out.push(&files[start..]);
    }
    out
}

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
    // By conversation: conversations side by side, each one's files in order.
    let mut groups: Vec<(Vec<String>, Vec<String>, Vec<Owner<'_>>)> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
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
        let Some(conversation) = refs
            .target_ref(&owner)
            .and_then(|r| r.id.split_once('/').map(|(c, _)| c.to_owned()))
        else {
            out.extend(files.iter().map(|a| parent_missing(&a.key, &owner)));
            continue;
        };
        let i = *at.entry(conversation.clone()).or_insert_with(|| {
            groups.push((vec![conversation], Vec::new(), Vec::new()));
            groups.len() - 1
        });
        groups[i].2.push((owner, files));
    }
    // The conversations with the most files first (see `conversations::threads`).
    groups.sort_by_key(|(_, _, owners)| {
        std::cmp::Reverse(owners.iter().map(|(_, f)| f.len()).sum::<usize>())
    });
    out.extend(
        side_by_side(session, groups, |owners, mut sub| async move {
            let mut out = Vec::new();
            for (owner, files) in owners {
                if let Err(e) = owner_files(cx, &mut sub, &owner, files, refs, &mut out).await {
                    return (sub, Err(e));
                }
            }
            (sub, Ok(out))
        })
        .await?,
    );
    Ok(out)
}

/// The files of one message, in parts beside it.
async fn owner_files(
    cx: &Cx<'_>,
    session: &mut Session,
    owner: &SourceKey,
    files: Vec<&Attachment>,
    refs: &impl Resolve,
    out: &mut Vec<LoadResult>,
) -> Result<(), TargetError> {
    // Where the owner is: `conversation/part`.
    let Some((conversation, part)) = refs.target_ref(owner).and_then(|r| {
        r.id.split_once('/')
            .map(|(c, p)| (c.to_owned(), p.to_owned()))
    }) else {
        out.extend(files.iter().map(|a| parent_missing(&a.key, owner)));
        return Ok(());
    };
    if !known(cx, session, &conversation).await? {
        out.extend(files.iter().map(|a| parent_missing(&a.key, owner)));
        return Ok(());
    }
    let Some(host) = session
        .threads
        .get(&conversation)
        .and_then(|t| t.parts.iter().find(|p| p.id == part).cloned())
    else {
        out.extend(files.iter().map(|a| parent_missing(&a.key, owner)));
        return Ok(());
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
    for chunk in parts(&pending) {
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
            // Intercom refuses a file without bytes (`data is required`), e.g. the empty
            // placeholder a redaction leaves: nothing to keep but its name.
            if bytes.is_empty() {
                out.push(LoadResult::skipped(problem(
                    &a.key,
                    ErrorKind::Validation,
                    "empty_file",
                    format!(
                        "{} has no bytes, and Intercom takes no empty file; it is not sent.",
                        a.file_name
                    ),
                )));
                continue;
            }
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
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use deskmove_core::model::BlobRef;

    fn file(id: u64, size: u64) -> Attachment {
        Attachment {
            key: SourceKey::new("s", RecordKind::Attachment, id.to_string()),
            owner: SourceKey::new("s", RecordKind::Message, "1"),
            file_name: format!("{id}.bin"),
            content_type: None,
            size: None,
            source_url: None,
            blob: Some(BlobRef {
                hash: id.to_string(),
                size,
            }),
            extra: Default::default(),
        }
    }

    #[test]
    fn parts_hold_ten_files_and_a_megabyte_at_most_and_a_big_file_alone() {
        let small: Vec<Attachment> = (0..23).map(|i| file(i, 1_000)).collect();
        let refs: Vec<&Attachment> = small.iter().collect();
        let lens: Vec<usize> = parts(&refs).iter().map(|p| p.len()).collect();
        assert_eq!(lens, [10, 10, 3]);

        let mixed = [
            file(1, 600_000),
            file(2, 600_000),
            file(3, 3_000_000),
            file(4, 10),
            file(5, 10),
        ];
        let refs: Vec<&Attachment> = mixed.iter().collect();
        let ids: Vec<Vec<&str>> = parts(&refs)
            .iter()
            .map(|p| p.iter().map(|a| a.key.id.as_str()).collect())
            .collect();
        assert_eq!(ids, [vec!["1"], vec!["2"], vec!["3"], vec!["4", "5"]]);
        assert!(parts(&[]).is_empty());
    }
}
