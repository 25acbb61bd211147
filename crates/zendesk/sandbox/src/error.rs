//! Zendesk's classic error shape, `{"error": <code>, "description": <text>}`, which zenpy maps by
//! `error` (`RecordNotFound`, …) (`../shared/research/zendesk-freshdesk-helpscout.md` §1.5).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::respond;

/// A Zendesk-shaped API error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Zendesk's `error` code (`RecordNotFound`, `InvalidValue`, …).
    pub error: &'static str,
    /// Zendesk's `description`.
    pub description: String,
}

impl ApiError {
    /// Any error.
    pub fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            error,
            description: description.into(),
        }
    }

    /// 404 `RecordNotFound` (also what comments of a deleted ticket answer, §1.5).
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "RecordNotFound", "Not found")
    }

    /// 400 `InvalidValue`.
    pub fn invalid(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidValue", description)
    }

    /// 400 for pagination Zendesk refuses (`page[size]` over 100, offset pages past 100).
    pub fn pagination(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidPaginationParameter",
            description,
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        respond::json(self.status, error_body(self.error, &self.description))
    }
}

/// The JSON body of an error.
pub fn error_body(error: &str, description: &str) -> Value {
    json!({ "error": error, "description": description })
}

/// The error Zendesk answers for a bare status raised outside handlers.
pub(crate) fn for_status(status: StatusCode) -> ApiError {
    match status.as_u16() {
        404 | 405 => ApiError::new(status, "InvalidEndpoint", "Not found"),
        400..=499 => ApiError::new(status, "InvalidValue", "Invalid request parameters"),
        _ => ApiError::new(status, "InternalError", "Internal error"),
    }
}
