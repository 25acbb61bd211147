//! JSON answers with Intercom's content type. Handlers, the front door and the inspection
//! endpoints all answer through these, so every body is labelled the same way.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::ApiError;

/// What a route handler answers: a response, or an Intercom-shaped error.
pub(crate) type ApiResult = Result<Response, ApiError>;

/// A JSON value, serialised.
pub(crate) fn json(status: StatusCode, body: serde_json::Value) -> Response {
    json_bytes(status, serde_json::to_vec(&body).unwrap_or_default())
}

/// An already serialised JSON body.
pub(crate) fn json_bytes(status: StatusCode, bytes: Vec<u8>) -> Response {
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

/// 200 with a typed body serialised straight to bytes (no `Value` tree on the hot path).
pub(crate) fn ok_typed(body: &impl Serialize) -> ApiResult {
    let bytes = serde_json::to_vec(body).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            e.to_string(),
        )
    })?;
    Ok(json_bytes(StatusCode::OK, bytes))
}

/// Whether a response already carries a JSON body.
pub(crate) fn is_json(r: &Response) -> bool {
    r.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}
