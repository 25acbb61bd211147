//! Intercom's error shape, everywhere: `{type:"error.list", request_id, errors:[{code, message}]}`
//! (`../shared/research/intercom-api.md` §4). Handlers return [`ApiError`]; the
//! request middleware fills in the request id and renders the body.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// An Intercom-shaped API error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Intercom error code (`not_found`, `parameter_invalid`, ...).
    pub code: &'static str,
    /// Human message.
    pub message: String,
    /// Extra response headers (e.g. `Link` on a merged contact's 410).
    pub headers: Vec<(&'static str, String)>,
}

impl ApiError {
    /// Any error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            headers: Vec::new(),
        }
    }

    /// The same error with one more response header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// 404 `not_found` ("Resource Not Found" is Intercom's usual wording).
    pub fn not_found(message: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 400 `parameter_invalid`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "parameter_invalid", message)
    }
}

/// Marker carried in a response's extensions until the middleware renders it.
#[derive(Debug, Clone)]
pub(crate) struct PendingError(pub(crate) ApiError);

/// Marks an answer the fault injector made up (not the handler's), so the front door can shape
/// it like Intercom's own: rate headers of the current window, or a storm's end as the reset.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Injected {
    /// For a 429 storm: when it ends (UNIX s), advertised as `X-RateLimit-Reset`.
    pub(crate) storm_reset_at: Option<u64>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = self.status.into_response();
        r.extensions_mut().insert(PendingError(self));
        r
    }
}

/// The JSON body of an error.
pub fn error_body(request_id: &str, code: &str, message: &str) -> Value {
    json!({
        "type": "error.list",
        "request_id": request_id,
        "errors": [{ "code": code, "message": message }],
    })
}

/// The code Intercom uses for a bare status (for errors raised outside handlers).
pub(crate) fn code_for(status: StatusCode) -> (&'static str, &'static str) {
    match status.as_u16() {
        400 | 413 | 415 | 422 => ("parameter_invalid", "Invalid request parameters"),
        401 => ("unauthorized", "Access Token Invalid"),
        403 => ("forbidden", "Forbidden"),
        404 | 405 => ("not_found", "Resource Not Found"),
        429 => ("rate_limit_exceeded", "Too many requests"),
        502..=504 => ("service_unavailable", "Service temporarily unavailable"),
        _ => ("server_error", "Request failed due to an internal error"),
    }
}
