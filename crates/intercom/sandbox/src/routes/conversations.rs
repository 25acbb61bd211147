//! Conversations: the cursor list, the body-paginated search (on the fields the spec lists),
//! retrieve with at most the 500 most recent parts, and the conversation attributes
//! (`../shared/research/intercom-api.md` §2, §5).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use deskmove_synth::{Author, ConvState, Conversation, PartKind, Role, View};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::derived::{CONVERSATION_ATTRIBUTES, conversation_attribute_created_at};
use crate::error::ApiError;
use crate::paging::{ListQuery, cursor_pages, cursor_start, encode_cursor, per_page};
use crate::plaintext::to_plaintext;
use crate::render::conversations::AuthorCache;
use crate::render::{Render, admin_id, team_id};
use crate::respond::{ApiResult, ok, ok_typed};
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
    // A written conversation is retrievable at once, with every part written so far.
    {
        let store = s.written.lock();
        if let Some(c) = store.conversation(&id) {
            let mut v = crate::written::render::conversation(&r.view, &store, c);
            if r.plaintext {
                plaintext_bodies(&mut v);
            }
            return ok(v);
        }
    }
    let c = r.view.conversation_by_id(&id).ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "Conversation not found")
    })?;
    let mut authors = AuthorCache::new();
    r.collect_authors([&c], &mut authors);
    ok_typed(&r.conversation_out(&c, true, &authors))
}

/// `display_as=plaintext` for a written conversation: the source's and parts' bodies as text.
fn plaintext_bodies(v: &mut Value) {
    if let Some(b) = v["source"]["body"].as_str() {
        v["source"]["body"] = json!(to_plaintext(b));
    }
    if let Some(parts) = v["conversation_parts"]["conversation_parts"].as_array_mut() {
        for p in parts {
            if let Some(b) = p["body"].as_str() {
                p["body"] = json!(to_plaintext(b));
            }
        }
    }
}

/// The searchable conversation fields the 2.16 spec lists (L11581ff, "Accepted Fields"), with
/// custom attributes by their defined names.
fn conversation_field(f: &str) -> Option<FieldType> {
    if let Some(name) = f.strip_prefix("custom_attributes.") {
        return CONVERSATION_ATTRIBUTES
            .iter()
            .find(|a| a.1 == name)
            .map(|a| {
                if a.2 == "boolean" {
                    FieldType::Bool
                } else {
                    FieldType::Str
                }
            });
    }
    match f {
        "id"
        | "state"
        | "priority"
        | "source.type"
        | "source.id"
        | "source.delivered_as"
        | "source.subject"
        | "source.body"
        | "source.author.id"
        | "source.author.type"
        | "source.author.name"
        | "source.author.email"
        | "source.url"
        | "contact_ids"
        | "teammate_ids"
        | "tag_ids"
        | "statistics.last_closed_by_id" => Some(FieldType::Str),
        "open" | "read" => Some(FieldType::Bool),
        "admin_assignee_id"
        | "team_assignee_id"
        | "statistics.time_to_assignment"
        | "statistics.time_to_admin_reply"
        | "statistics.time_to_first_close"
        | "statistics.time_to_last_close"
        | "statistics.median_time_to_reply"
        | "statistics.count_reopens"
        | "statistics.count_assignments"
        | "statistics.count_conversation_parts" => Some(FieldType::Int),
        "created_at"
        | "updated_at"
        | "waiting_since"
        | "snoozed_until"
        | "statistics.first_contact_reply_at"
        | "statistics.first_assignment_at"
        | "statistics.first_admin_reply_at"
        | "statistics.first_close_at"
        | "statistics.last_assignment_at"
        | "statistics.last_assignment_admin_reply_at"
        | "statistics.last_contact_reply_at"
        | "statistics.last_admin_reply_at"
        | "statistics.last_close_at" => Some(FieldType::Date),
        _ => None,
    }
}

