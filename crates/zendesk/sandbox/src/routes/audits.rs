//! Ticket audits: per ticket (CBP or OBP; an archived ticket's audits come all at once,
//! unpaginated) and the account-wide `GET /ticket_audits` (cursor only), which leaves archived
//! and deleted tickets out (research §2.3, §8 item 8).

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::origin::Origin;
use crate::paging::{self, Params};
use crate::render::audits::audits;
use crate::render::comments::comments;
use crate::respond::{ApiResult, ok};
use crate::routes::{list as paged, renderer};
use crate::state::AppState;

pub(crate) async fn for_ticket(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Path(id): Path<u64>,
    Query(p): Query<Params>,
) -> ApiResult {
    let t = s.tickets(s.view());
    let r = renderer(&s, &o);
    let row = t
        .row(id)
        .filter(|r| !r.deleted)
        .ok_or_else(ApiError::not_found)?;
    let c = r.conversation(row).ok_or_else(ApiError::not_found)?;
    let list = comments(r.view, &c);
    let all = audits(&c, &list);
    if row.archived {
        let items: Vec<Value> = all
            .iter()
            .map(|a| r.audit(row.index, a, &list, c.channel))
            .collect();
        let n = items.len();
        return ok(json!({"audits": items, "next_page": null, "previous_page": null, "count": n}));
    }
    paged("audits", all.len() as u64, 100, &o, &p, |k| {
        all.get(k as usize)
            .map(|a| r.audit(row.index, a, &list, c.channel))
    })
}

/// Cursor pagination only; the cursor keys also appear at the top level, as the spec has them.
pub(crate) async fn all(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Query(mut p): Query<Params>,
) -> ApiResult {
    let view = s.view();
    let t = s.tickets(view);
    let deep = s.deep(view);
    let live: Vec<(u64, u64)> = deep
        .events
        .iter()
        .filter(|e| {
            t.rows
                .get(e.2 as usize)
                .is_some_and(|r| !r.archived && !r.deleted)
        })
        .map(|e| (e.1, e.2))
        .collect();
    // Only cursor pagination here: without `page[size]` it is a first page of 100.
    p.entry("page[size]".into()).or_insert_with(|| "100".into());
    let page = paging::parse(&p, 100)?;
    let (range, meta) = paging::slice(page, live.len() as u64, &o, &p);
    let r = renderer(&s, &o);
    let mut items = Vec::new();
    for k in range {
        let (audit, ticket) = live[k as usize];
        let Some(c) = view.conversation(ticket) else {
            continue;
        };
        let list = comments(view, &c);
        if let Some(a) = audits(&c, &list).iter().find(|a| a.id == audit) {
            items.push(r.audit(ticket, a, &list, c.channel));
        }
    }
    let mut body = paging::body("audits", items, meta);
    let next = body["links"]["next"].clone();
    let prev = body["links"]["prev"].clone();
    body["after_cursor"] = body["meta"]["after_cursor"].clone();
    body["before_cursor"] = body["meta"]["before_cursor"].clone();
    body["after_url"] = next;
    body["before_url"] = prev;
    ok(body)
}
