//! Conversations and their messages (../shared/research/intercom-api.md §7).
//!
//! A thread batch holds each new or changed conversation followed by its new messages in thread
//! order. A new conversation is started by its contact with the first message and its original
//! `created_at` (`POST /conversations` answers a `user_message` naming the conversation), then
//! marked with the source key in the `deskmove_source` conversation attribute. Every later
//! message is its own reply or note with its original `created_at`: the contact's as the
//! contact, agents' as their admin with `skip_notifications`, authors nobody matches as the
//! fallback admin with the true author in the first line; events of the history become notes
//! (Intercom cannot back-date a state part). Assignee, tags and state come last, and only what
//! differs from what the conversation holds is written.
//!
//! Idempotency: a conversation the ledger does not know is looked for by marker (one search per
//! source system and process lists every marked one), then as the unmarked one its contact
//! started at its time (an attempt killed before marking it); the parts of a conversation found
//! again are read and each message claims the part written at its time by its author before
//! anything is written, so a crash between a write and its ledger commit never doubles a part.

use std::collections::HashMap;

use deskmove_core::connector::{LoadResult, Resolve};
use deskmove_core::model::{AuthorKind, Conversation, ConversationState, Message, MessageKind};
use deskmove_core::{Classify, ErrorKind, Record, SourceKey};
use serde_json::{Value, json};

use super::api::{id_of, is_record_error, marker_of, said};
use super::session::{Part, Session, Thread, side_by_side};
use super::{Cx, MARKER_ATTRIBUTE, Mode, TargetError, marker, parent_missing, problem, refused};

/// Who writes a part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Writer {
    /// The conversation's contact.
    Contact(String),
    /// An admin; `header` names the true author when the admin stands in for them.
    Admin { id: String, header: Option<String> },
}

impl Writer {
    pub(crate) fn id(&self) -> &str {
        match self {
            Self::Contact(id) | Self::Admin { id, .. } => id,
        }
    }
}

/// The admin an agent is: by the agent's ledger entry, else by email through the mapping.
fn admin_of(
    cx: &Cx<'_>,
    admins: &super::session::Admins,
    key: Option<&SourceKey>,
    email: Option<&str>,
    refs: &impl Resolve,
) -> Option<String> {
    if let Some(r) = key.and_then(|k| refs.target_ref(k)) {
        return Some(r.id);
    }
    let email = cx.options.mapping.admin_email(email?)?;
    admins.by_email.get(&email).cloned()
}

/// Who writes `m` in a conversation started by `contact_id`.
pub(crate) fn writer(
    cx: &Cx<'_>,
    admins: &super::session::Admins,
    m: &Message,
    contact_id: &str,
    conversation_contact: Option<&SourceKey>,
    refs: &impl Resolve,
) -> Writer {
    let a = &m.author;
    let named = || {
        let mut s = a.name.clone().unwrap_or_default();
        if let Some(e) = &a.email {
            s = if s.is_empty() {
                e.clone()
            } else {
                format!("{s} <{e}>")
            };
        }
        s
    };
    match a.kind {
        AuthorKind::Contact if a.key.is_none() || a.key.as_ref() == conversation_contact => {
            Writer::Contact(contact_id.to_owned())
        }
        AuthorKind::Contact => Writer::Admin {
            id: admins.fallback.clone(),
            header: Some(format!("From {}", or_unknown(named(), "another contact"))),
        },
        AuthorKind::Agent => match admin_of(cx, admins, a.key.as_ref(), a.email.as_deref(), refs) {
            Some(id) => Writer::Admin { id, header: None },
            None => Writer::Admin {
                id: admins.fallback.clone(),
                header: Some(format!(
                    "Written by {}",
                    or_unknown(named(), "a former teammate")
                )),
            },
        },
        AuthorKind::Bot => Writer::Admin {
            id: admins.fallback.clone(),
            header: Some(format!("Sent by {} (bot)", or_unknown(named(), "a bot"))),
        },
        AuthorKind::System => Writer::Admin {
            id: admins.fallback.clone(),
            header: Some("System".into()),
        },
    }
}

