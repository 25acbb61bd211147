//! Messages of a conversation: JSON or multipart create, cursor listing, soft delete
//! (`../shared/research/chatwoot.md §2.4`, `app/finders/message_finder.rb`).

use std::sync::Arc;

use axum::Json;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{HeaderMap, header};
use serde_json::{Map, Value, json};

use crate::auth::Role;
use crate::effects::{Event, NewMessage, Upload};
use crate::error::{ApiError, ApiResult};
use crate::params::{self, Params};
use crate::render;
use crate::state::{AppState, MessageStatus, MessageType};

/// The builder's params from a parsed body.
pub fn new_message_from(p: &Params, attachments: Vec<Upload>) -> NewMessage {
    NewMessage {
        content: p.str("content"),
        message_type: p.get("message_type").cloned(),
        private: p.bool("private").unwrap_or(false),
        content_type: p.str("content_type").filter(|x| !x.is_empty()),
        content_attributes: p.object("content_attributes"),
        source_id: p.str("source_id"),
        external_created_at: p.get("external_created_at").cloned(),
        sender_type: p.str("sender_type"),
        sender_id: p.u64("sender_id"),
        attachments,
    }
}

/// Reads a multipart body: text fields become params, files become uploads. The builder reads
/// only `params[:attachments]` (message_builder.rb `process_attachments`), so a file under
/// `attachments[]` is attached, one under any other name is dropped without a word, and a single
/// file under a bare `attachments` makes `@attachments.each` raise (rescued to 422).
async fn read_multipart(mut mp: Multipart) -> ApiResult<(Params, Vec<Upload>)> {
    let mut fields = Map::new();
    let mut uploads = Vec::new();
    let bad = |e: axum::extract::multipart::MultipartError| ApiError::Unprocessable(e.body_text());
    while let Some(field) = mp.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_owned();
        if let Some(file_name) = field.file_name().map(str::to_owned) {
            let content_type = field
                .content_type()
                .unwrap_or("application/octet-stream")
                .to_owned();
            let bytes = field.bytes().await.map_err(bad)?;
            match name.as_str() {
                "attachments[]" => uploads.push(Upload {
                    file_name,
                    content_type,
                    byte_size: bytes.len() as u64,
                    checksum: crate::rules::checksum(&bytes),
                    bytes,
                }),
                "attachments" => {
                    return Err(ApiError::Unprocessable(
                        "undefined method 'each' for an instance of ActionDispatch::Http::UploadedFile"
                            .into(),
                    ));
                }
                _ => {}
            }
        } else {
            let text = field.text().await.map_err(bad)?;
            // `content_attributes[key]` style nesting is flattened into one level.
            if let Some((outer, inner)) = name
                .split_once('[')
                .map(|(o, i)| (o, i.trim_end_matches(']')))
            {
                if inner.is_empty() {
                    continue;
                }
                let entry = fields.entry(outer.to_owned()).or_insert_with(|| json!({}));
                if let Value::Object(m) = entry {
                    m.insert(inner.to_owned(), Value::String(text));
                }
            } else {
                fields.insert(name, Value::String(text));
            }
        }
    }
    Ok((Params(fields), uploads))
}

pub async fn create(
    State(app): State<Arc<AppState>>,
    Path((account, display)): Path<(u64, u64)>,
    headers: HeaderMap,
    request: Request,
) -> ApiResult<Json<Value>> {
    let multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let (p, uploads) = if multipart {
        let mp = Multipart::from_request(request, &())
            .await
            .map_err(|e| ApiError::Unprocessable(e.body_text()))?;
        read_multipart(mp).await?
    } else {
        let body = axum::body::to_bytes(request.into_body(), 64 * 1024 * 1024)
            .await
            .map_err(|e| ApiError::Unprocessable(e.to_string()))?;
        (Params::top_level(&body)?, Vec::new())
    };
    let (mut s, caller) = app.write_as(&headers, account, Role::Any)?;
    let pk = s.conversation_pk(account, display)?;
    let id = s.create_message(pk, new_message_from(&p, uploads), &caller)?;
    let m = s.messages.get(&id).ok_or(ApiError::NotFound)?;
    let mut body = render::message(&s, m);
    // `attr_accessor :echo_id` (message.rb): echoed by this response only, never stored, so no
    // later read shows it; `_message.json.jbuilder` renders it when not nil.
    if let Some(echo) = p.get("echo_id")
        && let Value::Object(b) = &mut body
    {
        b.insert("echo_id".into(), echo.clone());
    }
    Ok(Json(body))
}

