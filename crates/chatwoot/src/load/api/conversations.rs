//! Conversations, one dedicated API-channel inbox per source channel.
//!
//! Order matters in Chatwoot: an incoming message reopens a resolved or snoozed conversation
//! and an assignment notifies the assignee unless the conversation is pending
//! (`message.rb` `reopen_conversation`, `notification_listener.rb`; research/chatwoot.md §5).
//! So a conversation is created `pending` and unassigned, its messages are written, and only
//! then is it assigned and given its state ([`finish`]). The final state travels in
//! `additional_attributes.deskmove_finish`, so a later process can finish it too.

use deskmove_core::Classify;
use deskmove_core::ErrorKind;
use deskmove_core::connector::{LoadResult, Resolve};
use deskmove_core::model::{Conversation, ConversationState, Record};
use serde_json::{Value, json};

use super::client::{id_of, is_record_error, list};
use super::contacts::{label_titles, list_labels};
use super::directory::ensure_label;
use super::session::{Finish, Session};
use super::{ApiError, Cx, parent_missing, ref_id, refused};
use crate::map;
use futures::StreamExt;

/// The source channel of a conversation (`source.type` / `channel` as the source staged it).
pub(crate) fn channel(c: &Conversation) -> String {
    c.extra
        .get("source")
        .and_then(|s| s.get("type"))
        .or_else(|| c.extra.get("channel"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or("conversation")
        .to_owned()
}

/// The API inbox named `name`, created (auto-assignment, greeting and CSAT off) when absent.
async fn inbox(cx: &Cx<'_>, session: &mut Session, name: &str) -> Result<u64, ApiError> {
    if session.inboxes.is_none() {
        let rows = list(&cx.api.get("inboxes").await?);
        session.inboxes = Some(
            rows.iter()
                .filter(|i| i["channel_type"].as_str() == Some("Channel::Api"))
                .filter_map(|i| Some((i["name"].as_str()?.to_owned(), id_of(i)?)))
                .collect(),
        );
    }
    let inboxes = session.inboxes.get_or_insert_default();
    if let Some(id) = inboxes.get(name) {
        return Ok(*id);
    }
    let body = json!({
        "name": name,
        "channel": {"type": "api", "webhook_url": ""},
        "enable_auto_assignment": false,
        "greeting_enabled": false,
        "csat_survey_enabled": false,
        "enable_email_collect": false,
        "lock_to_single_conversation": false,
        "allow_messages_after_resolved": true,
    });
    let v = cx.api.post("inboxes", &body).await?;
    let id = id_of(&v).ok_or_else(|| ApiError::Protocol("a created inbox without an id".into()))?;
    inboxes.insert(name.to_owned(), id);
    Ok(id)
}

fn priority_name(p: i32) -> &'static str {
    match p {
        0 => "low",
        1 => "medium",
        2 => "high",
        _ => "urgent",
    }
}

/// How `c` is finished once its messages are in.
pub(crate) fn finishing(cx: &Cx<'_>, c: &Conversation, refs: &impl Resolve) -> Finish {
    let status = cx.options.mapping.status(c.state);
    Finish {
        snoozed_until: (status == "snoozed")
            .then(|| c.snoozed_until.map(|t| t.as_second()))
            .flatten(),
        status,
        assignee: c.assignee.as_ref().and_then(|a| ref_id(refs, a)),
    }
}

fn finish_json(f: &Finish) -> Value {
    json!({"status": f.status, "snoozed_until": f.snoozed_until, "assignee_id": f.assignee})
}

/// The finish a conversation's `additional_attributes` carry.
pub(crate) fn finish_from(conversation: &Value) -> Option<Finish> {
    let f = conversation.pointer("/additional_attributes/deskmove_finish")?;
    Some(Finish {
        status: f["status"].as_str()?.to_owned(),
        snoozed_until: f["snoozed_until"].as_i64(),
        assignee: f["assignee_id"].as_u64(),
    })
}

/// Where a conversation stands: status, assignee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Standing {
    pub status: String,
    pub assignee: Option<u64>,
    pub snoozed_until: Option<i64>,
}

