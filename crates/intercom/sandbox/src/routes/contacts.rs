//! Contacts: the cursor list, the body-paginated search (new contacts show up only after a lag),
//! retrieve, and a contact's notes, tags and companies (`../shared/research/intercom-api.md` §2,
//! §9).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use deskmove_synth::Contact;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::paging::{
    ListQuery, cursor_pages, cursor_start, encode_cursor, page, page_pages, page_range, per_page,
};
use crate::respond::{ApiResult, ok};
use crate::routes::renderer;
use crate::search::{FieldType, FieldValue};
use crate::search_page::{Searchable, run};
use crate::state::AppState;

/// New contacts become searchable only after this long (spec L8732: "a few minutes").
pub const SEARCH_LAG_SECS: i64 = 300;

fn user_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "User Not Found")
}

pub(crate) async fn contacts(
    State(s): State<Arc<AppState>>,
    Query(q): Query<ListQuery>,
) -> ApiResult {
    // Default 10, max 150 (2.16 text says 50; corrected upstream, §2).
    let pp = per_page(q.per_page.as_deref(), 10, 150)?;
    let (start, page_no) = cursor_start(&q)?;
    let r = renderer(&s, false);
    let total = r.view.contact_count();
    let end = (start + pp).min(total);
    let data: Vec<Value> = (start.min(total)..end)
        .filter_map(|j| r.view.contact(j))
        .map(|c| r.contact(&c))
        .collect();
    let next = (end < total).then(|| {
        encode_cursor(
            end,
            &r.view.contact(end - 1).map(|c| c.id).unwrap_or_default(),
            page_no + 1,
        )
    });
    ok(
        json!({"type": "list", "data": data, "total_count": total, "pages": cursor_pages(page_no, pp, total, next)}),
    )
}

pub(crate) async fn contact(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult {
    let r = renderer(&s, false);
    let c = r.view.contact_by_id(&id).ok_or_else(user_not_found)?;
    ok(r.contact(&c))
}

fn contact_field(f: &str) -> Option<FieldType> {
    match f {
        "id" | "external_id" | "email" | "name" | "phone" | "role" | "email_domain" => {
            Some(FieldType::Str)
        }
        "created_at" | "updated_at" | "signed_up_at" | "last_seen_at" => Some(FieldType::Date),
        _ => None,
    }
}

fn contact_value(c: &Contact, f: &str) -> FieldValue {
    let s = |x: &Option<String>| x.clone().map_or(FieldValue::Null, FieldValue::Str);
    match f {
        "id" => FieldValue::Str(c.id.clone()),
        "external_id" => s(&c.external_id),
        "email" => s(&c.email),
        "email_domain" => c
            .email
            .as_ref()
            .and_then(|e| e.rsplit_once('@'))
            .map_or(FieldValue::Null, |(_, d)| FieldValue::Str(d.to_string())),
        "name" => s(&c.name),
        "phone" => s(&c.phone),
        "role" => FieldValue::Str(c.role.as_str().to_string()),
        "created_at" => FieldValue::Int(c.created_at),
        "updated_at" => FieldValue::Int(c.updated_at),
        "signed_up_at" => c.signed_up_at.map_or(FieldValue::Null, FieldValue::Int),
        "last_seen_at" => c.last_seen_at.map_or(FieldValue::Null, FieldValue::Int),
        _ => FieldValue::Null,
    }
}

pub(crate) async fn search_contacts(
    State(s): State<Arc<AppState>>,
    Json(body): Json<Value>,
) -> ApiResult {
    let v = s.world.view();
    let now = v.now();
    let visible = |j: u64| {
        v.contact(j)
            .is_some_and(|c| c.created_at <= now - SEARCH_LAG_SECS)
    };
    let get = |j: u64, fields: &[String]| {
        v.contact(j)
            .map(|c| {
                fields
                    .iter()
                    .map(|f| (f.clone(), contact_value(&c, f)))
                    .collect()
            })
            .unwrap_or_default()
    };
    let spec = Searchable {
        name: "contacts",
        count: v.contact_count(),
        default_per_page: 50,
        fields: &contact_field,
        visible: &visible,
        get: &get,
    };
    let page = run(&s, &body, &spec)?;
    let r = renderer(&s, false);
    let data: Vec<Value> = page
        .indexes
        .iter()
        .filter_map(|j| r.view.contact(*j))
        .map(|c| r.contact(&c))
        .collect();
    ok(json!({"type": "list", "data": data, "total_count": page.total, "pages": page.pages}))
}

pub(crate) async fn contact_notes(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> ApiResult {
    let r = renderer(&s, false);
    let c = r.view.contact_by_id(&id).ok_or_else(user_not_found)?;
    let pp = per_page(q.per_page.as_deref(), 50, 150)?;
    let p = page(q.page.as_deref())?;
    let data: Vec<Value> = page_range(p, pp, c.notes)
        .filter_map(|k| r.view.note(c.index, k))
        .map(|n| r.note(&n))
        .collect();
    ok(
        json!({"type": "list", "data": data, "total_count": c.notes, "pages": page_pages(p, pp, c.notes)}),
    )
}

pub(crate) async fn note(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult {
    let r = renderer(&s, false);
    let n = r
        .view
        .note_by_id(&id)
        .ok_or_else(|| ApiError::not_found("Resource Not Found"))?;
    ok(r.note(&n))
}

pub(crate) async fn contact_tags(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult {
    let r = renderer(&s, false);
    let c = r.view.contact_by_id(&id).ok_or_else(user_not_found)?;
    let data: Vec<Value> = c
        .tags
        .iter()
        .filter_map(|t| r.view.tag(*t))
        .map(|t| r.tag(&t))
        .collect();
    ok(json!({"type": "list", "data": data}))
}

pub(crate) async fn contact_companies(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult {
    let r = renderer(&s, false);
    let c = r.view.contact_by_id(&id).ok_or_else(user_not_found)?;
    let data: Vec<Value> = c
        .company
        .and_then(|k| r.view.company(k))
        .map(|co| r.company(&co))
        .into_iter()
        .collect();
    let n = data.len() as u64;
    ok(json!({"type": "list", "data": data, "total_count": n, "pages": page_pages(1, 50, n)}))
}
