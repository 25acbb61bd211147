//! Help-center articles, collections and the help center itself: page-based lists with an
//! empty page past the end
//! (`../shared/research/intercom-api.md` §2).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::paging::{ListQuery, page, page_pages, page_range, per_page};
use crate::render::help_center::HELP_CENTER_ID;
use crate::respond::{ApiResult, ok};
use crate::routes::renderer;
use crate::state::AppState;

pub(crate) async fn articles(
    State(s): State<Arc<AppState>>,
    Query(q): Query<ListQuery>,
) -> ApiResult {
    let pp = per_page(q.per_page.as_deref(), 25, 250)?;
    let p = page(q.page.as_deref())?;
    let r = renderer(&s, false);
    let total = r.view.article_count();
    let data: Vec<Value> = page_range(p, pp, total)
        .filter_map(|i| r.view.article(i))
        .map(|a| r.article(&a))
        .collect();
    ok(
        json!({"type": "list", "data": data, "total_count": total, "pages": page_pages(p, pp, total)}),
    )
}

/// `GET /articles/{id}`: a written article, or a world one; deleted ones are 404.
pub(crate) async fn article(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult {
    {
        let store = s.written.lock();
        if let Some(a) = store.articles.iter().find(|a| a.id == id) {
            return ok(crate::written::render::article(a));
        }
        if store.is_deleted("article", &id) {
            return Err(ApiError::not_found("Resource Not Found"));
        }
    }
    let r = renderer(&s, false);
    let a = r
        .view
        .article_by_id(&id)
        .ok_or_else(|| ApiError::not_found("Resource Not Found"))?;
    ok(r.article(&a))
}

pub(crate) async fn collections(
    State(s): State<Arc<AppState>>,
    Query(q): Query<ListQuery>,
) -> ApiResult {
    let pp = per_page(q.per_page.as_deref(), 25, 250)?;
    let p = page(q.page.as_deref())?;
    let r = renderer(&s, false);
    let total = r.view.collection_count();
    let data: Vec<Value> = page_range(p, pp, total)
        .filter_map(|i| r.view.collection(i))
        .map(|c| r.collection(&c))
        .collect();
    ok(
        json!({"type": "list", "data": data, "total_count": total, "pages": page_pages(p, pp, total)}),
    )
}

pub(crate) async fn collection(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult {
    {
        let store = s.written.lock();
        if let Some(c) = store.collections.iter().find(|c| c.id == id) {
            return ok(crate::written::render::collection(c));
        }
        if store.is_deleted("collection", &id) {
            return Err(ApiError::not_found("Resource Not Found"));
        }
    }
    let r = renderer(&s, false);
    let c = r
        .view
        .collection_by_id(&id)
        .ok_or_else(|| ApiError::not_found("Resource Not Found"))?;
    ok(r.collection(&c))
}

/// `GET /help_center/help_centers`: the workspace's one help center (spec L5251ff).
pub(crate) async fn help_centers(State(s): State<Arc<AppState>>) -> ApiResult {
    let r = renderer(&s, false);
    ok(json!({"type": "list", "data": [r.help_center()]}))
}

pub(crate) async fn help_center(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult {
    if id != HELP_CENTER_ID {
        return Err(ApiError::not_found("Resource Not Found"));
    }
    ok(renderer(&s, false).help_center())
}
