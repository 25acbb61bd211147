//! Macros (saved replies, 2.16): newest `updated_at` first with an `updated_since` filter and a
//! cursor of its own (`../shared/research/intercom-api.md` §2).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::paging::per_page;
use crate::respond::{ApiResult, ok};
use crate::routes::renderer;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub(crate) struct MacroQuery {
    per_page: Option<String>,
    starting_after: Option<String>,
    updated_since: Option<String>,
}

/// Macros: newest `updated_at` first; cursor = base64 of `[updated_at, "id"]` (spec L219ff).
pub(crate) async fn macros(
    State(s): State<Arc<AppState>>,
    Query(q): Query<MacroQuery>,
) -> ApiResult {
    let pp = per_page(q.per_page.as_deref(), 50, 150)?;
    let r = renderer(&s, false);
    let since: Option<i64> = match q.updated_since.as_deref() {
        None | Some("") => None,
        Some(x) => Some(
            x.parse::<i64>()
                .map_err(|_| ApiError::invalid("updated_since must be a UNIX timestamp"))?,
        ),
    };
    let start = match q.starting_after.as_deref() {
        None | Some("") => 0,
        Some(c) => {
            let bad = || ApiError::invalid("starting_after is not a valid cursor");
            let raw = STANDARD.decode(c.trim()).map_err(|_| bad())?;
            let v: Value = serde_json::from_slice(&raw).map_err(|_| bad())?;
            let id = v.get(1).and_then(Value::as_str).ok_or_else(bad)?;
            r.view.macro_by_id(id).ok_or_else(bad)?.index + 1
        }
    };
    let all: Vec<_> = (start..r.view.macro_count())
        .filter_map(|i| r.view.macro_(i))
        .filter(|m| since.is_none_or(|t| m.updated_at > t))
        .collect();
    let page: Vec<_> = all.iter().take(pp as usize).collect();
    let mut pages = json!({"type": "pages", "per_page": pp});
    if all.len() > page.len()
        && let Some(last) = page.last()
    {
        let cursor = STANDARD.encode(format!("[{}.0, \"{}\"]", last.updated_at, last.id));
        pages["next"] = json!({"starting_after": cursor});
    }
    ok(
        json!({"type": "list", "data": page.iter().map(|m| r.macro_(m)).collect::<Vec<_>>(), "pages": pages}),
    )
}

pub(crate) async fn macro_one(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult {
    let r = renderer(&s, false);
    let m = r
        .view
        .macro_by_id(&id)
        .ok_or_else(|| ApiError::not_found("Resource Not Found"))?;
    ok(r.macro_(&m))
}
