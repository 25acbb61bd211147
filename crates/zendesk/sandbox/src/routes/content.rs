//! Ticket fields and forms, user and organization fields, macros, and the Help Center
//! (categories, sections, articles in a locale, translations, article attachments).

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use deskmove_synth::AttributeModel;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::ids::TICKET_FIELD_BASE;
use crate::origin::Origin;
use crate::paging::Params;
use crate::render::fields::{FORMS, ticket_field_count};
use crate::respond::{ApiResult, ok};
use crate::routes::{list as paged, renderer};
use crate::state::AppState;

pub(crate) async fn ticket_fields(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Query(p): Query<Params>,
) -> ApiResult {
    let r = renderer(&s, &o);
    paged("ticket_fields", ticket_field_count(), 100, &o, &p, |n| {
        r.ticket_field(n)
    })
}

pub(crate) async fn ticket_field(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Path(id): Path<u64>,
) -> ApiResult {
    let r = renderer(&s, &o);
    let f = id
        .checked_sub(TICKET_FIELD_BASE)
        .and_then(|n| r.ticket_field(n))
        .ok_or_else(ApiError::not_found)?;
    ok(json!({ "ticket_field": f }))
}

pub(crate) async fn ticket_forms(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Query(p): Query<Params>,
) -> ApiResult {
    let r = renderer(&s, &o);
    paged("ticket_forms", FORMS.len() as u64, 100, &o, &p, |n| {
        r.ticket_form(n)
    })
}

fn custom_fields(
    s: Arc<AppState>,
    o: Origin,
    p: Params,
    model: AttributeModel,
    key: &str,
) -> ApiResult {
    let r = renderer(&s, &o);
    let all = r.custom_fields_of(model);
    paged(key, all.len() as u64, 100, &o, &p, |n| {
        all.get(n as usize).cloned()
    })
}

pub(crate) async fn user_fields(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Query(p): Query<Params>,
) -> ApiResult {
    custom_fields(s, o, p, AttributeModel::Contact, "user_fields")
}

pub(crate) async fn organization_fields(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Query(p): Query<Params>,
) -> ApiResult {
    custom_fields(s, o, p, AttributeModel::Company, "organization_fields")
}

pub(crate) async fn macros(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Query(p): Query<Params>,
) -> ApiResult {
    let r = renderer(&s, &o);
    paged("macros", r.view.macro_count(), 100, &o, &p, |i| r.macro_(i))
}

pub(crate) async fn macro_one(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Path(id): Path<u64>,
) -> ApiResult {
    let r = renderer(&s, &o);
    let i = r
        .view
        .macro_by_id(&id.to_string())
        .map(|m| m.index)
        .ok_or_else(ApiError::not_found)?;
    ok(json!({ "macro": r.macro_(i) }))
}

fn list_of(key: &str, all: Vec<Value>, o: &Origin, p: &Params, default: u64) -> ApiResult {
    paged(key, all.len() as u64, default, o, p, |n| {
        all.get(n as usize).cloned()
    })
}

pub(crate) async fn categories(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Query(p): Query<Params>,
) -> ApiResult {
    let r = renderer(&s, &o);
    list_of("categories", r.categories(), &o, &p, 30)
}

pub(crate) async fn sections(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Query(p): Query<Params>,
) -> ApiResult {
    let r = renderer(&s, &o);
    list_of("sections", r.sections(), &o, &p, 30)
}

fn articles_for(s: &AppState, o: &Origin, p: &Params, locale: &str) -> ApiResult {
    let r = renderer(s, o);
    let all: Vec<Value> = (0..r.view.article_count())
        .filter_map(|i| r.article(i, locale))
        .collect();
    list_of("articles", all, o, p, 30)
}

pub(crate) async fn articles(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Query(p): Query<Params>,
) -> ApiResult {
    articles_for(&s, &o, &p, "en-us")
}

pub(crate) async fn articles_in(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Path(locale): Path<String>,
    Query(p): Query<Params>,
) -> ApiResult {
    if !matches!(locale.as_str(), "en-us" | "fr") {
        return Err(ApiError::not_found());
    }
    articles_for(&s, &o, &p, &locale)
}

/// The world article index of an article id.
fn article_index(s: &AppState, id: u64) -> Result<u64, ApiError> {
    s.view()
        .article_by_id(&id.to_string())
        .map(|a| a.index)
        .ok_or_else(ApiError::not_found)
}

pub(crate) async fn article(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Path(id): Path<u64>,
) -> ApiResult {
    let i = article_index(&s, id)?;
    let r = renderer(&s, &o);
    ok(json!({ "article": r.article(i, "en-us") }))
}

pub(crate) async fn translations(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Path(id): Path<u64>,
    Query(p): Query<Params>,
) -> ApiResult {
    let i = article_index(&s, id)?;
    let r = renderer(&s, &o);
    list_of(
        "translations",
        r.translations(i).unwrap_or_default(),
        &o,
        &p,
        30,
    )
}

pub(crate) async fn article_attachments(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Path(id): Path<u64>,
) -> ApiResult {
    let i = article_index(&s, id)?;
    let r = renderer(&s, &o);
    ok(json!({ "article_attachments": r.article_attachments(i).unwrap_or_default() }))
}
