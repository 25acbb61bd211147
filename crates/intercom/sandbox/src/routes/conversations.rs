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
use crate::written::{Store, WConversation, render as written_render};

/// Whether anything written touches conversations (else the typed, allocation-light paths
/// serve the world alone, as an export's hot loop needs).
fn conversations_written(store: &Store) -> bool {
    !store.conversations.is_empty()
        || !store.overlays.is_empty()
        || store.taggings.iter().any(|t| t.object == "conversation")
        || store.deletions.iter().any(|d| d.object == "conversation")
}

/// `GET /conversations`: the world's conversations, then the written ones, deleted ones left out
/// (positions `world..` in the cursor are the written conversations in write order).
pub(crate) async fn conversations(
    State(s): State<Arc<AppState>>,
    Query(q): Query<ListQuery>,
) -> ApiResult {
    let pp = per_page(q.per_page.as_deref(), 20, 150)?;
    let (start, page_no) = cursor_start(&q)?;
    let r = renderer(&s, false);
    let world = r.view.conversation_count();
    let store = s.written.lock();
    if !conversations_written(&store) {
        drop(store);
        let end = (start + pp).min(world);
        let convs: Vec<_> = (start.min(world)..end)
            .filter_map(|i| r.view.conversation(i))
            .collect();
        let next = (end < world)
            .then(|| encode_cursor(end, &(100_000_000 + end - 1).to_string(), page_no + 1));
        return conversation_list(&r, &convs, world, cursor_pages(page_no, pp, world, next));
    }
    let positions = world + store.conversations.len() as u64;
    let total = positions - store.deleted_seeded("conversation");
    let mut items = Vec::new();
    let mut at = start;
    while at < positions && (items.len() as u64) < pp {
        if at < world {
            let id = (100_000_000 + at).to_string();
            if !store.is_deleted("conversation", &id)
                && let Some(c) = r.view.conversation(at)
            {
                items.push(world_json(&r, &store, &c, false));
            }
        } else if let Some(c) = store.conversations.get((at - world) as usize) {
            items.push(written_render::conversation(&r, &store, c, false));
        }
        at += 1;
    }
    let next = (at < positions).then(|| encode_cursor(at, &at.to_string(), page_no + 1));
    ok(
        json!({"type": "conversation.list", "conversations": items, "total_count": total,
        "pages": cursor_pages(page_no, pp, total, next)}),
    )
}

/// A world conversation as JSON with what was written into it on top.
fn world_json(r: &Render<'_>, store: &Store, c: &Conversation, with_parts: bool) -> Value {
    let mut authors = AuthorCache::new();
    if with_parts {
        r.collect_authors([c], &mut authors);
    }
    let mut v =
        serde_json::to_value(r.conversation_out(c, with_parts, &authors)).unwrap_or(Value::Null);
    written_render::apply_overlay(r, store, &mut v, &c.id, with_parts);
    v
}

/// `GET /conversations/{id}` as JSON: a written conversation, or a seeded one with what was
/// written into it; `None` when there is none (or it was deleted).
pub(crate) fn retrieve_json(r: &Render<'_>, store: &Store, id: &str) -> Option<Value> {
    if let Some(c) = store.conversation(id) {
        return Some(written_render::conversation(r, store, c, true));
    }
    if store.is_deleted("conversation", id) {
        return None;
    }
    let c = r.view.conversation_by_id(id)?;
    Some(world_json(r, store, &c, true))
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
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "not_found", "Conversation not found");
    {
        let store = s.written.lock();
        let touched = store.conversation(&id).is_some()
            || store.overlay(&id).is_some()
            || store.is_deleted("conversation", &id)
            || !store.tags_of("conversation", &id).is_empty();
        if touched {
            return retrieve_json(&r, &store, &id)
                .map(ok)
                .unwrap_or_else(|| Err(not_found()));
        }
    }
    let c = r.view.conversation_by_id(&id).ok_or_else(not_found)?;
    let mut authors = AuthorCache::new();
    r.collect_authors([&c], &mut authors);
    ok_typed(&r.conversation_out(&c, true, &authors))
}

