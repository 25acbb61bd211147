//! Attachments: the bytes from the blob store, re-uploaded as multipart `attachments[]` (the
//! only field Chatwoot attaches; `messages/message_builder.rb`), at most 15 a message
//! (`Message::NUMBER_OF_PERMITTED_ATTACHMENTS`; research/chatwoot.md §2.4), never through
//! `/upload`.
//!
//! Chatwoot cannot add a file to a message that exists, and the engine hands files over after
//! every message, so a message's files go into a message of their own right after the history,
//! of the same type and privacy, naming the message in `content_attributes.attachments_of` and
//! the files it carries in `content_attributes.attachment_sources` (how a later run finds them
//! again instead of uploading twice).

use deskmove_core::Classify;
use deskmove_core::connector::{LoadResult, Resolve};
use deskmove_core::model::{Attachment, Record};
use deskmove_core::{ErrorKind, RecordKind, SourceKey};

use super::client::{FilePart, id_of, is_record_error, said};
use super::conversations::{Standing, finish_from};
use super::conversations::{finish, quiet};
use super::messages::listed;
use super::session::{Finish, Known, Session};
use super::{ApiError, Cx, leading_id, parent_missing, problem};
use crate::map;
use futures::StreamExt;
use std::collections::VecDeque;
use std::time::Instant;

/// `Message::NUMBER_OF_PERMITTED_ATTACHMENTS`.
const PER_MESSAGE: usize = 15;

/// `"<display>/<message id>"` → both numbers.
fn message_ref(id: &str) -> Option<(u64, u64)> {
    let (d, m) = id.split_once('/')?;
    Some((d.parse().ok()?, leading_id(m)?))
}

/// One conversation's files of a batch and what is known of it, taken out of the session so
/// conversations can be written side by side (each one's files in turn).
struct Lane<'r> {
    display: u64,
    owners: Vec<(SourceKey, u64, Vec<&'r Attachment>)>,
    known: Option<Known>,
    standing: Option<Standing>,
    finish: Option<Finish>,
    window: VecDeque<Instant>,
    blocked: bool,
}