/// Field `f` of conversation `c`, as the conversation renders it (statistics the sandbox does not
/// render are null, as are the unset custom attributes).
fn conversation_value(v: &View<'_>, c: &Conversation, f: &str) -> FieldValue {
    let int = |x: Option<i64>| x.map_or(FieldValue::Null, FieldValue::Int);
    let str_ = |x: Option<String>| x.map_or(FieldValue::Null, FieldValue::Str);
    let first_admin_reply = c
        .parts
        .iter()
        .find(|p| p.kind == PartKind::AgentReply)
        .map(|p| p.created_at);
    let last_close = c.parts.iter().rev().find(|p| p.kind == PartKind::Close);
    let count =
        |k: PartKind| FieldValue::Int(c.parts.iter().filter(|p| p.kind == k).count() as i64);
    let contact = || v.contact(c.contact);
    match f {
        "id" => FieldValue::Str(c.id.clone()),
        "state" => FieldValue::Str(c.state.as_str().to_string()),
        "priority" => FieldValue::Str(c.priority.to_string()),
        "source.type" => FieldValue::Str(c.channel.to_string()),
        "source.id" => FieldValue::Str((c.index + 1).to_string()),
        "source.delivered_as" => FieldValue::Str("customer_initiated".into()),
        "source.subject" => FieldValue::Str(if c.channel == "email" {
            c.title.clone().unwrap_or_default()
        } else {
            String::new()
        }),
        // Matched token by token, not as a phrase (spec: "against every element of the value").
        "source.body" => FieldValue::Many(
            to_plaintext(&c.source_body)
                .split(|ch: char| !ch.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(|w| FieldValue::Str(w.to_string()))
                .collect(),
        ),
        "source.author.id" | "contact_ids" => {
            let id = contact().map(|x| FieldValue::Str(x.id));
            if f == "contact_ids" {
                FieldValue::Many(id.into_iter().collect())
            } else {
                id.unwrap_or(FieldValue::Null)
            }
        }
        "source.author.type" => FieldValue::Str(
            contact()
                .map_or(Role::User, |x| x.role)
                .as_str()
                .to_string(),
        ),
        "source.author.name" => str_(contact().and_then(|x| x.name)),
        "source.author.email" => str_(contact().and_then(|x| x.email)),
        "teammate_ids" => {
            let mut ids: Vec<u64> = c
                .parts
                .iter()
                .filter_map(|p| match p.author {
                    Author::Agent(a) if p.kind.is_message() => Some(admin_id(a)),
                    _ => None,
                })
                .collect();
            ids.sort_unstable();
            ids.dedup();
            FieldValue::Many(
                ids.into_iter()
                    .map(|i| FieldValue::Str(i.to_string()))
                    .collect(),
            )
        }
        "tag_ids" => FieldValue::Many(
            c.tags
                .iter()
                .filter_map(|t| v.tag(*t))
                .map(|t| FieldValue::Str(t.id))
                .collect(),
        ),
        "open" => FieldValue::Bool(c.state != ConvState::Closed),
        "read" => FieldValue::Bool(c.read),
        "admin_assignee_id" => FieldValue::Int(c.agent_assignee.map_or(0, admin_id) as i64),
        "team_assignee_id" => FieldValue::Int(c.team_assignee.map_or(0, team_id) as i64),
        "created_at" | "statistics.first_contact_reply_at" => FieldValue::Int(c.created_at),
        "updated_at" => FieldValue::Int(c.updated_at),
        "waiting_since" => int(c
            .parts
            .last()
            .filter(|p| matches!(p.author, Author::Contact(_)))
            .map(|p| p.created_at)),
        "snoozed_until" => int(c.snoozed_until),
        "statistics.first_admin_reply_at" => int(first_admin_reply),
        "statistics.time_to_admin_reply" => int(first_admin_reply.map(|t| t - c.created_at)),
        "statistics.last_close_at" => int(last_close.map(|p| p.created_at)),
        "statistics.last_closed_by_id" => str_(last_close.and_then(|p| match p.author {
            Author::Agent(a) => Some(admin_id(a).to_string()),
            _ => None,
        })),
        "statistics.count_reopens" => count(PartKind::Open),
        "statistics.count_assignments" => count(PartKind::Assignment),
        "statistics.count_conversation_parts" => FieldValue::Int(c.parts.len() as i64),
        _ => FieldValue::Null,
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
                "id" | "state"
                    | "open"
                    | "created_at"
                    | "updated_at"
                    | "statistics.count_conversation_parts"
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
                        "statistics.count_conversation_parts" => FieldValue::Int(sh.parts as i64),
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
            .map(|f| (f.clone(), conversation_value(&v, &c, f)))
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

#[derive(Debug, Deserialize)]
pub(crate) struct ConversationAttributeQuery {
    include_archived: Option<String>,
}

/// `GET /conversations/attributes`: where 2.16 lists conversation data attributes
/// (`data_attributes?model=conversation` is 422; spec L13615ff, research §2).
pub(crate) async fn conversation_attributes(
    State(s): State<Arc<AppState>>,
    Query(q): Query<ConversationAttributeQuery>,
) -> ApiResult {
    let seed = s.world.config().seed;
    let archived = q.include_archived.as_deref() == Some("true");
    let data: Vec<Value> = CONVERSATION_ATTRIBUTES
        .iter()
        .filter(|a| archived || !a.4)
        .map(|(id, name, data_type, options, is_archived)| {
            let at = conversation_attribute_created_at(seed, *id);
            let mut v = json!({
                "type": "conversation_attribute",
                "id": id,
                "name": name,
                "description": "",
                "data_type": data_type,
                "required": false,
                "visible_to_team_ids": [],
                "archived": is_archived,
                "created_at": at,
                "updated_at": at,
                "admin_id": admin_id(0).to_string(),
            });
            match *data_type {
                "string" => v["multiline"] = json!(false),
                "list" => {
                    v["options"] = json!(options.iter().enumerate().map(|(k, label)| json!({
                        "id": format!("{:08x}-0000-4000-a000-{:012x}", seed as u32, id * 100 + k as u64),
                        "label": label,
                        "archived": false,
                    })).collect::<Vec<_>>());
                }
                _ => {}
            }
            v
        })
        .collect();
    ok(json!({"type": "list", "data": data}))
}
