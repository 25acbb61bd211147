//! Contacts (cursor list, body-paginated search with lag, retrieve, notes) and companies
//! (page-based list capped at 10,000 with user-less companies hidden, and the one-per-app
//! scroll) — `../shared/research/intercom-api.md` §2, §9.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use deskmove_synth::Contact;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::paging::{
    ListQuery, cursor_pages, cursor_start, encode_cursor, page, page_pages, page_range, per_page,
};
use super::routes_directory::{Res, ok, renderer};
use super::search::{Fv, Kind};
use super::search_page::{Searchable, run};
use super::state::{AppState, Scroll};

/// Companies list stops at 10,000 (spec L6777); use scroll beyond that.
pub const COMPANY_LIST_CAP: u64 = 10_000;
/// A scroll unused for one minute expires (spec L6834ff).
pub const SCROLL_IDLE_MS: i64 = 60_000;
/// New contacts become searchable only after this long (spec L8732: "a few minutes").
pub const SEARCH_LAG_SECS: i64 = 300;
const SCROLL_PAGE: u64 = 50;

fn user_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "User Not Found")
}

pub(crate) async fn contacts(State(s): State<Arc<AppState>>, Query(q): Query<ListQuery>) -> Res {
    // Default 10, max 150 (2.16 text says 50; corrected upstream, §2).
    let pp = per_page(q.per_page.as_deref(), 10, 150)?;
    let (start, page_no) = cursor_start(&q)?;
    let r = renderer(&s, false);
    let total = r.v.contact_count();
    let end = (start + pp).min(total);
    let data: Vec<Value> = (start.min(total)..end)
        .filter_map(|j| r.v.contact(j))
        .map(|c| r.contact(&c))
        .collect();
    let next = (end < total).then(|| {
        encode_cursor(
            end,
            &r.v.contact(end - 1).map(|c| c.id).unwrap_or_default(),
            page_no + 1,
        )
    });
    ok(
        json!({"type": "list", "data": data, "total_count": total, "pages": cursor_pages(page_no, pp, total, next)}),
    )
}

