//! The incremental exports, the extraction backbone (research §2, §8 items 3–4).
//!
//! Cursor exports (tickets, users): the first call sends `start_time` (an integer or a float
//! string), later calls `cursor` only (`cursor=undefined` beside `start_time` is tolerated);
//! `per_page` ≤ 1000; `after_cursor`/`after_url`/`end_of_stream`; deleted tickets come with
//! `status: "deleted"` unless `exclude_deleted=true`. Time-based exports (tickets, users,
//! organizations, ticket events): `count`, `end_time`, `next_page`, `end_of_stream`, and the
//! next page starts *at* `end_time`, so items sharing the boundary second come again — and a
//! page full of one second never advances. Everything changed within the last minute is
//! hidden, and a `start_time` newer than a minute ago is refused with 400. "Now" is the world's
//! clock: the data and its exports share one timeline.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{Query, State};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use deskmove_synth::Conversation;
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::ids::{self, UserRef};
use crate::index::TicketIndex;
use crate::origin::Origin;
use crate::paging::Params;
use crate::render::Render;
use crate::render::audits::{AuditModel, audits};
use crate::render::comments::{CommentModel, comments};
use crate::respond::{ApiResult, ok};
use crate::routes::renderer;
use crate::state::AppState;

/// Records changed this recently are not exported yet (and `start_time` must be older).
pub const EXPORT_LAG_SECS: i64 = 60;
/// The largest (and default) export page.
pub const EXPORT_PAGE_MAX: u64 = 1_000;

/// `start_time` as an integer or a float string (`"1576613539.0"`).
fn start_time(p: &Params, now: i64) -> Result<Option<i64>, ApiError> {
    let Some(raw) = p.get("start_time").filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let t = raw
        .parse::<f64>()
        .ok()
        .filter(|f| f.is_finite() && *f >= 0.0)
        .ok_or_else(|| ApiError::invalid("start_time must be a Unix epoch time in seconds"))?
        .floor() as i64;
    if t > now - EXPORT_LAG_SECS {
        return Err(ApiError::invalid(
            "Too recent start_time. Use a start_time older than 1 minute.",
        ));
    }
    Ok(Some(t))
}

fn per_page(p: &Params) -> Result<u64, ApiError> {
    match p.get("per_page").filter(|v| !v.is_empty()) {
        None => Ok(EXPORT_PAGE_MAX),
        Some(v) => v
            .parse::<u64>()
            .map(|n| n.clamp(1, EXPORT_PAGE_MAX))
            .map_err(|_| ApiError::invalid("per_page must be an integer")),
    }
}

/// Zendesk's cursor shape: base64 of `{seconds}.0||{id}|` (research §2.2).
fn encode_cursor(ts: i64, id: u64) -> String {
    STANDARD.encode(format!("{ts}.0||{id}|"))
}

fn decode_cursor(c: &str) -> Result<(i64, u64), ApiError> {
    let bad = || ApiError::invalid("cursor is invalid");
    let text =
        String::from_utf8(STANDARD.decode(c.trim()).map_err(|_| bad())?).map_err(|_| bad())?;
    let (ts, rest) = text.split_once("||").ok_or_else(bad)?;
    let ts: f64 = ts.parse().map_err(|_| bad())?;
    let id: u64 = rest.trim_end_matches('|').parse().map_err(|_| bad())?;
    Ok((ts as i64, id))
}

/// Where a cursor export resumes: strictly after `(ts, id)`.
fn cursor_position(p: &Params, now: i64) -> Result<(i64, u64), ApiError> {
    if let Some(c) = p
        .get("cursor")
        .filter(|c| !c.is_empty() && *c != "undefined")
    {
        return decode_cursor(c);
    }
    match start_time(p, now)? {
        Some(t) => Ok((t - 1, u64::MAX)),
        None => Err(ApiError::invalid("start_time or cursor is required")),
    }
}

/// One cursor page over `keys` (sorted `(ts, id)`), skipping `skip`.
fn cursor_page(
    keys: &[(i64, u64)],
    from: (i64, u64),
    cutoff: i64,
    size: u64,
    skip: impl Fn(usize) -> bool,
) -> (Vec<usize>, (i64, u64), bool) {
    let start = keys.partition_point(|k| *k <= from);
    let mut served = Vec::new();
    let mut last = from;
    let mut k = start;
    while k < keys.len() && keys[k].0 <= cutoff && (served.len() as u64) < size {
        last = keys[k];
        if !skip(k) {
            served.push(k);
        }
        k += 1;
    }
    let end = k >= keys.len() || keys[k].0 > cutoff;
    (served, last, end)
}