/// The searchable conversation fields the 2.16 spec lists (L11581ff, "Accepted Fields"), with
/// custom attributes by their defined names.
fn conversation_field(store: &Store, f: &str) -> Option<FieldType> {
    if let Some(name) = f.strip_prefix("custom_attributes.") {
        let data_type = CONVERSATION_ATTRIBUTES
            .iter()
            .find(|a| a.1 == name)
            .map(|a| a.2)
            .or_else(|| {
                store
                    .conversation_attributes
                    .iter()
                    .find(|a| a.name == name)
                    .map(|a| a.data_type.as_str())
            })?;
        return Some(match data_type {
            "boolean" => FieldType::Bool,
            "integer" | "decimal" => FieldType::Int,
            "datetime" => FieldType::Date,
            _ => FieldType::Str,
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

/// A custom attribute's JSON value as search compares it.
fn json_field(v: Option<&Value>) -> FieldValue {
    match v {
        Some(Value::String(x)) => FieldValue::Str(x.clone()),
        Some(Value::Bool(b)) => FieldValue::Bool(*b),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f as i64))
            .map_or(FieldValue::Null, FieldValue::Int),
        _ => FieldValue::Null,
    }
}

/// The tokens of a body, as `source.body` matches them.
fn body_tokens(html: &str) -> FieldValue {
    FieldValue::Many(
        to_plaintext(html)
            .split(|ch: char| !ch.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(|w| FieldValue::Str(w.to_string()))
            .collect(),
    )
}

fn tag_ids(store: &Store, id: &str) -> Vec<FieldValue> {
    store
        .tags_of("conversation", id)
        .iter()
        .map(|t| FieldValue::Str(t.tag_id.clone()))
        .collect()
}

/// Field `f` of a written conversation.
fn written_value(store: &Store, c: &WConversation, f: &str) -> FieldValue {
    if let Some(name) = f.strip_prefix("custom_attributes.") {
        return json_field(c.custom_attributes.get(name));
    }
    let count =
        |t: &str| FieldValue::Int(c.parts.iter().filter(|p| p.part_type == t).count() as i64);
    let contact = store.contact(&c.contact_id);
    match f {
        "id" => FieldValue::Str(c.id.clone()),
        "state" => FieldValue::Str(c.state.clone()),
        "priority" => FieldValue::Str("none".into()),
        "source.type" => FieldValue::Str(c.channel.clone()),
        "source.id" => FieldValue::Str(c.source.id.clone()),
        "source.delivered_as" => FieldValue::Str(c.delivered_as.clone()),
        "source.subject" => FieldValue::Str(c.subject.clone().unwrap_or_default()),
        "source.body" => body_tokens(c.source.body.as_deref().unwrap_or_default()),
        "source.author.id" => FieldValue::Str(c.source.author.id.clone()),
        "source.author.type" => FieldValue::Str(c.source.author.kind.clone()),
        "source.author.name" => contact
            .and_then(|x| x.name.clone())
            .map_or(FieldValue::Null, FieldValue::Str),
        "source.author.email" => contact
            .and_then(|x| x.email.clone())
            .map_or(FieldValue::Null, FieldValue::Str),
        "contact_ids" => FieldValue::Many(vec![FieldValue::Str(c.contact_id.clone())]),
        "teammate_ids" => {
            let mut ids: Vec<String> = c
                .parts
                .iter()
                .filter(|p| p.author.kind == "admin")
                .map(|p| p.author.id.clone())
                .collect();
            ids.sort();
            ids.dedup();
            FieldValue::Many(ids.into_iter().map(FieldValue::Str).collect())
        }
        "tag_ids" => FieldValue::Many(tag_ids(store, &c.id)),
        "open" => FieldValue::Bool(c.state != "closed"),
        "read" => FieldValue::Bool(c.read),
        "admin_assignee_id" => FieldValue::Int(c.admin_assignee_id as i64),
        "team_assignee_id" => FieldValue::Int(c.team_assignee_id as i64),
        "created_at" | "statistics.first_contact_reply_at" => FieldValue::Int(c.created_at),
        "updated_at" => FieldValue::Int(c.updated_at),
        "snoozed_until" => c.snoozed_until.map_or(FieldValue::Null, FieldValue::Int),
        "waiting_since" => {
            written_render::waiting_since(&c.parts).map_or(FieldValue::Null, FieldValue::Int)
        }
        "statistics.count_reopens" => count("open"),
        "statistics.count_assignments" => count("assignment"),
        "statistics.count_conversation_parts" => FieldValue::Int(c.parts.len() as i64 + 1),
        _ => FieldValue::Null,
    }
}

/// Field `f` of a seeded conversation, with what was written into it on top of `base`.
fn overlaid_value(store: &Store, id: &str, f: &str, base: FieldValue) -> FieldValue {
    if f == "tag_ids" {
        let mut ids = match base {
            FieldValue::Many(v) => v,
            _ => Vec::new(),
        };
        if let Some(o) = store.overlay(id) {
            ids.retain(|t| !matches!(t, FieldValue::Str(x) if o.untagged.contains(x)));
        }
        for t in tag_ids(store, id) {
            if !ids.contains(&t) {
                ids.push(t);
            }
        }
        return FieldValue::Many(ids);
    }
    let Some(o) = store.overlay(id) else {
        return base;
    };
    let int = |base: FieldValue, n: usize| match base {
        FieldValue::Int(x) => FieldValue::Int(x + n as i64),
        other => other,
    };
    let count = |t: &str| o.parts.iter().filter(|p| p.part_type == t).count();
    if let Some(name) = f.strip_prefix("custom_attributes.") {
        return match o.custom_attributes.get(name) {
            Some(v) => json_field(Some(v)),
            None => base,
        };
    }
    match f {
        "state" => o.state.clone().map_or(base, FieldValue::Str),
        "open" => o
            .state
            .as_ref()
            .map_or(base, |st| FieldValue::Bool(st != "closed")),
        "read" => o.read.map_or(base, FieldValue::Bool),
        "snoozed_until" if o.state.is_some() => {
            o.snoozed_until.map_or(FieldValue::Null, FieldValue::Int)
        }
        "admin_assignee_id" => o
            .admin_assignee_id
            .map_or(base, |n| FieldValue::Int(n as i64)),
        "team_assignee_id" => o
            .team_assignee_id
            .map_or(base, |n| FieldValue::Int(n as i64)),
        "updated_at" => match (base, o.updated_at) {
            (FieldValue::Int(b), Some(at)) => FieldValue::Int(b.max(at)),
            (b, _) => b,
        },
        "statistics.count_conversation_parts" => int(base, o.parts.len()),
        "statistics.count_reopens" => int(base, count("open")),
        "statistics.count_assignments" => int(base, count("assignment")),
        "teammate_ids" => {
            let mut ids = match base {
                FieldValue::Many(v) => v,
                _ => Vec::new(),
            };
            for p in o.parts.iter().filter(|p| p.author.kind == "admin") {
                let id = FieldValue::Str(p.author.id.clone());
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            FieldValue::Many(ids)
        }
        _ => base,
    }
}

/// `POST /conversations/search`: the world's conversations (with what was written into them),
/// then the written ones; deleted ones are not found. Research documents a search lag for new
/// contacts only (spec L8732), so a written conversation is found at once.
pub(crate) async fn search_conversations(
    State(s): State<Arc<AppState>>,
    Json(body): Json<Value>,
) -> ApiResult {
    let v = s.world.view();
    let store = s.written.lock();
    let world = v.conversation_count();
    let deleted: std::collections::HashSet<u64> = store
        .deletions
        .iter()
        .filter(|d| d.object == "conversation" && d.seeded)
        .filter_map(|d| v.conversation_index(&d.id))
        .collect();
    let written = conversations_written(&store);
    let visible = |i: u64| i >= world || !deleted.contains(&i);
    let get = |i: u64, fields: &[String]| {
        if i >= world {
            let Some(c) = store.conversations.get((i - world) as usize) else {
                return Vec::new();
            };
            return fields
                .iter()
                .map(|f| (f.clone(), written_value(&store, c, f)))
                .collect();
        }
        let id = (100_000_000 + i).to_string();
        let over = |f: &str, base: FieldValue| {
            if written {
                overlaid_value(&store, &id, f, base)
            } else {
                base
            }
        };
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
                        "id" => FieldValue::Str(id.clone()),
                        "state" => FieldValue::Str(sh.state.as_str().to_string()),
                        "open" => FieldValue::Bool(sh.state != ConvState::Closed),
                        "created_at" => FieldValue::Int(sh.created_at),
                        "statistics.count_conversation_parts" => FieldValue::Int(sh.parts as i64),
                        _ => FieldValue::Int(sh.updated_at),
                    };
                    (f.clone(), over(f, val))
                })
                .collect();
        }
        let Some(c) = v.conversation(i) else {
            return Vec::new();
        };
        fields
            .iter()
            .map(|f| (f.clone(), over(f, conversation_value(&v, &c, f))))
            .collect()
    };
    let fields = |f: &str| conversation_field(&store, f);
    // The cache key moves with every write, so a search sees what was just written.
    let name = format!("conversations@{}", store.version());
    let spec = Searchable {
        name: &name,
        count: world + store.conversations.len() as u64,
        default_per_page: 20,
        fields: &fields,
        visible: &visible,
        get: &get,
    };
    let page = run(&s, &body, &spec)?;
    let r = renderer(&s, false);
    if !written {
        drop(store);
        let convs: Vec<_> = page
            .indexes
            .iter()
            .filter_map(|i| r.view.conversation(*i))
            .collect();
        return conversation_list(&r, &convs, page.total, page.pages);
    }
    let items: Vec<Value> = page
        .indexes
        .iter()
        .filter_map(|&i| {
            if i >= world {
                store
                    .conversations
                    .get((i - world) as usize)
                    .map(|c| written_render::conversation(&r, &store, c, false))
            } else {
                r.view
                    .conversation(i)
                    .map(|c| world_json(&r, &store, &c, false))
            }
        })
        .collect();
    ok(
        json!({"type": "conversation.list", "conversations": items, "total_count": page.total,
        "pages": page.pages}),
    )
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
    let mut data = data;
    data.extend(
        s.written
            .lock()
            .conversation_attributes
            .iter()
            .map(|a| crate::routes::write_conversation_update::attribute_json(a, seed)),
    );
    ok(json!({"type": "list", "data": data}))
}
