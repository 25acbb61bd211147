//! Conversation writes (`../shared/research/intercom-api.md` §7):
//! - `POST /conversations`: a contact starts an in-app conversation, optionally back-dated with
//!   `created_at`; "HTML is not supported" in `body`, so markup is kept as literal text; the
//!   answer is a **message** (`user_message` with its `conversation_id`), not a conversation;
//! - `POST /conversations/{id}/reply` (`{id}` may be `last`): admin comment/note/quick reply or
//!   contact comment, each with its own `created_at`;
//! - `POST /conversations/{id}/parts`: close, snooze, open, assign — **none takes
//!   `created_at`**, so each is stamped with the time it is written;
//! - `POST /messages`: an admin-initiated (outbound) message, always a delivery.
//!
//! Every customer-visible delivery goes to the notification log (`written::notify`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use deskmove_synth::html::escape;
use serde_json::{Map, json};

use crate::body::missing;
use crate::error::ApiError;
use crate::respond::{ApiResult, ok};
use crate::routes::write_replies::{MAX_ATTACHMENTS, ReplyTo, parse_reply};
use crate::routes::write_support::{
    ConvTarget, conversation_target, current_contact, request, require_admin, resource_not_found,
    team_exists, user_not_found,
};
use crate::routes::{conversations, renderer};
use crate::state::AppState;
use crate::written::notify::{Notification, admin_reply_delivers, channel_of};
use crate::written::{Store, WAuthor, WConversation, WMessage, WPart, base};

/// A body given as text: Intercom does not take HTML here, so tags stay visible as text.
fn text_body(raw: &str) -> String {
    format!("<p>{}</p>", escape(raw))
}

