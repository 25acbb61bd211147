//! Actions on one conversation: status, priority, custom attributes, assignment, labels, last
//! seen (`../shared/research/chatwoot.md §2.3, §2.5`).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::render;
use crate::rules;
use crate::state::{AppState, Database};

pub async fn toggle_status(
    State(app): State<Arc<AppState>>,
    Path((account, display)): Path<(u64, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let (mut s, caller) = app.write_as(&headers, account, Role::Any)?;
    let pk = s.conversation_pk(account, display)?;
    let p = Params::from_body(&body, "conversation")?;
    let current = s
        .conversations
        .get(&pk)
        .map(|c| c.status.clone())
        .unwrap_or_default();
    let target = match p.str("status").filter(|x| !x.is_empty()) {
        Some(x) if rules::CONVERSATION_STATUSES.contains(&x.as_str()) => x,
        Some(x) => return Err(ApiError::Internal(format!("'{x}' is not a valid status"))),
        // Conversation#toggle_status: open ↔ resolved.
        None if current == "open" => "resolved".into(),
        None => "open".into(),
    };
    let snoozed = super::conversations::parse_time(&p, "snoozed_until");
    s.set_status(pk, &target, snoozed, None, &caller);
    // should_assign_conversation?: an agent (not an admin) opening a conversation takes it.
    if target == "open" && caller.user_id.is_some() && !caller.admin {
        let unassigned = s
            .conversations
            .get(&pk)
            .is_some_and(|c| c.assignee_id.is_none());
        if unassigned {
            s.set_assignee(pk, caller.user_id, &caller);
        }
    }
    let c = s.conversations.get(&pk).ok_or(ApiError::NotFound)?;
    Ok(Json(json!({"meta": {}, "payload": {
        "success": true, "conversation_id": c.display_id, "current_status": c.status,
        "snoozed_until": c.snoozed_until.map(render::epoch),
    }})))
}

/// Validates and applies a priority change, with its activity message.
fn apply_priority(s: &mut Database, pk: u64, p: &Params, caller: &Caller) -> ApiResult<()> {
    let priority = p.str("priority").filter(|x| !x.is_empty() && x != "none");
    if let Some(x) = &priority
        && !rules::PRIORITIES.contains(&x.as_str())
    {
        // Enum ArgumentError, unrescued → 500.
        return Err(ApiError::Internal(format!("'{x}' is not a valid priority")));
    }
    let old = s.conversations.get(&pk).and_then(|c| c.priority.clone());
    if old != priority {
        if let Some(c) = s.conversations.get_mut(&pk) {
            c.priority = priority.clone();
        }
        let who = &caller.name;
        let text = match (&old, &priority) {
            (None, Some(n)) => format!("{who} set the priority to {n}"),
            (Some(o), Some(n)) => format!("{who} changed the priority from {o} to {n}"),
            _ => format!("{who} removed the priority"),
        };
        s.activity(pk, text);
    }
    Ok(())
}

/// `POST /toggle_priority`: `head :ok`.
pub async fn toggle_priority(
    State(app): State<Arc<AppState>>,
    Path((account, display)): Path<(u64, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let (mut s, caller) = app.write_as(&headers, account, Role::Any)?;
    let pk = s.conversation_pk(account, display)?;
    apply_priority(
        &mut s,
        pk,
        &Params::from_body(&body, "conversation")?,
        &caller,
    )?;
    Ok(StatusCode::OK.into_response())
}

/// `PATCH /conversations/{id}`: only `priority` is permitted; renders the conversation.
pub async fn update(
    State(app): State<Arc<AppState>>,
    Path((account, display)): Path<(u64, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let (mut s, caller) = app.write_as(&headers, account, Role::Any)?;
    let pk = s.conversation_pk(account, display)?;
    let p = Params::from_body(&body, "conversation")?;
    if p.has("priority") {
        apply_priority(&mut s, pk, &p, &caller)?;
    }
    let c = s.conversations.get(&pk).ok_or(ApiError::NotFound)?;
    Ok(Json(render::conversation(&s, c)))
}

pub async fn custom_attributes(
    State(app): State<Arc<AppState>>,
    Path((account, display)): Path<(u64, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let (mut s, _) = app.write_as(&headers, account, Role::Any)?;
    let pk = s.conversation_pk(account, display)?;
    let attrs = Params::from_body(&body, "conversation")?.object("custom_attributes");
    if let Some(msg) = rules::jsonb_attribute_error(&attrs) {
        return Err(ApiError::invalid(
            "custom_attributes",
            format!("Custom attributes {msg}"),
        ));
    }
    let c = s.conversations.get_mut(&pk).ok_or(ApiError::NotFound)?;
    // Replaces the whole hash.
    c.custom_attributes = attrs;
    Ok(Json(json!({"custom_attributes": c.custom_attributes})))
}

pub async fn assignments(
    State(app): State<Arc<AppState>>,
    Path((account, display)): Path<(u64, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let (mut s, caller) = app.write_as(&headers, account, Role::Any)?;
    let pk = s.conversation_pk(account, display)?;
    let p = Params::from_body(&body, "assignment")?;
    if p.has("assignee_id") {
        let assignee = p
            .u64("assignee_id")
            .filter(|u| s.account_user(account, *u).is_some());
        s.set_assignee(pk, assignee, &caller);
        let body = assignee
            .and_then(|u| s.users.get(&u))
            .map_or(Value::Null, |u| render::agent(&s, account, u));
        return Ok(Json(body));
    }
    if p.has("team_id") {
        let team = p
            .u64("team_id")
            .and_then(|t| s.teams.get(&t))
            .filter(|t| t.account_id == account)
            .cloned();
        let old = s.conversations.get(&pk).and_then(|c| c.team_id);
        if let Some(c) = s.conversations.get_mut(&pk) {
            c.team_id = team.as_ref().map(|t| t.id);
        }
        if old != team.as_ref().map(|t| t.id) {
            let who = &caller.name;
            let text = match (&team, old.and_then(|o| s.teams.get(&o))) {
                (Some(t), _) => format!("Assigned to {} by {who}", t.name),
                (None, Some(o)) => format!("Unassigned from {} by {who}", o.name),
                (None, None) => String::new(),
            };
            if !text.is_empty() {
                s.activity(pk, text);
            }
        }
        return Ok(Json(team.map_or(Value::Null, |t| {
            json!({"id": t.id, "name": t.name, "description": t.description,
                   "allow_auto_assign": t.allow_auto_assign, "account_id": t.account_id})
        })));
    }
    Ok(Json(Value::Null))
}

/// `{payload: [labels]}`, the view of both label actions.
fn labels_payload(s: &Database, pk: u64) -> Value {
    json!({"payload": s.conversations.get(&pk).map(|c| &c.labels)})
}

pub async fn labels_index(
    State(app): State<Arc<AppState>>,
    Path((account, display)): Path<(u64, u64)>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let (s, _) = app.read_as(&headers, account, Role::User)?;
    let pk = s.conversation_pk(account, display)?;
    Ok(Json(labels_payload(&s, pk)))
}

pub async fn labels_create(
    State(app): State<Arc<AppState>>,
    Path((account, display)): Path<(u64, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let (mut s, caller) = app.write_as(&headers, account, Role::User)?;
    let pk = s.conversation_pk(account, display)?;
    let labels = super::contacts::tag_list(&Params::from_body(&body, "label")?.strings("labels"));
    s.set_conversation_labels(pk, labels, &caller);
    Ok(Json(labels_payload(&s, pk)))
}

pub async fn update_last_seen(
    State(app): State<Arc<AppState>>,
    Path((account, display)): Path<(u64, u64)>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let (mut s, caller) = app.write_as(&headers, account, Role::User)?;
    let pk = s.conversation_pk(account, display)?;
    let now = s.now();
    let c = s.conversations.get_mut(&pk).ok_or(ApiError::NotFound)?;
    c.agent_last_seen_at = Some(now);
    if c.assignee_id.is_some() && c.assignee_id == caller.user_id {
        c.assignee_last_seen_at = Some(now);
    }
    let c = s.conversations.get(&pk).ok_or(ApiError::NotFound)?;
    Ok(Json(render::conversation(&s, c)))
}
