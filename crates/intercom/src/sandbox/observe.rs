//! Unauthenticated, loopback-only inspection endpoints for tests and benchmarks:
//! the world's expected totals (as Intercom would expose them), call statistics and
//! leaked credentials, and a way to move the world's clock from another process.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use deskmove_synth::Totals;
use serde::Deserialize;
use serde_json::{Value, json};

use super::gate::json;
use super::routes_people::COMPANY_LIST_CAP;
use super::state::AppState;

/// The totals a complete Intercom export of this world must reach.
pub fn expected_json(t: &Totals) -> Value {
    let mut v = serde_json::to_value(t).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        // GET /admins lists current teammates only; departed ones still author parts.
        o.insert("admins".into(), json!(t.admins - t.admins_departed));
        o.insert("admins_including_departed".into(), json!(t.admins));
        o.insert(
            "data_attributes".into(),
            json!(t.data_attributes - t.data_attributes_archived),
        );
        o.insert(
            "data_attributes_including_archived".into(),
            json!(t.data_attributes),
        );
        o.insert(
            "companies_visible_in_list".into(),
            json!(t.companies_with_users.min(COMPANY_LIST_CAP)),
        );
        o.insert(
            "conversation_parts_retrievable".into(),
            json!(t.conversation_parts_within_cap),
        );
        o.insert(
            "attachments_retrievable".into(),
            json!(t.attachments_within_cap),
        );
    }
    v
}

pub(crate) async fn expected(State(s): State<Arc<AppState>>) -> Response {
    let t = s.world.totals();
    let mut v = expected_json(&t);
    v["seed"] = json!(s.world.config().seed);
    v["world_now"] = json!(s.world.view().now());
    json(StatusCode::OK, v)
}

pub(crate) async fn stats(State(s): State<Arc<AppState>>) -> Response {
    let leaks = s.leaks.lock().map(|l| l.clone()).unwrap_or_default();
    json(
        StatusCode::OK,
        json!({
            "calls": s.stats.snapshot(),
            "total_calls": s.stats.total_calls(),
            "leaked_credentials": leaks,
        }),
    )
}

#[derive(Debug, Deserialize)]
pub(crate) struct AdvanceQuery {
    ticks: Option<u64>,
}

pub(crate) async fn advance(
    State(s): State<Arc<AppState>>,
    Query(q): Query<AdvanceQuery>,
) -> Response {
    let epoch = s.world.advance(q.ticks.unwrap_or(1));
    json(
        StatusCode::OK,
        json!({"epoch": epoch, "world_now": s.world.view().now()}),
    )
}