pub(crate) fn standing(conversation: &Value) -> Standing {
    Standing {
        status: conversation["status"].as_str().unwrap_or("open").to_owned(),
        assignee: conversation
            .pointer("/meta/assignee/id")
            .and_then(Value::as_u64),
        snoozed_until: conversation["snoozed_until"]
            .as_str()
            .and_then(|s| s.parse::<jiff::Timestamp>().ok())
            .map(|t| t.as_second()),
    }
}

/// Sets a conversation to pending (before incoming messages or an assignment), unless it is.
pub(crate) async fn hold(cx: &Cx<'_>, display: u64, now: &mut Standing) -> Result<(), ApiError> {
    if now.status != "pending" {
        cx.api
            .post(
                &format!("conversations/{display}/toggle_status"),
                &json!({"status": "pending"}),
            )
            .await?;
        now.status = "pending".into();
        now.snoozed_until = None;
    }
    Ok(())
}

/// Makes a conversation safe to write messages into: pending (no reopen) and unassigned (a
/// new message notifies the assignee, `NewMessageNotificationService`); [`finish`] assigns it
/// again afterwards, while still pending, which notifies nobody.
pub(crate) async fn quiet(cx: &Cx<'_>, display: u64, now: &mut Standing) -> Result<(), ApiError> {
    hold(cx, display, now).await?;
    if now.assignee.is_some() {
        cx.api
            .post(
                &format!("conversations/{display}/assignments"),
                &json!({"assignee_id": null}),
            )
            .await?;
        now.assignee = None;
    }
    Ok(())
}

/// Assigns (while pending, so nobody is notified), gives the final state (`snoozed_until` as
/// epoch seconds, the only form `toggle_status` parses: research/chatwoot.md §2.3) and, when it
/// may hold `unread` incoming messages, marks it seen, so imported history does not show as
/// unread (only incoming messages count as unread: `Conversation#unread_incoming_messages`).
pub(crate) async fn finish(
    cx: &Cx<'_>,
    display: u64,
    f: &Finish,
    now: &mut Standing,
    unread: bool,
) -> Result<(), ApiError> {
    if f.assignee != now.assignee {
        hold(cx, display, now).await?;
        cx.api
            .post(
                &format!("conversations/{display}/assignments"),
                &json!({"assignee_id": f.assignee}),
            )
            .await?;
        now.assignee = f.assignee;
    }
    if f.status != now.status || (f.status == "snoozed" && f.snoozed_until != now.snoozed_until) {
        let mut body = json!({"status": f.status});
        if let Some(s) = f.snoozed_until {
            body["snoozed_until"] = json!(s.to_string());
        }
        cx.api
            .post(&format!("conversations/{display}/toggle_status"), &body)
            .await?;
        now.status = f.status.clone();
        now.snoozed_until = f.snoozed_until;
    }
    if unread {
        cx.api
            .post(
                &format!("conversations/{display}/update_last_seen"),
                &json!({}),
            )
            .await?;
    }
    Ok(())
}

/// A conversation deskmove wrote for `marker` among the contact's conversations.
async fn find_written(cx: &Cx<'_>, contact: u64, marker: &str) -> Result<Option<Value>, ApiError> {
    let rows = list(
        &cx.api
            .get(&format!("contacts/{contact}/conversations"))
            .await?,
    );
    Ok(rows.into_iter().find(|c| {
        c.pointer("/additional_attributes/deskmove_source")
            .and_then(Value::as_str)
            == Some(marker)
    }))
}

/// What a conversation lane learnt, merged into the session afterwards (also when the lane
/// failed part-way, so a retry of the batch finds what it created).
#[derive(Default)]
struct Learned {
    /// Marker → display id of the conversations it created.
    written: Vec<(String, u64)>,
    /// How each conversation it wrote is to be finished.
    finish: Vec<(u64, Finish)>,
    /// Where each conversation it wrote stands.
    standing: Vec<(u64, Standing)>,
    /// Contacts a create may or may not have reached (the call failed without an answer).
    unsure: Vec<u64>,
}

