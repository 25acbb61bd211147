//! Agents, teams and their members, agent bots, profile and account
//! (`../shared/research/chatwoot.md §1, §2.7, §2.8`).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde_json::{Value, json};

use super::super::App;
use super::super::auth::{Caller, Role};
use super::super::error::{ApiError, ApiResult, Errors};
use super::super::json;
use super::super::model::{AgentBot, Team};
use super::super::params::Params;
use super::super::rules;
use super::super::store::Store;
use super::resource::Resource;

/// `POST` adds the ids not yet present, `PATCH` sets the list, `DELETE` removes the ids: the
/// member endpoints of teams and inboxes.
pub(super) fn apply_members(method: &Method, list: &mut Vec<u64>, ids: &[u64]) {
    match method.as_str() {
        "POST" => {
            for id in ids {
                if !list.contains(id) {
                    list.push(*id);
                }
            }
        }
        "PATCH" => *list = ids.to_vec(),
        _ => list.retain(|u| !ids.contains(u)),
    }
}

pub async fn agents_index(
    State(app): State<Arc<App>>,
    Path(account): Path<u64>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let (s, _) = app.read_as(&headers, account, Role::User)?;
    let users = s
        .account_users
        .values()
        .filter(|au| au.account_id == account);
    let list = json::agents(&s, account, users.map(|au| &au.user_id));
    Ok(Json(json!(list)))
}

/// `POST /agents` (admin): `AgentBuilder` finds the user by email or creates one.
pub async fn agents_create(
    State(app): State<Arc<App>>,
    Path(account): Path<u64>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let (mut s, _) = app.write_as(&headers, account, Role::Admin)?;
    let p = Params::from_body(&body, "agent")?;
    let email = rules::required_email(p.str("email").as_deref())?;
    let role = rules::account_role(p.str("role"))?;
    let name = p
        .str("name")
        .unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_owned());
    let user_id = match s.users.values().find(|u| u.email == email) {
        Some(u) => u.id,
        None => {
            let id = s.create_user(&name, &email, Timestamp::now());
            // A Devise confirmation email would be sent; the user stays unconfirmed.
            if let Some(u) = s.users.get_mut(&id) {
                u.confirmed = false;
            }
            id
        }
    };
    s.add_account_user(account, user_id, &role);
    let u = s.users.get(&user_id).ok_or(ApiError::NotFound)?;
    Ok(Json(json::agent(&s, account, u)))
}

pub async fn agents_update(
    State(app): State<Arc<App>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let (mut s, _) = app.write_as(&headers, account, Role::Admin)?;
    let p = Params::from_body(&body, "agent")?;
    let au_id = s.account_user_id(account, id)?;
    if let Some(au) = s.account_users.get_mut(&au_id) {
        if let Some(r) = p.str("role") {
            au.role = r;
        }
        if let Some(a) = p.str("availability") {
            au.availability = a;
        }
        if let Some(a) = p.bool("auto_offline") {
            au.auto_offline = a;
        }
    }
    if let (Some(n), Some(u)) = (p.str("name"), s.users.get_mut(&id)) {
        u.name = n;
    }
    let u = s.users.get(&id).ok_or(ApiError::NotFound)?;
    Ok(Json(json::agent(&s, account, u)))
}

pub async fn agents_destroy(
    State(app): State<Arc<App>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (mut s, _) = app.write_as(&headers, account, Role::Admin)?;
    let au = s.account_user_id(account, id)?;
    s.account_users.remove(&au);
    Ok(StatusCode::OK.into_response())
}

/// Team names are lower-cased and unique per account (team.rb L31); `is_member` is the caller's.
impl Resource for Team {
    const PARAMS: &'static str = "team";
    const READ: Role = Role::Any;

    fn blank(account: u64) -> Self {
        Team {
            id: 0,
            account_id: account,
            name: String::new(),
            description: None,
            allow_auto_assign: true,
            member_ids: Vec::new(),
        }
    }

    fn save(s: &mut Store, mut t: Team, p: &Params) -> ApiResult<Team> {
        if p.has("name") {
            t.name = rules::normalize_team_name(&p.str("name").unwrap_or_default());
        }
        p.assign_opt("description", &mut t.description);
        p.assign_bool("allow_auto_assign", &mut t.allow_auto_assign);
        let mut e = Errors::default();
        if t.name.is_empty() {
            e.add("name", "Name can't be blank");
        } else if s.taken(&t, |o| o.name == t.name) {
            e.add("name", "Name has already been taken");
        }
        e.into_result()?;
        Ok(s.save(t))
    }

