//! Deletes, as Intercom allows them (what a rollback undoes a run with). Every one is in both
//! the 2.14 and the 2.16 spec: `DELETE /contacts/{id}` (`contact_deleted`),
//! `DELETE /companies/{id}` (archives the company and detaches its contacts, spec L6374ff),
//! `DELETE /conversations/{id}` (permanent; `retain_metrics`, spec L11499ff), `DELETE /tags/{id}`
//! (200 without a body; its taggings go with it), `DELETE /tickets/{id}`, `DELETE /articles/{id}`
//! and `DELETE /help_center/collections/{id}`; plus untagging a conversation or a ticket
//! (`admin_id` required, as for tagging). A deleted record leaves every read route and search;
//! a written one leaves the store, a seeded one is remembered as deleted (`Deletion`).
//!
//! Deleting a contact does not delete its conversations here: the spec says only "You can delete
//! a single contact", so what Intercom does to them is UNVERIFIED; a rollback deletes the
//! conversations it created first.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::respond::{ApiResult, ok};
use crate::routes::write_contacts::tag_json;
use crate::routes::write_support::{
    conversation_target, request, require_admin, resource_not_found, user_not_found,
};
use crate::state::AppState;
use crate::written::{Deletion, Store};

/// Records a deletion (once).
fn record(store: &mut Store, object: &'static str, id: &str, at: i64, seeded: bool) {
    store.next();
    if !store.is_deleted(object, id) {
        store.deletions.push(Deletion {
            object,
            id: id.to_string(),
            at,
            seeded,
            metrics_retained: None,
        });
    }
}

/// Drops every tagging of one object.
fn drop_taggings(store: &mut Store, object: &str, id: &str) {
    store
        .taggings
        .retain(|t| !(t.object == object && t.object_id == id));
}

fn deleted(id: &str, object: &str) -> Value {
    json!({"id": id, "object": object, "deleted": true})
}

/// `DELETE /contacts/{id}`: `{type: contact, id, external_id, deleted: true}`.
pub(crate) async fn delete_contact(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult {
    let view = s.world.view();
    let now = s.clock.now_secs();
    let mut store = s.written.lock();
    let seeded = view.contact_by_id(&id).is_some();
    let external_id = match store.contacts.iter().position(|c| c.id == id) {
        Some(i) if store.contacts[i].merged_into.is_none() => store.contacts.remove(i).external_id,
        Some(_) => return Err(user_not_found()),
        None if seeded && !store.is_deleted("contact", &id) => {
            view.contact_by_id(&id).and_then(|c| c.external_id)
        }
        None => return Err(user_not_found()),
    };
    drop_taggings(&mut store, "contact", &id);
    store.memberships.retain(|m| m.contact_id != id);
    store.notes.retain(|n| n.contact_id != id);
    record(&mut store, "contact", &id, now, seeded);
    ok(json!({"type": "contact", "id": id, "external_id": external_id, "deleted": true}))
}

fn company_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "company_not_found",
        "Company Not Found",
    )
}

/// `DELETE /companies/{id}`: archived, its contacts detached (not deleted).
pub(crate) async fn delete_company(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult {
    let view = s.world.view();
    let now = s.clock.now_secs();
    let mut store = s.written.lock();
    let seeded = view.company_by_id(&id).is_some();
    match store.companies.iter().position(|c| c.id == id) {
        Some(i) => {
            store.companies.remove(i);
        }
        None if seeded && !store.is_deleted("company", &id) => {}
        None => return Err(company_not_found()),
    }
    drop_taggings(&mut store, "company", &id);
    store.memberships.retain(|m| m.company_id != id);
    record(&mut store, "company", &id, now, seeded);
    ok(deleted(&id, "company"))
}

#[derive(Debug, Deserialize)]
pub(crate) struct DeleteConversationQuery {
    retain_metrics: Option<String>,
}

/// `DELETE /conversations/{id}?retain_metrics=`: permanent; the id then appears in
/// `GET /conversations/deleted`.
pub(crate) async fn delete_conversation(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(q): Query<DeleteConversationQuery>,
) -> ApiResult {
    let retain = match q.retain_metrics.as_deref() {
        None | Some("true") => true,
        Some("false") => false,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "retain_metrics must be true or false, got '{other}'"
            )));
        }
    };
    let view = s.world.view();
    let now = s.clock.now_secs();
    let mut store = s.written.lock();
    let target = conversation_target(&store, &view, &id)?;
    if target.seeded {
        store.overlays.retain(|o| o.id != id);
    } else {
        store.conversations.retain(|c| c.id != id);
    }
    drop_taggings(&mut store, "conversation", &id);
    record(&mut store, "conversation", &id, now, target.seeded);
    if let Some(d) = store.deletions.last_mut() {
        d.metrics_retained = Some(retain);
    }
    ok(deleted(&id, "conversation"))
}

/// `GET /conversations/deleted` (2.16): the deleted conversation ids, newest first, page-based
/// (default 20, max 60; `order` asc|desc).
pub(crate) async fn deleted_conversations(
    State(s): State<Arc<AppState>>,
    Query(q): Query<DeletedQuery>,
) -> ApiResult {
    let pp = crate::paging::per_page(q.per_page.as_deref(), 20, 60)?;
    let p = crate::paging::page(q.page.as_deref())?;
    let store = s.written.lock();
    let mut items: Vec<Value> = store
        .deletions
        .iter()
        .filter(|d| d.object == "conversation")
        .map(|d| {
            json!({"type": "conversation", "id": d.id,
                "metrics_retained": d.metrics_retained.unwrap_or(true), "deleted_at": d.at})
        })
        .collect();
    if q.order.as_deref() != Some("asc") {
        items.reverse();
    }
    let n = items.len() as u64;
    let page: Vec<Value> = crate::paging::page_range(p, pp, n)
        .filter_map(|i| items.get(i as usize).cloned())
        .collect();
    ok(
        json!({"type": "conversations.list", "conversations": page, "total_count": n,
        "pages": crate::paging::page_pages(p, pp, n)}),
    )
}