/// The after-link keeps the caller's page size and filters, and carries only the cursor.
fn cursor_body(
    key: &str,
    items: Vec<Value>,
    o: &Origin,
    p: &Params,
    last: (i64, u64),
    end: bool,
) -> Value {
    let after = encode_cursor(last.0, last.1);
    let mut pairs: Vec<(&str, String)> = p
        .iter()
        .filter(|(k, _)| matches!(k.as_str(), "per_page" | "exclude_deleted" | "include"))
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    pairs.push(("cursor", after.clone()));
    let mut m = Map::new();
    m.insert(key.into(), Value::Array(items));
    m.insert("after_url".into(), json!(o.link(&pairs)));
    m.insert("after_cursor".into(), json!(after));
    m.insert("before_url".into(), Value::Null);
    m.insert("before_cursor".into(), Value::Null);
    m.insert("end_of_stream".into(), json!(end));
    Value::Object(m)
}

pub(crate) async fn tickets_cursor(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Query(p): Query<Params>,
) -> ApiResult {
    let view = s.view();
    let now = view.now();
    let from = cursor_position(&p, now)?;
    let size = per_page(&p)?;
    let exclude = p.get("exclude_deleted").is_some_and(|v| v == "true");
    let t = s.tickets(view);
    let keys: Vec<(i64, u64)> = t
        .by_generated
        .iter()
        .map(|r| {
            let row = &t.rows[*r as usize];
            (row.generated, ids::ticket_id(row.index))
        })
        .collect();
    let (served, last, end) = cursor_page(&keys, from, now - EXPORT_LAG_SECS, size, |k| {
        exclude && t.rows[t.by_generated[k] as usize].deleted
    });
    let r = renderer(&s, &o);
    let items = export_tickets(&r, &t, &served);
    let sideloads = r.ticket_sideloads(&items, p.get("include").map_or("", String::as_str));
    ok(with_sideloads(
        cursor_body("tickets", items, &o, &p, last, end),
        sideloads,
    ))
}

/// The tickets at export positions `served`.
fn export_tickets(r: &Render<'_>, t: &TicketIndex, served: &[usize]) -> Vec<Value> {
    served
        .iter()
        .filter_map(|k| {
            let row = &t.rows[t.by_generated[*k] as usize];
            r.conversation(row).map(|c| r.ticket(row, &c))
        })
        .collect()
}

/// Adds side-loaded arrays as extra top-level keys.
fn with_sideloads(mut body: Value, sideloads: Map<String, Value>) -> Value {
    if let Value::Object(m) = &mut body {
        m.extend(sideloads);
    }
    body
}

fn user_keys(s: &AppState) -> (Vec<(i64, u64)>, Vec<UserRef>) {
    let users = s.users(s.view());
    (
        users.iter().map(|u| (u.updated_at, u.id)).collect(),
        users.iter().map(|u| u.who).collect(),
    )
}

pub(crate) async fn users_cursor(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Query(p): Query<Params>,
) -> ApiResult {
    let view = s.view();
    let now = view.now();
    let from = cursor_position(&p, now)?;
    let size = per_page(&p)?;
    let (keys, who) = user_keys(&s);
    let (served, last, end) = cursor_page(&keys, from, now - EXPORT_LAG_SECS, size, |_| false);
    let r = renderer(&s, &o);
    let items = served.iter().filter_map(|k| r.user(who[*k])).collect();
    ok(cursor_body("users", items, &o, &p, last, end))
}

/// One time-based page over sorted `keys`: indexes served, `end_time`, `end_of_stream`.
fn time_page(keys: &[(i64, u64)], start: i64, cutoff: i64, size: u64) -> (Vec<usize>, i64, bool) {
    let first = keys.partition_point(|k| k.0 < start);
    let visible_end = keys.partition_point(|k| k.0 <= cutoff);
    let last = (first as u64 + size).min(visible_end as u64) as usize;
    let served: Vec<usize> = (first..last.max(first)).collect();
    let end_time = served.last().map_or(start, |k| keys[*k].0);
    (served, end_time, last >= visible_end)
}

