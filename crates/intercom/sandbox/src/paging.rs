//! Intercom's pagination styles (`../shared/research/intercom-api.md` §2): cursor
//! (`starting_after` → `pages.next.starting_after`, absent on the last page), page-based
//! (`page`/`per_page`, an empty `data` page past the end, never a 404), and search
//! (cursor in the body).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ApiError;

/// Query parameters of cursor and page-based lists.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListQuery {
    pub(crate) per_page: Option<String>,
    pub(crate) starting_after: Option<String>,
    pub(crate) page: Option<String>,
}

/// `per_page` clamped to `1..=max` (UNVERIFIED whether Intercom clamps or rejects; we clamp).
pub(crate) fn per_page(raw: Option<&str>, default: u64, max: u64) -> Result<u64, ApiError> {
    match raw {
        None | Some("") => Ok(default),
        Some(s) => s
            .parse::<u64>()
            .map(|n| n.clamp(1, max))
            .map_err(|_| ApiError::invalid(format!("per_page must be an integer, got `{s}`"))),
    }
}

/// `page` (1-based; 0 is read as 1).
pub(crate) fn page(raw: Option<&str>) -> Result<u64, ApiError> {
    match raw {
        None | Some("") => Ok(1),
        Some(s) => s
            .parse::<u64>()
            .map(|n| n.max(1))
            .map_err(|_| ApiError::invalid(format!("page must be an integer, got `{s}`"))),
    }
}

/// An opaque cursor: base64 of `[position, "id", page]`, shaped like Intercom's.
pub(crate) fn encode_cursor(position: u64, id: &str, page: u64) -> String {
    STANDARD.encode(json!([position, id, page]).to_string())
}

/// Position and page of a cursor.
pub(crate) fn decode_cursor(cursor: &str) -> Result<(u64, u64), ApiError> {
    let bad = || ApiError::invalid("starting_after is not a valid cursor");
    let bytes = STANDARD.decode(cursor.trim()).map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    let pos = v.get(0).and_then(Value::as_u64).ok_or_else(bad)?;
    let page = v.get(2).and_then(Value::as_u64).unwrap_or(1);
    Ok((pos, page))
}

/// Where a cursor list starts.
pub(crate) fn cursor_start(q: &ListQuery) -> Result<(u64, u64), ApiError> {
    match q.starting_after.as_deref() {
        None | Some("") => Ok((0, 1)),
        Some(c) => decode_cursor(c),
    }
}

/// `pages` of a cursor list; `next` only when there is more.
pub(crate) fn cursor_pages(page: u64, per_page: u64, total: u64, next: Option<String>) -> Value {
    let mut p = json!({
        "type": "pages",
        "page": page,
        "per_page": per_page,
        "total_pages": total.div_ceil(per_page.max(1)),
    });
    if let Some(c) = next {
        p["next"] = json!({ "page": page + 1, "starting_after": c });
    }
    p
}

/// `pages` of a page-based list (no `next` cursor).
pub(crate) fn page_pages(page: u64, per_page: u64, total: u64) -> Value {
    json!({
        "type": "pages",
        "page": page,
        "per_page": per_page,
        "total_pages": total.div_ceil(per_page.max(1)),
    })
}

/// The index range of page `page` in a list of `total` items.
pub(crate) fn page_range(page: u64, per_page: u64, total: u64) -> std::ops::Range<u64> {
    let start = (page - 1).saturating_mul(per_page).min(total);
    start..(start + per_page).min(total)
}
