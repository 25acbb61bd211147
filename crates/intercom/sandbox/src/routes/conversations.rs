//! Conversations: the cursor list, the body-paginated search and retrieve with at most the 500
//! most recent parts (`../shared/research/intercom-api.md` §2, §5).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use deskmove_synth::{ConvState, Conversation};
use serde::Deserialize;
use serde_json::Value;

use crate::error::ApiError;
use crate::paging::{ListQuery, cursor_pages, cursor_start, encode_cursor, per_page};
use crate::render::conversations::AuthorCache;
use crate::render::{Render, admin_id, team_id};
use crate::respond::{ApiResult, ok_typed};
use crate::routes::renderer;
use crate::search::{FieldType, FieldValue};
use crate::search_page::{Searchable, run};
use crate::state::AppState;
use crate::wire::ConversationListOut;

pub(crate) async fn conversations(
    State(s): State<Arc<AppState>>,
    Query(q): Query<ListQuery>,
) -> ApiResult {
    let pp = per_page(q.per_page.as_deref(), 20, 150)?;
    let (start, page_no) = cursor_start(&q)?;
    let r = renderer(&s, false);
    let total = r.view.conversation_count();
    let end = (start + pp).min(total);
    let convs: Vec<_> = (start.min(total)..end)
        .filter_map(|i| r.view.conversation(i))
        .collect();
    let next = (end < total)
        .then(|| encode_cursor(end, &(100_000_000 + end - 1).to_string(), page_no + 1));
    conversation_list(&r, &convs, total, cursor_pages(page_no, pp, total, next))
}

/// `conversation.list` of items without parts.
fn conversation_list(
    r: &Render<'_>,
    convs: &[Conversation],
    total: u64,
    pages: Value,
) -> ApiResult {
    let authors = AuthorCache::new();
    let out = ConversationListOut {
        kind: "conversation.list",
        conversations: convs
            .iter()
            .map(|c| r.conversation_out(c, false, &authors))
            .collect(),
        total_count: total,
        pages,
    };
    ok_typed(&out)
}

#[derive(Debug, Deserialize)]
pub(crate) struct RetrieveQuery {
    display_as: Option<String>,
}

pub(crate) async fn conversation(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(q): Query<RetrieveQuery>,
) -> ApiResult {
    let r = renderer(&s, q.display_as.as_deref() == Some("plaintext"));
    let c = r.view.conversation_by_id(&id).ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "Conversation not found")
    })?;
    let mut authors = AuthorCache::new();
    r.collect_authors([&c], &mut authors);
    ok_typed(&r.conversation_out(&c, true, &authors))
}

fn conversation_field(f: &str) -> Option<FieldType> {
    match f {
        "id" | "state" | "priority" | "source.type" => Some(FieldType::Str),
        "open" | "read" => Some(FieldType::Bool),
        "admin_assignee_id" | "team_assignee_id" => Some(FieldType::Int),
        "created_at" | "updated_at" => Some(FieldType::Date),
        _ => None,
    }
}

pub(crate) async fn search_conversations(
    State(s): State<Arc<AppState>>,
    Json(body): Json<Value>,
) -> ApiResult {
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
                        "id" => FieldValue::Str((100_000_000 + i).to_string()),
                        "state" => FieldValue::Str(sh.state.as_str().to_string()),
                        "open" => FieldValue::Bool(sh.state != ConvState::Closed),
                        "created_at" => FieldValue::Int(sh.created_at),
                        _ => FieldValue::Int(sh.updated_at),
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
                    "id" => FieldValue::Str(c.id.clone()),
                    "state" => FieldValue::Str(c.state.as_str().to_string()),
                    "priority" => FieldValue::Str(c.priority.to_string()),
                    "source.type" => FieldValue::Str(c.channel.to_string()),
                    "open" => FieldValue::Bool(c.state != ConvState::Closed),
                    "read" => FieldValue::Bool(c.read),
                    "admin_assignee_id" => {
                        FieldValue::Int(c.agent_assignee.map_or(0, admin_id) as i64)
                    }
                    "team_assignee_id" => {
                        FieldValue::Int(c.team_assignee.map_or(0, team_id) as i64)
                    }
                    "created_at" => FieldValue::Int(c.created_at),
                    _ => FieldValue::Int(c.updated_at),
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
        .filter_map(|i| r.view.conversation(*i))
        .collect();
    conversation_list(&r, &convs, page.total, page.pages)
}
