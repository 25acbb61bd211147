//! Tickets: search and retrieve (there is no list endpoint), and the workspace's ticket types
//! and states (`../shared/research/intercom-api.md`
//! §2).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::derived;
use crate::error::ApiError;
use crate::respond::{ApiResult, ok};
use crate::routes::renderer;
use crate::search::{FieldType, FieldValue};
use crate::search_page::{Searchable, run};
use crate::state::AppState;

fn ticket_field(f: &str) -> Option<FieldType> {
    match f {
        "id" | "state" | "category" | "title" => Some(FieldType::Str),
        "created_at" | "updated_at" => Some(FieldType::Date),
        _ => None,
    }
}

/// There is no tickets list endpoint, only search (§2).
pub(crate) async fn search_tickets(
    State(s): State<Arc<AppState>>,
    Json(body): Json<Value>,
) -> ApiResult {
    let v = s.world.view();
    let visible = |_: u64| true;
    let get = |i: u64, fields: &[String]| {
        let Some(t) = v.ticket(i) else {
            return Vec::new();
        };
        fields
            .iter()
            .map(|f| {
                let val = match f.as_str() {
                    "id" => FieldValue::Str(t.id.clone()),
                    "state" => FieldValue::Str(t.state.to_string()),
                    "category" => FieldValue::Str(t.category.to_string()),
                    "title" => FieldValue::Str(t.title.clone()),
                    "created_at" => FieldValue::Int(t.created_at),
                    _ => FieldValue::Int(t.updated_at),
                };
                (f.clone(), val)
            })
            .collect()
    };
    let spec = Searchable {
        name: "tickets",
        count: v.ticket_count(),
        default_per_page: 20,
        fields: &ticket_field,
        visible: &visible,
        get: &get,
    };
    let page = run(&s, &body, &spec)?;
    let r = renderer(&s, false);
    let data: Vec<Value> = page
        .indexes
        .iter()
        .filter_map(|i| r.view.ticket(*i))
        .map(|t| r.ticket(&t))
        .collect();
    ok(
        json!({"type": "ticket.list", "tickets": data, "total_count": page.total, "pages": page.pages}),
    )
}

/// `GET /tickets/{id}`: a written ticket with every part, or a world one; deleted ones are 404.
pub(crate) async fn ticket(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult {
    let r = renderer(&s, false);
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "ticket_not_found",
            "Ticket not found",
        )
    };
    {
        let store = s.written.lock();
        if let Some(t) = store.ticket(&id) {
            let (ty, st) = crate::routes::write_tickets::type_and_state(&s, &t.ticket_type_id);
            return ok(crate::written::render::ticket(&r, &store, t, ty, st));
        }
        if store.is_deleted("ticket", &id) {
            return Err(not_found());
        }
    }
    let t = r.view.ticket_by_id(&id).ok_or_else(not_found)?;
    ok(r.ticket(&t))
}

/// `GET /ticket_types`: one type per ticket category of the world (derived, `derived.rs`).
pub(crate) async fn ticket_types(State(s): State<Arc<AppState>>) -> ApiResult {
    let r = renderer(&s, false);
    let data: Vec<Value> = derived::ticket_types(r.view.seed())
        .iter()
        .map(|t| r.ticket_type_listed(t))
        .collect();
    ok(json!({"type": "list", "data": data}))
}

/// `GET /ticket_states`: Intercom's four state categories (derived ids).
pub(crate) async fn ticket_states(State(s): State<Arc<AppState>>) -> ApiResult {
    let r = renderer(&s, false);
    let data: Vec<Value> = derived::ticket_states(r.view.seed())
        .iter()
        .map(|st| r.ticket_state_listed(st))
        .collect();
    ok(json!({"type": "list", "data": data}))
}
