//! Conversations (cursor list, search, retrieve capped at the 500 most recent parts),
//! tickets search/retrieve, macros (2.16), articles and help-center collections
//! (page-based, empty page past the end) — `../shared/research/intercom-api.md` §2, §5.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::gate::json_bytes;
use super::paging::{
    ListQuery, cursor_pages, cursor_start, encode_cursor, page, page_pages, page_range, per_page,
};
use super::render::Render;
use super::routes_directory::{Res, ok, renderer};
use super::search::{Fv, Kind};
use super::search_page::{Searchable, run};
use super::state::AppState;
use super::wire::{AuthorCache, ConversationOut};
use deskmove_synth::Conversation;
use serde::Serialize;

pub(crate) async fn conversations(
    State(s): State<Arc<AppState>>,
    Query(q): Query<ListQuery>,
) -> Res {
    let pp = per_page(q.per_page.as_deref(), 20, 150)?;
    let (start, page_no) = cursor_start(&q)?;
    let r = renderer(&s, false);
    let total = r.v.conversation_count();
    let end = (start + pp).min(total);
    let convs: Vec<_> = (start.min(total)..end)
        .filter_map(|i| r.v.conversation(i))
        .collect();
    let next = (end < total)
        .then(|| encode_cursor(end, &(100_000_000 + end - 1).to_string(), page_no + 1));
    conversation_list(&r, &convs, total, cursor_pages(page_no, pp, total, next))
}

#[derive(Serialize)]
struct ConversationList<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    conversations: Vec<ConversationOut<'a>>,
    total_count: u64,
    pages: Value,
}

/// `conversation.list` of items without parts.
fn conversation_list(r: &Render<'_>, convs: &[Conversation], total: u64, pages: Value) -> Res {
    let authors = AuthorCache::new();
    let out = ConversationList {
        kind: "conversation.list",
        conversations: convs
            .iter()
            .map(|c| r.conversation_out(c, false, &authors))
            .collect(),
        total_count: total,
        pages,
    };
    serialize(&out)
}

fn serialize(v: &impl Serialize) -> Res {
    let bytes = serde_json::to_vec(v).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            e.to_string(),
        )
    })?;
    Ok(json_bytes(StatusCode::OK, bytes))
}

#[derive(Debug, Deserialize)]
pub(crate) struct RetrieveQuery {
    display_as: Option<String>,
}

pub(crate) async fn conversation(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(q): Query<RetrieveQuery>,
) -> Res {
    let r = renderer(&s, q.display_as.as_deref() == Some("plaintext"));
    let c = r.v.conversation_by_id(&id).ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "Conversation not found")
    })?;
    let mut authors = AuthorCache::new();
    r.collect_authors([&c], &mut authors);
    serialize(&r.conversation_out(&c, true, &authors))
}

fn conversation_field(f: &str) -> Option<Kind> {
    match f {
        "id" | "state" | "priority" | "source.type" => Some(Kind::Str),
        "open" | "read" => Some(Kind::Bool),
        "admin_assignee_id" | "team_assignee_id" => Some(Kind::Int),
        "created_at" | "updated_at" => Some(Kind::Date),
        _ => None,
    }
}

pub(crate) async fn search_conversations(
    State(s): State<Arc<AppState>>,
    Json(body): Json<Value>,
) -> Res {
    let v = s.world.view();
    let visible = |_: u64| true;
    let get = |i: u64, fields: &[String]| {
        let cheap = fields.iter().all(|f| {
            matches!(
                f.as_str(),
                "id" | "state" | "open" | "created_at" | "updated_at"
            )
        });
        if cheap {
            let Some(sh) = v.conversation_shape(i) else {
                return Vec::new();
            };
            return fields
                .iter()
                .map(|f| {
                    let val = match f.as_str() {
                        "id" => Fv::Str((100_000_000 + i).to_string()),
                        "state" => Fv::Str(sh.state.as_str().to_string()),
                        "open" => Fv::Bool(sh.state != deskmove_synth::ConvState::Closed),
                        "created_at" => Fv::Int(sh.created_at),
                        _ => Fv::Int(sh.updated_at),
                    };
                    (f.clone(), val)
                })
                .collect();
        }
        let Some(c) = v.conversation(i) else {
            return Vec::new();
        };
        fields
            .iter()
            .map(|f| {
                let val = match f.as_str() {
                    "id" => Fv::Str(c.id.clone()),
                    "state" => Fv::Str(c.state.as_str().to_string()),
                    "priority" => Fv::Str(c.priority.to_string()),
                    "source.type" => Fv::Str(c.channel.to_string()),
                    "open" => Fv::Bool(c.state != deskmove_synth::ConvState::Closed),
                    "read" => Fv::Bool(c.read),
                    "admin_assignee_id" => {
                        Fv::Int(c.admin_assignee.map_or(0, |a| 900_000 + a as i64))
                    }
                    "team_assignee_id" => Fv::Int(c.team_assignee.map_or(0, |t| 5_000 + t as i64)),
                    "created_at" => Fv::Int(c.created_at),
                    _ => Fv::Int(c.updated_at),
                };
                (f.clone(), val)
            })
            .collect()
    };
    let spec = Searchable {
        name: "conversations",
        count: v.conversation_count(),
        default_per_page: 20,
        fields: &conversation_field,
        visible: &visible,
        get: &get,
    };
    let page = run(&s, &body, &spec)?;
    let r = renderer(&s, false);
    let convs: Vec<_> = page
        .indexes
        .iter()
        .filter_map(|i| r.v.conversation(*i))
        .collect();
    conversation_list(&r, &convs, page.total, page.pages)
}

