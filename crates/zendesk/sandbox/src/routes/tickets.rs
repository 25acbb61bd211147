//! Tickets: the list and search leave out archived tickets (closed more than 120 days ago) and
//! deleted ones — only the incremental export has every ticket (research §2.3, §7.6, §8 item 8);
//! show answers archived tickets and 404s deleted ones; count; satisfaction ratings.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::HeaderValue;
use serde_json::json;

use crate::error::ApiError;
use crate::origin::Origin;
use crate::paging::Params;
use crate::render::iso;
use crate::respond::{ApiResult, ok};
use crate::routes::{list as paged, renderer};
use crate::state::AppState;

pub(crate) async fn list(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Query(p): Query<Params>,
) -> ApiResult {
    let t = s.tickets(s.view());
    let r = renderer(&s, &o);
    let mut resp = paged("tickets", t.listable.len() as u64, 100, &o, &p, |k| {
        let row = &t.rows[t.listable[k as usize] as usize];
        r.conversation(row).map(|c| r.ticket(row, &c))
    })?;
    // List-ticket endpoints also report their own bucket (research §1.4).
    if let Some(d) = s
        .limiter
        .as_ref()
        .map(|l| l.hit_at("tickets-index-peek", s.clock.since_epoch()))
    {
        let v = format!(
            "total={}; remaining={}; resets={}",
            d.limit,
            d.remaining,
            crate::limits::reset_in(&s, &d)
        );
        if let Ok(v) = HeaderValue::from_str(&v) {
            resp.headers_mut()
                .insert("zendesk-ratelimit-tickets-index", v);
        }
    }
    Ok(resp)
}

pub(crate) async fn count(State(s): State<Arc<AppState>>) -> ApiResult {
    let view = s.view();
    let t = s.tickets(view);
    ok(json!({"count": {"value": t.listable.len(), "refreshed_at": iso(view.now())}}))
}

pub(crate) async fn show(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Path(id): Path<u64>,
) -> ApiResult {
    let t = s.tickets(s.view());
    let r = renderer(&s, &o);
    let row = t
        .row(id)
        .filter(|r| !r.deleted)
        .ok_or_else(ApiError::not_found)?;
    let c = r.conversation(row).ok_or_else(ApiError::not_found)?;
    ok(json!({ "ticket": r.ticket(row, &c) }))
}

pub(crate) async fn show_many(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Query(p): Query<Params>,
) -> ApiResult {
    let t = s.tickets(s.view());
    let r = renderer(&s, &o);
    let tickets: Vec<_> = p
        .get("ids")
        .map(String::as_str)
        .unwrap_or("")
        .split(',')
        .filter_map(|x| x.trim().parse().ok())
        .filter_map(|id| t.row(id).filter(|r| !r.deleted))
        .filter_map(|row| r.conversation(row).map(|c| r.ticket(row, &c)))
        .collect();
    ok(
        json!({ "tickets": tickets, "next_page": null, "previous_page": null, "count": tickets.len() }),
    )
}

/// `GET /search?query=type:ticket [status:…]`: tickets only, archived ones never found.
pub(crate) async fn search(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Query(p): Query<Params>,
) -> ApiResult {
    let query = p.get("query").cloned().unwrap_or_default();
    let t = s.tickets(s.view());
    let r = renderer(&s, &o);
    let wants_tickets = !query.contains("type:") || query.contains("type:ticket");
    let status = query
        .split_whitespace()
        .find_map(|w| w.strip_prefix("status:"))
        .map(str::to_owned);
    let hits: Vec<u32> = if wants_tickets {
        t.listable
            .iter()
            .copied()
            .filter(|k| {
                status
                    .as_deref()
                    .is_none_or(|st| t.rows[*k as usize].status.as_str() == st)
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut params = p.clone();
    params.remove("page[size]");
    paged("results", hits.len() as u64, 100, &o, &params, |k| {
        let row = &t.rows[hits[k as usize] as usize];
        r.conversation(row).map(|c| {
            let mut v = r.ticket(row, &c);
            v["result_type"] = json!("ticket");
            v
        })
    })
}

pub(crate) async fn ratings(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Query(p): Query<Params>,
) -> ApiResult {
    let t = s.tickets(s.view());
    let r = renderer(&s, &o);
    paged(
        "satisfaction_ratings",
        t.rated.len() as u64,
        100,
        &o,
        &p,
        |k| {
            let row = &t.rows[t.rated[k as usize] as usize];
            r.conversation(row).and_then(|c| r.rating(row, &c))
        },
    )
}
