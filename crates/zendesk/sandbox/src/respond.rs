//! JSON answers with Zendesk's content type, and the `Result` every handler returns.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// What a route handler answers: a response, or a Zendesk-shaped error.
pub(crate) type ApiResult = Result<Response, ApiError>;

/// A JSON value, serialised.
pub(crate) fn json(status: StatusCode, body: serde_json::Value) -> Response {
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let mut r = (status, Body::from(bytes)).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}

/// 200 with a JSON value.
pub(crate) fn ok(body: serde_json::Value) -> ApiResult {
    Ok(json(StatusCode::OK, body))
}

/// Whether a response already carries a JSON body.
pub(crate) fn is_json(r: &Response) -> bool {
    r.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}
