//! Agent bots: senders with their own token, for `sender_type=AgentBot`
//! (`../shared/research/chatwoot.md §1, §2.4`).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde_json::{Value, json};

use crate::auth::Role;
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::render;
use crate::state::{AgentBot, AppState};

pub async fn index(
    State(app): State<Arc<AppState>>,
    Path(account): Path<u64>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let (s, _) = app.read_as(&headers, account, Role::User)?;
    let list: Vec<Value> = s
        .agent_bots
        .values()
        .filter(|b| b.account_id.is_none_or(|a| a == account))
        .map(render::agent_bot)
        .collect();
    Ok(Json(json!(list)))
}

/// `POST /agent_bots` (admin): a bot with its own access token, for `sender_type=AgentBot`.
pub async fn create(
    State(app): State<Arc<AppState>>,
    Path(account): Path<u64>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let (mut s, _) = app.write_as(&headers, account, Role::Admin)?;
    let p = Params::top_level(&body)?;
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
    let out = render::agent_bot(&bot);
    s.agent_bots.insert(id, bot);
    Ok(Json(out))
}
