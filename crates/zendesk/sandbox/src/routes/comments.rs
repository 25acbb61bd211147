//! `GET /tickets/{id}/comments`: CBP with `page[size]` (≤ 100, `sort=-created_at`), OBP
//! otherwise (`sort_order=desc`, 400 past page 100), inline images only with
//! `include_inline_images=true`, and 404 `RecordNotFound` for a deleted ticket (research §3.2,
//! §7.5, §8 item 5). Archived tickets keep their comments.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};

use crate::error::ApiError;
use crate::origin::Origin;
use crate::paging::Params;
use crate::render::comments::comments;
use crate::respond::ApiResult;
use crate::routes::{list as paged, renderer};
use crate::state::AppState;

pub(crate) async fn list(
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
    let mut all = comments(r.view, &c);
    let desc = p.get("sort").is_some_and(|v| v == "-created_at")
        || p.get("sort_order").is_some_and(|v| v == "desc");
    if desc {
        all.reverse();
    }
    let inline = p.get("include_inline_images").is_some_and(|v| v == "true");
    paged("comments", all.len() as u64, 100, &o, &p, |k| {
        all.get(k as usize).map(|m| r.comment(m, c.channel, inline))
    })
}
