//! Companies: the page-based list (capped at 10,000, user-less companies hidden), the lookup by
//! `company_id` or name, retrieve, a company's contacts and segments, and the one-per-app scroll
//! over every company (a 500 mid-scroll ends it, see `auth`)
//! (`../shared/research/intercom-api.md` §2, §9).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::paging::{ListQuery, page, page_pages, page_range, per_page};
use crate::respond::{ApiResult, ok};
use crate::routes::renderer;
use crate::state::{AppState, Scroll};

/// Companies list stops at 10,000 (spec L6777); use scroll beyond that.
pub const COMPANY_LIST_CAP: u64 = 10_000;
/// A scroll unused for one minute expires (spec L6834ff).
pub const SCROLL_IDLE_MS: i64 = 60_000;
/// Companies per scroll page.
const SCROLL_PAGE: u64 = 50;

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

fn company_page(s: &AppState, q: &CompanyListQuery) -> ApiResult {
    let r = renderer(s, false);
    let pp = per_page(q.per_page.as_deref(), 15, 60)?;
    let p = page(q.page.as_deref())?;
    let asc = q.order.as_deref() == Some("asc");
    let store = s.written.lock();
    // Written companies with at least one contact are listed after the world's (a company
    // without users is invisible, spec L5992); deleted ones are gone. The cap holds over both.
    let written: Vec<_> = store
        .companies
        .iter()
        .filter(|c| store.memberships.iter().any(|m| m.company_id == c.id))
        .collect();
    let world: Vec<u64> = (0..visible_companies(s))
        .filter(|k| {
            store.deletions.is_empty()
                || r.view
                    .company(*k)
                    .is_some_and(|c| !store.is_deleted("company", &c.id))
        })
        .collect();
    let total = (world.len() as u64 + written.len() as u64).min(COMPANY_LIST_CAP);
    // Index order is last_request_at descending (see deskmove-synth people.rs).
    let data: Vec<Value> = page_range(p, pp, total)
        .map(|k| if asc { total - 1 - k } else { k })
        .filter_map(|k| match world.get(k as usize) {
            Some(i) => r.view.company(*i).map(|c| r.company(&c)),
            None => written
                .get(k as usize - world.len())
                .map(|c| crate::written::render::company(&store, c)),
        })
        .collect();
    ok(
        json!({"type": "list", "data": data, "total_count": total, "pages": page_pages(p, pp, total)}),
    )
}

pub(crate) async fn companies_list(
    State(s): State<Arc<AppState>>,
    Query(q): Query<CompanyListQuery>,
) -> ApiResult {
    company_page(&s, &q)
}

/// `GET /companies`: a lookup by `company_id`/`name`, or the same page-based list.
pub(crate) async fn companies_get(
    State(s): State<Arc<AppState>>,
    Query(q): Query<CompanyListQuery>,
) -> ApiResult {
    let r = renderer(&s, false);
    if q.company_id.is_none() && q.name.is_none() {
        return company_page(&s, &q);
    }
    let store = s.written.lock();
    // A written company is found by its `company_id` (or name) at once, with or without users.
    if let Some(c) = store.companies.iter().find(|c| {
        q.company_id.as_deref() == Some(c.company_id.as_str())
            || (q.name.is_some() && q.name == c.name)
    }) {
        let one = crate::written::render::company(&store, c);
        return ok(
            json!({"type": "list", "data": [one], "total_count": 1, "pages": page_pages(1, 15, 1)}),
        );
    }
    let found = (0..r.view.company_count())
        .filter_map(|k| r.view.company(k))
        .find(|c| {
            (q.company_id.as_deref().is_some_and(|x| x == c.company_id)
                || q.name.as_deref().is_some_and(|x| x == c.name))
                && !store.is_deleted("company", &c.id)
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

pub(crate) async fn company(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult {
    {
        let store = s.written.lock();
        if let Some(c) = store.company(&id) {
            return ok(crate::written::render::company(&store, c));
        }
        if store.is_deleted("company", &id) {
            return Err(company_not_found());
        }
    }
    let r = renderer(&s, false);
    let c = r.view.company_by_id(&id).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "company_not_found",
            "Company Not Found",
        )
    })?;
    ok(r.company(&c))
}

/// Ends the open scroll, if any (after a 500 mid-scroll: resuming is impossible).
pub(crate) fn end_scroll(s: &AppState) {
    if let Ok(mut guard) = s.scroll.lock() {
        *guard = None;
    }
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
) -> ApiResult {
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
            // Exact body UNVERIFIED (§11); HTTP 400 "scroll already exists for this app" (../shared/research/intercom-api.md §9).
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
        .filter_map(|k| r.view.company(k))
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

fn company_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "company_not_found",
        "Company Not Found",
    )
}

/// `GET /companies/{id}/contacts`: the company's contacts, 50 a page (spec L6442ff).
pub(crate) async fn company_contacts(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> ApiResult {
    let r = renderer(&s, false);
    let c = r.view.company_by_id(&id).ok_or_else(company_not_found)?;
    let members = r.view.company_contacts(c.index);
    let pp = per_page(q.per_page.as_deref(), 50, 150)?;
    let p = page(q.page.as_deref())?;
    let n = members.len() as u64;
    let data: Vec<Value> = page_range(p, pp, n)
        .filter_map(|i| r.view.contact(members[i as usize]))
        .map(|x| r.contact(&x))
        .collect();
    ok(json!({"type": "list", "data": data, "total_count": n, "pages": page_pages(p, pp, n)}))
}

/// `GET /companies/{id}/segments`: the company segments it is in (spec L6508ff).
pub(crate) async fn company_segments(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult {
    let r = renderer(&s, false);
    let c = r.view.company_by_id(&id).ok_or_else(company_not_found)?;
    let data: Vec<Value> = r
        .company_segments(&c)
        .iter()
        .map(|sg| r.segment(sg, None))
        .collect();
    ok(json!({"type": "list", "data": data}))
}