pub async fn index(
    State(app): State<Arc<AppState>>,
    Path((account, display)): Path<(u64, u64)>,
    Query(q): Query<params::Query>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let (s, _) = app.read_as(&headers, account, Role::User)?;
    let pk = s.conversation_pk(account, display)?;
    let c = s.conversations.get(&pk).ok_or(ApiError::NotFound)?;
    let num = |k: &str| {
        q.get(k)
            .filter(|v| !v.is_empty())
            .map(|v| v.parse::<u64>().unwrap_or(0))
    };
    let internal = q
        .get("filter_internal_messages")
        .is_some_and(|v| !v.is_empty());
    let mut all: Vec<_> = s
        .conversation_messages
        .get(&pk)
        .map(|ids| ids.iter().filter_map(|id| s.messages.get(id)).collect())
        .unwrap_or_default();
    if internal {
        all.retain(|m| !m.private && m.message_type != MessageType::Activity);
    }
    all.sort_by_key(|m| (m.created_at, m.id));
    let picked: Vec<_> = match (num("after"), num("before")) {
        (Some(a), Some(b)) => all
            .into_iter()
            .filter(|m| m.id >= a && m.id < b)
            .take(1000)
            .collect(),
        (None, Some(b)) => last_n(all.into_iter().filter(|m| m.id < b).collect(), 20),
        (Some(a), None) => all.into_iter().filter(|m| m.id > a).take(100).collect(),
        (None, None) => last_n(all, 20),
    };
    let payload: Vec<Value> = picked.iter().map(|m| render::message(&s, m)).collect();
    let contact = s.contacts.get(&c.contact_id).map(render::contact_push);
    let mut meta = json!({
        "labels": c.labels,
        "additional_attributes": c.additional_attributes,
        "contact": contact,
        "agent_last_seen_at": c.agent_last_seen_at.map(render::iso),
        "assignee_last_seen_at": c.assignee_last_seen_at.map(render::iso),
    });
    if let Some(u) = c.assignee_id.and_then(|u| s.users.get(&u)) {
        meta["assignee"] = render::user_push(&s, account, u);
    }
    Ok(Json(json!({"meta": meta, "payload": payload})))
}

fn last_n<T>(mut v: Vec<T>, n: usize) -> Vec<T> {
    let start = v.len().saturating_sub(n);
    v.split_off(start)
}

/// Soft delete: "This message was deleted", `{deleted: true}`, attachments gone.
pub async fn destroy(
    State(app): State<Arc<AppState>>,
    Path((account, display, id)): Path<(u64, u64, u64)>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let (mut s, caller) = app.write_as(&headers, account, Role::User)?;
    let now = s.now();
    let pk = s.conversation_pk(account, display)?;
    let m = s
        .messages
        .get_mut(&id)
        .filter(|m| m.conversation_id == pk)
        .ok_or(ApiError::NotFound)?;
    m.content = Some("This message was deleted".into());
    m.processed_message_content = m.content.clone();
    m.content_type = "text".into();
    m.content_attributes = Map::from_iter([("deleted".to_owned(), Value::Bool(true))]);
    m.attachments.clear();
    m.updated_at = now;
    s.dispatch(Event::MessageUpdated(id), &caller);
    let m = s.messages.get(&id).ok_or(ApiError::NotFound)?;
    Ok(Json(render::message(&s, m)))
}

/// `PATCH …/messages/{id} {status, external_error}`: API inboxes only (403 otherwise); an unknown
/// status or read → delivered is silently ignored (`Messages::StatusUpdateService`).
pub async fn update(
    State(app): State<Arc<AppState>>,
    Path((account, display, id)): Path<(u64, u64, u64)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let (mut s, caller) = app.write_as(&headers, account, Role::User)?;
    let now = s.now();
    let pk = s.conversation_pk(account, display)?;
    let api = s
        .conversations
        .get(&pk)
        .and_then(|c| s.inboxes.get(&c.inbox_id))
        .is_some_and(|i| i.channel_type == "Channel::Api");
    if !api {
        let body = json!({"error": "Message status update is only allowed for API inboxes"});
        return Ok((axum::http::StatusCode::FORBIDDEN, Json(body)).into_response());
    }
    let p = Params::top_level(&body)?;
    let m = s
        .messages
        .get_mut(&id)
        .filter(|m| m.conversation_id == pk)
        .ok_or(ApiError::NotFound)?;
    let status = p
        .str("status")
        .and_then(|raw| serde_json::from_value::<MessageStatus>(Value::String(raw)).ok());
    let read_to_delivered =
        |st: &MessageStatus| m.status == MessageStatus::Read && *st == MessageStatus::Delivered;
    if let Some(st) = status.filter(|st| !read_to_delivered(st)) {
        m.status = st;
        m.updated_at = now;
        m.external_error = (st == MessageStatus::Failed)
            .then(|| p.str("external_error"))
            .flatten();
        s.dispatch(Event::MessageUpdated(id), &caller);
    }
    let m = s.messages.get(&id).ok_or(ApiError::NotFound)?;
    Ok(Json(render::message(&s, m)).into_response())
}
