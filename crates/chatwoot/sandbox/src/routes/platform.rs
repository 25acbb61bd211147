//! Platform API (`/platform/api/v1`): accounts, account users, users and user tokens — the route to
//! per-agent authorship on self-hosted Chatwoot (`../shared/research/chatwoot.md §0.3, §2.8`).
//!
//! A platform app only sees what it created or was granted (`platform_app_permissibles`). The
//! sandbox grants it the starting account, as an operator would from the Rails console. Creating
//! a user whose email already exists returns that user and makes it permissible
//! (`User.from_email(...) || User.new`), which is how an importer obtains existing agents' tokens.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::render;
use crate::rules;
use crate::state::{AppState, Database};

fn account_json(s: &Database, id: u64) -> ApiResult<Value> {
    let a = s.accounts.get(&id).ok_or(ApiError::NotFound)?;
    Ok(render::platform_account(a))
}

pub async fn accounts_create(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let mut s = app.write();
    s.authorize_platform(&headers)?;
    let p = Params::top_level(&body)?;
    let name = p
        .str("name")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::invalid("name", "Name can't be blank"))?;
    let now = s.now();
    let id = s.create_account(&name, now);
    s.permissibles.insert(("Account", id));
    Ok(Json(account_json(&s, id)?))
}

pub async fn accounts_show(
    State(app): State<Arc<AppState>>,
    Path(id): Path<u64>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let s = app.read();
    s.platform_account(&headers, id)?;
    Ok(Json(account_json(&s, id)?))
}

fn account_user_json(s: &Database, id: u64) -> Value {
    s.account_users
        .get(&id)
        .map_or(Value::Null, render::platform_account_user)
}

/// `GET|POST|DELETE /accounts/{id}/account_users`.
pub async fn account_users(
    State(app): State<Arc<AppState>>,
    Path(account): Path<u64>,
    method: axum::http::Method,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let mut s = app.write();
    s.platform_account(&headers, account)?;
    match method.as_str() {
        "GET" => {
            let ids: Vec<u64> = s
                .account_users
                .values()
                .filter(|au| au.account_id == account)
                .map(|au| au.id)
                .collect();
            let list: Vec<Value> = ids
                .into_iter()
                .map(|id| account_user_json(&s, id))
                .collect();
            Ok(Json(json!(list)).into_response())
        }
        "POST" => {
            let p = Params::top_level(&body)?;
            let user = p
                .u64("user_id")
                .filter(|u| s.users.contains_key(u))
                .ok_or_else(|| ApiError::invalid("user", "User must exist"))?;
            let role = rules::account_role(p.str("role"))?;
            let id = s.add_account_user(account, user, &role);
            Ok(Json(account_user_json(&s, id)).into_response())
        }
        _ => {
            let p = Params::top_level(&body)?;
            if let Some(u) = p.u64("user_id") {
                s.account_users
                    .retain(|_, au| !(au.account_id == account && au.user_id == u));
            }
            Ok(StatusCode::OK.into_response())
        }
    }
}

pub async fn users_create(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let mut s = app.write();
    s.authorize_platform(&headers)?;
    let p = Params::top_level(&body)?;
    let email = rules::required_email(p.str("email").as_deref())?;
    let id = match s.users.values().find(|u| u.email == email) {
        Some(u) => u.id,
        None => {
            let name = p
                .str("name")
                .filter(|n| !n.is_empty())
                .ok_or_else(|| ApiError::invalid("name", "Name can't be blank"))?;
            // skip_confirmation!: platform users are confirmed at once.
            let now = s.now();
            s.create_user(&name, &email, now)
        }
    };
    if let Some(u) = s.users.get_mut(&id) {
        if let Some(d) = p.str("display_name") {
            u.display_name = Some(d);
        }
        u.custom_attributes.extend(p.object("custom_attributes"));
    }
    s.permissibles.insert(("User", id));
    let u = s.users.get(&id).ok_or(ApiError::NotFound)?;
    Ok(Json(render::platform_user(&s, u)))
}

pub async fn users_show(
    State(app): State<Arc<AppState>>,
    Path(id): Path<u64>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let s = app.read();
    let u = s.platform_user(&headers, id)?;
    Ok(Json(render::platform_user(&s, u)))
}

pub async fn users_update(
    State(app): State<Arc<AppState>>,
    Path(id): Path<u64>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let mut s = app.write();
    s.platform_user(&headers, id)?;
    let p = Params::top_level(&body)?;
    let email = p.str("email").map(|e| e.to_lowercase());
    if email
        .as_ref()
        .is_some_and(|e| s.users.values().any(|u| u.id != id && &u.email == e))
    {
        return Err(ApiError::invalid("email", "Email has already been taken"));
    }
    let u = s.users.get_mut(&id).ok_or(ApiError::NotFound)?;
    if let Some(n) = p.str("name") {
        u.name = n;
    }
    if let Some(d) = p.str("display_name") {
        u.display_name = Some(d);
    }
    if let Some(e) = email {
        u.email = e;
    }
    u.custom_attributes.extend(p.object("custom_attributes"));
    let u = s.users.get(&id).ok_or(ApiError::NotFound)?;
    Ok(Json(render::platform_user(&s, u)))
}

pub async fn users_destroy(
    State(app): State<Arc<AppState>>,
    Path(id): Path<u64>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let mut s = app.write();
    s.platform_user(&headers, id)?;
    s.users.remove(&id);
    s.account_users.retain(|_, au| au.user_id != id);
    Ok(StatusCode::OK.into_response())
}

/// `POST /users/{id}/token`: the user's own `api_access_token`.
pub async fn users_token(
    State(app): State<Arc<AppState>>,
    Path(id): Path<u64>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let s = app.read();
    let u = s.platform_user(&headers, id)?;
    Ok(Json(
        json!({"access_token": u.access_token, "expiry": null, "user": {
        "id": u.id, "name": u.name, "display_name": u.display_name, "email": u.email,
        "pubsub_token": s.secure_token("pubsub", u.id)}}),
    ))
}

/// `GET /users/{id}/login`: an SSO link.
pub async fn users_login(
    State(app): State<Arc<AppState>>,
    Path(id): Path<u64>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let s = app.read();
    s.platform_user(&headers, id)?;
    Ok(Json(
        json!({"url": format!("/app/login?email=user{id}&sso_auth_token={}", s.secure_token("sso", id))}),
    ))
}