pub(crate) async fn load(
    cx: &Cx<'_>,
    session: &mut Session,
    records: &[Record],
    refs: &impl Resolve,
) -> Result<Vec<LoadResult>, ApiError> {
    let mut groups: Vec<(SourceKey, Vec<&Attachment>)> = Vec::new();
    for r in records {
        let Record::Attachment(a) = r else { continue };
        match groups.iter_mut().find(|(k, _)| *k == a.owner) {
            Some((_, g)) => g.push(a),
            None => groups.push((a.owner.clone(), vec![a])),
        }
    }
    let mut out = Vec::new();
    let mut lanes: Vec<Lane> = Vec::new();
    for (owner, group) in groups {
        if owner.kind != RecordKind::Message {
            // Help-center articles are not written on this path, so neither are their files.
            out.extend(group.iter().map(|a| {
                LoadResult::skipped(problem(
                    &a.key,
                    ErrorKind::Validation,
                    "owner_not_loaded_on_this_path",
                    format!(
                        "{} belongs to {owner}, a {} this load path does not write.",
                        a.file_name, owner.kind
                    ),
                ))
            }));
            continue;
        }
        let Some((display, owner_id)) = refs.target_ref(&owner).and_then(|r| message_ref(&r.id))
        else {
            out.extend(group.iter().map(|a| parent_missing(&a.key, &owner)));
            continue;
        };
        match lanes.iter_mut().find(|l| l.display == display) {
            Some(l) => l.owners.push((owner, owner_id, group)),
            None => lanes.push(Lane {
                display,
                owners: vec![(owner, owner_id, group)],
                known: session.known.remove(&display),
                standing: session.standing.get(&display).cloned(),
                finish: session.finish.get(&display).cloned(),
                window: session.window.remove(&display).unwrap_or_default(),
                blocked: session.blocked.contains(&display),
            }),
        }
    }
    // A named async fn per lane (not a closure): the futures must be Send for any lifetime.
    let work: Vec<_> = lanes.into_iter().map(|l| lane(cx, l)).collect();
    let done: Vec<(Vec<LoadResult>, Lane, Option<ApiError>)> = futures::stream::iter(work)
        .buffer_unordered(cx.options.parallel_conversations.max(1))
        .collect()
        .await;
    let mut failure = None;
    for (results, l, error) in done {
        out.extend(results);
        if let Some(k) = l.known {
            session.known.insert(l.display, k);
        }
        if let Some(s) = l.standing {
            session.standing.insert(l.display, s);
        }
        if let Some(f) = l.finish {
            session.finish.insert(l.display, f);
        }
        session.window.insert(l.display, l.window);
        if l.blocked {
            session.blocked.insert(l.display);
        }
        failure = failure.or(error);
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// One conversation's files in turn, then its finish; the lane comes back with what it learnt
/// also when a call failed.
async fn lane<'r>(cx: &Cx<'_>, mut l: Lane<'r>) -> (Vec<LoadResult>, Lane<'r>, Option<ApiError>) {
    let mut out = Vec::new();
    let error = files(cx, &mut l, &mut out).await.err();
    (out, l, error)
}

/// Where the lane's conversation stands and how to finish it: known, else from Chatwoot.
async fn standing(cx: &Cx<'_>, l: &mut Lane<'_>) -> Result<Option<Standing>, ApiError> {
    // A conversation this process did not write carries its finish in Chatwoot only.
    if l.standing.is_none() || l.finish.is_none() {
        match cx.api.get(&format!("conversations/{}", l.display)).await {
            Ok(v) => {
                l.standing = Some(super::conversations::standing(&v));
                l.finish = l.finish.take().or_else(|| finish_from(&v));
            }
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(l.standing.clone())
}

async fn files(cx: &Cx<'_>, l: &mut Lane<'_>, out: &mut Vec<LoadResult>) -> Result<(), ApiError> {
    let display = l.display;
    let mut touched = false;
    // Files an earlier process wrote: it may have died before giving the conversation back
    // its final state.
    let mut reused = false;
    let limit = super::messages::guard(cx);
    for (owner, owner_id, group) in std::mem::take(&mut l.owners) {
        if l.known.is_none() {
            l.known = Some(listed(cx, display).await?);
        }
        let known = l.known.clone().unwrap_or_default();
        let Some((kind, private)) = known.kinds.get(&owner_id).cloned() else {
            out.extend(group.iter().map(|a| parent_missing(&a.key, &owner)));
            continue;
        };
        let mut todo = Vec::new();
        for a in group {
            let sid = map::source_id(&a.key);
            match known.files.get(&sid) {
                Some(id) => {
                    reused = true;
                    out.push(LoadResult::loaded(a.key.clone(), format!("{display}/{id}")));
                }
                None => todo.push(a),
            }
        }
        for chunk in todo.chunks(PER_MESSAGE) {
            if l.blocked || !super::messages::take_room(&mut l.window, limit) {
                l.blocked = true;
                out.extend(chunk.iter().map(|a| super::messages::flooded(&a.key)));
                continue;
            }
            let mut files = Vec::new();
            let mut carried = Vec::new();
            for a in chunk {
                let bytes = match &a.blob {
                    Some(b) => cx.blobs.get(&b.hash).await?,
                    None => None,
                };
                match bytes {
                    Some(bytes) => {
                        files.push(FilePart {
                            name: a.file_name.clone(),
                            content_type: a
                                .content_type
                                .clone()
                                .unwrap_or_else(|| "application/octet-stream".into()),
                            bytes,
                        });
                        carried.push(*a);
                    }
                    None => out.push(LoadResult::failed(problem(
                        &a.key,
                        ErrorKind::NotFound,
                        "attachment_not_staged",
                        "The file's bytes are not in the staging blob store (the download failed at export); run export again to fetch it.",
                    ))),
                }
            }
            if carried.is_empty() {
                continue;
            }
            let Some(mut now) = standing(cx, l).await? else {
                out.extend(carried.iter().map(|a| parent_missing(&a.key, &owner)));
                continue;
            };
            let reopens =
                kind == "incoming" && matches!(now.status.as_str(), "resolved" | "snoozed");
            if reopens || now.assignee.is_some() {
                quiet(cx, display, &mut now).await?;
            }
            l.standing = Some(now);
            let sources: Vec<String> = carried.iter().map(|a| map::source_id(&a.key)).collect();
            let fields = vec![
                ("content".to_owned(), String::new()),
                ("message_type".to_owned(), kind.clone()),
                ("private".to_owned(), private.to_string()),
                (
                    "content_attributes[attachments_of]".to_owned(),
                    map::source_id(&owner),
                ),
                (
                    "content_attributes[attachment_sources]".to_owned(),
                    sources.join(","),
                ),
            ];
            match cx
                .api
                .post_multipart(
                    &format!("conversations/{display}/messages"),
                    &fields,
                    &files,
                )
                .await
            {
                Ok(v) => {
                    let id = id_of(&v).ok_or_else(|| {
                        ApiError::Protocol("a created message without an id".into())
                    })?;
                    let entry = l.known.get_or_insert_default();
                    entry.kinds.insert(id, (kind.clone(), private));
                    for (a, s) in carried.iter().zip(sources) {
                        entry.files.insert(s, id);
                        out.push(LoadResult::loaded(a.key.clone(), format!("{display}/{id}")));
                    }
                    touched = true;
                }
                Err(e)
                    if e.vendor_text()
                        .is_some_and(|t| t.contains("Too many messages")) =>
                {
                    l.blocked = true;
                    out.extend(carried.iter().map(|a| super::messages::flooded(&a.key)));
                }
                Err(e) if is_record_error(&e) => {
                    for a in carried {
                        out.push(LoadResult::failed(problem(
                            &a.key,
                            e.kind(),
                            "chatwoot_refused",
                            said(&e),
                        )));
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    if !touched
        && reused
        && let Some(now) = standing(cx, l).await?
        && l.finish.as_ref().is_some_and(|f| !settled(f, &now))
    {
        touched = true;
    }
    if touched {
        let mut now = l
            .standing
            .clone()
            .unwrap_or_else(|| super::conversations::standing(&serde_json::Value::Null));
        match &l.finish {
            Some(f) => {
                let unread = l.known.as_ref().is_none_or(super::messages::has_incoming);
                finish(cx, display, f, &mut now, unread).await?;
            }
            None => {
                cx.api
                    .post(
                        &format!("conversations/{display}/update_last_seen"),
                        &serde_json::json!({}),
                    )
                    .await?;
            }
        }
        l.standing = Some(now);
    }
    Ok(())
}

/// Whether a conversation already stands as `f` would leave it.
fn settled(f: &Finish, now: &Standing) -> bool {
    f.status == now.status
        && f.assignee == now.assignee
        && (f.status != "snoozed" || f.snoozed_until == now.snoozed_until)
}