    fn render(&self, caller: &Caller) -> Value {
        json::team(self, caller.user_id)
    }
}

/// `GET|POST|PATCH|DELETE /teams/{id}/team_members`; ids outside the account → 401 "Invalid User IDs".
pub async fn team_members(
    State(app): State<Arc<App>>,
    Path((account, id)): Path<(u64, u64)>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let (mut s, caller) = app.write_as(&headers, account, Role::Any)?;
    let mut t = s.scoped::<Team>(account, id)?.clone();
    if method == Method::GET {
        return Ok(Json(json!(json::agents(&s, account, &t.member_ids))).into_response());
    }
    caller.require_admin()?;
    let ids = Params::from_body(&body, "team_member")?.ids("user_ids");
    if ids.iter().any(|u| s.account_user(account, *u).is_none()) {
        return Err(ApiError::Unauthorized("Invalid User IDs".into()));
    }
    apply_members(&method, &mut t.member_ids, &ids);
    s.teams.insert(id, t.clone());
    if method == Method::DELETE {
        return Ok(StatusCode::OK.into_response());
    }
    // create/update render the agents added (create) or the full list (update).
    let shown = if method == Method::POST {
        &ids
    } else {
        &t.member_ids
    };
    Ok(Json(json!(json::agents(&s, account, shown))).into_response())
}

fn bot_json(b: &AgentBot) -> Value {
    json!({"id": b.id, "name": b.name, "description": null, "thumbnail": "", "outgoing_url": null,
           "bot_type": "webhook", "bot_config": {}, "account_id": b.account_id, "access_token": b.access_token})
}

pub async fn agent_bots_index(
    State(app): State<Arc<App>>,
    Path(account): Path<u64>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let (s, _) = app.read_as(&headers, account, Role::User)?;
    let list: Vec<Value> = s
        .agent_bots
        .values()
        .filter(|b| b.account_id.is_none_or(|a| a == account))
        .map(bot_json)
        .collect();
    Ok(Json(json!(list)))
}

/// `POST /agent_bots` (admin): a bot with its own access token, for `sender_type=AgentBot`.
pub async fn agent_bots_create(
    State(app): State<Arc<App>>,
    Path(account): Path<u64>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let (mut s, _) = app.write_as(&headers, account, Role::Admin)?;
    let p = Params::from_body(&body, "agent_bot")?;
    let name = p
        .str("name")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::invalid("name", "Name can't be blank"))?;
    let id = s.next_id("agent_bots");
    let bot = AgentBot {
        id,
        name,
        account_id: Some(account),
        access_token: s.secure_token("agent_bot", id),
    };
    let out = bot_json(&bot);
    s.agent_bots.insert(id, bot);
    Ok(Json(out))
}

/// `GET /api/v1/profile`: the token's user with its token.
pub async fn profile(State(app): State<Arc<App>>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    let s = app.read();
    let token = super::super::auth::access_token(&headers).unwrap_or_default();
    let u = s
        .users
        .values()
        .find(|u| !token.is_empty() && u.access_token == token)
        .ok_or_else(|| ApiError::Unauthorized("Invalid Access Token".into()))?;
    // The platform view already carries the token and the first account's id and role.
    Ok(Json(json::platform_user(&s, u)))
}

/// `GET /api/v1/accounts/{id}`.
pub async fn account_show(
    State(app): State<Arc<App>>,
    Path(account): Path<u64>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let (s, _) = app.read_as(&headers, account, Role::User)?;
    let a = s.accounts.get(&account).ok_or(ApiError::NotFound)?;
    // `_account.json.jbuilder` + `show.json.jbuilder`; `features` is `enabled_features`, a hash.
    Ok(Json(
        json!({"settings": {}, "created_at": json::iso(a.created_at), "domain": null,
                   "features": {"help_center": true, "agent_bots": true, "inbound_emails": true},
                   "id": a.id, "locale": "en", "name": a.name, "support_email": null, "status": a.status,
                   "cache_keys": {"label": 0, "inbox": 0, "team": 0}, "latest_chatwoot_version": "4.10.0"}),
    ))
}