fn or_unknown(s: String, unknown: &str) -> String {
    if s.trim().is_empty() {
        unknown.to_owned()
    } else {
        s
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A message's text for a contact's part: Intercom takes no HTML there (research §7).
pub(crate) fn plain(m: &Message) -> String {
    let text = m
        .body_markdown
        .clone()
        .or_else(|| m.body_html.clone())
        .unwrap_or_default();
    if text.trim().is_empty() {
        placeholder(m)
    } else {
        text
    }
}

fn placeholder(m: &Message) -> String {
    if m.attachments.is_empty() {
        "(no text)".into()
    } else {
        "(files)".into()
    }
}

/// A message's body for an admin's part (HTML), after the true author's line if any.
pub(crate) fn admin_body(m: &Message, header: Option<&str>) -> String {
    let mut out = String::new();
    if let Some(h) = header {
        out.push_str(&format!("<p><em>{}</em></p>", escape(h)));
    }
    if m.kind == MessageKind::Event {
        let action = m
            .event
            .as_ref()
            .map(|e| e.action.as_str())
            .unwrap_or("event");
        out.push_str(&format!("<p>[{}]</p>", escape(action)));
    }
    match (&m.body_html, &m.body_markdown) {
        (Some(h), _) if !h.trim().is_empty() => out.push_str(h),
        (_, Some(md)) if !md.trim().is_empty() => out.push_str(&format!("<p>{}</p>", escape(md))),
        _ if m.kind != MessageKind::Event => {
            out.push_str(&format!("<p>{}</p>", placeholder(m)));
        }
        _ => {}
    }
    out
}

/// `conversation/part`, the target id of a message or a file.
pub(crate) fn part_ref(conversation: &str, part: &str) -> String {
    format!("{conversation}/{part}")
}

/// The conversation `GET /conversations/{id}` shows, `None` when gone.
pub(crate) async fn fetch(cx: &Cx<'_>, id: &str) -> Result<Option<Thread>, TargetError> {
    Ok(cx
        .api
        .find(&format!("conversations/{id}"))
        .await?
        .map(|v| Thread::from_json(&v)))
}

/// Makes sure the session knows conversation `id`'s parts; false when it is gone.
pub(crate) async fn known(
    cx: &Cx<'_>,
    session: &mut Session,
    id: &str,
) -> Result<bool, TargetError> {
    if session.threads.contains_key(id) {
        return Ok(true);
    }
    match fetch(cx, id).await? {
        Some(t) => {
            session.threads.insert(id.to_owned(), t);
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Lists every conversation marked with a key of `system`, once per process.
async fn sweep(cx: &Cx<'_>, session: &mut Session, system: &str) -> Result<(), TargetError> {
    if !session.swept.insert(system.to_owned()) {
        return Ok(());
    }
    let query = json!({
        "field": format!("custom_attributes.{MARKER_ATTRIBUTE}"),
        "operator": "^",
        "value": format!("{system}:conversation:"),
    });
    let found = match cx
        .api
        .search_all("conversations", "conversations", query)
        .await
    {
        Ok(f) => f,
        // A workspace that cannot search the attribute: nothing marked can be found.
        Err(e) if is_record_error(&e) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    for c in found {
        if let (Some(m), Some(id)) = (marker_of(&c), id_of(&c)) {
            session.conversations.entry(m.to_owned()).or_insert(id);
        }
    }
    Ok(())
}

/// Where conversation `key` is in Intercom, if anywhere.
async fn locate(
    cx: &Cx<'_>,
    session: &mut Session,
    key: &SourceKey,
    refs: &impl Resolve,
) -> Result<Option<String>, TargetError> {
    if let Some(r) = refs.target_ref(key)
        && known(cx, session, &r.id).await?
    {
        return Ok(Some(r.id));
    }
    let m = marker(key);
    if !session.conversations.contains_key(&m) {
        sweep(cx, session, &key.system).await?;
    }
    match session.conversations.get(&m).cloned() {
        Some(id) if known(cx, session, &id).await? => Ok(Some(id)),
        Some(_) => {
            session.conversations.remove(&m);
            Ok(None)
        }
        None => Ok(None),
    }
}

/// The conversation an attempt killed between its create and its marker left behind: started
/// by `contact` at `created_at` and unmarked. Marked now, so it is not created a second time.
async fn unmarked(
    cx: &Cx<'_>,
    session: &mut Session,
    key: &SourceKey,
    contact: &str,
    created_at: i64,
) -> Result<Option<String>, TargetError> {
    let query = json!({"operator": "AND", "value": [
        {"field": "contact_ids", "operator": "=", "value": contact},
        // `=` on a date matches its whole day; the second is checked below.
        {"field": "created_at", "operator": "=", "value": created_at},
    ]});
    let found = match cx
        .api
        .search_all("conversations", "conversations", query)
        .await
    {
        Ok(f) => f,
        Err(e) if is_record_error(&e) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let Some(id) = found
        .iter()
        .filter(|v| {
            marker_of(v).is_none()
                && v["created_at"].as_i64() == Some(created_at)
                && v.pointer("/source/author/id").and_then(Value::as_str) == Some(contact)
        })
        .find_map(id_of)
    else {
        return Ok(None);
    };
    let mark = json!({"custom_attributes": {MARKER_ATTRIBUTE: marker(key)}});
    match cx.api.put(&format!("conversations/{id}"), &mark).await {
        Ok(_) => {}
        Err(e) if is_record_error(&e) => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    session.conversations.insert(marker(key), id.clone());
    Ok(known(cx, session, &id).await?.then_some(id))
}

/// The thread seam's batch: conversations, each followed by its new messages.
pub(crate) async fn threads(
    cx: &Cx<'_>,
    session: &mut Session,
    records: &[Record],
    refs: &impl Resolve,
) -> Result<Vec<LoadResult>, TargetError> {
    let mut groups = Vec::new();
    let mut strays = Vec::new();
    let mut i = 0;
    while i < records.len() {
        match &records[i] {
            Record::Conversation(c) => {
                let mut j = i + 1;
                let mut messages = Vec::new();
                while let Some(Record::Message(m)) = records.get(j) {
                    if m.conversation != c.key {
                        break;
                    }
                    messages.push(m);
                    j += 1;
                }
                let ids = refs.target_ref(&c.key).map(|r| r.id).into_iter().collect();
                let new = c
                    .contacts
                    .first()
                    .and_then(|k| refs.target_ref(k))
                    .is_some_and(|r| session.created_contacts.contains(&r.id));
                groups.push((ids, vec![marker(&c.key)], (c, messages, new)));
                i = j;
            }
            other => {
                strays.push(other.clone());
                i += 1;
            }
        }
    }
    if !groups.is_empty() {
        // What every lane reads, fetched once before they start.
        session.marker_attribute(cx.api, "conversation").await?;
        session.admins(cx).await?;
        for (_, _, (c, _, _)) in &groups {
            if refs.target_ref(&c.key).is_none()
                && !session.conversations.contains_key(&marker(&c.key))
            {
                sweep(cx, session, &c.key.system).await?;
            }
        }
    }
    // Conversations side by side, each one's parts in order; the longest first, so a long one
    // does not start last and hold the batch open alone.
    groups.sort_by_key(|(_, _, (_, messages, _))| std::cmp::Reverse(messages.len()));
    let mut out = side_by_side(session, groups, |(c, messages, new), mut sub| async move {
        let mut out = Vec::new();
        let r = thread(cx, &mut sub, c, &messages, refs, &mut out, new).await;
        (sub, r.map(|()| out))
    })
    .await?;
    if !strays.is_empty() {
        out.extend(self::messages(cx, session, &strays, refs).await?);
    }
    Ok(out)
}

/// One conversation and its new messages.
async fn thread(
    cx: &Cx<'_>,
    session: &mut Session,
    c: &Conversation,
    messages: &[&Message],
    refs: &impl Resolve,
    out: &mut Vec<LoadResult>,
    contact_is_new: bool,
) -> Result<(), TargetError> {
    let fail_all = |out: &mut Vec<LoadResult>, result: LoadResult| {
        for m in messages {
            let mut r = result.clone();
            r.key = m.key.clone();
            if let Some(p) = r.problem.as_mut() {
                p.key = m.key.clone();
            }
            out.push(r);
        }
        out.push(result);
    };
    let Some(contact_key) = c.contacts.first() else {
        fail_all(
            out,
            LoadResult::failed(problem(
                &c.key,
                ErrorKind::Validation,
                "no_contact",
                "Intercom conversations are started by a contact; this one names none.",
            )),
        );
        return Ok(());
    };
    let Some(contact) = refs.target_ref(contact_key).map(|r| r.id) else {
        fail_all(out, parent_missing(&c.key, contact_key));
        return Ok(());
    };
    session.marker_attribute(cx.api, "conversation").await?;
    let had_ref = refs.target_ref(&c.key).is_some();
    let mut rest: &[&Message] = messages;
    // The first message opens it, when it is the contact's.
    let first = messages
        .first()
        .filter(|m| m.author.kind == AuthorKind::Contact && m.kind == MessageKind::Reply);
    let created_at = first.map_or(c.created_at, |m| m.created_at).as_second();
    let found = match locate(cx, session, &c.key, refs).await? {
        Some(id) => Some(id),
        // A contact this process created holds no conversation of an earlier attempt.
        None if contact_is_new => None,
        None => unmarked(cx, session, &c.key, &contact, created_at).await?,
    };
    let (id, created) = match found {
        Some(id) => (id, false),
        None => {
            let body = match first {
                Some(m) => plain(m),
                None => c.subject.clone().unwrap_or_else(|| "(conversation)".into()),
            };
            let mut req = json!({
                "from": {"type": "contact", "id": contact},
                "body": body,
                "created_at": created_at,
            });
            if let Some(s) = &c.subject {
                req["subject"] = json!(s);
            }
            let answer = match cx.api.post("conversations", &req).await {
                Ok(v) => v,
                Err(e) if is_record_error(&e) => {
                    fail_all(out, refused(&c.key, &e));
                    return Ok(());
                }
                Err(e) => return Err(e.into()),
            };
            let id = match &answer["conversation_id"] {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => {
                    return Err(TargetError::Protocol(
                        "POST /conversations answered no conversation_id".into(),
                    ));
                }
            };
            let source_id = id_of(&answer).unwrap_or_default();
            session.conversations.insert(marker(&c.key), id.clone());
            let mut t = Thread {
                contact_id: contact.clone(),
                state: "open".into(),
                admin_assignee: "0".into(),
                ..Thread::default()
            };
            t.wrote(Part {
                id: source_id.clone(),
                created_at,
                author_type: "user".into(),
                author_id: contact.clone(),
                part_type: "source".into(),
                files: Vec::new(),
            });
            session.threads.insert(id.clone(), t);
            // The marker: how a later attempt finds this conversation without the ledger.
            let mark = json!({"custom_attributes": {MARKER_ATTRIBUTE: marker(&c.key)}});
            if let Err(e) = cx.api.put(&format!("conversations/{id}"), &mark).await {
                if !is_record_error(&e) {
                    return Err(e.into());
                }
                tracing::warn!(conversation = %c.key, error = %said(&e), "The conversation could not be marked; a crash before its ledger commit would duplicate it.");
            }
            if let Some(m) = first {
                out.push(LoadResult::loaded(m.key.clone(), part_ref(&id, &source_id)));
                rest = &messages[1..];
            }
            (id, true)
        }
    };
    match cx.options.mode {
        Mode::Messages => {
            for m in rest {
                let r = append(cx, session, &id, c, m, refs).await?;
                out.push(r);
            }
        }
        Mode::Transcript => {
            out.extend(transcript(cx, session, &id, c, rest, refs).await?);
        }
    }
    let finished = finish(cx, session, &id, c, refs).await?;
    let mut result = if created || !had_ref {
        LoadResult::loaded(c.key.clone(), id)
    } else {
        LoadResult::updated(c.key.clone(), id)
    };
    if let Some(p) = finished {
        result = result.with_problem(p);
    }
    out.push(result);
    Ok(())
}

/// Writes message `m` into conversation `id` as its own part, unless a part written at its
/// time by its author is already there (an earlier attempt).
async fn append(
    cx: &Cx<'_>,
    session: &mut Session,
    id: &str,
    c: &Conversation,
    m: &Message,
    refs: &impl Resolve,
) -> Result<LoadResult, TargetError> {
    let admins = session.admins(cx).await?.clone();
    let Some(t) = session.threads.get_mut(id) else {
        return Ok(parent_missing(&m.key, &c.key));
    };
    // Already written and changed since: Intercom cannot edit a part.
    if let Some(r) = refs.target_ref(&m.key)
        && let Some((_, part)) = r.id.split_once('/')
        && t.parts.iter().any(|p| p.id == part)
    {
        t.claimed.insert(part.to_owned());
        return Ok(super::current(&m.key, r.id).with_problem(problem(
            &m.key,
            ErrorKind::Validation,
            "part_not_editable",
            "This message changed at the source after it was loaded; Intercom cannot edit a conversation part, so the change is not applied.",
        )));
    }
    let contact_id = t.contact_id.clone();
    let who = writer(cx, &admins, m, &contact_id, c.contacts.first(), refs);
    let created_at = m.created_at.as_second();
    let note = m.kind != MessageKind::Reply
        || (matches!(who, Writer::Admin { .. }) && m.author.kind == AuthorKind::Contact);
    let types: &[&str] = match (&who, note) {
        (Writer::Contact(_), _) => &["comment", "source"],
        (_, true) => &["note"],
        (_, false) => &["comment"],
    };
    if let Some(part) = t.claim(created_at, who.id(), types, Some(&[])) {
        return Ok(with_author_problem(
            LoadResult::loaded(m.key.clone(), part_ref(id, &part)),
            m,
            &who,
        ));
    }
    let body = match &who {
        Writer::Contact(contact) => json!({
            "message_type": "comment",
            "type": "user",
            "intercom_user_id": contact,
            "body": plain(m),
            "created_at": created_at,
        }),
        Writer::Admin { id: admin, header } => json!({
            "message_type": if note { "note" } else { "comment" },
            "type": "admin",
            "admin_id": admin,
            "body": admin_body(m, header.as_deref()),
            "created_at": created_at,
            // Nobody notified (research §7; Intercom's own migration process).
            "skip_notifications": true,
        }),
    };
    let part_type = body["message_type"]
        .as_str()
        .unwrap_or("comment")
        .to_owned();
    match write_part(
        cx,
        session,
        id,
        &body,
        created_at,
        &who,
        &part_type,
        Vec::new(),
    )
    .await?
    {
        Ok(part) => Ok(with_author_problem(
            LoadResult::loaded(m.key.clone(), part_ref(id, &part)),
            m,
            &who,
        )),
        Err(e) => Ok(refused(&m.key, &e)),
    }
}

/// Posts a reply and returns the id of the part it made (`Err` for a refusal of this record).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn write_part(
    cx: &Cx<'_>,
    session: &mut Session,
    id: &str,
    body: &Value,
    created_at: i64,
    who: &Writer,
    part_type: &str,
    files: Vec<String>,
) -> Result<Result<String, deskmove_http::HttpError>, TargetError> {
    let answer = match cx
        .api
        .post(&format!("conversations/{id}/reply"), body)
        .await
    {
        Ok(v) => v,
        Err(e) if is_record_error(&e) => return Ok(Err(e)),
        Err(e) => return Err(e.into()),
    };
    let claimed = session
        .threads
        .get(id)
        .map(|t| t.claimed.clone())
        .unwrap_or_default();
    // The answer is the conversation; the new part is its latest by this author at this time.
    let part = answer
        .pointer("/conversation_parts/conversation_parts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .rev()
        .find(|p| {
            p["created_at"].as_i64() == Some(created_at)
                && p.pointer("/author/id").is_some_and(|a| match a {
                    Value::String(s) => s == who.id(),
                    other => other.to_string().as_str() == who.id(),
                })
                && id_of(p).is_some_and(|x| !claimed.contains(&x))
        })
        .and_then(id_of)
        .or_else(|| id_of(&answer).filter(|_| answer["type"] != "conversation"))
        .ok_or_else(|| TargetError::Protocol("a reply whose part cannot be found".into()))?;
    if let Some(t) = session.threads.get_mut(id) {
        t.wrote(Part {
            id: part.clone(),
            created_at,
            author_type: match who {
                Writer::Contact(_) => "user".into(),
                Writer::Admin { .. } => "admin".into(),
            },
            author_id: who.id().to_owned(),
            part_type: part_type.to_owned(),
            files,
        });
    }
    Ok(Ok(part))
}

fn with_author_problem(result: LoadResult, m: &Message, who: &Writer) -> LoadResult {
    match who {
        Writer::Admin {
            header: Some(h), ..
        } if m.author.kind == AuthorKind::Agent => result.with_problem(problem(
            &m.key,
            ErrorKind::NotFound,
            "author_unmatched",
            format!("No teammate matches the author; written by the fallback admin under \"{h}\"."),
        )),
        _ => result,
    }
}

/// Mode `transcript`: the messages as sections of one internal note (with the time of the
/// last), every message answering with that note's id.
async fn transcript(
    cx: &Cx<'_>,
    session: &mut Session,
    id: &str,
    c: &Conversation,
    messages: &[&Message],
    refs: &impl Resolve,
) -> Result<Vec<LoadResult>, TargetError> {
    let Some(last) = messages.last() else {
        return Ok(Vec::new());
    };
    let admins = session.admins(cx).await?.clone();
    let created_at = last.created_at.as_second();
    let who = Writer::Admin {
        id: admins.fallback.clone(),
        header: None,
    };
    let Some(t) = session.threads.get_mut(id) else {
        return Ok(messages
            .iter()
            .map(|m| parent_missing(&m.key, &c.key))
            .collect());
    };
    let contact_id = t.contact_id.clone();
    let part = match t.claim(created_at, who.id(), &["note"], Some(&[])) {
        Some(p) => p,
        None => {
            let mut html = String::from("<p><strong>Conversation history</strong></p>");
            for m in messages {
                let w = writer(cx, &admins, m, &contact_id, c.contacts.first(), refs);
                let author = match (&w, m.author.name.as_deref()) {
                    (_, Some(n)) => n.to_owned(),
                    (Writer::Contact(_), None) => "Customer".into(),
                    (Writer::Admin { id, .. }, None) => admins
                        .names
                        .get(id)
                        .cloned()
                        .unwrap_or_else(|| "Teammate".into()),
                };
                let kind = match m.kind {
                    MessageKind::Reply => "reply",
                    MessageKind::Note => "note",
                    MessageKind::Event => "event",
                };
                html.push_str(&format!(
                    "<hr><p><em>{} · {} · {kind}</em></p>",
                    m.created_at.strftime("%Y-%m-%d %H:%M UTC"),
                    escape(&author)
                ));
                html.push_str(&admin_body(m, None));
            }
            let body = json!({
                "message_type": "note",
                "type": "admin",
                "admin_id": who.id(),
                "body": html,
                "created_at": created_at,
                "skip_notifications": true,
            });
            match write_part(cx, session, id, &body, created_at, &who, "note", Vec::new()).await? {
                Ok(p) => p,
                Err(e) => return Ok(messages.iter().map(|m| refused(&m.key, &e)).collect()),
            }
        }
    };
    Ok(messages
        .iter()
        .map(|m| LoadResult::loaded(m.key.clone(), part_ref(id, &part)))
        .collect())
}

/// Tags, assignee and state, last, writing only what differs (state parts take no
/// `created_at`: they carry the import time, a known loss in the fidelity).
async fn finish(
    cx: &Cx<'_>,
    session: &mut Session,
    id: &str,
    c: &Conversation,
    refs: &impl Resolve,
) -> Result<Option<deskmove_core::Problem>, TargetError> {
    let admins = session.admins(cx).await?.clone();
    let Some(t) = session.threads.get(id).cloned() else {
        return Ok(None);
    };
    let mut trouble = None;
    let mut note = |e: &deskmove_http::HttpError| {
        trouble = Some(problem(&c.key, e.kind(), "finish_refused", said(e)));
    };
    for tag in &c.tags {
        let Some(tag_id) = refs.target_ref(tag).map(|r| r.id) else {
            continue;
        };
        if t.tags.contains(&tag_id) {
            continue;
        }
        match cx
            .api
            .post(
                &format!("conversations/{id}/tags"),
                &json!({"id": tag_id, "admin_id": admins.fallback}),
            )
            .await
        {
            Ok(_) => {
                if let Some(t) = session.threads.get_mut(id) {
                    t.tags.insert(tag_id);
                }
            }
            Err(e) if is_record_error(&e) => note(&e),
            Err(e) => return Err(e.into()),
        }
    }
    let assignee = c
        .assignee
        .as_ref()
        .and_then(|a| refs.target_ref(a).map(|r| r.id));
    let closer = assignee.clone().unwrap_or_else(|| admins.fallback.clone());
    let mut parts: Vec<Value> = Vec::new();
    if let Some(a) = &assignee
        && *a != t.admin_assignee
    {
        parts.push(json!({"message_type": "assignment", "type": "admin", "admin_id": admins.fallback, "assignee_id": a}));
    }
    let now = jiff::Timestamp::now().as_second();
    let want = match c.state {
        ConversationState::Closed => "closed",
        ConversationState::Snoozed if c.snoozed_until.is_some_and(|u| u.as_second() > now + 60) => {
            "snoozed"
        }
        _ => "open",
    };
    if want != t.state {
        parts.push(match want {
            "closed" => json!({"message_type": "close", "type": "admin", "admin_id": closer}),
            "snoozed" => json!({"message_type": "snoozed", "admin_id": closer,
                "snoozed_until": c.snoozed_until.map(|u| u.as_second())}),
            _ => json!({"message_type": "open", "admin_id": closer}),
        });
    }
    for p in parts {
        match cx.api.post(&format!("conversations/{id}/parts"), &p).await {
            Ok(v) => {
                let fresh = Thread::from_json(&v);
                if let Some(t) = session.threads.get_mut(id) {
                    t.state = fresh.state;
                    t.admin_assignee = fresh.admin_assignee;
                    for part in fresh.parts {
                        if !t.parts.iter().any(|x| x.id == part.id) {
                            t.claimed.insert(part.id.clone());
                            t.parts.push(part);
                        }
                    }
                }
            }
            Err(e) if is_record_error(&e) => note(&e),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(trouble)
}

/// The Message pass: later messages of conversations already in Intercom, each appended to
/// the conversation the ledger names (or failed with the reason when it is not there).
pub(crate) async fn messages(
    cx: &Cx<'_>,
    session: &mut Session,
    records: &[Record],
    refs: &impl Resolve,
) -> Result<Vec<LoadResult>, TargetError> {
    let mut by_conversation: Vec<(SourceKey, Vec<&Message>)> = Vec::new();
    let mut index: HashMap<SourceKey, usize> = HashMap::new();
    for r in records {
        let Record::Message(m) = r else { continue };
        let at = *index.entry(m.conversation.clone()).or_insert_with(|| {
            by_conversation.push((m.conversation.clone(), Vec::new()));
            by_conversation.len() - 1
        });
        by_conversation[at].1.push(m);
    }
    let mut out = Vec::new();
    for (conversation, mut ms) in by_conversation {
        ms.sort_by(|a, b| (a.created_at, &a.key).cmp(&(b.created_at, &b.key)));
        let located = match refs.target_ref(&conversation) {
            Some(r) if known(cx, session, &r.id).await? => Some(r.id),
            _ => None,
        };
        let Some(id) = located else {
            out.extend(ms.iter().map(|m| parent_missing(&m.key, &conversation)));
            continue;
        };
        // What `append` needs of the conversation: its key and first contact.
        let contact = session
            .threads
            .get(&id)
            .map(|t| t.contact_id.clone())
            .unwrap_or_default();
        let c = Conversation {
            key: conversation.clone(),
            subject: None,
            contacts: ms
                .iter()
                .find(|m| m.author.kind == AuthorKind::Contact)
                .and_then(|m| m.author.key.clone())
                .filter(|k| refs.target_ref(k).is_some_and(|r| r.id == contact))
                .into_iter()
                .collect(),
            assignee: None,
            team: None,
            state: ConversationState::Open,
            snoozed_until: None,
            priority: None,
            tags: Vec::new(),
            attributes: Default::default(),
            source_message_count: None,
            created_at: ms[0].created_at,
            updated_at: None,
            extra: Default::default(),
        };
        match cx.options.mode {
            Mode::Messages => {
                for m in &ms {
                    out.push(append(cx, session, &id, &c, m, refs).await?);
                }
            }
            Mode::Transcript => out.extend(transcript(cx, session, &id, &c, &ms, refs).await?),
        }
    }
    Ok(out)
}
