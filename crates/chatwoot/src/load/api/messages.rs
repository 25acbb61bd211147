//! Messages, in time order per conversation: contact replies incoming, agent and bot replies
//! outgoing, notes private, events activity; `source_id` = the source part, the only id
//! Chatwoot stores (`echo_id` is never stored; research/chatwoot.md §2.4).
//!
//! The original time and author go into `content_attributes`, and `external_created_at` is not
//! sent: with `content_attributes` in the same create it is lost (`message_builder.rb`
//! assigns the hash last). Outgoing content is rendered as Liquid by Chatwoot
//! (`liquidable.rb`), so Liquid syntax outside code spans is escaped to show verbatim.

use deskmove_core::Classify;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use deskmove_core::connector::{LoadResult, Resolve};
use deskmove_core::model::{AuthorKind, Message, MessageKind, Record};
use deskmove_core::{ErrorKind, SourceKey};
use futures::StreamExt;
use serde_json::{Map, Value, json};

use super::client::{id_of, is_record_error, said};
use super::conversations::{Standing, finish, finish_from, quiet, standing};
use super::session::{Finish, Known, Session};
use super::{ApiError, Cx, current, parent_missing, problem, ref_id};
use crate::map;

/// `content` with Liquid's `{{` and `{%` written so Liquid outputs them as they are, except in
/// backtick code spans (which Chatwoot wraps in `{% raw %}` itself).
pub fn escape_liquid(content: &str) -> String {
    let ticks = content.matches('`').count();
    // An unpaired last backtick opens no span.
    let mut paired = ticks - ticks % 2;
    let mut in_code = false;
    let mut out = String::with_capacity(content.len() + 16);
    let mut rest = content;
    while let Some(c) = rest.chars().next() {
        if c == '`' && paired > 0 {
            in_code = !in_code;
            paired -= 1;
            out.push(c);
            rest = &rest[1..];
            continue;
        }
        if !in_code && (rest.starts_with("{{") || rest.starts_with("{%")) {
            out.push_str(if rest.starts_with("{{") {
                "{{ \"{{\" }}"
            } else {
                "{{ \"{%\" }}"
            });
            rest = &rest[2..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Room left in the flood guard's minute for the activity messages that holding, assigning
/// and finishing a conversation write.
const ACTIVITY_ROOM: usize = 6;

/// The flood guard's room per conversation and minute, `None` when the installation has none.
pub(crate) fn guard(cx: &Cx<'_>) -> Option<usize> {
    match cx.options.messages_per_conversation_minute {
        0 => None,
        n => Some(n.saturating_sub(ACTIVITY_ROOM).max(1)),
    }
}

/// A message held back by the flood guard: failed for now, written by the next run (later
/// messages of its conversation wait with it, so the order is kept).
pub(crate) fn flooded(key: &SourceKey) -> LoadResult {
    LoadResult::failed(problem(
        key,
        ErrorKind::RateLimited,
        "conversation_flood_guard",
        "Chatwoot takes at most CONVERSATION_MESSAGE_PER_MINUTE_LIMIT (default 200) messages per conversation per minute; this message and the conversation's later ones are written by the next run (run import again in a minute).",
    ))
}

/// `message_type` as the enum name (Chatwoot takes no other form reliably).
fn message_type(m: &Message) -> &'static str {
    match (m.kind, m.author.kind) {
        (MessageKind::Event, _) => "activity",
        (MessageKind::Reply, AuthorKind::Contact) => "incoming",
        _ => "outgoing",
    }
}

/// The create body of `m`.
pub(crate) fn body(m: &Message) -> Value {
    let (row, _) = map::message(m, map::Sender::None);
    let kind = message_type(m);
    let mut attrs = match row.content_attributes {
        Value::Object(o) => o,
        _ => Map::new(),
    };
    attrs.insert(
        "original_created_at".into(),
        json!(m.created_at.to_string()),
    );
    if m.author.kind != AuthorKind::Contact || m.kind != MessageKind::Reply {
        let mut a = Map::new();
        a.insert(
            "kind".into(),
            json!(format!("{:?}", m.author.kind).to_lowercase()),
        );
        if let Some(k) = &m.author.key {
            a.insert("source".into(), json!(k.to_string()));
        }
        if let Some(n) = &m.author.name {
            a.insert("name".into(), json!(n));
        }
        if let Some(e) = &m.author.email {
            a.insert("email".into(), json!(e));
        }
        attrs.insert("original_author".into(), Value::Object(a));
    }
    let content = row.content.unwrap_or_default();
    let content = if kind == "outgoing" {
        escape_liquid(&content)
    } else {
        content
    };
    json!({
        "content": content,
        "message_type": kind,
        "private": m.kind == MessageKind::Note,
        "source_id": row.source_id,
        "content_attributes": attrs,
    })
}

/// Every message of a conversation (`after` pages of 100): by `source_id`, their types, and
/// the attachments deskmove re-uploaded (`content_attributes.attachment_sources`).
pub(crate) async fn listed(cx: &Cx<'_>, display: u64) -> Result<Known, ApiError> {
    let mut out = Known::default();
    let page = super::client::conversation_messages(cx.api, display)
        .await?
        .unwrap_or_default();
    for m in &page {
        let Some(id) = id_of(m) else { continue };
        if let Some(s) = m["source_id"].as_str() {
            out.source_ids.insert(s.to_owned(), id);
        }
        let kind = match m["message_type"].as_u64() {
            Some(0) => "incoming",
            Some(2) => "activity",
            Some(3) => "template",
            _ => "outgoing",
        };
        out.kinds.insert(
            id,
            (kind.to_owned(), m["private"].as_bool().unwrap_or(false)),
        );
        if let Some(files) = m
            .pointer("/content_attributes/attachment_sources")
            .and_then(Value::as_str)
        {
            for f in files.split(',').filter(|f| !f.is_empty()) {
                out.files.insert(f.to_owned(), id);
            }
        }
    }
    Ok(out)
}

/// Whether a conversation holds an incoming message (the only kind that can be unread).
pub(crate) fn has_incoming(known: &Known) -> bool {
    known.kinds.values().any(|(kind, _)| kind == "incoming")
}

/// Whether one more message fits into a conversation's last minute under `limit`, counting it
/// when it does (`None`: the installation has no guard).
pub(crate) fn take_room(window: &mut VecDeque<Instant>, limit: Option<usize>) -> bool {
    let Some(limit) = limit else { return true };
    let now = Instant::now();
    while window
        .front()
        .is_some_and(|t| now.duration_since(*t) >= GUARD_WINDOW)
    {
        window.pop_front();
    }
    if window.len() >= limit {
        return false;
    }
    window.push_back(now);
    true
}

/// Chatwoot's flood guard counts a conversation's messages of the last minute
/// (`message.rb` `prevent_message_flooding`; research/chatwoot.md §0.4).
const GUARD_WINDOW: Duration = Duration::from_secs(60);

/// One conversation's messages of a batch and what is known of it, taken out of the session so
/// conversations can be written side by side.
struct Lane {
    display: u64,
    conversation: SourceKey,
    group: Vec<Message>,
    standing: Option<Standing>,
    finish: Option<Finish>,
    known: Option<Known>,
    window: VecDeque<Instant>,
    blocked: bool,
    changed: bool,
}

pub(crate) async fn load(
    cx: &Cx<'_>,
    session: &mut Session,
    records: &[Record],
    refs: &impl Resolve,
) -> Result<Vec<LoadResult>, ApiError> {
    let mut groups: Vec<(SourceKey, Vec<&Message>)> = Vec::new();
    for r in records {
        let Record::Message(m) = r else { continue };
        match groups.iter_mut().find(|(k, _)| *k == m.conversation) {
            Some((_, g)) => g.push(m),
            None => groups.push((m.conversation.clone(), vec![m])),
        }
    }
    let mut out = Vec::new();
    let mut lanes = Vec::new();
    for (conversation, mut group) in groups {
        group.sort_by(|a, b| (a.created_at, &a.key).cmp(&(b.created_at, &b.key)));
        let Some(display) = ref_id(refs, &conversation) else {
            out.extend(group.iter().map(|m| parent_missing(&m.key, &conversation)));
            continue;
        };
        lanes.push(Lane {
            display,
            conversation,
            group: group.into_iter().cloned().collect(),
            standing: session.standing.get(&display).cloned(),
            finish: session.finish.get(&display).cloned(),
            known: session.known.remove(&display),
            window: session.window.remove(&display).unwrap_or_default(),
            blocked: session.blocked.contains(&display),
            changed: false,
        });
    }
    // Conversations are independent: several at once keep the budget busy while each waits
    // for its answers (the polite client paces them all together).
    let work: Vec<_> = lanes.into_iter().map(|l| lane(cx, refs, l)).collect();
    let done: Vec<Result<(Vec<LoadResult>, Lane), ApiError>> = futures::stream::iter(work)
        .buffer_unordered(cx.options.parallel_conversations.max(1))
        .collect()
        .await;
    let mut failure = None;
    for d in done {
        match d {
            Ok((results, l)) => {
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
            }
            Err(e) => failure = Some(e),
        }
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

async fn lane(
    cx: &Cx<'_>,
    refs: &impl Resolve,
    mut l: Lane,
) -> Result<(Vec<LoadResult>, Lane), ApiError> {
    let display = l.display;
    let mut out = Vec::new();
    // A conversation this process did not write carries its finish in Chatwoot only.
    if l.standing.is_none() || l.finish.is_none() {
        match cx.api.get(&format!("conversations/{display}")).await {
            Ok(v) => {
                l.standing = Some(standing(&v));
                l.finish = l.finish.take().or_else(|| finish_from(&v));
                l.changed = true;
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {
                out.extend(
                    l.group
                        .iter()
                        .map(|m| parent_missing(&m.key, &l.conversation)),
                );
                return Ok((out, l));
            }
            Err(e) => return Err(e.into()),
        }
    }
    if l.known.is_none() {
        l.known = Some(listed(cx, display).await?);
    }
    let mut now = l.standing.clone().unwrap_or_else(|| standing(&Value::Null));
    let before = now.clone();
    let mut wrote = false;
    let limit = guard(cx);
    for m in std::mem::take(&mut l.group) {
        let sid = map::source_id(&m.key);
        let known = l.known.get_or_insert_default();
        if let Some(id) = known.source_ids.get(&sid).copied() {
            let tid = format!("{display}/{id}");
            out.push(match refs.target_ref(&m.key) {
                Some(r) if r.id == tid => current(&m.key, tid).with_problem(problem(
                    &m.key,
                    ErrorKind::Validation,
                    "message_not_editable",
                    "The message changed in the source; Chatwoot's API cannot edit a message's content, so the first version stays.",
                )),
                _ => LoadResult::loaded(m.key.clone(), tid),
            });
            continue;
        }
        if l.blocked || !take_room(&mut l.window, limit) {
            l.blocked = true;
            out.push(flooded(&m.key));
            continue;
        }
        let body = body(&m);
        let reopens = body["message_type"] == "incoming"
            && matches!(now.status.as_str(), "resolved" | "snoozed");
        if reopens || now.assignee.is_some() {
            quiet(cx, display, &mut now).await?;
        }
        match cx
            .api
            .post(&format!("conversations/{display}/messages"), &body)
            .await
        {
            Ok(v) => {
                let id = id_of(&v)
                    .ok_or_else(|| ApiError::Protocol("a created message without an id".into()))?;
                known.source_ids.insert(sid, id);
                known.kinds.insert(
                    id,
                    (
                        body["message_type"]
                            .as_str()
                            .unwrap_or("outgoing")
                            .to_owned(),
                        body["private"].as_bool().unwrap_or(false),
                    ),
                );
                out.push(LoadResult::loaded(m.key.clone(), format!("{display}/{id}")));
                wrote = true;
            }
            Err(e)
                if e.vendor_text()
                    .is_some_and(|t| t.contains("Too many messages")) =>
            {
                l.blocked = true;
                out.push(flooded(&m.key));
            }
            Err(e) if is_record_error(&e) => out.push(LoadResult::failed(problem(
                &m.key,
                e.kind(),
                "chatwoot_refused",
                said(&e),
            ))),
            Err(e) => return Err(e.into()),
        }
    }
    if wrote || l.changed || now != before {
        if let Some(f) = &l.finish {
            let unread = l.known.as_ref().is_none_or(has_incoming);
            finish(cx, display, f, &mut now, unread).await?;
        } else {
            cx.api
                .post(
                    &format!("conversations/{display}/update_last_seen"),
                    &json!({}),
                )
                .await?;
        }
    }
    l.standing = Some(now);
    Ok((out, l))
}

#[cfg(test)]
mod tests {
    use super::escape_liquid;

    #[test]
    fn liquid_outside_code_spans_is_escaped() {
        assert_eq!(
            escape_liquid("Hi {{first_name}}"),
            "Hi {{ \"{{\" }}first_name}}"
        );
        assert_eq!(escape_liquid("{% if x %}"), "{{ \"{%\" }} if x %}");
        assert_eq!(
            escape_liquid("`{{kept}}` {{x}}"),
            "`{{kept}}` {{ \"{{\" }}x}}"
        );
        assert_eq!(escape_liquid("a ` b {{x}}"), "a ` b {{ \"{{\" }}x}}");
        assert_eq!(escape_liquid("plain é"), "plain é");
    }
}
