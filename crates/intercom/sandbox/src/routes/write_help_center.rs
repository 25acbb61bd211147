//! Help-center writes (`../shared/research/intercom-api.md` §7): `POST /articles` (`title` and
//! an integer teammate `author_id` required; `body` HTML, or from 2.16 `body_markdown`, not
//! both; `state` draft by default) and `POST /help_center/collections` (`name` required). Neither
//! takes a `created_at`: both are stamped with the time written.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};

use crate::error::ApiError;
use crate::respond::{ApiResult, ok};
use crate::routes::write_support::{request, require_admin};
use crate::state::AppState;
use crate::written::{WArticle, WCollection, base, render};

/// `POST /articles`.
pub(crate) async fn create_article(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let (v, b) = request(&headers, &bytes)?;
    let title = b.required_str("title")?;
    let author_id = b.int("author_id")?.ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "parameter_not_found",
            "author_id must be in the main body or default locale translated_content object",
        )
    })?;
    let view = s.world.view();
    require_admin(&view, &author_id.to_string())
        .map_err(|_| ApiError::invalid("author_id must be a teammate"))?;
    let mut body = b.str("body")?;
    if v.is_2_16()
        && let Some(md) = b.str("body_markdown")?
    {
        if body.is_some() {
            return Err(ApiError::invalid(
                "body and body_markdown cannot be used together",
            ));
        }
        body = Some(markdown_to_html(&md));
    }
    let state = b.str("state")?.unwrap_or_else(|| "draft".into());
    if state != "published" && state != "draft" {
        return Err(ApiError::invalid("state must be published or draft"));
    }
    let parent_id = b.int("parent_id")?;
    let parent_type = b.str("parent_type")?;
    let mut store = s.written.lock();
    if let Some(p) = parent_id {
        let known = store.collections.iter().any(|c| c.id == p.to_string())
            || view.collection_by_id(&p.to_string()).is_some();
        if !known {
            return Err(ApiError::not_found("Resource Not Found"));
        }
    }
    let a = WArticle {
        id: store.numeric_id(base::ARTICLE),
        title,
        description: b.str("description")?,
        body,
        author_id,
        state,
        parent_id,
        parent_type: parent_id.map(|_| parent_type.unwrap_or_else(|| "collection".into())),
        created_at: s.clock.now_secs(),
    };
    let out = render::article(&a);
    store.articles.push(a);
    ok(out)
}

/// Paragraphs of text; Markdown's markup is kept as typed (the sandbox does not render it).
fn markdown_to_html(md: &str) -> String {
    md.split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| format!("<p>{}</p>", deskmove_synth::html::escape(p.trim())))
        .collect()
}

/// `POST /help_center/collections`.
pub(crate) async fn create_collection(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let (_, b) = request(&headers, &bytes)?;
    let name = b
        .str("name")?
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "parameter_not_found",
                "Name is a required parameter.",
            )
        })?;
    let parent_id = b.str("parent_id")?;
    let help_center_id = b.int("help_center_id")?;
    if help_center_id.is_some_and(|h| h != 1) {
        return Err(ApiError::not_found("Resource Not Found"));
    }
    let view = s.world.view();
    let mut store = s.written.lock();
    if let Some(p) = parent_id.as_deref() {
        let known =
            store.collections.iter().any(|c| c.id == p) || view.collection_by_id(p).is_some();
        if !known {
            return Err(ApiError::not_found("Resource Not Found"));
        }
    }
    let c = WCollection {
        id: store.numeric_id(base::COLLECTION),
        name,
        description: b.str("description")?,
        parent_id,
        help_center_id,
        created_at: s.clock.now_secs(),
    };
    let out = render::collection(&c);
    store.collections.push(c);
    ok(out)
}
