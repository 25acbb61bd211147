//! Agents, teams and their members, agent bots, profile and account
//! (`../shared/research/chatwoot.md §1, §2.7, §2.8`).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde_json::{Value, json};

use super::super::App;
use super::super::error::{ApiError, ApiResult, Errors};
use super::super::json;
use super::super::model::{AgentBot, Team};
use super::super::params::Params;
use super::super::rules;
use super::super::store::Store;

/// Appends the ids not yet present.
pub(super) fn add_unique(list: &mut Vec<u64>, ids: &[u64]) {
    for id in ids {
        if !list.contains(id) {
            list.push(*id);
        }
    }
}

fn agents_of(s: &Store, account: u64) -> Vec<Value> {
    s.account_users
        .values()
        .filter(|au| au.account_id == account)
        .filter_map(|au| s.users.get(&au.user_id))
        .map(|u| json::agent(s, account, u))
        .collect()
}

pub async fn agents_index(
    State(app): State<Arc<App>>,
    Path(account): Path<u64>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let s = app.read();
    s.authorize(&headers, account)?.require_user()?;
    Ok(Json(json!(agents_of(&s, account))))
}

/// `POST /agents` (admin): `AgentBuilder` finds the user by email or creates one.
pub async fn agents_create(
    State(app): State<Arc<App>>,
    Path(account): Path<u64>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let mut s = app.write();
    s.authorize(&headers, account)?.require_admin()?;
    let p = Params::from_body(&body, "agent")?;
    let email = rules::normalize_email(p.str("email").as_deref())
        .ok_or_else(|| ApiError::invalid("email", "Email can't be blank"))?;
    if !rules::email_is_valid(&email) {
        return Err(ApiError::invalid("email", "Email is invalid"));
    }
    let role = p.str("role").unwrap_or_else(|| "agent".into());
    if role != "agent" && role != "administrator" {
        return Err(ApiError::Internal(format!("'{role}' is not a valid role")));
    }
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
    let mut s = app.write();
    s.authorize(&headers, account)?.require_admin()?;
    let p = Params::from_body(&body, "agent")?;
    let au_id = s
        .account_user(account, id)
        .map(|au| au.id)
        .ok_or(ApiError::NotFound)?;
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
    let mut s = app.write();
    s.authorize(&headers, account)?.require_admin()?;
    let au = s
        .account_user(account, id)
        .map(|au| au.id)
        .ok_or(ApiError::NotFound)?;
    s.account_users.remove(&au);
    Ok(StatusCode::OK.into_response())
}

pub async fn teams_index(
    State(app): State<Arc<App>>,
    Path(account): Path<u64>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let s = app.read();
    let caller = s.authorize(&headers, account)?;
    let list: Vec<Value> = s
        .teams
        .values()
        .filter(|t| t.account_id == account)
        .map(|t| json::team(t, caller.user_id))
        .collect();
    Ok(Json(json!(list)))
}

fn team_of(s: &Store, account: u64, id: u64) -> ApiResult<Team> {
    s.teams
        .get(&id)
        .filter(|t| t.account_id == account)
        .cloned()
        .ok_or(ApiError::NotFound)
}

/// Team names are lower-cased and unique per account (team.rb L31).
fn save_team(s: &mut Store, mut t: Team, p: &Params) -> ApiResult<Team> {
    if p.has("name") {
        t.name = rules::normalize_team_name(&p.str("name").unwrap_or_default());
    }
    if p.has("description") {
        t.description = p.str("description");
    }
    if let Some(b) = p.bool("allow_auto_assign") {
        t.allow_auto_assign = b;
    }
    let mut e = Errors::default();
    if t.name.is_empty() {
        e.add("name", "Name can't be blank");
    } else if s
        .teams
        .values()
        .any(|o| o.account_id == t.account_id && o.id != t.id && o.name == t.name)
    {
        e.add("name", "Name has already been taken");
    }
    e.into_result()?;
    if t.id == 0 {
        t.id = s.next_id("teams");
    }
    s.teams.insert(t.id, t.clone());
    Ok(t)
}

pub async fn teams_create(
    State(app): State<Arc<App>>,
    Path(account): Path<u64>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let mut s = app.write();
    let caller = s.authorize(&headers, account)?;
    caller.require_admin()?;
    let p = Params::from_body(&body, "team")?;
    let t = Team {
        id: 0,
        account_id: account,
        name: String::new(),
        description: None,
        allow_auto_assign: true,
        member_ids: Vec::new(),
    };
    let t = save_team(&mut s, t, &p)?;
    Ok(Json(json::team(&t, caller.user_id)))
}

