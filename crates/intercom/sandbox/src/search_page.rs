//! Running a search body against one resource: parse, match every record (cached per
//! query and epoch, so later pages are O(page)), sort, and cut a page with a body cursor.

use serde_json::Value;

use crate::error::ApiError;
use crate::paging::{cursor_pages, decode_cursor, encode_cursor};
use crate::search::{FieldType, FieldValue, Query};
use crate::state::AppState;

/// One page of hits.
pub(crate) struct SearchPage {
    pub(crate) indexes: Vec<u64>,
    pub(crate) total: u64,
    pub(crate) pages: Value,
}

/// Reads the named fields of record `i`.
pub(crate) type FieldReader<'a> = dyn Fn(u64, &[String]) -> Vec<(String, FieldValue)> + 'a;

/// What a resource offers to search.
pub(crate) struct Searchable<'a> {
    /// Cache namespace.
    pub(crate) name: &'a str,
    /// Records `0..count` are candidates.
    pub(crate) count: u64,
    pub(crate) default_per_page: u64,
    pub(crate) fields: &'a dyn Fn(&str) -> Option<FieldType>,
    /// Whether record `i` is visible to search at all (e.g. search lag).
    pub(crate) visible: &'a dyn Fn(u64) -> bool,
    /// Reads `field` of record `i`; called with the fields the query and sort need.
    pub(crate) get: &'a FieldReader<'a>,
}

pub(crate) fn run(s: &AppState, body: &Value, r: &Searchable<'_>) -> Result<SearchPage, ApiError> {
    let query = Query::parse(body.get("query"), r.fields)?;
    let pagination = body.get("pagination");
    let per_page = pagination
        .and_then(|p| p.get("per_page"))
        .and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
        .unwrap_or(r.default_per_page)
        .clamp(1, 150);
    let start = match pagination
        .and_then(|p| p.get("starting_after"))
        .and_then(Value::as_str)
    {
        Some(c) if !c.is_empty() => decode_cursor(c)?,
        _ => (0, 1),
    };
    let sort = body.get("sort").filter(|v| !v.is_null());
    let sort_field = match sort {
        Some(sv) => {
            let order = sv
                .get("order")
                .and_then(Value::as_str)
                .unwrap_or("descending");
            if order != "ascending" && order != "descending" {
                return Err(ApiError::new(
                    axum::http::StatusCode::BAD_REQUEST,
                    "invalid_sort_order",
                    "Sort order must be ascending or descending",
                ));
            }
            let f = sv
                .get("field")
                .and_then(Value::as_str)
                .unwrap_or("updated_at")
                .to_string();
            if (r.fields)(&f).is_none() {
                return Err(ApiError::invalid(format!("{f} is not a sortable field")));
            }
            Some((f, order == "descending"))
        }
        None => None,
    };
    let mut needed = Vec::new();
    query.fields(&mut needed);
    if let Some((f, _)) = &sort_field {
        needed.push(f.clone());
    }
    needed.sort();
    needed.dedup();
    let key = format!(
        "{}|{}|{}|{}",
        r.name,
        s.world.epoch(),
        body.get("query").unwrap_or(&Value::Null),
        sort.unwrap_or(&Value::Null)
    );
    let hits = s.cached_search(key, || {
        let mut keyed: Vec<(FieldValue, u64)> = Vec::new();
        for i in 0..r.count {
            if !(r.visible)(i) {
                continue;
            }
            let values = if needed.is_empty() {
                Vec::new()
            } else {
                (r.get)(i, &needed)
            };
            let mut lookup = |f: &str| {
                values
                    .iter()
                    .find(|(k, _)| k == f)
                    .map_or(FieldValue::Null, |(_, v)| v.clone())
            };
            if query.matches(&mut lookup) {
                let sort_key = sort_field
                    .as_ref()
                    .map_or(FieldValue::Null, |(f, _)| lookup(f));
                keyed.push((sort_key, i));
            }
        }
        if let Some((_, desc)) = &sort_field {
            keyed.sort_by(|a, b| {
                let o = order_fv(&a.0, &b.0).then(a.1.cmp(&b.1));
                if *desc { o.reverse() } else { o }
            });
        }
        keyed.into_iter().map(|(_, i)| i).collect()
    });
    let total = hits.len() as u64;
    let (offset, page) = start;
    let end = (offset + per_page).min(total);
    let indexes = hits
        .get(offset.min(total) as usize..end as usize)
        .map(<[u64]>::to_vec)
        .unwrap_or_default();
    let next = (end < total).then(|| {
        encode_cursor(
            end,
            &indexes.last().copied().unwrap_or(0).to_string(),
            page + 1,
        )
    });
    Ok(SearchPage {
        indexes,
        total,
        pages: cursor_pages(page, per_page, total, next),
    })
}

fn order_fv(a: &FieldValue, b: &FieldValue) -> std::cmp::Ordering {
    match (a, b) {
        (FieldValue::Int(x), FieldValue::Int(y)) => x.cmp(y),
        (FieldValue::Str(x), FieldValue::Str(y)) => x.cmp(y),
        (FieldValue::Bool(x), FieldValue::Bool(y)) => x.cmp(y),
        (FieldValue::Null, FieldValue::Null) => std::cmp::Ordering::Equal,
        (FieldValue::Null, _) => std::cmp::Ordering::Less,
        _ => std::cmp::Ordering::Greater,
    }
}
