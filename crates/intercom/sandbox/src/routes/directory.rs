//! Admins and their activity logs, teams, tags, segments, data attributes and `/me`: small
//! lists (`../shared/research/intercom-api.md` §2). Departed teammates are not listed (they still
//! author old parts, so an extractor must cope with unknown admin ids).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use deskmove_synth::AttributeModel;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::derived;
use crate::error::ApiError;
use crate::paging::{ListQuery, cursor_pages, cursor_start, encode_cursor, per_page};
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

/// `GET /tags`: the world's tags (renamed ones under their new name), then the written ones;
/// deleted ones are gone.
pub(crate) async fn tags(State(s): State<Arc<AppState>>) -> ApiResult {
    let r = renderer(&s, false);
    let store = s.written.lock();
    let mut tags: Vec<_> = (0..r.view.tag_count())
        .filter_map(|i| r.view.tag(i))
        .filter(|t| !store.is_deleted("tag", &t.id))
        .map(|t| {
            let mut v = r.tag(&t);
            if let Some(w) = store.tag(&t.id) {
                v["name"] = json!(w.name);
            }
            v
        })
        .collect();
    tags.extend(
        store
            .tags
            .iter()
            .filter(|t| r.view.tag_by_id(&t.id).is_none())
            .map(|t| json!({"type": "tag", "id": t.id, "name": t.name})),
    );
    ok(json!({"type": "list", "data": tags}))
}

pub(crate) async fn tag(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult {
    // A written tag (or a renamed world tag) answers as written.
    {
        let store = s.written.lock();
        if let Some(t) = store.tag(&id) {
            return ok(json!({"type": "tag", "id": t.id, "name": t.name}));
        }
        if store.is_deleted("tag", &id) {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "tag_not_found",
                "Resource Not Found",
            ));
        }
    }
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
    let mut data: Vec<_> = (0..r.view.attribute_count())
        .filter_map(|i| r.view.attribute(i))
        .filter(|d| model.is_none_or(|m| d.model == m) && (archived || !d.archived))
        .map(|d| r.data_attribute(&d))
        .collect();
    // Then the ones created through `POST /data_attributes`.
    let wanted = q.model.as_deref().filter(|m| !m.is_empty());
    let store = s.written.lock();
    data.extend(
        store
            .data_attributes
            .iter()
            .filter(|a| wanted.is_none_or(|m| a.model == m))
            .map(crate::written::render::data_attribute),
    );
    ok(json!({"type": "list", "data": data}))
}

#[derive(Debug, Deserialize)]
pub(crate) struct SegmentQuery {
    include_count: Option<String>,
}

/// `GET /segments`: every segment (derived from the seed, `derived.rs`), unpaginated; member
/// counts only with `include_count=true` (spec L17536ff).
pub(crate) async fn segments(
    State(s): State<Arc<AppState>>,
    Query(q): Query<SegmentQuery>,
) -> ApiResult {
    let r = renderer(&s, false);
    let counted = q.include_count.as_deref() == Some("true");
    let data: Vec<Value> = derived::segments(r.view.seed())
        .iter()
        .map(|sg| r.segment(sg, counted.then(|| derived::segment_count(r.view, sg.rule))))
        .collect();
    ok(json!({"type": "segment.list", "segments": data}))
}

pub(crate) async fn segment(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult {
    let r = renderer(&s, false);
    let sg = derived::segments(r.view.seed())
        .into_iter()
        .find(|sg| sg.id == id)
        .ok_or_else(|| ApiError::not_found("Resource Not Found"))?;
    ok(r.segment(&sg, None))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ActivityQuery {
    created_at_after: Option<String>,
    created_at_before: Option<String>,
    per_page: Option<String>,
    starting_after: Option<String>,
}

/// `GET /admins/activity_logs?created_at_after=…[&created_at_before=…]`: newest first, cursor
/// pages of 20 (spec L550ff: `created_at_after` is required).
pub(crate) async fn activity_logs(
    State(s): State<Arc<AppState>>,
    Query(q): Query<ActivityQuery>,
) -> ApiResult {
    let stamp = |raw: Option<&str>, name: &str| -> Result<Option<i64>, ApiError> {
        match raw {
            None | Some("") => Ok(None),
            Some(x) => x
                .trim()
                .parse::<i64>()
                .map(Some)
                .map_err(|_| ApiError::invalid(format!("{name} must be a UNIX timestamp"))),
        }
    };
    let after = stamp(q.created_at_after.as_deref(), "created_at_after")?.ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "parameter_not_found",
            "created_at_after is required",
        )
    })?;
    let before = stamp(q.created_at_before.as_deref(), "created_at_before")?;
    let pp = per_page(q.per_page.as_deref(), 20, 150)?;
    let (start, page_no) = cursor_start(&ListQuery {
        starting_after: q.starting_after.clone(),
        ..ListQuery::default()
    })?;
    let r = renderer(&s, false);
    let logs: Vec<_> = derived::activity_logs(r.view)
        .into_iter()
        .filter(|l| l.created_at >= after && before.is_none_or(|b| l.created_at <= b))
        .collect();
    let total = logs.len() as u64;
    let end = (start + pp).min(total);
    let data: Vec<Value> = logs[start.min(total) as usize..end as usize]
        .iter()
        .map(|l| r.activity_log(l))
        .collect();
    let next = (end < total).then(|| encode_cursor(end, &logs[end as usize - 1].id, page_no + 1));
    ok(json!({
        "type": "activity_log.list",
        "pages": cursor_pages(page_no, pp, total, next),
        "activity_logs": data,
    }))
}