pub(crate) async fn contact(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> Res {
    let r = renderer(&s, false);
    let c = r.v.contact_by_id(&id).ok_or_else(user_not_found)?;
    ok(r.contact(&c))
}

fn contact_field(f: &str) -> Option<Kind> {
    match f {
        "id" | "external_id" | "email" | "name" | "phone" | "role" | "email_domain" => {
            Some(Kind::Str)
        }
        "created_at" | "updated_at" | "signed_up_at" | "last_seen_at" => Some(Kind::Date),
        _ => None,
    }
}

fn contact_value(c: &Contact, f: &str) -> Fv {
    let s = |x: &Option<String>| x.clone().map_or(Fv::Null, Fv::Str);
    match f {
        "id" => Fv::Str(c.id.clone()),
        "external_id" => s(&c.external_id),
        "email" => s(&c.email),
        "email_domain" => c
            .email
            .as_ref()
            .and_then(|e| e.rsplit_once('@'))
            .map_or(Fv::Null, |(_, d)| Fv::Str(d.to_string())),
        "name" => s(&c.name),
        "phone" => s(&c.phone),
        "role" => Fv::Str(c.role.as_str().to_string()),
        "created_at" => Fv::Int(c.created_at),
        "updated_at" => Fv::Int(c.updated_at),
        "signed_up_at" => c.signed_up_at.map_or(Fv::Null, Fv::Int),
        "last_seen_at" => c.last_seen_at.map_or(Fv::Null, Fv::Int),
        _ => Fv::Null,
    }
}

pub(crate) async fn search_contacts(
    State(s): State<Arc<AppState>>,
    Json(body): Json<Value>,
) -> Res {
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
        .filter_map(|j| r.v.contact(*j))
        .map(|c| r.contact(&c))
        .collect();
    ok(json!({"type": "list", "data": data, "total_count": page.total, "pages": page.pages}))
}

pub(crate) async fn contact_notes(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> Res {
    let r = renderer(&s, false);
    let c = r.v.contact_by_id(&id).ok_or_else(user_not_found)?;
    let pp = per_page(q.per_page.as_deref(), 50, 150)?;
    let p = page(q.page.as_deref())?;
    let data: Vec<Value> = page_range(p, pp, c.notes)
        .filter_map(|k| r.v.note(c.index, k))
        .map(|n| r.note(&n))
        .collect();
    ok(
        json!({"type": "list", "data": data, "total_count": c.notes, "pages": page_pages(p, pp, c.notes)}),
    )
}

pub(crate) async fn note(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> Res {
    let r = renderer(&s, false);
    let n =
        r.v.note_by_id(&id)
            .ok_or_else(|| ApiError::not_found("Resource Not Found"))?;
    ok(r.note(&n))
}

pub(crate) async fn contact_tags(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> Res {
    let r = renderer(&s, false);
    let c = r.v.contact_by_id(&id).ok_or_else(user_not_found)?;
    let data: Vec<Value> = c
        .tags
        .iter()
        .filter_map(|t| r.v.tag(*t))
        .map(|t| r.tag(&t))
        .collect();
    ok(json!({"type": "list", "data": data}))
}

pub(crate) async fn contact_companies(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Res {
    let r = renderer(&s, false);
    let c = r.v.contact_by_id(&id).ok_or_else(user_not_found)?;
    let data: Vec<Value> = c
        .company
        .and_then(|k| r.v.company(k))
        .map(|co| r.company(&co))
        .into_iter()
        .collect();
    let n = data.len() as u64;
    ok(json!({"type": "list", "data": data, "total_count": n, "pages": page_pages(1, 50, n)}))
}

#[derive(Debug, Deserialize)]
pub(crate) struct CompanyListQuery {
    page: Option<String>,
    per_page: Option<String>,
    order: Option<String>,
    company_id: Option<String>,
    name: Option<String>,
}

/// The list as Intercom shows it: companies with users only, newest activity first, capped.
fn visible_companies(s: &AppState) -> u64 {
    s.world
        .view()
        .populated_company_count()
        .min(COMPANY_LIST_CAP)
}

fn company_page(s: &AppState, q: &CompanyListQuery) -> Res {
    let r = renderer(s, false);
    let pp = per_page(q.per_page.as_deref(), 15, 60)?;
    let p = page(q.page.as_deref())?;
    let asc = q.order.as_deref() == Some("asc");
    let total = visible_companies(s);
    // Index order is last_request_at descending (see deskmove-synth people.rs).
    let data: Vec<Value> = page_range(p, pp, total)
        .map(|k| if asc { total - 1 - k } else { k })
        .filter_map(|k| r.v.company(k))
        .map(|c| r.company(&c))
        .collect();
    ok(
        json!({"type": "list", "data": data, "total_count": total, "pages": page_pages(p, pp, total)}),
    )
}

pub(crate) async fn companies_list(
    State(s): State<Arc<AppState>>,
    Query(q): Query<CompanyListQuery>,
) -> Res {
    company_page(&s, &q)
}

/// `GET /companies`: a lookup by `company_id`/`name`, or the same page-based list.
pub(crate) async fn companies_get(
    State(s): State<Arc<AppState>>,
    Query(q): Query<CompanyListQuery>,
) -> Res {
    let r = renderer(&s, false);
    if q.company_id.is_none() && q.name.is_none() {
        return company_page(&s, &q);
    }
    let found = (0..r.v.company_count())
        .filter_map(|k| r.v.company(k))
        .find(|c| {
            q.company_id.as_deref().is_some_and(|x| x == c.company_id)
                || q.name.as_deref().is_some_and(|x| x == c.name)
        })
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "company_not_found",
                "Company Not Found",
            )
        })?;
    ok(
        json!({"type": "list", "data": [r.company(&found)], "total_count": 1, "pages": page_pages(1, 15, 1)}),
    )
}

pub(crate) async fn company(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> Res {
    let r = renderer(&s, false);
    let c = r.v.company_by_id(&id).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "company_not_found",
            "Company Not Found",
        )
    })?;
    ok(r.company(&c))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ScrollQuery {
    scroll_param: Option<String>,
}

/// One scroll per app; 1-minute idle expiry; an empty page at the end (without
/// `scroll_param`, so SDKs stop cleanly); 404 for a finished or expired param (§2, §9).
/// Scroll walks every company, including those without users.
pub(crate) async fn companies_scroll(
    State(s): State<Arc<AppState>>,
    Query(q): Query<ScrollQuery>,
) -> Res {
    let now = s.clock.now_ms();
    let total = s.world.view().company_count();
    let mut guard = s.scroll.lock().map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "scroll state poisoned",
        )
    })?;
    if guard
        .as_ref()
        .is_some_and(|sc| now - sc.last_used_ms > SCROLL_IDLE_MS)
    {
        *guard = None;
    }
    let mut scroll = match q.scroll_param.as_deref().filter(|p| !p.is_empty()) {
        None if guard.is_some() => {
            // Exact body UNVERIFIED (§11); HTTP 400 "scroll already exists for this app" per intercom-ruby #292.
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "scroll_exists",
                "scroll already exists for this app",
            ));
        }
        None => {
            let n = s
                .scroll_seq
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let param = blake3::hash(format!("scroll:{}:{n}", s.world.config().seed).as_bytes())
                .to_hex()[..36]
                .to_string();
            Scroll {
                param,
                next: 0,
                last_used_ms: now,
            }
        }
        Some(p) => match guard.as_ref() {
            Some(sc) if sc.param == p => sc.clone(),
            _ => {
                return Err(ApiError::not_found(
                    "Scroll parameter not found or expired. Please restart the scroll operation.",
                ));
            }
        },
    };
    let r = renderer(&s, false);
    let end = (scroll.next + SCROLL_PAGE).min(total);
    let data: Vec<Value> = (scroll.next..end)
        .filter_map(|k| r.v.company(k))
        .map(|c| r.company(&c))
        .collect();
    if data.is_empty() {
        *guard = None;
        return ok(json!({"type": "list", "data": [], "pages": null, "total_count": null}));
    }
    scroll.next = end;
    scroll.last_used_ms = now;
    let param = scroll.param.clone();
    *guard = Some(scroll);
    ok(
        json!({"type": "list", "data": data, "pages": null, "total_count": null, "scroll_param": param}),
    )
}