/// `POST /conversations`.
pub(crate) async fn create_conversation(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let (v, b) = request(&headers, &bytes)?;
    let from = b.nested("from")?.ok_or_else(|| missing("from"))?;
    let kind = from.required_str("type")?;
    let id = from.required_str("id")?;
    if !matches!(kind.as_str(), "user" | "lead" | "contact") {
        return Err(ApiError::invalid("from.type must be user, lead or contact"));
    }
    let raw_body = b.required_str("body")?;
    let subject = b.str("subject")?;
    let created_at = b.int("created_at")?;
    if v.is_2_16() {
        b.str("brand_id")?;
    }
    let urls = b.array("attachment_urls", Some(MAX_ATTACHMENTS))?;
    let view = s.world.view();
    let now = s.clock.now_secs();
    let mut store = s.written.lock();
    // Contact ids are 24 characters (`from.id`: minLength/maxLength 24 in both specs).
    let contact = (id.len() == 24)
        .then(|| current_contact(&store, &view, &id))
        .flatten()
        .filter(|c| kind == "contact" || c.role == kind)
        .ok_or_else(user_not_found)?;
    let at = created_at.unwrap_or(now);
    let source_id = store.numeric_id(base::PART);
    let conversation_id = store.numeric_id(base::CONVERSATION);
    let attachments = urls
        .iter()
        .map(|u| {
            let url = u
                .as_str()
                .filter(|u| url::Url::parse(u).is_ok())
                .ok_or_else(|| ApiError::invalid("attachment_urls must be URLs"))?;
            Ok(crate::written::WAttachment {
                name: url.rsplit('/').next().unwrap_or("attachment").to_string(),
                url: url.to_string(),
                content_type: "application/octet-stream".into(),
                filesize: 0,
                blake3: None,
                upload_id: None,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let body = text_body(&raw_body);
    store.conversations.push(WConversation {
        id: conversation_id.clone(),
        contact_id: contact.id.clone(),
        channel: "conversation".into(),
        delivered_as: "customer_initiated".into(),
        title: subject.clone(),
        subject,
        created_at: at,
        updated_at: at,
        state: "open".into(),
        snoozed_until: None,
        admin_assignee_id: 0,
        team_assignee_id: 0,
        source: WPart {
            id: source_id.clone(),
            part_type: "comment".into(),
            body: Some(body.clone()),
            created_at: at,
            author: WAuthor {
                kind: contact.role.clone(),
                id: contact.id.clone(),
            },
            attachments,
            assigned_to: None,
            notified: false,
        },
        parts: Vec::new(),
        custom_attributes: Map::new(),
        read: false,
    });
    ok(json!({
        "type": "user_message",
        "id": source_id,
        "created_at": at,
        "body": body,
        "message_type": "inapp",
        "conversation_id": conversation_id,
    }))
}

/// The conversation `last` means: the latest one the replier took part in.
fn last_conversation(store: &Store, author: &WAuthor) -> Option<String> {
    store
        .conversations
        .iter()
        .filter(|c| {
            if author.kind == "admin" {
                c.parts.iter().any(|p| p.author == *author)
            } else {
                c.contact_id == author.id
            }
        })
        .max_by_key(|c| (c.updated_at, c.id.clone()))
        .map(|c| c.id.clone())
}

/// `POST /conversations/{id}/reply`: into a written conversation or a seeded one alike.
pub(crate) async fn reply(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let (v, b) = request(&headers, &bytes)?;
    let view = s.world.view();
    let now = s.clock.now_secs();
    let mut store = s.written.lock();
    let mut r = parse_reply(v, &b, ReplyTo::Conversation, &store, &view)?;
    let id = if id == "last" {
        last_conversation(&store, &r.author).ok_or_else(resource_not_found)?
    } else {
        id
    };
    let target = conversation_target(&store, &view, &id)?;
    if r.author.kind != "admin" && r.author.id != target.contact_id {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "This contact is not a participant of the conversation",
        ));
    }
    r.store_files(&mut store, &s.uploads);
    let part_id = store.numeric_id(base::PART);
    let delivers =
        r.author.kind == "admin" && admin_reply_delivers(&r.message_type, r.skip_notifications);
    let notification = delivers.then(|| Notification {
        at: now,
        kind: "conversation_reply",
        channel: channel_of(&target.channel),
        contact_id: target.contact_id.clone(),
        object_id: id.clone(),
        part_id: part_id.clone(),
        admin_id: r.author.id.clone(),
    });
    let at = r.created_at.unwrap_or(now);
    let part = WPart {
        id: part_id,
        part_type: r.message_type,
        body: r.body,
        created_at: at,
        author: r.author,
        attachments: r.attachments,
        assigned_to: None,
        notified: delivers,
    };
    push_part(&mut store, &target, &id, part, at);
    store.notifications.extend(notification);
    answer(&s, &store, &id)
}

/// Appends a part to a written conversation, or to a seeded one's overlay.
fn push_part(store: &mut Store, target: &ConvTarget, id: &str, part: WPart, at: i64) {
    if target.seeded {
        let o = store.overlay_mut(id);
        o.parts.push(part);
        o.updated_at = Some(o.updated_at.unwrap_or(at).max(at));
    } else if let Some(c) = store.conversation_mut(id) {
        c.parts.push(part);
        c.updated_at = c.updated_at.max(at);
    }
}

/// The conversation as `GET /conversations/{id}` would answer it now.
fn answer(s: &AppState, store: &Store, id: &str) -> ApiResult {
    let r = renderer(s, false);
    let v = conversations::retrieve_json(&r, store, id).ok_or_else(resource_not_found)?;
    ok(v)
}

/// `POST /conversations/{id}/parts`: close, snoozed, open or assignment.
pub(crate) async fn manage(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let (_, b) = request(&headers, &bytes)?;
    let message_type = b.required_str("message_type")?;
    let admin_id = b.required_str("admin_id")?;
    let view = s.world.view();
    require_admin(&view, &admin_id)?;
    let now = s.clock.now_secs();
    let body = b.str("body")?.filter(|x| !x.trim().is_empty());
    let mut assigned_to = None;
    let mut snoozed_until = None;
    match message_type.as_str() {
        "close" => {
            if b.required_str("type")? != "admin" {
                return Err(ApiError::invalid("type must be admin"));
            }
        }
        "snoozed" => {
            let until = b
                .int("snoozed_until")?
                .ok_or_else(|| missing("snoozed_until"))?;
            if until <= now {
                return Err(ApiError::invalid("snoozed_until must be in the future"));
            }
            snoozed_until = Some(until);
        }
        "open" => {}
        "assignment" => {
            let kind = b.required_str("type")?;
            let assignee = b.required_str("assignee_id")?;
            let known = assignee == "0"
                || match kind.as_str() {
                    "admin" => require_admin(&view, &assignee).is_ok(),
                    "team" => team_exists(&view, &assignee),
                    _ => return Err(ApiError::invalid("type must be admin or team")),
                };
            if !known {
                return Err(resource_not_found());
            }
            assigned_to = Some(WAuthor {
                kind: kind.clone(),
                id: assignee,
            });
        }
        other => {
            return Err(ApiError::invalid(format!(
                "message_type must be close, snoozed, open or assignment, got '{other}'"
            )));
        }
    }
    let mut store = s.written.lock();
    let target = conversation_target(&store, &view, &id)?;
    let part_id = store.numeric_id(base::PART);
    let assignee = assigned_to
        .as_ref()
        .map(|to| (to.kind == "admin", to.id.parse::<u64>().unwrap_or(0)));
    let state = match message_type.as_str() {
        "close" => Some("closed"),
        "snoozed" => Some("snoozed"),
        "open" => Some("open"),
        _ => None,
    };
    if target.seeded {
        let o = store.overlay_mut(&id);
        if let Some(st) = state {
            o.state = Some(st.into());
            o.snoozed_until = snoozed_until;
        }
        match assignee {
            Some((true, n)) => o.admin_assignee_id = Some(n),
            Some((false, n)) => o.team_assignee_id = Some(n),
            None => {}
        }
    } else if let Some(c) = store.conversation_mut(&id) {
        if let Some(st) = state {
            c.state = st.into();
            c.snoozed_until = snoozed_until;
        }
        match assignee {
            Some((true, n)) => c.admin_assignee_id = n,
            Some((false, n)) => c.team_assignee_id = n,
            None => {}
        }
    }
    // A state part's body is shown to the customer; there is no way to skip that (`notify`).
    let delivers = body.is_some();
    let notification = delivers.then(|| Notification {
        at: now,
        kind: "conversation_part",
        channel: channel_of(&target.channel),
        contact_id: target.contact_id.clone(),
        object_id: id.clone(),
        part_id: part_id.clone(),
        admin_id: admin_id.clone(),
    });
    // No `created_at` on state changes: stamped now, whatever the client sent (§7).
    let part = WPart {
        id: part_id,
        part_type: message_type,
        body,
        created_at: now,
        author: WAuthor {
            kind: "admin".into(),
            id: admin_id,
        },
        attachments: Vec::new(),
        assigned_to,
        notified: delivers,
    };
    push_part(&mut store, &target, &id, part, now);
    store.notifications.extend(notification);
    answer(&s, &store, &id)
}

/// `POST /messages`: an outbound message from an admin to one contact. Email needs a subject
/// (422, spec example) and every message needs a body (400 "Body is required").
pub(crate) async fn create_message(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let (v, b) = request(&headers, &bytes)?;
    let message_type = b.required_str("message_type")?;
    let allowed = matches!(message_type.as_str(), "in_app" | "email")
        || (v.is_2_16() && message_type == "whatsapp");
    if !allowed {
        return Err(ApiError::invalid("message_type is not supported"));
    }
    let body = b
        .str("body")?
        .filter(|x| !x.trim().is_empty())
        .ok_or_else(|| ApiError::invalid("Body is required"))?;
    let subject = b.str("subject")?;
    if message_type == "email" && subject.as_deref().is_none_or(|x| x.trim().is_empty()) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "parameter_not_found",
            "No subject supplied for email message",
        ));
    }
    let from = b.nested("from")?.ok_or_else(|| missing("from"))?;
    // `from.id` is an integer in both specs.
    let admin_id = from
        .int("id")?
        .ok_or_else(|| missing("from.id"))?
        .to_string();
    let view = s.world.view();
    require_admin(&view, &admin_id)?;
    let to = b.nested("to")?.ok_or_else(|| missing("to"))?;
    let to_id = to.required_str("id")?;
    let to_kind = to.required_str("type")?;
    let created_at = b.int("created_at")?;
    let without_reply = b
        .bool("create_conversation_without_contact_reply")?
        .unwrap_or(false);
    let now = s.clock.now_secs();
    let mut store = s.written.lock();
    let contact = current_contact(&store, &view, &to_id)
        .filter(|c| c.role == to_kind)
        .ok_or_else(user_not_found)?;
    let at = created_at.unwrap_or(now);
    let message_id = store.numeric_id(base::MESSAGE);
    let channel = if message_type == "email" {
        "email"
    } else {
        "conversation"
    };
    let conversation_id = without_reply.then(|| store.numeric_id(base::CONVERSATION));
    if let Some(cid) = &conversation_id {
        store.conversations.push(WConversation {
            id: cid.clone(),
            contact_id: contact.id.clone(),
            channel: channel.into(),
            delivered_as: "admin_initiated".into(),
            title: subject.clone(),
            subject: subject.clone(),
            created_at: at,
            updated_at: at,
            state: "open".into(),
            snoozed_until: None,
            admin_assignee_id: 0,
            team_assignee_id: 0,
            source: WPart {
                id: message_id.clone(),
                part_type: "comment".into(),
                body: Some(body.clone()),
                created_at: at,
                author: WAuthor {
                    kind: "admin".into(),
                    id: admin_id.clone(),
                },
                attachments: Vec::new(),
                assigned_to: None,
                notified: true,
            },
            parts: Vec::new(),
            custom_attributes: Map::new(),
            read: false,
        });
    }
    // An outbound message is a delivery by definition: nothing in the request can hold it back.
    store.notifications.push(Notification {
        at: now,
        kind: "outbound_message",
        channel: if message_type == "in_app" {
            "in_app".into()
        } else {
            message_type.clone()
        },
        contact_id: contact.id.clone(),
        object_id: conversation_id
            .clone()
            .unwrap_or_else(|| message_id.clone()),
        part_id: message_id.clone(),
        admin_id: admin_id.clone(),
    });
    store.messages.push(WMessage {
        id: message_id.clone(),
        message_type: message_type.clone(),
        subject: subject.clone(),
        body: body.clone(),
        from_admin: admin_id,
        to_contact: contact.id,
        created_at: at,
        conversation_id: conversation_id.clone(),
    });
    let mut out = json!({
        "type": "admin_message",
        "id": message_id,
        "created_at": at,
        "subject": subject.unwrap_or_default(),
        "body": body,
        "message_type": if message_type == "in_app" { "inapp".to_string() } else { message_type },
    });
    if let Some(cid) = conversation_id {
        out["conversation_id"] = json!(cid);
    }
    ok(out)
}
