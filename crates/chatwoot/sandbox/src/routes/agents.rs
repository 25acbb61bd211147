//! Agents: the users of an account with their role and availability
//! (`../shared/research/chatwoot.md §1, §2.8`).

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
use crate::rules;
use crate::state::AppState;

pub async fn index(
    State(app): State<Arc<AppState>>,
    Path(account): Path<u64>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let (s, _) = app.read_as(&headers, account, Role::User)?;
    let users = s
        .account_users
        .values()
        .filter(|au| au.account_id == account);
    let list = render::agents(&s, account, users.map(|au| &au.user_id));
    Ok(Json(json!(list)))
}

/// `POST /agents` (admin): `AgentBuilder` finds the user by email or creates one.
pub async fn create(
    State(app): State<Arc<AppState>>,
    Path(account): Path<u64>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let (mut s, _) = app.write_as(&headers, account, Role::Admin)?;
    let p = Params::wrapped(&body, "agent")?;
    let email = rules::required_email(p.str("email").as_deref())?;
    let role = rules::account_role(p.str("role"))?;
    let name = p
        .str("name")
        .unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_owned());
    let user_id = match s.users.values().find(|u| u.email == email) {
        Some(u) => u.id,
        None => {
            let now = s.now();
            let id = s.create_user(&name, &email, now);
            // A Devise confirmation email would be sent; the user stays unconfirmed.
            if let Some(u) = s.users.get_mut(&id) {
                u.confirmed = false;
            }
            id
        }
    };
    s.add_account_user(account, user_id, &role);
    let u = s.users.get(&user_id).ok_or(ApiError::NotFound)?;
    Ok(Json(render::agent(&s, account, u)))
}

pub async fn update(
    State(app): State<Arc<AppState>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let (mut s, _) = app.write_as(&headers, account, Role::Admin)?;
    let p = Params::wrapped(&body, "agent")?;
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
    Ok(Json(render::agent(&s, account, u)))
}

pub async fn destroy(
    State(app): State<Arc<AppState>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (mut s, _) = app.write_as(&headers, account, Role::Admin)?;
    let au = s.account_user_id(account, id)?;
    s.account_users.remove(&au);
    Ok(StatusCode::OK.into_response())
}
