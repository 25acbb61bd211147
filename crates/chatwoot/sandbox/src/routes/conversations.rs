//! Conversations, addressed by `display_id` (`../shared/research/chatwoot.md §2.3`).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde_json::{Value, json};

use super::messages::new_message_from;
use crate::auth::{Caller, Role};
use crate::changes::CreatedWith;
use crate::effects::NewMessage;
use crate::error::{ApiError, ApiResult, Errors};
use crate::params::{self, Params};
use crate::render;
use crate::rules;
use crate::state::{AppState, Contact, Conversation, Database, Inbox, Team};

/// `CONVERSATION_RESULTS_PER_PAGE` default.
const PER_PAGE: usize = 25;

/// Removes a conversation and its messages (`DeleteObjectJob`).
pub fn remove_conversation(s: &mut Database, pk: u64) {
    s.conversations.remove(&pk);
    for id in s.conversation_messages.remove(&pk).unwrap_or_default() {
        s.messages.remove(&id);
    }
}

/// Removes every conversation for which `doomed` holds, with its messages.
pub fn remove_conversations(s: &mut Database, doomed: impl Fn(&Conversation) -> bool) {
    let pks: Vec<u64> = s
        .conversations
        .values()
        .filter(|c| doomed(c))
        .map(|c| c.id)
        .collect();
    for pk in pks {
        remove_conversation(s, pk);
    }
}

pub(super) fn parse_time(p: &Params, key: &str) -> Option<Timestamp> {
    match p.get(key)? {
        Value::Number(n) => n.as_i64().and_then(|s| Timestamp::from_second(s).ok()),
        Value::String(s) => s.parse::<Timestamp>().ok().or_else(|| {
            s.parse::<i64>()
                .ok()
                .and_then(|n| Timestamp::from_second(n).ok())
        }),
        _ => None,
    }
}

