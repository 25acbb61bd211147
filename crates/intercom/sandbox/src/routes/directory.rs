//! Admins, teams, tags, data attributes and `/me`: small unpaginated lists
//! (`../shared/research/intercom-api.md` §2). Departed teammates are not listed (they still
//! author old parts, so an extractor must cope with unknown admin ids).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use deskmove_synth::AttributeModel;
use serde::Deserialize;
use serde_json::json;

use crate::error::ApiError;
use crate::render::WORKSPACE_ID;
use crate::respond::{ApiResult, ok};
use crate::routes::renderer;
use crate::search::WORKSPACE_TZ;
use crate::state::AppState;

pub(crate) async fn admins(State(s): State<Arc<AppState>>) -> ApiResult {
    let r = renderer(&s, false);
    let admins: Vec<_> = (0..r.view.agent_count())
        .filter_map(|i| r.view.agent(i))
        .filter(|a| !a.departed)
        .map(|a| r.admin(&a))
        .collect();
    ok(json!({"type": "admin.list", "admins": admins}))
}

pub(crate) async fn admin(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult {
    let r = renderer(&s, false);
    let a = r
        .view
        .agent_by_id(&id)
        .filter(|a| !a.departed)
        .ok_or_else(|| {
            ApiError::new(StatusCode::NOT_FOUND, "admin_not_found", "Admin Not Found")
        })?;
    ok(r.admin(&a))
}

pub(crate) async fn me(State(s): State<Arc<AppState>>) -> ApiResult {
    let r = renderer(&s, false);
    let a = r
        .view
        .agent(0)
        .ok_or_else(|| ApiError::not_found("Admin Not Found"))?;
    let mut v = r.admin(&a);
    v["email_verified"] = json!(true);
    v["avatar"] = json!({"type": "avatar", "image_url": null});
    v["app"] = json!({"type": "app", "id_code": WORKSPACE_ID, "name": "deskmove sandbox", "created_at": deskmove_synth::HISTORY_START, "secure": false, "identity_verification": false, "timezone": WORKSPACE_TZ, "region": "US"});
    ok(v)
}

pub(crate) async fn teams(State(s): State<Arc<AppState>>) -> ApiResult {
    let r = renderer(&s, false);
    let teams: Vec<_> = (0..r.view.team_count())
        .filter_map(|i| r.view.team(i))
        .map(|t| r.team(&t))
        .collect();
    ok(json!({"type": "team.list", "teams": teams}))
}

pub(crate) async fn team(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult {
    let r = renderer(&s, false);
    let t = r
        .view
        .team_by_id(&id)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "team_not_found", "Team not found"))?;
    ok(r.team(&t))
}

pub(crate) async fn tags(State(s): State<Arc<AppState>>) -> ApiResult {
    let r = renderer(&s, false);
    let tags: Vec<_> = (0..r.view.tag_count())
        .filter_map(|i| r.view.tag(i))
        .map(|t| r.tag(&t))
        .collect();
    ok(json!({"type": "list", "data": tags}))
}

pub(crate) async fn tag(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult {
    let r = renderer(&s, false);
    let t = r.view.tag_by_id(&id).ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "tag_not_found", "Resource Not Found")
    })?;
    ok(r.tag(&t))
}

#[derive(Debug, Deserialize)]
pub(crate) struct AttrQuery {
    model: Option<String>,
    include_archived: Option<String>,
}

pub(crate) async fn data_attributes(
    State(s): State<Arc<AppState>>,
    Query(q): Query<AttrQuery>,
) -> ApiResult {
    let r = renderer(&s, false);
    let model = match q.model.as_deref() {
        None | Some("") => None,
        Some("contact") => Some(AttributeModel::Contact),
        Some("company") => Some(AttributeModel::Company),
        // 2.16: conversation attributes moved to GET /conversations/attributes (§2).
        Some("conversation") => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "parameter_invalid",
                "Use GET /conversations/attributes for conversation data attributes",
            ));
        }
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "model must be contact or company, got `{other}`"
            )));
        }
    };
    let archived = q.include_archived.as_deref() == Some("true");
    let data: Vec<_> = (0..r.view.attribute_count())
        .filter_map(|i| r.view.attribute(i))
        .filter(|d| model.is_none_or(|m| d.model == m) && (archived || !d.archived))
        .map(|d| r.data_attribute(&d))
        .collect();
    ok(json!({"type": "list", "data": data}))
}