fn time_body(
    key: &str,
    items: Vec<Value>,
    o: &Origin,
    p: &Params,
    end_time: i64,
    end: bool,
) -> Value {
    let mut pairs: Vec<(&str, String)> = p
        .iter()
        .filter(|(k, _)| matches!(k.as_str(), "per_page" | "include"))
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    pairs.push(("start_time", end_time.to_string()));
    let mut m = Map::new();
    m.insert("count".into(), json!(items.len()));
    m.insert(key.into(), Value::Array(items));
    m.insert("end_time".into(), json!(end_time));
    m.insert("next_page".into(), json!(o.link(&pairs)));
    m.insert("end_of_stream".into(), json!(end));
    Value::Object(m)
}

/// The required `start_time` of a time-based export.
fn time_start(p: &Params, now: i64) -> Result<i64, ApiError> {
    start_time(p, now)?.ok_or_else(|| ApiError::invalid("start_time is required"))
}

pub(crate) async fn tickets_time(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Query(p): Query<Params>,
) -> ApiResult {
    let view = s.view();
    let now = view.now();
    let start = time_start(&p, now)?;
    let size = per_page(&p)?;
    let t = s.tickets(view);
    let keys: Vec<(i64, u64)> = t
        .by_generated
        .iter()
        .map(|r| (t.rows[*r as usize].generated, t.rows[*r as usize].index))
        .collect();
    let (served, end_time, end) = time_page(&keys, start, now - EXPORT_LAG_SECS, size);
    let r = renderer(&s, &o);
    let items = export_tickets(&r, &t, &served);
    let sideloads = r.ticket_sideloads(&items, p.get("include").map_or("", String::as_str));
    ok(with_sideloads(
        time_body("tickets", items, &o, &p, end_time, end),
        sideloads,
    ))
}

pub(crate) async fn users_time(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Query(p): Query<Params>,
) -> ApiResult {
    let view = s.view();
    let now = view.now();
    let start = time_start(&p, now)?;
    let size = per_page(&p)?;
    let (keys, who) = user_keys(&s);
    let (served, end_time, end) = time_page(&keys, start, now - EXPORT_LAG_SECS, size);
    let r = renderer(&s, &o);
    let items = served.iter().filter_map(|k| r.user(who[*k])).collect();
    ok(time_body("users", items, &o, &p, end_time, end))
}

pub(crate) async fn organizations_time(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Query(p): Query<Params>,
) -> ApiResult {
    let view = s.view();
    let now = view.now();
    let start = time_start(&p, now)?;
    let size = per_page(&p)?;
    let keys: Vec<(i64, u64)> = s.organizations(view).to_vec();
    let (served, end_time, end) = time_page(&keys, start, now - EXPORT_LAG_SECS, size);
    let r = renderer(&s, &o);
    let items = served
        .iter()
        .filter_map(|k| r.organization(keys[*k].1))
        .collect();
    ok(time_body("organizations", items, &o, &p, end_time, end))
}

/// Ticket events: one audit per conversation part plus the creation; with
/// `include=comment_events` each comment rides along as a child event, otherwise only the
/// `comment_present`/`comment_public` flags (research §2.2).
pub(crate) async fn ticket_events(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Query(p): Query<Params>,
) -> ApiResult {
    let view = s.view();
    let now = view.now();
    let start = time_start(&p, now)?;
    let size = per_page(&p)?;
    let with_comments = p
        .get("include")
        .is_some_and(|v| v.split(',').any(|x| x == "comment_events"));
    let deep = s.deep(view);
    let keys: Vec<(i64, u64)> = deep.events.iter().map(|e| (e.0, e.1)).collect();
    let (served, end_time, end) = time_page(&keys, start, now - EXPORT_LAG_SECS, size);
    let r = renderer(&s, &o);
    type Loaded = (Conversation, Vec<CommentModel>, Vec<AuditModel>);
    let mut convs: BTreeMap<u64, Option<Loaded>> = BTreeMap::new();
    let mut items = Vec::with_capacity(served.len());
    for k in served {
        let (_, audit, ticket) = deep.events[k];
        let entry = convs.entry(ticket).or_insert_with(|| {
            view.conversation(ticket).map(|c| {
                let list = comments(view, &c);
                let all = audits(&c, &list);
                (c, list, all)
            })
        });
        let Some((c, list, all)) = entry.as_ref() else {
            continue;
        };
        if let Some(a) = all.iter().find(|a| a.id == audit) {
            items.push(r.ticket_event(ticket, a, list, c.channel, with_comments));
        }
    }
    ok(time_body("ticket_events", items, &o, &p, end_time, end))
}
