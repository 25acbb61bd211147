//! Attachment metadata (`GET /api/v2/attachments/{id}`) and the `content_url` first hop: 302 to
//! the pre-signed file host, or — with secure downloads — 401 unless the API credentials come
//! along (research §3.3, §8 item 6).

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::auth::{is_authorized, unauthorized};
use crate::error::ApiError;
use crate::origin::Origin;
use crate::render::comments::attachment_meta;
use crate::respond::{ApiResult, ok};
use crate::routes::renderer;
use crate::state::AppState;

pub(crate) async fn show(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Path(id): Path<u64>,
) -> ApiResult {
    let r = renderer(&s, &o);
    let (a, inline) = attachment_meta(r.view, id).ok_or_else(ApiError::not_found)?;
    ok(json!({ "attachment": r.attachment(&a, inline) }))
}

pub(crate) async fn first_hop(
    State(s): State<Arc<AppState>>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    if s.secure_downloads && !is_authorized(&headers, &s.email, &s.token) {
        return unauthorized();
    }
    let found = s
        .signer
        .token_id(&token)
        .and_then(|id| attachment_meta(s.view(), id));
    let Some((a, _)) = found else {
        return ApiError::not_found().into_response();
    };
    let location = s.signer.signed(a.id, &a.name, s.clock.now_secs());
    let mut r = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}
