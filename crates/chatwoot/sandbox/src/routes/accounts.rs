//! The account and the caller's profile (`../shared/research/chatwoot.md §1`).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde_json::Value;

use crate::auth::{self, Role};
use crate::error::{ApiError, ApiResult};
use crate::render;
use crate::state::AppState;

/// `GET /api/v1/profile`: the token's user with its token.
pub async fn profile(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let s = app.read();
    let token = auth::access_token(&headers).unwrap_or_default();
    let u = s
        .users
        .values()
        .find(|u| !token.is_empty() && u.access_token == token)
        .ok_or_else(|| ApiError::Unauthorized("Invalid Access Token".into()))?;
    // The platform view already carries the token and the first account's id and role.
    Ok(Json(render::platform_user(&s, u)))
}

/// `GET /api/v1/accounts/{id}`.
pub async fn show(
    State(app): State<Arc<AppState>>,
    Path(account): Path<u64>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let (s, _) = app.read_as(&headers, account, Role::User)?;
    let a = s.accounts.get(&account).ok_or(ApiError::NotFound)?;
    Ok(Json(render::account(a)))
}
