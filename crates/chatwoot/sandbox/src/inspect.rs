//! The sandbox's own endpoints under `/__sandbox/`, for out-of-process tests, benchmarks and
//! `verify`: the account dump, call statistics, the side-effect log and a way to move the clock,
//! plus two test hooks that change what Chatwoot's API cannot (a message's content, an
//! attachment's bytes), as an administrator could in the database, so tests can plant the
//! differences `deskmove verify` must find. Unauthenticated, since the server is loopback-only;
//! never throttled or faulted.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use crate::STARTING_ACCOUNT;
use crate::state::AppState;

/// The inspection routes, merged into the route table.
pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/__sandbox/dump", get(dump))
        .route("/__sandbox/stats", get(stats))
        .route("/__sandbox/side_effects", get(side_effects))
        .route("/__sandbox/advance", post(advance))
        .route("/__sandbox/messages/{id}/content", post(edit_message))
        .route("/__sandbox/attachments/{id}/file", post(replace_attachment))
}

/// Test hook: the body becomes message `id`'s content (the API only changes a message's
/// delivery status). 404 when there is no such message.
async fn edit_message(
    State(app): State<Arc<AppState>>,
    Path(id): Path<u64>,
    body: String,
) -> Response {
    let mut s = app.write();
    let now = s.now();
    let Some(m) = s.messages.get_mut(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    m.content = Some(body);
    m.processed_message_content = m.content.clone();
    m.updated_at = now;
    StatusCode::NO_CONTENT.into_response()
}

/// Test hook: the body replaces attachment `id`'s bytes, keeping its name (the API cannot change
/// a file once attached). 404 when there is no such attachment.
async fn replace_attachment(
    State(app): State<Arc<AppState>>,
    Path(id): Path<u64>,
    body: Bytes,
) -> Response {
    let mut s = app.write();
    let Some(a) = s
        .messages
        .values_mut()
        .flat_map(|m| m.attachments.iter_mut())
        .find(|a| a.id == id)
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    a.byte_size = body.len() as u64;
    a.checksum = crate::rules::checksum(&body);
    a.bytes = body;
    StatusCode::NO_CONTENT.into_response()
}

/// `?account_id=` (default: the starting account).
fn account(q: &HashMap<String, String>) -> u64 {
    q.get("account_id")
        .and_then(|a| a.parse().ok())
        .unwrap_or(STARTING_ACCOUNT)
}

/// The whole state of an account.
async fn dump(
    State(app): State<Arc<AppState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    axum::Json(app.read().dump(account(&q))).into_response()
}

/// Calls per route and faults injected so far.
async fn stats(State(app): State<Arc<AppState>>) -> Response {
    axum::Json(json!({
        "routes": app.stats.snapshot(),
        "total_calls": app.stats.total_calls(),
        "faults_injected": app.faults.injected(),
    }))
    .into_response()
}

/// What Chatwoot would have done behind the caller's back for an account, each list in order
/// (recorded, never sent): webhook deliveries, customer deliveries, agent notifications,
/// automation rule runs and template messages.
async fn side_effects(
    State(app): State<Arc<AppState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    axum::Json(app.read().side_effects_of(account(&q))).into_response()
}

#[derive(Debug, Deserialize)]
struct AdvanceQuery {
    seconds: Option<u64>,
}

/// `?seconds=N` (default 60, the flood guard's and rack-attack's window): moves the clock
/// forward and answers the new "now" in UNIX seconds.
async fn advance(State(app): State<Arc<AppState>>, Query(q): Query<AdvanceQuery>) -> Response {
    app.clock
        .advance(Duration::from_secs(q.seconds.unwrap_or(60)));
    axum::Json(json!({"now": app.clock.now_secs()})).into_response()
}
