//! Organizations and memberships, groups (deleted ones unless `exclude_deleted=true`) and
//! memberships, brands and tags (research §3.5).

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use serde_json::json;

use crate::error::ApiError;
use crate::ids::{GROUP_BASE, ORG_BASE};
use crate::origin::Origin;
use crate::paging::Params;
use crate::render::directory::{BRANDS, DELETED_GROUPS};
use crate::respond::{ApiResult, ok};
use crate::routes::{list as paged, renderer};
use crate::state::AppState;

pub(crate) async fn organizations(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Query(p): Query<Params>,
) -> ApiResult {
    let r = renderer(&s, &o);
    paged("organizations", r.view.company_count(), 100, &o, &p, |k| {
        r.organization(k)
    })
}

pub(crate) async fn organization(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Path(id): Path<u64>,
) -> ApiResult {
    let r = renderer(&s, &o);
    let org = id
        .checked_sub(ORG_BASE)
        .and_then(|k| r.organization(k))
        .ok_or_else(ApiError::not_found)?;
    ok(json!({ "organization": org }))
}

pub(crate) async fn organization_memberships(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Query(p): Query<Params>,
) -> ApiResult {
    let r = renderer(&s, &o);
    let members: Vec<u64> = (0..r.view.contact_count())
        .filter(|j| r.view.contact(*j).is_some_and(|c| c.company.is_some()))
        .collect();
    paged(
        "organization_memberships",
        members.len() as u64,
        100,
        &o,
        &p,
        |k| r.organization_membership(members[k as usize]),
    )
}

pub(crate) async fn groups(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Query(p): Query<Params>,
) -> ApiResult {
    let r = renderer(&s, &o);
    let exclude = p.get("exclude_deleted").is_some_and(|v| v == "true");
    let total = r.view.team_count() + if exclude { 0 } else { DELETED_GROUPS };
    paged("groups", total, 100, &o, &p, |k| r.group(k))
}

pub(crate) async fn group(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Path(id): Path<u64>,
) -> ApiResult {
    let r = renderer(&s, &o);
    let g = id
        .checked_sub(GROUP_BASE)
        .and_then(|k| r.group(k))
        .ok_or_else(ApiError::not_found)?;
    ok(json!({ "group": g }))
}

pub(crate) async fn group_memberships(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Query(p): Query<Params>,
) -> ApiResult {
    let r = renderer(&s, &o);
    let all = r.group_memberships();
    paged("group_memberships", all.len() as u64, 100, &o, &p, |k| {
        all.get(k as usize).cloned()
    })
}

pub(crate) async fn brands(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Query(p): Query<Params>,
) -> ApiResult {
    let r = renderer(&s, &o);
    paged("brands", BRANDS.len() as u64, 100, &o, &p, |b| r.brand(b))
}

/// The most popular tags with their ticket counts (Zendesk: "not a full inventory", §3.5).
pub(crate) async fn tags(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Query(p): Query<Params>,
) -> ApiResult {
    let view = s.view();
    let deep = s.deep(view);
    let mut all: Vec<(&String, &u64)> = deep.tags.iter().collect();
    all.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    paged("tags", all.len() as u64, 100, &o, &p, |k| {
        all.get(k as usize)
            .map(|(name, count)| json!({"name": name, "count": count}))
    })
}
