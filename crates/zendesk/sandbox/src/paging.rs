//! Zendesk's two list dialects (research §1.3, §8 item 5): cursor pagination (CBP) when
//! `page[size]` is sent (≤ 100; `meta.has_more/after_cursor/before_cursor`, `links.next/prev`)
//! and offset pagination (OBP) otherwise (`page`/`per_page` ≤ 100, `next_page/previous_page`
//! absolute URLs or null, `count`; 400 beyond page 100 since 2024).
//!
//! When the items fill the last cursor page exactly, that page still says `has_more: true` and
//! the next one comes back empty — zenpy documents meeting this in the wild (§1.3).

use std::collections::BTreeMap;
use std::ops::Range;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::origin::Origin;

/// A request's query parameters, raw.
pub(crate) type Params = BTreeMap<String, String>;

/// Offset pagination stops here (100 pages of at most 100).
pub(crate) const OBP_MAX_PAGE: u64 = 100;
/// The largest page either dialect serves.
pub(crate) const MAX_PAGE_SIZE: u64 = 100;

/// Which dialect and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Page {
    Cursor {
        size: u64,
        after: Option<u64>,
        before: Option<u64>,
    },
    Offset {
        page: u64,
        per_page: u64,
    },
}

fn number(params: &Params, key: &str) -> Result<Option<u64>, ApiError> {
    match params.get(key).map(String::as_str) {
        None | Some("") => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|_| ApiError::invalid(format!("{key} must be an integer"))),
    }
}

fn encode(pos: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("p{pos}"))
}

fn decode(cursor: &str) -> Result<u64, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix('p').and_then(|n| n.parse().ok()))
        .ok_or_else(|| ApiError::pagination("page[after] or page[before] is not a valid cursor"))
}

/// Reads the dialect from the query; `default` is the offset page size.
pub(crate) fn parse(params: &Params, default: u64) -> Result<Page, ApiError> {
    if let Some(size) = number(params, "page[size]")? {
        if size > MAX_PAGE_SIZE {
            return Err(ApiError::pagination(format!(
                "page[size] is limited to {MAX_PAGE_SIZE}"
            )));
        }
        let after = params.get("page[after]").filter(|c| !c.is_empty());
        let before = params.get("page[before]").filter(|c| !c.is_empty());
        if after.is_some() && before.is_some() {
            return Err(ApiError::pagination(
                "page[before] and page[after] are mutually exclusive",
            ));
        }
        return Ok(Page::Cursor {
            size: size.max(1),
            after: after.map(|c| decode(c)).transpose()?,
            before: before.map(|c| decode(c)).transpose()?,
        });
    }
    let page = number(params, "page")?.unwrap_or(1).max(1);
    if page > OBP_MAX_PAGE {
        return Err(ApiError::pagination(
            "Offset pagination is limited to the first 100 pages (10,000 records). Use cursor-based pagination instead.",
        ));
    }
    let per_page = number(params, "per_page")?
        .unwrap_or(default)
        .clamp(1, MAX_PAGE_SIZE);
    Ok(Page::Offset { page, per_page })
}

/// One page of a list of `total` items: the index range to serve and the pagination keys to
/// merge into the body. Links keep the caller's other parameters.
pub(crate) fn slice(
    page: Page,
    total: u64,
    origin: &Origin,
    params: &Params,
) -> (Range<u64>, Map<String, Value>) {
    let keep: Vec<(&str, String)> = params
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "page" | "per_page") && !k.starts_with("page["))
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    let mut out = Map::new();
    match page {
        Page::Cursor {
            size,
            after,
            before,
        } => {
            let range = match before {
                Some(end) => end.min(total).saturating_sub(size)..end.min(total),
                None => {
                    let start = after.unwrap_or(0).min(total);
                    start..(start + size).min(total)
                }
            };
            let served = range.end - range.start;
            let has_more = range.end < total || (served == size && served > 0);
            let link = |key: &'static str, pos: u64| {
                let mut pairs = keep.clone();
                pairs.push(("page[size]", size.to_string()));
                pairs.push((key, encode(pos)));
                origin.link(&pairs)
            };
            out.insert(
                "meta".into(),
                json!({
                    "has_more": has_more,
                    "after_cursor": encode(range.end),
                    "before_cursor": encode(range.start),
                }),
            );
            out.insert(
                "links".into(),
                json!({
                    "next": link("page[after]", range.end),
                    "prev": link("page[before]", range.start),
                }),
            );
            (range, out)
        }
        Page::Offset { page, per_page } => {
            let start = (page - 1).saturating_mul(per_page).min(total);
            let range = start..(start + per_page).min(total);
            let link = |p: u64| {
                let mut pairs = keep.clone();
                pairs.push(("page", p.to_string()));
                pairs.push(("per_page", per_page.to_string()));
                origin.link(&pairs)
            };
            // Past page 100 the link still comes; following it is what answers 400.
            let next = (range.end < total).then(|| link(page + 1));
            let prev = (page > 1).then(|| link(page - 1));
            out.insert("next_page".into(), json!(next));
            out.insert("previous_page".into(), json!(prev));
            out.insert("count".into(), json!(total));
            (range, out)
        }
    }
}

/// `{key: items, …pagination}`.
pub(crate) fn body(key: &str, items: Vec<Value>, mut meta: Map<String, Value>) -> Value {
    let mut m = Map::new();
    m.insert(key.into(), Value::Array(items));
    m.append(&mut meta);
    Value::Object(m)
}