pub async fn create(
    State(app): State<Arc<AppState>>,
    Path(account): Path<u64>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let (mut s, caller) = app.write_as(&headers, account, Role::Any)?;
    let p = Params::top_level(&body)?;
    // contact_inbox: inbox_id + contact_id (+ source_id), else the legacy lookup by source_id only.
    let ci_id = match (p.u64("inbox_id"), p.u64("contact_id")) {
        (Some(inbox), Some(contact)) => {
            s.scoped::<Inbox>(account, inbox)?;
            s.scoped::<Contact>(account, contact)?;
            super::contact_inboxes::build_contact_inbox(&mut s, contact, inbox, p.str("source_id"))
                .map_err(|()| ApiError::Unprocessable("source_id should be unique".into()))?
        }
        _ => {
            let source = p.str("source_id").unwrap_or_default();
            s.contact_inboxes
                .values()
                .find(|ci| ci.source_id == source)
                .map(|ci| ci.id)
                .ok_or(ApiError::NotFound)?
        }
    };
    let ci = s
        .contact_inboxes
        .get(&ci_id)
        .cloned()
        .ok_or(ApiError::NotFound)?;
    let inbox = s.scoped::<Inbox>(account, ci.inbox_id)?.clone();
    if inbox.lock_to_single_conversation
        && let Some(last) = s
            .conversations
            .values()
            .rev()
            .find(|c| c.contact_inbox_id == ci_id)
    {
        return Ok(Json(render::conversation(&s, last)));
    }
    let status = match p.str("status").filter(|x| !x.is_empty()) {
        Some(x) if rules::CONVERSATION_STATUSES.contains(&x.as_str()) => x,
        // enum ArgumentError, unrescued → 500.
        Some(x) => return Err(ApiError::Internal(format!("'{x}' is not a valid status"))),
        None => "open".into(),
    };
    let contact = s.scoped::<Contact>(account, ci.contact_id)?.clone();
    // determine_conversation_status: a blocked contact forces resolved.
    let status = if contact.blocked {
        "resolved".to_owned()
    } else {
        status
    };
    let additional_attributes = p.object("additional_attributes");
    let custom_attributes = p.object("custom_attributes");
    // `validates :custom_attributes, jsonb_attributes_length: true` (conversation.rb).
    let mut errors = Errors::default();
    rules::validate_conversation_attributes(
        &mut errors,
        &custom_attributes,
        &additional_attributes,
    );
    errors.into_result()?;
    let now = s.now();
    let pk = s.next_id("conversations");
    let display_id = s.next_display_id(account);
    let uuid = s.uuid("conversation", pk);
    let assignee = p
        .u64("assignee_id")
        .filter(|u| s.account_user(account, *u).is_some());
    let team_id = p
        .u64("team_id")
        .filter(|t| s.scoped::<Team>(account, *t).is_ok());
    // ensure_assignee_is_from_team (assignment_handler.rb): an assignee outside the team is
    // dropped and a team with allow_auto_assign picks one.
    let assignee = s.assignee_for_team(ci.inbox_id, team_id, assignee);
    let snoozed_until = (status == "snoozed")
        .then(|| parse_time(&p, "snoozed_until"))
        .flatten();
    s.conversations.insert(
        pk,
        Conversation {
            id: pk,
            display_id,
            account_id: account,
            inbox_id: ci.inbox_id,
            contact_id: ci.contact_id,
            contact_inbox_id: ci_id,
            uuid,
            status,
            priority: None,
            assignee_id: assignee,
            team_id,
            additional_attributes,
            custom_attributes,
            labels: Vec::new(),
            snoozed_until,
            agent_last_seen_at: None,
            assignee_last_seen_at: None,
            contact_last_seen_at: None,
            first_reply_created_at: None,
            waiting_since: Some(now),
            last_activity_at: now,
            created_at: now,
            updated_at: now,
        },
    );
    // after_save run_auto_assignment, inside the create's transaction: it also replaces an
    // assignee who is not a member of the inbox (auto_assignment_handler.rb), and that second
    // save is the one the commit callbacks see.
    let mut with = CreatedWith {
        team: team_id.is_some(),
        assignee: assignee.is_some(),
    };
    if let Some(pick) = s.auto_assignee(pk) {
        if let Some(c) = s.conversations.get_mut(&pk) {
            c.assignee_id = Some(pick);
        }
        with = CreatedWith {
            team: false,
            assignee: true,
        };
    }
    // The initial message is `params[:message]`, built in the same transaction: a failure rolls
    // the conversation back, but the display-id sequence has moved on (sequences are not
    // transactional). Its callbacks run at commit, after the conversation's.
    if let Some(Value::Object(m)) = p.get("message") {
        let m = Params(m.clone());
        let msg: NewMessage = new_message_from(&m, Vec::new());
        s.after_conversation_created(pk, with, &caller);
        if let Err(e) = s.create_message(pk, msg, &caller) {
            remove_conversation(&mut s, pk);
            return Err(e);
        }
    } else {
        s.after_conversation_created(pk, with, &caller);
    }
    let c = s.conversations.get(&pk).ok_or(ApiError::NotFound)?;
    Ok(Json(render::conversation(&s, c)))
}

/// Conversations visible to the list/meta endpoints after `ConversationFinder`'s filters.
fn finder<'a>(
    s: &'a Database,
    account: u64,
    q: &params::Query,
    caller: &Caller,
) -> Vec<&'a Conversation> {
    let status = q.get("status").map_or("open", String::as_str);
    s.conversations
        .values()
        .filter(|c| c.account_id == account)
        .filter(|c| status == "all" || c.status == status)
        .filter(|c| {
            q.get("inbox_id")
                .is_none_or(|i| i.parse() == Ok(c.inbox_id))
        })
        .filter(|c| q.get("team_id").is_none_or(|t| t.parse().ok() == c.team_id))
        // `tagged_with(labels, any: true)`: tags match ignoring case.
        .filter(|c| match q.get("labels") {
            Some(l) => rules::tag_list(std::slice::from_ref(l)).iter().any(|l| {
                c.labels
                    .iter()
                    .any(|x| x.to_lowercase() == l.to_lowercase())
            }),
            None => true,
        })
        .filter(|c| match q.get("assignee_type").map(String::as_str) {
            Some("me") => c.assignee_id == caller.user_id,
            Some("unassigned") => c.assignee_id.is_none(),
            Some("assigned") => c.assignee_id.is_some(),
            _ => true,
        })
        .collect()
}

