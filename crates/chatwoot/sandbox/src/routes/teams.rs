//! Teams and their members (`../shared/research/chatwoot.md §2.7`).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde_json::{Value, json};

use super::resource::Resource;
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult, Errors};
use crate::params::Params;
use crate::render;
use crate::rules;
use crate::state::{AppState, Database, Team};

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

/// Team names are lower-cased and unique per account (team.rb L31); `is_member` is the caller's.
impl Resource for Team {
    const PARAMS: &'static str = "team";
    const READ: Role = Role::Any;

    fn blank(account: u64, _now: Timestamp) -> Self {
        Team {
            id: 0,
            account_id: account,
            name: String::new(),
            description: None,
            allow_auto_assign: true,
            member_ids: Vec::new(),
        }
    }

    fn save(s: &mut Database, mut t: Team, p: &Params) -> ApiResult<Team> {
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
        render::team(self, caller.user_id)
    }
}

/// `GET|POST|PATCH|DELETE /teams/{id}/team_members`; ids outside the account → 401 "Invalid User IDs".
pub async fn members(
    State(app): State<Arc<AppState>>,
    Path((account, id)): Path<(u64, u64)>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let (mut s, caller) = app.write_as(&headers, account, Role::Any)?;
    let mut t = s.scoped::<Team>(account, id)?.clone();
    if method == Method::GET {
        return Ok(Json(json!(render::agents(&s, account, &t.member_ids))).into_response());
    }
    caller.require_admin()?;
    let ids = Params::top_level(&body)?.ids("user_ids");
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
    Ok(Json(json!(render::agents(&s, account, shown))).into_response())
}
