//! Admins, teams, tags, data attributes and `/me`: small unpaginated lists
//! (`../shared/research/intercom-api.md` §2). Departed teammates are not listed (they
//! still author old parts, so an extractor must cope with unknown admin ids).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use deskmove_synth::AttributeModel;
use serde::Deserialize;
use serde_json::json;

use super::error::ApiError;
use super::gate::json;
use super::render::{Render, WORKSPACE_ID};
use super::state::AppState;

pub(crate) type Res = Result<Response, ApiError>;

pub(crate) fn ok(v: serde_json::Value) -> Res {
    Ok(json(StatusCode::OK, v))
}

pub(crate) fn renderer(s: &AppState, plaintext: bool) -> Render<'_> {
    Render {
        v: s.world.view(),
        signer: &s.signer,
        now: s.clock.now_secs(),
        plaintext,
        authors: Default::default(),
    }
}

pub(crate) async fn admins(State(s): State<Arc<AppState>>) -> Res {
    let r = renderer(&s, false);
    let admins: Vec<_> = (0..r.v.admin_count())
        .filter_map(|i| r.v.admin(i))
        .filter(|a| !a.departed)
        .map(|a| r.admin(&a))
        .collect();
    ok(json!({"type": "admin.list", "admins": admins}))
}

pub(crate) async fn admin(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> Res {
    let r = renderer(&s, false);
    let a =
        r.v.admin_by_id(&id)
            .filter(|a| !a.departed)
            .ok_or_else(|| {
                ApiError::new(StatusCode::NOT_FOUND, "admin_not_found", "Admin Not Found")
            })?;
    ok(r.admin(&a))
}

pub(crate) async fn me(State(s): State<Arc<AppState>>) -> Res {
    let r = renderer(&s, false);
    let a =
        r.v.admin(0)
            .ok_or_else(|| ApiError::not_found("Admin Not Found"))?;
    let mut v = r.admin(&a);
    v["email_verified"] = json!(true);
    v["avatar"] = json!({"type": "avatar", "image_url": null});
    v["app"] = json!({"type": "app", "id_code": WORKSPACE_ID, "name": "deskmove sandbox", "created_at": deskmove_synth::HISTORY_START, "secure": false, "identity_verification": false, "timezone": super::search::WORKSPACE_TZ, "region": "US"});
    ok(v)
}

pub(crate) async fn teams(State(s): State<Arc<AppState>>) -> Res {
    let r = renderer(&s, false);
    let teams: Vec<_> = (0..r.v.team_count())
        .filter_map(|i| r.v.team(i))
        .map(|t| r.team(&t))
        .collect();
    ok(json!({"type": "team.list", "teams": teams}))
}

pub(crate) async fn team(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> Res {
    let r = renderer(&s, false);
    let t = r
        .v
        .team_by_id(&id)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "team_not_found", "Team not found"))?;
    ok(r.team(&t))
}

pub(crate) async fn tags(State(s): State<Arc<AppState>>) -> Res {
    let r = renderer(&s, false);
    let tags: Vec<_> = (0..r.v.tag_count())
        .filter_map(|i| r.v.tag(i))
        .map(|t| r.tag(&t))
        .collect();
    ok(json!({"type": "list", "data": tags}))
}

pub(crate) async fn tag(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> Res {
    let r = renderer(&s, false);
    let t = r.v.tag_by_id(&id).ok_or_else(|| {
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
) -> Res {
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
    let data: Vec<_> = (0..r.v.attribute_count())
        .filter_map(|i| r.v.attribute(i))
        .filter(|d| model.is_none_or(|m| d.model == m) && (archived || !d.archived))
        .map(|d| r.data_attribute(&d))
        .collect();
    ok(json!({"type": "list", "data": data}))
}