fn ticket_field(f: &str) -> Option<Kind> {
    match f {
        "id" | "state" | "category" | "title" => Some(Kind::Str),
        "created_at" | "updated_at" => Some(Kind::Date),
        _ => None,
    }
}

/// There is no tickets list endpoint, only search (§2).
pub(crate) async fn search_tickets(State(s): State<Arc<AppState>>, Json(body): Json<Value>) -> Res {
    let v = s.world.view();
    let visible = |_: u64| true;
    let get = |i: u64, fields: &[String]| {
        let Some(t) = v.ticket(i) else {
            return Vec::new();
        };
        fields
            .iter()
            .map(|f| {
                let val = match f.as_str() {
                    "id" => Fv::Str(t.id.clone()),
                    "state" => Fv::Str(t.state.to_string()),
                    "category" => Fv::Str(t.category.to_string()),
                    "title" => Fv::Str(t.title.clone()),
                    "created_at" => Fv::Int(t.created_at),
                    _ => Fv::Int(t.updated_at),
                };
                (f.clone(), val)
            })
            .collect()
    };
    let spec = Searchable {
        name: "tickets",
        count: v.ticket_count(),
        default_per_page: 20,
        fields: &ticket_field,
        visible: &visible,
        get: &get,
    };
    let page = run(&s, &body, &spec)?;
    let r = renderer(&s, false);
    let data: Vec<Value> = page
        .indexes
        .iter()
        .filter_map(|i| r.v.ticket(*i))
        .map(|t| r.ticket(&t))
        .collect();
    ok(
        json!({"type": "ticket.list", "tickets": data, "total_count": page.total, "pages": page.pages}),
    )
}

pub(crate) async fn ticket(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> Res {
    let r = renderer(&s, false);
    let t = r.v.ticket_by_id(&id).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "ticket_not_found",
            "Ticket not found",
        )
    })?;
    ok(r.ticket(&t))
}

#[derive(Debug, Deserialize)]
pub(crate) struct MacroQuery {
    per_page: Option<String>,
    starting_after: Option<String>,
    updated_since: Option<String>,
}

/// Macros: newest `updated_at` first; cursor = base64 of `[updated_at, "id"]` (spec L219ff).
pub(crate) async fn macros(State(s): State<Arc<AppState>>, Query(q): Query<MacroQuery>) -> Res {
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
            r.v.macro_by_id(id).ok_or_else(bad)?.index + 1
        }
    };
    let all: Vec<_> = (start..r.v.macro_count())
        .filter_map(|i| r.v.macro_(i))
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

pub(crate) async fn macro_one(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> Res {
    let r = renderer(&s, false);
    let m =
        r.v.macro_by_id(&id)
            .ok_or_else(|| ApiError::not_found("Resource Not Found"))?;
    ok(r.macro_(&m))
}

pub(crate) async fn articles(State(s): State<Arc<AppState>>, Query(q): Query<ListQuery>) -> Res {
    let pp = per_page(q.per_page.as_deref(), 25, 250)?;
    let p = page(q.page.as_deref())?;
    let r = renderer(&s, false);
    let total = r.v.article_count();
    let data: Vec<Value> = page_range(p, pp, total)
        .filter_map(|i| r.v.article(i))
        .map(|a| r.article(&a))
        .collect();
    ok(
        json!({"type": "list", "data": data, "total_count": total, "pages": page_pages(p, pp, total)}),
    )
}

pub(crate) async fn article(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> Res {
    let r = renderer(&s, false);
    let a =
        r.v.article_by_id(&id)
            .ok_or_else(|| ApiError::not_found("Resource Not Found"))?;
    ok(r.article(&a))
}

pub(crate) async fn collections(State(s): State<Arc<AppState>>, Query(q): Query<ListQuery>) -> Res {
    let pp = per_page(q.per_page.as_deref(), 25, 250)?;
    let p = page(q.page.as_deref())?;
    let r = renderer(&s, false);
    let total = r.v.collection_count();
    let data: Vec<Value> = page_range(p, pp, total)
        .filter_map(|i| r.v.collection(i))
        .map(|c| r.collection(&c))
        .collect();
    ok(
        json!({"type": "list", "data": data, "total_count": total, "pages": page_pages(p, pp, total)}),
    )
}

pub(crate) async fn collection(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> Res {
    let r = renderer(&s, false);
    let c =
        r.v.collection_by_id(&id)
            .ok_or_else(|| ApiError::not_found("Resource Not Found"))?;
    ok(r.collection(&c))
}
