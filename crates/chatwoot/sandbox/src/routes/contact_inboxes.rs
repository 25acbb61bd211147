//! Contact inboxes — the `source_id` lookups — and a contact's conversations and contactable
//! inboxes (`../shared/research/chatwoot.md §2.2`).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::auth::Role;
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::render;
use crate::state::{AppState, Contact, ContactInbox, Database, Inbox};

/// `ContactInboxBuilder#perform`: finds or creates `(contact, inbox, source_id)`; a blank
/// source_id becomes a uuid for API inboxes. `Err(())` when the source_id is taken in the inbox.
pub fn build_contact_inbox(
    s: &mut Database,
    contact_id: u64,
    inbox_id: u64,
    source_id: Option<String>,
) -> Result<u64, ()> {
    let source_id = match source_id.filter(|x| !x.is_empty()) {
        Some(x) => x,
        None => {
            let n = s.next_id("contact_inbox_source_ids");
            s.uuid("contact_inbox", n)
        }
    };
    if let Some(ci) = s
        .contact_inboxes
        .values()
        .find(|ci| ci.inbox_id == inbox_id && ci.source_id == source_id)
    {
        return if ci.contact_id == contact_id {
            Ok(ci.id)
        } else {
            Err(())
        };
    }
    let id = s.next_id("contact_inboxes");
    s.contact_inboxes.insert(
        id,
        ContactInbox {
            id,
            contact_id,
            inbox_id,
            source_id,
            hmac_verified: false,
        },
    );
    Ok(id)
}

pub async fn conversations(
    State(app): State<Arc<AppState>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let (s, _) = app.read_as(&headers, account, Role::User)?;
    s.scoped::<Contact>(account, id)?;
    let payload: Vec<Value> = s
        .conversations
        .values()
        .filter(|c| c.contact_id == id)
        .map(|c| render::conversation(&s, c))
        .collect();
    Ok(Json(json!({"payload": payload})))
}

pub async fn contactable_inboxes(
    State(app): State<Arc<AppState>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let (s, _) = app.read_as(&headers, account, Role::User)?;
    s.scoped::<Contact>(account, id)?;
    // ContactableInboxesService: API inboxes offer the existing source_id or a fresh uuid.
    let payload: Vec<Value> = s
        .inboxes
        .values()
        .filter(|i| i.account_id == account && i.channel_type == "Channel::Api")
        .map(|i| {
            let source = s
                .contact_inboxes
                .values()
                .find(|ci| ci.contact_id == id && ci.inbox_id == i.id)
                .map_or_else(
                    || s.uuid("contactable", i.id ^ (id << 20)),
                    |ci| ci.source_id.clone(),
                );
            json!({"source_id": source, "inbox": render::inbox_slim(i)})
        })
        .collect();
    Ok(Json(json!({"payload": payload})))
}

pub async fn contact_inbox_create(
    State(app): State<Arc<AppState>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let (mut s, _) = app.write_as(&headers, account, Role::User)?;
    s.scoped::<Contact>(account, id)?;
    let p = Params::top_level(&body)?;
    let inbox_id = p.u64("inbox_id").ok_or(ApiError::NotFound)?;
    s.scoped::<Inbox>(account, inbox_id)?;
    let ci = build_contact_inbox(&mut s, id, inbox_id, p.str("source_id"))
        .map_err(|()| ApiError::Internal("source_id should be unique".into()))?;
    let ci = s.contact_inboxes.get(&ci).ok_or(ApiError::NotFound)?;
    Ok(Json(render::contact_inbox(&s, ci)))
}

/// `POST /contact_inboxes/filter`: the idempotent lookup by external id; `head :not_found`.
pub async fn contact_inbox_filter(
    State(app): State<Arc<AppState>>,
    Path(account): Path<u64>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let (s, _) = app.read_as(&headers, account, Role::User)?;
    let p = Params::top_level(&body)?;
    let inbox_id = p.u64("inbox_id").ok_or(ApiError::NotFound)?;
    s.scoped::<Inbox>(account, inbox_id)?;
    let source = p.str("source_id").unwrap_or_default();
    let Some(ci) = s
        .contact_inboxes
        .values()
        .find(|ci| ci.inbox_id == inbox_id && ci.source_id == source)
    else {
        return Ok(StatusCode::NOT_FOUND.into_response());
    };
    let c = s.contacts.get(&ci.contact_id).ok_or(ApiError::NotFound)?;
    Ok(Json(render::contact(&s, c, true)).into_response())
}