pub(crate) async fn load(
    cx: &Cx<'_>,
    session: &mut Session,
    records: &[Record],
    refs: &impl Resolve,
) -> Result<Vec<LoadResult>, ApiError> {
    let conversations: Vec<&Conversation> = records
        .iter()
        .filter_map(|r| match r {
            Record::Conversation(c) => Some(c),
            _ => None,
        })
        .collect();
    // What every conversation shares, one call at a time: labels, provenance labels, inboxes.
    list_labels(cx, session).await?;
    let mut lanes: Vec<(Option<u64>, Vec<&Conversation>)> = Vec::new();
    for c in &conversations {
        if let Some(p) = cx.options.mapping.provenance(&c.key.system) {
            ensure_label(cx, session, &p).await?;
        }
        let name = cx.options.mapping.inbox_name(&c.key.system, &channel(c));
        inbox(cx, session, &name).await?;
        // One lane per contact: Chatwoot builds the contact's contact_inbox inside the create
        // (`first_or_create!`), so two creates for one contact at once could collide on it.
        let contact = c.contacts.first().and_then(|k| ref_id(refs, k));
        match lanes
            .iter_mut()
            .find(|(k, _)| contact.is_some() && *k == contact)
        {
            Some((_, l)) => l.push(c),
            None => lanes.push((contact, vec![c])),
        }
    }
    let view: &Session = session;
    // A named async fn per lane (not a closure): the futures must be Send for any lifetime.
    let work: Vec<_> = lanes
        .into_iter()
        .map(|(_, l)| lane(cx, view, l, refs))
        .collect();
    let done: Vec<(Vec<LoadResult>, Learned, Option<ApiError>)> = futures::stream::iter(work)
        .buffer_unordered(cx.options.concurrency.max(1))
        .collect()
        .await;
    let mut out = Vec::new();
    let mut failure = None;
    for (results, learned, error) in done {
        out.extend(results);
        for (marker, display) in learned.written {
            session.written.insert(marker, display);
            session.known.entry(display).or_default();
        }
        session.finish.extend(learned.finish);
        session.standing.extend(learned.standing);
        for contact in learned.unsure {
            session.fresh_contacts.remove(&contact);
        }
        failure = failure.or(error);
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// One contact's conversations in turn: their results, what was learnt, and the error that
/// stopped it.
async fn lane(
    cx: &Cx<'_>,
    session: &Session,
    lane: Vec<&Conversation>,
    refs: &impl Resolve,
) -> (Vec<LoadResult>, Learned, Option<ApiError>) {
    let mut out = Vec::new();
    let mut learned = Learned::default();
    for c in lane {
        match one(cx, session, c, refs, &mut learned).await {
            Ok(r) => out.push(r),
            Err(e) => return (out, learned, Some(e)),
        }
    }
    (out, learned, None)
}

/// Writes one conversation (not its messages); what it learns goes to `learned`.
async fn one(
    cx: &Cx<'_>,
    session: &Session,
    c: &Conversation,
    refs: &impl Resolve,
    learned: &mut Learned,
) -> Result<LoadResult, ApiError> {
    let Some(contact_key) = c.contacts.first() else {
        return Ok(LoadResult::failed(super::problem(
            &c.key,
            ErrorKind::Validation,
            "no_contact",
            "The conversation names no contact; Chatwoot needs one.",
        )));
    };
    let Some(contact) = ref_id(refs, contact_key) else {
        return Ok(parent_missing(&c.key, contact_key));
    };
    let row = map::conversation(
        c,
        map::ConversationRefs {
            assignee: None,
            team: None,
        },
    );
    let marker = map::marker(&c.key);
    let f = finishing(cx, c, refs);
    let mut additional = row.additional_attributes.clone();
    if let Value::Object(o) = &mut additional {
        o.insert("deskmove_finish".into(), finish_json(&f));
    }
    let team = c.team.as_ref().and_then(|t| ref_id(refs, t));
    let mut titles = label_titles(session, &c.tags, refs);
    if let Some(p) = cx.options.mapping.provenance(&c.key.system) {
        titles.push(p);
    }

    // Already there? By the ledger's id, else by what this process created (a batch tried
    // again), else among the contact's conversations (a crash between the create and its
    // ledger commit) — unless this process created the contact, which then has no others.
    let mut existing: Option<(Value, bool)> = None;
    let had_ref = ref_id(refs, &c.key);
    if let Some(display) = had_ref.or_else(|| session.written.get(&marker).copied()) {
        match cx.api.get(&format!("conversations/{display}")).await {
            Ok(v)
                if v.pointer("/additional_attributes/deskmove_source")
                    .and_then(Value::as_str)
                    == Some(&marker) =>
            {
                existing = Some((v, had_ref.is_some()));
            }
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
    }
    if existing.is_none() && !session.fresh_contacts.contains(&contact) {
        existing = find_written(cx, contact, &marker)
            .await?
            .map(|v| (v, false));
    }

    if let Some((v, had_ref)) = existing {
        let display =
            id_of(&v).ok_or_else(|| ApiError::Protocol("a conversation without an id".into()))?;
        if v["custom_attributes"] != row.custom_attributes {
            cx.api
                .post(
                    &format!("conversations/{display}/custom_attributes"),
                    &json!({"custom_attributes": row.custom_attributes}),
                )
                .await?;
        }
        let mut have: Vec<String> = v["labels"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|l| l.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        have.sort();
        let mut want = titles.clone();
        want.sort();
        want.dedup();
        if have != want {
            cx.api
                .post(
                    &format!("conversations/{display}/labels"),
                    &json!({"labels": want}),
                )
                .await?;
        }
        let mut now = standing(&v);
        if v.pointer("/meta/team/id").and_then(Value::as_u64) != team {
            hold(cx, display, &mut now).await?;
            cx.api
                .post(
                    &format!("conversations/{display}/assignments"),
                    &json!({"team_id": team}),
                )
                .await?;
        }
        // The finish a later message phase reads lives in additional_attributes, which the
        // API cannot update: this process remembers the new one.
        learned.finish.push((display, f.clone()));
        let unread = v["unread_count"].as_u64() != Some(0);
        finish(cx, display, &f, &mut now, unread).await?;
        learned.standing.push((display, now));
        return Ok(if had_ref {
            LoadResult::updated(c.key.clone(), display.to_string())
        } else {
            LoadResult::loaded(c.key.clone(), display.to_string())
        });
    }

    let inbox_name = cx.options.mapping.inbox_name(&c.key.system, &channel(c));
    let inbox_id = session
        .inboxes
        .as_ref()
        .and_then(|i| i.get(&inbox_name).copied())
        .ok_or_else(|| ApiError::Protocol(format!("the inbox {inbox_name} was not prepared")))?;
    let mut body = json!({
        "inbox_id": inbox_id,
        "contact_id": contact,
        "source_id": map::marker(contact_key),
        // Pending unless it stays open and unassigned: open conversations are not reopened,
        // and only assignments in pending ones notify nobody.
        "status": if f.status == "open" && f.assignee.is_none() { "open" } else { "pending" },
        "additional_attributes": additional,
        "custom_attributes": row.custom_attributes,
    });
    if let Some(t) = team {
        body["team_id"] = json!(t);
    }
    let v = match cx.api.post("conversations", &body).await {
        Ok(v) => v,
        Err(e) if is_record_error(&e) => return Ok(refused(&c.key, &e)),
        Err(e) => {
            // No answer: the conversation may exist now, so the next try looks for it.
            learned.unsure.push(contact);
            return Err(e.into());
        }
    };
    let display = id_of(&v)
        .ok_or_else(|| ApiError::Protocol("a created conversation without an id".into()))?;
    learned.written.push((marker.clone(), display));
    let mut now = standing(&v);
    if !titles.is_empty() {
        cx.api
            .post(
                &format!("conversations/{display}/labels"),
                &json!({"labels": titles}),
            )
            .await?;
    }
    if let Some(p) = row.priority {
        cx.api
            .post(
                &format!("conversations/{display}/toggle_priority"),
                &json!({"priority": priority_name(p)}),
            )
            .await?;
    }
    learned.finish.push((display, f.clone()));
    if c.source_message_count == Some(0)
        || c.state == ConversationState::Pending && f.assignee.is_none()
    {
        // Nothing written in it yet: nothing unread.
        finish(cx, display, &f, &mut now, false).await?;
    }
    learned.standing.push((display, now));
    Ok(LoadResult::loaded(c.key.clone(), display.to_string()))
}