#[derive(Debug, Deserialize)]
pub(crate) struct DeletedQuery {
    page: Option<String>,
    per_page: Option<String>,
    order: Option<String>,
}

/// `DELETE /tags/{id}`: 200 with no body (the spec documents none); the tag leaves every
/// object it was on.
pub(crate) async fn delete_tag(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    let view = s.world.view();
    let now = s.clock.now_secs();
    let mut store = s.written.lock();
    let seeded = view.tag_by_id(&id).is_some();
    let written = store.tags.iter().position(|t| t.id == id);
    if store.is_deleted("tag", &id) || (written.is_none() && !seeded) {
        return ApiError::new(StatusCode::NOT_FOUND, "not_found", "Resource Not Found")
            .into_response();
    }
    if let Some(i) = written {
        store.tags.remove(i);
    }
    store.taggings.retain(|t| t.tag_id != id);
    record(&mut store, "tag", &id, now, seeded);
    StatusCode::OK.into_response()
}

/// `DELETE /tickets/{id}`: `ticket_deleted`.
pub(crate) async fn delete_ticket(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult {
    let view = s.world.view();
    let now = s.clock.now_secs();
    let mut store = s.written.lock();
    let seeded = view.ticket_by_id(&id).is_some();
    match store.tickets.iter().position(|t| t.id == id) {
        Some(i) => {
            store.tickets.remove(i);
        }
        None if seeded && !store.is_deleted("ticket", &id) => {}
        None => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "ticket_not_found",
                "Ticket not found",
            ));
        }
    }
    drop_taggings(&mut store, "ticket", &id);
    record(&mut store, "ticket", &id, now, seeded);
    ok(deleted(&id, "ticket"))
}

/// `DELETE /articles/{id}`: `deleted_article_object`.
pub(crate) async fn delete_article(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult {
    let view = s.world.view();
    let now = s.clock.now_secs();
    let mut store = s.written.lock();
    let seeded = view.article_by_id(&id).is_some();
    match store.articles.iter().position(|a| a.id == id) {
        Some(i) => {
            store.articles.remove(i);
        }
        None if seeded && !store.is_deleted("article", &id) => {}
        None => return Err(resource_not_found()),
    }
    record(&mut store, "article", &id, now, seeded);
    ok(deleted(&id, "article"))
}

/// `DELETE /help_center/collections/{id}`: `deleted_collection_object`.
pub(crate) async fn delete_collection(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult {
    let view = s.world.view();
    let now = s.clock.now_secs();
    let mut store = s.written.lock();
    let seeded = view.collection_by_id(&id).is_some();
    match store.collections.iter().position(|c| c.id == id) {
        Some(i) => {
            store.collections.remove(i);
        }
        None if seeded && !store.is_deleted("collection", &id) => {}
        None => return Err(resource_not_found()),
    }
    record(&mut store, "collection", &id, now, seeded);
    ok(deleted(&id, "collection"))
}

/// `DELETE /conversations/{id}/tags/{tag_id}` with `{"admin_id"}` (required, as for tagging).
pub(crate) async fn untag_conversation(
    State(s): State<Arc<AppState>>,
    Path((id, tag_id)): Path<(String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let (_, b) = request(&headers, &bytes)?;
    let admin_id = b.required_str("admin_id")?;
    let view = s.world.view();
    require_admin(&view, &admin_id)?;
    let mut store = s.written.lock();
    let target = conversation_target(&store, &view, &id)?;
    let out = tag_json(&store, &view, &tag_id);
    if store.untag_object(&tag_id, "conversation", &id) {
        return ok(out);
    }
    // A world tag on a seeded conversation: remembered in its overlay.
    let on_world = target.seeded
        && view.conversation_by_id(&id).is_some_and(|c| {
            c.tags
                .iter()
                .filter_map(|t| view.tag(*t))
                .any(|t| t.id == tag_id)
        });
    let o_has = store
        .overlay(&id)
        .is_some_and(|o| o.untagged.contains(&tag_id));
    if !on_world || o_has {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "tag_not_found",
            "Tag not found",
        ));
    }
    store.overlay_mut(&id).untagged.push(tag_id);
    ok(out)
}

/// `DELETE /tickets/{id}/tags/{tag_id}` with `{"admin_id"}`.
pub(crate) async fn untag_ticket(
    State(s): State<Arc<AppState>>,
    Path((id, tag_id)): Path<(String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let (_, b) = request(&headers, &bytes)?;
    let admin_id = b.required_str("admin_id")?;
    let view = s.world.view();
    require_admin(&view, &admin_id)?;
    let mut store = s.written.lock();
    if store.ticket(&id).is_none() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "ticket_not_found",
            "Ticket not found",
        ));
    }
    let out = tag_json(&store, &view, &tag_id);
    if !store.untag_object(&tag_id, "ticket", &id) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "tag_not_found",
            "Tag not found",
        ));
    }
    ok(out)
}
