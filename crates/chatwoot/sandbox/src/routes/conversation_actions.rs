//! Actions on one conversation: status, priority, custom attributes, assignment, labels, last
//! seen (`../shared/research/chatwoot.md §2.3, §2.5`).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use jiff::Timestamp;

use crate::auth::{Caller, Role};
use crate::effects::Event;
use crate::error::{ApiError, ApiResult, Errors};
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
    let p = Params::top_level(&body)?;
    let current = s
        .conversations
        .get(&pk)
        .map(|c| c.status.clone())
        .unwrap_or_default();
    let status_sent = p.str("status").filter(|x| !rules::is_blank(x));
    let target = match status_sent.clone() {
        Some(x) if rules::CONVERSATION_STATUSES.contains(&x.as_str()) => x,
        Some(x) => return Err(ApiError::Internal(format!("'{x}' is not a valid status"))),
        // Conversation#toggle_status: open ↔ resolved.
        None if current == "open" => "resolved".into(),
        None => "open".into(),
    };
    // set_conversation_status (only with a status): `parse_date_time(params[:snoozed_until].to_s)`
    // whenever the key is sent, whatever the status (conversations_controller.rb,
    // date_range_helper.rb). Without a status, `Conversation#toggle_status` ignores it.
    let sent = p.get("snoozed_until").filter(|_| status_sent.is_some());
    let snoozed = match sent {
        None => s.conversations.get(&pk).and_then(|c| c.snoozed_until),
        Some(v) => {
            let raw = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            let secs = rules::strptime_epoch_seconds(&raw)
                .ok_or_else(|| ApiError::Internal("invalid date".into()))?;
            Some(
                Timestamp::from_second(secs)
                    .map_err(|_| ApiError::Internal("invalid date".into()))?,
            )
        }
    };
    s.set_status(pk, &target, snoozed, None, &caller);
    // should_assign_conversation? then assign_conversation: a user with the agent role who
    // leaves the conversation open takes it, replacing any other assignee.
    let open = s.conversations.get(&pk).is_some_and(|c| c.status == "open");
    if open && caller.user_id.is_some() && !caller.admin {
        s.set_assignee(pk, caller.user_id, &caller);
    }
    let c = s.conversations.get(&pk).ok_or(ApiError::NotFound)?;
    // toggle_status.json.jbuilder renders the raw datetime: an ISO string, not epoch seconds.
    Ok(Json(json!({"meta": {}, "payload": {
        "success": true, "conversation_id": c.display_id, "current_status": c.status,
        "snoozed_until": c.snoozed_until.map(render::iso),
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
        let change = ("priority", json!(old), json!(priority));
        s.dispatch(Event::ConversationUpdated(pk, vec![change]), caller);
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
    apply_priority(&mut s, pk, &Params::top_level(&body)?, &caller)?;
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
    let p = Params::top_level(&body)?;
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
    let (mut s, caller) = app.write_as(&headers, account, Role::Any)?;
    let pk = s.conversation_pk(account, display)?;
    let attrs = Params::top_level(&body)?.object("custom_attributes");
    let c = s.conversations.get(&pk).ok_or(ApiError::NotFound)?.clone();
    let mut errors = Errors::default();
    rules::validate_conversation_attributes(&mut errors, &attrs, &c.additional_attributes);
    errors.into_result()?;
    // Replaces the whole hash.
    if c.custom_attributes != attrs {
        let change = (
            "custom_attributes",
            json!(c.custom_attributes),
            json!(attrs),
        );
        if let Some(conv) = s.conversations.get_mut(&pk) {
            conv.custom_attributes = attrs.clone();
        }
        s.dispatch(Event::ConversationUpdated(pk, vec![change]), &caller);
    }
    Ok(Json(json!({"custom_attributes": attrs})))
}

pub async fn assignments(
    State(app): State<Arc<AppState>>,
    Path((account, display)): Path<(u64, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let (mut s, caller) = app.write_as(&headers, account, Role::Any)?;
    let pk = s.conversation_pk(account, display)?;
    let p = Params::top_level(&body)?;
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
        // `teams.find_by(id:)`: an unknown id clears the team; `render json: @team`.
        let team = p
            .u64("team_id")
            .and_then(|t| s.teams.get(&t))
            .filter(|t| t.account_id == account)
            .cloned();
        s.set_team(pk, team.as_ref().map(|t| t.id), &caller);
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
    // `params.permit(labels: [])`: a string instead of an array is dropped, which clears the list.
    let labels = rules::tag_list(&Params::top_level(&body)?.strings("labels"));
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
