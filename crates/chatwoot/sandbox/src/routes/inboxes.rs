//! Inboxes (API channel) and inbox members (`../shared/research/chatwoot.md §2.7, §2.9`).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::auth::Role;
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::render;
use crate::state::{AppState, Database, Inbox};

pub async fn index(
    State(app): State<Arc<AppState>>,
    Path(account): Path<u64>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let (s, _) = app.read_as(&headers, account, Role::User)?;
    let list: Vec<Value> = s.in_account::<Inbox>(account).map(render::inbox).collect();
    Ok(Json(json!({"payload": list})))
}

pub async fn show(
    State(app): State<Arc<AppState>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let (s, _) = app.read_as(&headers, account, Role::User)?;
    Ok(Json(render::inbox(s.scoped::<Inbox>(account, id)?)))
}

fn apply_inbox(i: &mut Inbox, p: &Params) {
    p.assign_str("name", &mut i.name);
    for (key, field) in [
        ("enable_auto_assignment", &mut i.enable_auto_assignment),
        ("greeting_enabled", &mut i.greeting_enabled),
        ("working_hours_enabled", &mut i.working_hours_enabled),
        ("enable_email_collect", &mut i.enable_email_collect),
        ("csat_survey_enabled", &mut i.csat_survey_enabled),
        (
            "allow_messages_after_resolved",
            &mut i.allow_messages_after_resolved,
        ),
        (
            "lock_to_single_conversation",
            &mut i.lock_to_single_conversation,
        ),
    ] {
        p.assign_bool(key, field);
    }
    p.assign_opt("greeting_message", &mut i.greeting_message);
    p.assign_opt("out_of_office_message", &mut i.out_of_office_message);
    p.assign_str("timezone", &mut i.timezone);
    let channel = Params(p.object("channel"));
    if channel.has("webhook_url") {
        i.webhook_url = channel.str("webhook_url").filter(|u| !u.is_empty());
    }
}

/// `POST /inboxes` (admin). Only the API channel is simulated; other allowed types are created
/// with their channel class so the incoming-message rule can be exercised.
pub async fn create(
    State(app): State<Arc<AppState>>,
    Path(account): Path<u64>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let (mut s, _) = app.write_as(&headers, account, Role::Admin)?;
    let p = Params::top_level(&body)?;
    let channel = Params(p.object("channel"));
    let channel_type = match channel.str("type").as_deref() {
        Some("api") => "Channel::Api",
        Some("web_widget") => "Channel::WebWidget",
        Some("email") => "Channel::Email",
        Some("line") => "Channel::Line",
        Some("telegram") => "Channel::Telegram",
        Some("whatsapp") => "Channel::Whatsapp",
        Some("sms") => "Channel::Sms",
        _ => return Err(ApiError::Unprocessable("Invalid channel type".into())),
    };
    let name = p
        .str("name")
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| ApiError::invalid("name", "Name can't be blank"))?;
    let id = s.next_id("inboxes");
    let channel_id = s.next_id(if channel_type == "Channel::Api" {
        "channel_api"
    } else {
        "channel_other"
    });
    let mut inbox = Inbox {
        id,
        account_id: account,
        channel_id,
        name,
        channel_type: channel_type.into(),
        enable_auto_assignment: true,
        greeting_enabled: false,
        greeting_message: None,
        working_hours_enabled: false,
        enable_email_collect: true,
        csat_survey_enabled: false,
        allow_messages_after_resolved: true,
        lock_to_single_conversation: false,
        out_of_office_message: None,
        timezone: "UTC".into(),
        webhook_url: None,
        identifier: s.secure_token("inbox_identifier", id),
        hmac_token: s.secure_token("inbox_hmac", id),
        member_ids: Vec::new(),
        created_at: s.now(),
    };
    apply_inbox(&mut inbox, &p);
    s.inboxes.insert(id, inbox);
    Ok(Json(render::inbox(s.scoped::<Inbox>(account, id)?)))
}

pub async fn update(
    State(app): State<Arc<AppState>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let (mut s, _) = app.write_as(&headers, account, Role::Admin)?;
    let mut inbox = s.scoped::<Inbox>(account, id)?.clone();
    apply_inbox(&mut inbox, &Params::top_level(&body)?);
    s.inboxes.insert(id, inbox);
    Ok(Json(render::inbox(s.scoped::<Inbox>(account, id)?)))
}

pub async fn destroy(
    State(app): State<Arc<AppState>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (mut s, _) = app.write_as(&headers, account, Role::Admin)?;
    s.remove_scoped::<Inbox>(account, id)?;
    // DeleteObjectJob removes every conversation of the inbox.
    super::conversations::remove_conversations(&mut s, |c| c.inbox_id == id);
    s.contact_inboxes.retain(|_, ci| ci.inbox_id != id);
    Ok(StatusCode::OK.into_response())
}

fn members_payload(s: &Database, account: u64, inbox: &Inbox) -> Value {
    json!({"payload": render::agents(s, account, &inbox.member_ids)})
}

pub async fn members_show(
    State(app): State<Arc<AppState>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let (s, _) = app.read_as(&headers, account, Role::User)?;
    let inbox = s.scoped::<Inbox>(account, id)?;
    Ok(Json(members_payload(&s, account, inbox)))
}

/// `POST` adds, `PATCH` sets, `DELETE` removes `user_ids` of `inbox_id`.
pub async fn members(
    State(app): State<Arc<AppState>>,
    Path(account): Path<u64>,
    method: axum::http::Method,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let (mut s, _) = app.write_as(&headers, account, Role::Admin)?;
    let p = Params::top_level(&body)?;
    let inbox_id = p.u64("inbox_id").ok_or(ApiError::NotFound)?;
    let mut inbox = s.scoped::<Inbox>(account, inbox_id)?.clone();
    let ids = p.ids("user_ids");
    if ids.iter().any(|u| s.account_user(account, *u).is_none()) {
        return Err(ApiError::NotFound);
    }
    super::teams::apply_members(&method, &mut inbox.member_ids, &ids);
    s.inboxes.insert(inbox_id, inbox.clone());
    if method == axum::http::Method::DELETE {
        return Ok(StatusCode::OK.into_response());
    }
    Ok(Json(members_payload(&s, account, &inbox)).into_response())
}