pub async fn teams_show(
    State(app): State<Arc<App>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let s = app.read();
    let caller = s.authorize(&headers, account)?;
    Ok(Json(json::team(&team_of(&s, account, id)?, caller.user_id)))
}

pub async fn teams_update(
    State(app): State<Arc<App>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let mut s = app.write();
    let caller = s.authorize(&headers, account)?;
    caller.require_admin()?;
    let t = team_of(&s, account, id)?;
    let t = save_team(&mut s, t, &Params::from_body(&body, "team")?)?;
    Ok(Json(json::team(&t, caller.user_id)))
}

pub async fn teams_destroy(
    State(app): State<Arc<App>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let mut s = app.write();
    s.authorize(&headers, account)?.require_admin()?;
    team_of(&s, account, id)?;
    s.teams.remove(&id);
    Ok(StatusCode::OK.into_response())
}

/// `GET|POST|PATCH|DELETE /teams/{id}/team_members`; ids outside the account → 401 "Invalid User IDs".
pub async fn team_members(
    State(app): State<Arc<App>>,
    Path((account, id)): Path<(u64, u64)>,
    method: axum::http::Method,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let mut s = app.write();
    let caller = s.authorize(&headers, account)?;
    let mut t = team_of(&s, account, id)?;
    if method != axum::http::Method::GET {
        caller.require_admin()?;
        let ids = Params::from_body(&body, "team_member")?.ids("user_ids");
        if ids.iter().any(|u| s.account_user(account, *u).is_none()) {
            return Err(ApiError::Unauthorized("Invalid User IDs".into()));
        }
        match method.as_str() {
            "POST" => add_unique(&mut t.member_ids, &ids),
            "PATCH" => t.member_ids = ids.clone(),
            _ => t.member_ids.retain(|u| !ids.contains(u)),
        }
        s.teams.insert(id, t.clone());
        if method == axum::http::Method::DELETE {
            return Ok(StatusCode::OK.into_response());
        }
        // create/update render the agents added (create) or the full list (update).
        let shown: Vec<Value> = if method == axum::http::Method::POST {
            ids
        } else {
            t.member_ids.clone()
        }
        .iter()
        .filter_map(|u| s.users.get(u))
        .map(|u| json::agent(&s, account, u))
        .collect();
        return Ok(Json(json!(shown)).into_response());
    }
    let list: Vec<Value> = t
        .member_ids
        .iter()
        .filter_map(|u| s.users.get(u))
        .map(|u| json::agent(&s, account, u))
        .collect();
    Ok(Json(json!(list)).into_response())
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
    let s = app.read();
    s.authorize(&headers, account)?.require_user()?;
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
    let mut s = app.write();
    s.authorize(&headers, account)?.require_admin()?;
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
    let token = super::super::store::access_token(&headers).unwrap_or_default();
    let u = s
        .users
        .values()
        .find(|u| !token.is_empty() && u.access_token == token)
        .ok_or_else(|| ApiError::Unauthorized("Invalid Access Token".into()))?;
    let mut v = json::platform_user(&s, u);
    v["access_token"] = json!(u.access_token);
    v["account_id"] = json!(
        s.account_users
            .values()
            .find(|au| au.user_id == u.id)
            .map(|au| au.account_id)
    );
    v["role"] = json!(
        s.account_users
            .values()
            .find(|au| au.user_id == u.id)
            .map(|au| au.role.clone())
    );
    Ok(Json(v))
}

/// `GET /api/v1/accounts/{id}`.
pub async fn account_show(
    State(app): State<Arc<App>>,
    Path(account): Path<u64>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let s = app.read();
    s.authorize(&headers, account)?.require_user()?;
    let a = s.accounts.get(&account).ok_or(ApiError::NotFound)?;
    // `_account.json.jbuilder` + `show.json.jbuilder`; `features` is `enabled_features`, a hash.
    Ok(Json(
        json!({"settings": {}, "created_at": json::iso(a.created_at), "domain": null,
                   "features": {"help_center": true, "agent_bots": true, "inbound_emails": true},
                   "id": a.id, "locale": "en", "name": a.name, "support_email": null, "status": a.status,
                   "cache_keys": {"label": 0, "inbox": 0, "team": 0}, "latest_chatwoot_version": "4.10.0"}),
    ))
}