fn counts(s: &Database, account: u64, q: &params::Query, caller: &Caller) -> Value {
    let mut q = q.clone();
    q.remove("assignee_type");
    let all = finder(s, account, &q, caller);
    json!({
        "mine_count": all.iter().filter(|c| c.assignee_id.is_some() && c.assignee_id == caller.user_id).count(),
        "assigned_count": all.iter().filter(|c| c.assignee_id.is_some()).count(),
        "unassigned_count": all.iter().filter(|c| c.assignee_id.is_none()).count(),
        "all_count": all.len(),
    })
}

pub async fn index(
    State(app): State<Arc<AppState>>,
    Path(account): Path<u64>,
    Query(q): Query<params::Query>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let (s, caller) = app.read_as(&headers, account, Role::User)?;
    let mut list = finder(&s, account, &q, &caller);
    // Default sort: last_activity_at desc (conversation_finder.rb L190).
    list.sort_by(|a, b| {
        b.last_activity_at
            .cmp(&a.last_activity_at)
            .then(b.id.cmp(&a.id))
    });
    let payload: Vec<Value> = params::paginate(&list, params::page_number(&q), PER_PAGE)
        .map(|c| render::conversation(&s, c))
        .collect();
    Ok(Json(
        json!({"data": {"meta": counts(&s, account, &q, &caller), "payload": payload}}),
    ))
}

pub async fn meta(
    State(app): State<Arc<AppState>>,
    Path(account): Path<u64>,
    Query(q): Query<params::Query>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let (s, caller) = app.read_as(&headers, account, Role::User)?;
    Ok(Json(json!({"meta": counts(&s, account, &q, &caller)})))
}

pub async fn show(
    State(app): State<Arc<AppState>>,
    Path((account, display)): Path<(u64, u64)>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let (s, _) = app.read_as(&headers, account, Role::User)?;
    let pk = s.conversation_pk(account, display)?;
    let c = s.conversations.get(&pk).ok_or(ApiError::NotFound)?;
    Ok(Json(render::conversation(&s, c)))
}

pub async fn destroy(
    State(app): State<Arc<AppState>>,
    Path((account, display)): Path<(u64, u64)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (mut s, _) = app.write_as(&headers, account, Role::Admin)?;
    let pk = s.conversation_pk(account, display)?;
    remove_conversation(&mut s, pk);
    Ok(StatusCode::OK.into_response())
}

pub async fn filter(
    State(app): State<Arc<AppState>>,
    Path(account): Path<u64>,
    Query(q): Query<params::Query>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let (s, _) = app.read_as(&headers, account, Role::User)?;
    let conditions = super::filter::conditions(&Params::top_level(&body)?)?;
    let mut list = Vec::new();
    for c in s.conversations.values().filter(|c| c.account_id == account) {
        let ok = super::filter::matches(&conditions, |key| {
            use super::filter::Field;
            match key {
                "status" => Field::Value(json!(c.status)),
                "assignee_id" => Field::Value(json!(c.assignee_id)),
                "inbox_id" => Field::Value(json!(c.inbox_id)),
                "team_id" => Field::Value(json!(c.team_id)),
                "display_id" => Field::Value(json!(c.display_id)),
                "priority" => Field::Value(json!(c.priority)),
                "labels" => Field::Value(json!(c.labels)),
                k => c
                    .custom_attributes
                    .get(k)
                    .or_else(|| c.additional_attributes.get(k))
                    .map_or(Field::Ignored, |v| Field::Value(v.clone())),
            }
        })?;
        if ok {
            list.push(c);
        }
    }
    let all = list.len();
    let payload: Vec<Value> = params::paginate(list, params::page_number(&q), PER_PAGE)
        .map(|c| render::conversation(&s, c))
        .collect();
    Ok(Json(
        json!({"meta": {"mine_count": 0, "assigned_count": 0, "unassigned_count": 0, "all_count": all}, "payload": payload}),
    ))
}
